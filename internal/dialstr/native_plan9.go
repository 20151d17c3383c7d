package dialstr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Go's net package asks the connection server /net/cs for every dial
// and announce, even of a numeric address. Before ndb/cs runs (when the
// boot program starts venti and fossil) there is none, and libc's dial
// and announce then use /net/tcp/clone directly, with the address as
// written; so do nativeDial and nativeListen. They report ok=false when
// /net/cs is there, and Go's net package is used.

func noCS() bool {
	_, err := os.Stat("/net/cs")
	return err != nil
}

// plan9Addr turns a Go "host:port" back into Plan 9's host!port; an
// empty host is "*". The kernel parses hosts like 127.1 itself.
func plan9Addr(network, address string) (proto, addr string, err error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return "", "", err
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return "", "", fmt.Errorf("network %s without /net/cs", network)
	}
	if host == "" {
		host = "*"
	}
	return "tcp", host + "!" + port, nil
}

// clone opens /net/PROTO/clone and returns its control file and the
// connection's directory.
func clone(proto string) (*os.File, string, error) {
	ctl, err := os.OpenFile("/net/"+proto+"/clone", os.O_RDWR, 0)
	if err != nil {
		return nil, "", err
	}
	var b [32]byte
	n, err := ctl.Read(b[:])
	if err != nil {
		ctl.Close()
		return nil, "", err
	}
	return ctl, "/net/" + proto + "/" + strings.TrimSpace(string(b[:n])), nil
}

func nativeDial(ctx context.Context, network, address string) (net.Conn, bool, error) {
	if !noCS() {
		return nil, false, nil
	}
	proto, addr, err := plan9Addr(network, address)
	if err != nil {
		return nil, true, err
	}
	ctl, dir, err := clone(proto)
	if err != nil {
		return nil, true, err
	}
	if _, err := ctl.WriteString("connect " + addr); err != nil {
		ctl.Close()
		return nil, true, fmt.Errorf("dial %s: %v", addr, err)
	}
	c, err := openConn(ctl, dir)
	return c, true, err
}

func nativeListen(network, address string) (net.Listener, bool, error) {
	if !noCS() {
		return nil, false, nil
	}
	proto, addr, err := plan9Addr(network, address)
	if err != nil {
		return nil, true, err
	}
	ctl, dir, err := clone(proto)
	if err != nil {
		return nil, true, err
	}
	if _, err := ctl.WriteString("announce " + addr); err != nil {
		ctl.Close()
		return nil, true, fmt.Errorf("announce %s: %v", addr, err)
	}
	return &listener{ctl: ctl, dir: dir, addr: fileAddr(dir + "/local")}, true, nil
}

// openConn opens the data file of the connection in dir.
func openConn(ctl *os.File, dir string) (net.Conn, error) {
	data, err := os.OpenFile(dir+"/data", os.O_RDWR, 0)
	if err != nil {
		ctl.Close()
		return nil, err
	}
	return &conn{ctl: ctl, data: data, laddr: fileAddr(dir + "/local"), raddr: fileAddr(dir + "/remote")}, nil
}

// fileAddr reads an address file (local, remote: "127.0.0.1!17034").
func fileAddr(name string) net.Addr {
	b, _ := os.ReadFile(name)
	f := strings.SplitN(strings.TrimSpace(string(b)), "!", 2)
	a := &net.TCPAddr{IP: net.ParseIP(f[0])}
	if len(f) == 2 {
		a.Port, _ = strconv.Atoi(f[1])
	}
	return a
}

type listener struct {
	ctl  *os.File
	dir  string
	addr net.Addr
}

func (l *listener) Accept() (net.Conn, error) {
	lctl, err := os.OpenFile(l.dir+"/listen", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	var b [32]byte
	n, err := lctl.Read(b[:])
	if err != nil {
		lctl.Close()
		return nil, err
	}
	dir := l.dir[:strings.LastIndexByte(l.dir, '/')+1] + strings.TrimSpace(string(b[:n]))
	return openConn(lctl, dir)
}

func (l *listener) Close() error {
	l.ctl.WriteString("hangup")
	return l.ctl.Close()
}

func (l *listener) Addr() net.Addr { return l.addr }

type conn struct {
	ctl, data    *os.File
	laddr, raddr net.Addr
}

func (c *conn) Read(b []byte) (int, error) {
	n, err := c.data.Read(b)
	if n == 0 && len(b) > 0 && (err == nil || hungup(err)) {
		err = io.EOF // the other end has gone
	}
	return n, err
}

// hungup reports a read of a connection whose other end has gone.
func hungup(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Hangup") || strings.Contains(s, "hungup")
}

func (c *conn) Write(b []byte) (int, error) { return c.data.Write(b) }
func (c *conn) Close() error {
	c.ctl.WriteString("hangup")
	err := c.data.Close()
	c.ctl.Close()
	return err
}
func (c *conn) LocalAddr() net.Addr  { return c.laddr }
func (c *conn) RemoteAddr() net.Addr { return c.raddr }

var errNoDeadline = errors.New("no deadlines on connections made without /net/cs")

func (c *conn) SetDeadline(time.Time) error      { return errNoDeadline }
func (c *conn) SetReadDeadline(time.Time) error  { return errNoDeadline }
func (c *conn) SetWriteDeadline(time.Time) error { return errNoDeadline }
