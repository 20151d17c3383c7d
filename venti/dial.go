package venti

import (
	"context"
	"net"
	"os"

	"github.com/plan9fossil/fossil/internal/dialstr"
)

// DefaultPort is the venti service's TCP port.
const DefaultPort = 17034

// Addr returns the address a client uses when given addr: addr itself,
// else $venti, else "$venti", which names the venti= attribute of this
// system in the network database (ndb(6)), just as the C clients do.
func Addr(addr string) string {
	if addr == "" {
		addr = os.Getenv("venti")
	}
	if addr == "" {
		addr = "$venti"
	}
	return addr
}

// Dial connects to the venti server at the dial string addr (see Addr for
// the defaults; a bare host means net!host!venti) and starts a session.
func Dial(addr string) (*Conn, error) {
	return DialContext(context.Background(), addr)
}

// DialContext is Dial with a context bounding the connection and the
// session's start.
func DialContext(ctx context.Context, addr string) (*Conn, error) {
	nc, err := dialstr.Dial(ctx, Addr(addr), "venti")
	if err != nil {
		return nil, err
	}
	return NewConn(ctx, nc, "")
}

// Listen announces a venti service at the dial string addr
// (tcp!*!venti when empty).
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "tcp!*!venti"
	}
	return dialstr.Listen(addr, "venti")
}
