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

// Wrap returns a connection that reads and writes c's socket with raw
// system calls, or c itself when c is not a TCP or Unix stream socket.
// Everything but Read and Write is c's.
func Wrap(c net.Conn) net.Conn {
	if !enabled {
		return c
	}
	var s socket
	switch c := c.(type) {
	case *net.TCPConn:
		s = c
	case *net.UnixConn:
		s = c
	default:
		return c
	}
	rc, err := s.SyscallConn()
	if err != nil {
		return c
	}
	return &conn{socket: s, rc: rc}
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
	rc syscall.RawConn
}

// Read reads what the socket has, waiting in the poller while it has
// nothing.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
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

// Write writes all of p, waiting in the poller while the socket's
// buffer is full.
func (c *conn) Write(p []byte) (int, error) {
	done := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for done < len(p) {
			r, e := sysWrite(fd, p[done:])
			switch e {
			case 0:
				done += int(r)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return done, c.opError("write", err)
	case errno != 0:
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
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError(op, err)}
}
