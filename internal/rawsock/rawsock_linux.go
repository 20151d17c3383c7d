package rawsock

import (
	"io"
	"net"
	"os"
	"syscall"
)

const supported = true

// enabled is false only in benchmarks comparing the two ways.
var enabled = true

// maxRaw bounds one raw call. A goroutine in a raw system call cannot be
// stopped, so a collection's stop of the world waits for it; a
// non-blocking write over loopback copies as much as the peer takes, a
// second's worth for tens of megabytes. Every message of venti and 9P
// fits in one call.
const maxRaw = 256 << 10

// Wrap returns a connection that reads and writes c's socket with raw
// system calls, or c itself when c is not a TCP or Unix stream socket.
// Only Read and Write change: the deadlines, Close, CloseRead,
// CloseWrite, the buffer sizes and the addresses are c's, and NetConn
// returns c for the rest.
//
// The raw calls rely on the socket staying non-blocking, as Go's poller
// leaves it: nothing may take c's descriptor (c.File) and make it
// blocking, or a read would hold its processor, and then the whole
// program at the next collection.
func Wrap(c net.Conn) net.Conn {
	if !enabled {
		return c
	}
	var s socket
	network := "tcp"
	switch c := c.(type) {
	case *net.TCPConn:
		s = c
	case *net.UnixConn:
		s, network = c, "unix"
	default:
		return c
	}
	rc, err := s.SyscallConn()
	if err != nil || !isStream(rc) {
		return c // datagrams and packets keep the net package's rules
	}
	return &conn{socket: s, rc: rc, network: network}
}

// isStream reports whether rc's socket is a stream socket: an empty
// datagram is not the end of a stream.
func isStream(rc syscall.RawConn) bool {
	typ := -1
	rc.Control(func(fd uintptr) {
		typ, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TYPE)
	})
	return typ == syscall.SOCK_STREAM
}

// socket is what TCP and Unix stream connections share; the wrapper
// keeps all of it but Read and Write.
type socket interface {
	net.Conn
	syscall.Conn
	CloseRead() error
	CloseWrite() error
	SetReadBuffer(bytes int) error
	SetWriteBuffer(bytes int) error
}

type conn struct {
	socket
	rc      syscall.RawConn
	network string // for errors, as the net package names it
}

// NetConn returns the wrapped connection.
func (c *conn) NetConn() net.Conn { return c.socket }

// Read reads what the socket has, up to maxRaw bytes, waiting in the
// poller while it has nothing.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return c.socket.Read(p) // nothing to copy: the net package's answer
	}
	p = p[:min(len(p), maxRaw)]
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, e := sysRead(fd, p)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // the poller waits, then calls again
			}
			n, errno = r, e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case errno != 0:
		return 0, c.opError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of p, maxRaw bytes a call, waiting in the poller
// while the socket's buffer is full. Like the net package's Write it
// holds the socket's write lock throughout, so that concurrent Writes do
// not interleave.
func (c *conn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return c.socket.Write(p)
	}
	done := 0
	var errno error
	err := c.rc.Write(func(fd uintptr) bool {
		for done < len(p) {
			r, e := sysWrite(fd, p[done:min(len(p), done+maxRaw)])
			switch {
			case e == syscall.EINTR:
			case e == syscall.EAGAIN:
				return false
			case e != 0:
				errno = e
				return true
			case r == 0:
				errno = io.ErrUnexpectedEOF // as the net package says of it
				return true
			default:
				done += r
			}
		}
		return true
	})
	switch {
	case err != nil:
		return done, c.opError("write", err)
	case errno != nil:
		return done, c.opError("write", errno)
	}
	return done, nil
}

// opError wraps err as the net package's methods would, so that callers
// testing for net.Error (timeouts) or net.ErrClosed see the same.
func (c *conn) opError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok { // from the poller: closed, or a deadline
		e := *oe
		e.Op = op
		return &e
	}
	if errno, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError(op, errno)
	}
	return &net.OpError{Op: op, Net: c.network, Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
