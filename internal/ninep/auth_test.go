//go:build !plan9

package ninep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"
)

// passwordAuth is an AuthFunc with a toy protocol: the server says
// "who?", the client answers "password:" and its name.
func passwordAuth(uname, aname string) (AuthConv, error) {
	if uname == "refused" {
		return nil, errors.New("no keys for refused")
	}
	return &passwordConv{uname: uname}, nil
}

type passwordConv struct {
	uname  string
	asked  bool
	proved string
}

func (p *passwordConv) Read(b []byte) (int, error) {
	if p.asked {
		return 0, io.EOF
	}
	p.asked = true
	return copy(b, "who?"), nil
}

func (p *passwordConv) Write(b []byte) (int, error) {
	name, ok := strings.CutPrefix(string(b), "password:")
	if !ok {
		return 0, errors.New("bad password")
	}
	p.proved = name
	return len(b), nil
}

func (p *passwordConv) User() (string, error) {
	if p.proved == "" {
		return "", errors.New("not done")
	}
	return p.proved, nil
}

func (p *passwordConv) Close() error { return nil }

func attachFcall(fid, afid uint32, uname, aname string) *plan9.Fcall {
	return &plan9.Fcall{Type: plan9.Tattach, Tag: 1, Fid: fid, Afid: afid, Uname: uname, Aname: aname}
}

// TestAuth: attach needs an auth fid that proved the user, except for
// none once someone has (the chaperone rule).
func TestAuth(t *testing.T) {
	e := newEnv(t, Config{Auth: passwordAuth})
	r := newRaw(t, e.pipe(ConnOptions{}))
	r.version(8192)
	r.fail(attachFcall(0, plan9.NOFID, "none", ""), "cannot attach as none before authentication")
	r.fail(attachFcall(0, plan9.NOFID, "glenda", ""), "cannot attach as none before authentication")
	rx := r.ok(&plan9.Fcall{Type: plan9.Tauth, Tag: 1, Afid: 10, Uname: "glenda", Aname: ""})
	if rx.Aqid.Type != plan9.QTAUTH {
		t.Errorf("auth qid %v", rx.Aqid)
	}
	r.fail(&plan9.Fcall{Type: plan9.Tauth, Tag: 1, Afid: 10, Uname: "glenda"}, "fid in use")
	r.fail(attachFcall(0, 10, "glenda", ""), "authentication failed")
	if rx := r.ok(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 10, Count: 100}); string(rx.Data) != "who?" {
		t.Errorf("auth read %q", rx.Data)
	}
	r.fail(&plan9.Fcall{Type: plan9.Twrite, Tag: 1, Fid: 10, Data: []byte("guess")}, "bad password")
	r.ok(&plan9.Fcall{Type: plan9.Twrite, Tag: 1, Fid: 10, Data: []byte("password:glenda")})
	r.fail(attachFcall(0, 10, "bob", ""), "user does not match authentication")
	r.ok(attachFcall(0, 10, "glenda", ""))
	// The auth fid is for reading and writing only.
	for _, tx := range []*plan9.Fcall{
		{Type: plan9.Tstat, Tag: 1, Fid: 10},
		{Type: plan9.Twalk, Tag: 1, Fid: 10, Newfid: 11},
		{Type: plan9.Topen, Tag: 1, Fid: 10},
		{Type: plan9.Twstat, Tag: 1, Fid: 10, Stat: wstatMode(0)},
	} {
		r.fail(tx, "not for an authentication fid")
	}
	r.fail(attachFcall(1, 0, "glenda", ""), "not an authentication fid")
	// Now none may come, whatever it calls itself.
	r.ok(attachFcall(1, plan9.NOFID, "none", ""))
	r.ok(attachFcall(2, plan9.NOFID, "bob", ""))
	who := e.srv.Who()
	if len(who) != 1 || strings.Join(who[0].Users, " ") != "glenda none" {
		t.Errorf("who: %+v", who)
	}
	r.fail(&plan9.Fcall{Type: plan9.Tauth, Tag: 1, Afid: 12, Uname: "refused"}, "no keys for refused")
	// A new session needs a new chaperone.
	r.version(8192)
	r.fail(attachFcall(0, plan9.NOFID, "none", ""), "cannot attach as none before authentication")

	// listen -N lets none in at once.
	rn := newRaw(t, e.pipe(ConnOptions{NoneOK: true}))
	rn.version(8192)
	rn.ok(attachFcall(0, plan9.NOFID, "none", ""))

	// A file system opened -A needs no authentication.
	e.ro.flags.NoAuth = true
	rn.fail(&plan9.Fcall{Type: plan9.Tauth, Tag: 1, Afid: 5, Uname: "glenda", Aname: "dump"}, "authentication not required")
	rn.ok(attachFcall(1, plan9.NOFID, "glenda", "dump/active"))
	e.ro.flags.NoAuth = false
}

