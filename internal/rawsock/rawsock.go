package rawsock

import "net"

// Listener wraps l so that the connections it accepts are wrapped by
// Wrap.
func Listener(l net.Listener) net.Listener {
	if !supported {
		return l
	}
	return &listener{l}
}

type listener struct{ net.Listener }

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return Wrap(c), nil
}
