package dialstr

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Addr
		ok   bool
	}{
		{"tcp!127.0.0.1!17034", Addr{"tcp", "127.0.0.1", "17034"}, true},
		{"net!venti.example!venti", Addr{"net", "venti.example", "venti"}, true},
		{"127.0.0.2", Addr{"net", "127.0.0.2", "venti"}, true},
		{"tcp!127.0.0.2", Addr{"tcp", "127.0.0.2", "venti"}, true},
		{"tcp!*!564", Addr{"tcp", "*", "564"}, true},
		{"tcp!::1!17034", Addr{"tcp", "::1", "17034"}, true},
		{"il!fs!9fs", Addr{"il", "fs", "9fs"}, true},
		{"$venti", Addr{"net", "$venti", "venti"}, true},
		{"unix!/tmp/venti.sock", Addr{"unix", "/tmp/venti.sock", ""}, true},
		{"", Addr{}, false},
		{"udp!h!1", Addr{}, false},
		{"127.0.0.1!17034", Addr{}, false}, // netmkaddr reads this as net 127.0.0.1
		{"tcp!!1", Addr{}, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, "venti")
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestGoAddr(t *testing.T) {
	tests := []struct{ in, net, addr string }{
		{"tcp!127.0.0.1!17034", "tcp", "127.0.0.1:17034"},
		{"tcp!*!venti", "tcp", ":17034"},
		{"net!127.0.0.3!9fs", "tcp", "127.0.0.3:564"},
		{"tcp!::1!1", "tcp", "[::1]:1"},
		// Plan 9's short IPv4 forms, as the boot program writes them.
		{"tcp!127.1!17034", "tcp", "127.0.0.1:17034"},
		{"tcp!135.104.1!564", "tcp", "135.104.0.1:564"},
		{"tcp!example.com!564", "tcp", "example.com:564"},
		{"tcp!300.1!564", "tcp", "300.1:564"},
	}
	for _, tt := range tests {
		a, err := Parse(tt.in, "venti")
		if err != nil {
			t.Fatal(err)
		}
		n, addr, err := a.GoAddr()
		if err != nil || n != tt.net || addr != tt.addr {
			t.Errorf("%s: %s %s %v; want %s %s", tt.in, n, addr, err, tt.net, tt.addr)
		}
	}
	a, _ := Parse("tcp!h!nosuchservice-xyz", "venti")
	if _, _, err := a.GoAddr(); err == nil {
		t.Error("unknown service accepted")
	}
}

const testNdb = `
database=
	file=/dev/null

ipnet=grid ip=127.0.0.0 ipmask=255.0.0.0
	venti=127.0.0.9
	auth=authsrv

ipnet=inner ip=127.0.5.0 ipmask=255.255.255.0
	venti=127.0.5.1

sys=gridfour ip=127.0.0.4
	dom=gridfour.example

sys=gridfive ip=127.0.5.5

sys=ownventi ip=127.0.0.6 venti=tcp!127.0.0.7!17034

sys=noip
`

func TestLookupAttr(t *testing.T) {
	f := filepath.Join(t.TempDir(), "local")
	if err := os.WriteFile(f, []byte(testNdb), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ sys, want string }{
		{"ownventi", "tcp!127.0.0.7!17034"}, // the system's own entry wins
		{"gridfour", "127.0.0.9"},           // inherited from its ipnet
		{"gridfive", "127.0.5.1"},           // the most specific ipnet
	}
	for _, tt := range tests {
		got, err := LookupAttr(f, tt.sys, "venti")
		if err != nil || got != tt.want {
			t.Errorf("%s: $venti = %q, %v; want %q", tt.sys, got, err, tt.want)
		}
	}
	for _, sys := range []string{"noip", "nosuch"} {
		if v, err := LookupAttr(f, sys, "venti"); err == nil {
			t.Errorf("%s: $venti = %q, want an error", sys, v)
		}
	}
	if _, err := LookupAttr(filepath.Join(t.TempDir(), "none"), "x", "venti"); err == nil {
		t.Error("missing ndb file accepted")
	}
}

// TestDialAttr dials "$venti" through an ndb file and a real listener.
func TestDialAttr(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	f := filepath.Join(t.TempDir(), "local")
	os.WriteFile(f, []byte("sys=me ip=127.0.0.1 venti=127.0.0.1\n"), 0o644)
	t.Setenv("NDBFILE", f)
	t.Setenv("sysname", "me")
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := Dial(context.Background(), "tcp!$venti!"+strconv.Itoa(port), "venti")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// A venti= value may itself be a dial string.
	os.WriteFile(f, []byte("sys=me ip=127.0.0.1 venti=tcp!127.0.0.1!"+strconv.Itoa(port)+"\n"), 0o644)
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Close()
		}
	}()
	if _, err := Dial(context.Background(), "", "venti"); err == nil {
		t.Error("empty dial string accepted")
	}
	if c, err = Dial(context.Background(), "$venti", "venti"); err != nil {
		t.Fatal(err)
	}
	c.Close()
}