// TestAuth9fans authenticates with the 9fans client's Auth.
func TestAuth9fans(t *testing.T) {
	e := newEnv(t, Config{Auth: passwordAuth})
	conn, err := client.NewConn(e.pipe(ConnOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	afid, err := conn.Auth("alice", "")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if n, err := afid.Read(buf); err != nil || string(buf[:n]) != "who?" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if _, err := afid.Write([]byte("password:alice")); err != nil {
		t.Fatal(err)
	}
	fsys, err := conn.Attach(afid, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	afid.Close()
	if err := create(fsys, "tmp/alices", 0644); err != nil {
		t.Fatal(err)
	}
	if n := e.fs.node("active/tmp/alices"); n == nil || n.d.UID != "alice" {
		t.Errorf("file made by %+v", n)
	}
}

// TestNoAuth: without authentication users are who they say, strangers
// are none, and Tauth is refused so clients skip it.
func TestNoAuth(t *testing.T) {
	e := newEnv(t, Config{Auth: passwordAuth})
	r := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	r.version(8192)
	r.fail(&plan9.Fcall{Type: plan9.Tauth, Tag: 1, Afid: 5, Uname: "glenda"}, "authentication not required")
	r.ok(attachFcall(0, plan9.NOFID, "stranger", ""))
	r.ok(&plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 0, Newfid: 1, Wname: []string{"tmp"}})
	r.ok(&plan9.Fcall{Type: plan9.Tcreate, Tag: 1, Fid: 1, Name: "f", Perm: 0666, Mode: plan9.OWRITE})
	if n := e.fs.node("active/tmp/f"); n == nil || n.d.UID != "none" {
		t.Errorf("stranger's file: %+v", n)
	}
	if who := e.srv.Who(); len(who) != 1 || strings.Join(who[0].Users, " ") != "none" {
		t.Errorf("who: %+v", who)
	}

	// Without an AuthFunc authentication is unavailable.
	e2 := newEnv(t, Config{})
	r2 := newRaw(t, e2.pipe(ConnOptions{}))
	r2.version(8192)
	r2.fail(&plan9.Fcall{Type: plan9.Tauth, Tag: 1, Afid: 5, Uname: "glenda"}, "authentication unavailable")
	r2.fail(attachFcall(0, plan9.NOFID, "glenda", ""), "cannot attach as none")
}

// fakeFactotum plays factotum's rpc file (factotum(4)) for one p9any
// server conversation: it sends an offer, wants the client's choice
// (at least 10 bytes), sends a challenge and wants "answer", after
// which glenda is authenticated.
type fakeFactotum struct {
	mu      sync.Mutex
	reply   []byte
	started bool
	step    int
	closed  bool
	refuse  bool // start fails
	log     []string
}

func (f *fakeFactotum) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, errors.New("closed")
	}
	f.log = append(f.log, string(p))
	verb, arg, _ := strings.Cut(string(p), " ")
	set := func(s string) { f.reply = []byte(s) }
	switch {
	case verb == "start" && f.refuse:
		set("error no key")
	case verb == "start":
		if arg != "proto=p9any role=server" {
			set("error bad start")
		} else {
			f.started = true
			set("ok")
		}
	case !f.started:
		set("protocol not started")
	case verb == "read" && f.step == 0:
		f.step++
		set("ok v.2 p9sk1@example.com")
	case verb == "write" && f.step == 1:
		if len(arg) < 10 {
			set("toosmall 10")
		} else if arg != "p9sk1 example.com" {
			set("error bad choice " + arg)
		} else {
			f.step++
			set("ok")
		}
	case verb == "read" && f.step == 2:
		f.step++
		set("ok challenge")
	case verb == "write" && f.step == 3:
		if arg != "answer" {
			set("error auth failed")
		} else {
			f.step++
			set("done haveai")
		}
	case verb == "authinfo" && f.step == 4:
		ai := AuthInfo{Cuid: "glenda", Suid: "bootes", Cap: "cap", Secret: []byte{1, 2, 3}}
		f.reply = append([]byte("ok "), ai.Bytes()...)
	case verb == "read" || verb == "write":
		set("phase not your turn")
	default:
		set("error unknown rpc")
	}
	return len(p), nil
}

func (f *fakeFactotum) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reply == nil {
		return 0, errors.New("read before write")
	}
	n := copy(p, f.reply)
	f.reply = nil
	return n, nil
}

func (f *fakeFactotum) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func TestFactotumRPC(t *testing.T) {
	f := &fakeFactotum{}
	rpc := NewFactotumRPC(f)
	st, data, err := rpc.Call("read", nil)
	if err != nil || st != "protocol" || string(data) != "not started" {
		t.Errorf("read before start: %q %q %v", st, data, err)
	}
	if st, _, err := rpc.Call("start", []byte("proto=p9any role=server")); err != nil || st != "ok" {
		t.Errorf("start: %q %v", st, err)
	}
	if f.log[1] != "start proto=p9any role=server" || f.log[0] != "read" {
		t.Errorf("requests %q", f.log)
	}
	if _, _, err := rpc.Call("write", make([]byte, factotumMax)); err == nil {
		t.Error("oversized request sent")
	}

	ai := AuthInfo{Cuid: "glenda", Suid: "bootes", Cap: "", Secret: []byte("secret")}
	b := ai.Bytes()
	if !bytes.Equal(b, []byte("\x06\x00glenda\x06\x00bootes\x00\x00\x06\x00secret")) {
		t.Errorf("packed authinfo %q", b)
	}
	got, err := UnmarshalAuthInfo(b)
	if err != nil || fmt.Sprint(*got) != fmt.Sprint(ai) {
		t.Errorf("unpacked %+v, %v", got, err)
	}
	for i := range b {
		if _, err := UnmarshalAuthInfo(b[:i]); err == nil {
			t.Errorf("authinfo cut to %d bytes unpacked", i)
		}
	}
}

