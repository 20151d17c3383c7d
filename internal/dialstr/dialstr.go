// Package dialstr turns Plan 9 dial strings (net!host!service, see
// dial(2)) into Go network addresses, on Plan 9 and elsewhere.
//
// A dial string names a network, a host and a service: tcp!127.0.0.1!17034,
// net!venti.example!venti, tcp!*!564 (announce on every address). As in
// netmkaddr in dial(2), missing parts take defaults: "host" means
// net!host!DEFSERVICE and "tcp!host" means tcp!host!DEFSERVICE. A host of the form $attr is
// looked up in the network database, ndb(6), as the value of attribute
// attr for this system (for example the venti= attribute); on Plan 9 the
// connection server /net/cs does that, elsewhere the ndb file is read.
package dialstr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/plan9fossil/fossil/internal/rawsock"
)

// Addr is a parsed dial string.
type Addr struct {
	Net     string // "tcp", "net" (any), "il", "unix", ...
	Host    string // name, address, "*" or "$attr"
	Service string // port number or service name
}

func (a Addr) String() string { return a.Net + "!" + a.Host + "!" + a.Service }

// Parse splits s into its parts, filling in defaults the way netmkaddr
// does: a bare host gets network "net" and service defService, a
// network and host get service defService. The host
// is everything between the first and the last '!', so IPv6 addresses
// need no brackets.
func Parse(s, defService string) (Addr, error) {
	if s == "" {
		return Addr{}, errors.New("empty dial string")
	}
	if strings.HasPrefix(s, "unix!") {
		return Addr{Net: "unix", Host: s[len("unix!"):]}, nil
	}
	var a Addr
	first := strings.IndexByte(s, '!')
	last := strings.LastIndexByte(s, '!')
	switch {
	case first < 0:
		a = Addr{"net", s, defService}
	case first == last:
		a = Addr{s[:first], s[first+1:], defService}
	default:
		a = Addr{s[:first], s[first+1 : last], s[last+1:]}
	}
	if _, ok := networks[a.Net]; !ok {
		return a, fmt.Errorf("dial string %q: unknown network %q", s, a.Net)
	}
	if a.Host == "" || a.Service == "" {
		return a, fmt.Errorf("dial string %q: missing host or service", s)
	}
	return a, nil
}

// networks are the Plan 9 network names we can reach and what Go calls
// them. IL is long gone; its users get TCP.
var networks = map[string]string{
	"net": "tcp", "tcp": "tcp", "il": "tcp", "tcp4": "tcp4", "tcp6": "tcp6",
}

// services are the port names Plan 9's /lib/ndb/common gives the
// programs of this project, so they resolve on any system.
var services = map[string]int{
	"venti": 17034, "9fs": 564, "http": 80, "9p": 564,
}

// Port resolves a service name or number.
func Port(service string) (int, error) {
	if p, err := strconv.Atoi(service); err == nil && p >= 0 && p < 1<<16 {
		return p, nil
	}
	if p, ok := services[service]; ok {
		return p, nil
	}
	p, err := net.LookupPort("tcp", service)
	if err != nil {
		return 0, fmt.Errorf("unknown service %q", service)
	}
	return p, nil
}

// GoAddr returns the network and address to give to package net for a,
// resolving $attr hosts and service names. For announcing, a host of "*"
// becomes the empty host (every address).
func (a Addr) GoAddr() (network, address string, err error) {
	if a.Net == "unix" {
		return "unix", a.Host, nil
	}
	host := a.Host
	if strings.HasPrefix(host, "$") {
		if host, err = lookupAttr(host[1:]); err != nil {
			return "", "", err
		}
		if strings.Contains(host, "!") || strings.HasPrefix(host, "$") {
			// The attribute holds a whole dial string (venti=tcp!h!p).
			b, err := Parse(host, a.Service)
			if err != nil || strings.HasPrefix(b.Host, "$") {
				return "", "", fmt.Errorf("%s: bad value %q", a.Host, host)
			}
			return b.GoAddr()
		}
	}
	if host == "*" {
		host = ""
	}
	host = longIPv4(host)
	port, err := Port(a.Service)
	if err != nil {
		return "", "", err
	}
	return networks[a.Net], net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// longIPv4 writes out the short IPv4 forms Plan 9 accepts and Go does
// not: a.b is a.0.0.b and a.b.c is a.b.0.c (the boot program's venti is
// tcp!127.1!17034). Anything else is returned as it is.
func longIPv4(host string) string {
	parts := strings.Split(host, ".")
	if len(parts) != 2 && len(parts) != 3 {
		return host
	}
	for _, p := range parts {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 255 || p == "" || p[0] == '+' {
			return host
		}
	}
	last := parts[len(parts)-1]
	if len(parts) == 2 {
		return parts[0] + ".0.0." + last
	}
	return parts[0] + "." + parts[1] + ".0." + last
}

// Dial connects to the dial string s (default service defService).
func Dial(ctx context.Context, s, defService string) (net.Conn, error) {
	a, err := Parse(s, defService)
	if err != nil {
		return nil, err
	}
	network, address, err := a.GoAddr()
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", s, err)
	}
	if c, ok, err := nativeDial(ctx, network, address); ok {
		return c, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return rawsock.Wrap(c), nil
}

// Listen announces the dial string s, as listen(8) addresses are
// written: tcp!*!17034, tcp!127.0.0.1!564.
func Listen(s, defService string) (net.Listener, error) {
	a, err := Parse(s, defService)
	if err != nil {
		return nil, err
	}
	network, address, err := a.GoAddr()
	if err != nil {
		return nil, fmt.Errorf("announce %s: %w", s, err)
	}
	if l, ok, err := nativeListen(network, address); ok {
		return l, err
	}
	l, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	return rawsock.Listener(l), nil
}

// FromGo writes a Go network address back as a dial string, for messages
// and for children that take dial strings (tcp!127.0.0.1!17034).
func FromGo(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.Network() + "!" + addr.String()
	}
	return "tcp!" + host + "!" + port
}