// TestFactotumConv relays a conversation: factotum's messages out,
// the client's in, a message too small kept for the next write, and
// the user from authinfo.
func TestFactotumConv(t *testing.T) {
	f := &fakeFactotum{}
	auth := Factotum(func() (io.ReadWriteCloser, error) { return f, nil })
	conv, err := auth("glenda", "")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if _, err := conv.Write([]byte("x")); err == nil || err.Error() != "factotum: phase not your turn" {
		t.Errorf("write out of turn: %v", err)
	}
	if n, err := conv.Read(buf); err != nil || string(buf[:n]) != "v.2 p9sk1@example.com" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if _, err := conv.Read(buf[:3]); err == nil {
		t.Error("read into a short buffer")
	}
	for _, part := range []string{"p9sk1", " example.com"} {
		if n, err := conv.Write([]byte(part)); err != nil || n != len(part) {
			t.Fatalf("write %q: %d, %v", part, n, err)
		}
	}
	if n, err := conv.Read(buf); err != nil || string(buf[:n]) != "challenge" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if _, err := conv.User(); err == nil {
		t.Error("user before the end")
	}
	if _, err := conv.Write([]byte("answer")); err != nil {
		t.Fatal(err)
	}
	if n, err := conv.Read(buf); n != 0 || err != io.EOF {
		t.Errorf("read after done: %d, %v", n, err)
	}
	if u, err := conv.User(); err != nil || u != "glenda" {
		t.Errorf("user %q, %v", u, err)
	}
	conv.Close()
	if !f.closed {
		t.Error("rpc file left open")
	}
	want := []string{"start proto=p9any role=server", "write x", "read", "read", "write p9sk1",
		"write p9sk1 example.com", "read", "write answer", "authinfo"}
	if strings.Join(f.log, "|") != strings.Join(want, "|") {
		t.Errorf("rpcs\n%q\nwant\n%q", f.log, want)
	}

	// A refused start closes the rpc file.
	bad := &fakeFactotum{refuse: true}
	if _, err := Factotum(func() (io.ReadWriteCloser, error) { return bad, nil })("glenda", ""); err == nil || err.Error() != "factotum: no key" || !bad.closed {
		t.Errorf("refused start: %v, closed %v", err, bad.closed)
	}
	if _, err := Factotum(func() (io.ReadWriteCloser, error) { return nil, errors.New("no factotum") })("glenda", ""); err == nil || err.Error() != "no factotum" {
		t.Errorf("no rpc file: %v", err)
	}
}

// TestFactotumServer authenticates a 9P client through the server to a
// fake factotum.
func TestFactotumServer(t *testing.T) {
	var mu sync.Mutex
	var opened []*fakeFactotum
	e := newEnv(t, Config{Auth: Factotum(func() (io.ReadWriteCloser, error) {
		mu.Lock()
		defer mu.Unlock()
		f := &fakeFactotum{}
		opened = append(opened, f)
		return f, nil
	})})
	r := newRaw(t, e.pipe(ConnOptions{}))
	r.version(8192)
	for _, user := range []string{"glenda", "bob"} {
		afid := uint32(100)
		if user == "bob" {
			afid = 101
		}
		r.ok(&plan9.Fcall{Type: plan9.Tauth, Tag: 1, Afid: afid, Uname: user})
		if rx := r.ok(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: afid, Count: 8192}); string(rx.Data) != "v.2 p9sk1@example.com" {
			t.Fatalf("offer %q", rx.Data)
		}
		r.ok(&plan9.Fcall{Type: plan9.Twrite, Tag: 1, Fid: afid, Data: []byte("p9sk1 example.com")})
		r.ok(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: afid, Count: 8192})
		r.ok(&plan9.Fcall{Type: plan9.Twrite, Tag: 1, Fid: afid, Data: []byte("answer")})
		if rx := r.ok(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: afid, Count: 8192}); len(rx.Data) != 0 {
			t.Errorf("read after done: %q", rx.Data)
		}
	}
	// Factotum says glenda: bob's attach is refused.
	r.fail(attachFcall(1, 101, "bob", ""), "user does not match authentication")
	r.ok(attachFcall(0, 100, "glenda", ""))
	r.ok(&plan9.Fcall{Type: plan9.Tclunk, Tag: 1, Fid: 100})
	r.ok(&plan9.Fcall{Type: plan9.Tclunk, Tag: 1, Fid: 101})
	mu.Lock()
	defer mu.Unlock()
	for i, f := range opened {
		if !f.closed {
			t.Errorf("rpc file %d left open", i)
		}
	}
}
