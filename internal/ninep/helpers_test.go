//go:build !plan9

package ninep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"

	"github.com/plan9fossil/fossil/internal/users"
	"github.com/plan9fossil/fossil/internal/vac"
)

// testUsers is the users table of the tests: staff is led by carol and
// has bob; nw is in noworld.
const testUsers = "adm:adm:adm:sys\nnone:none::\nnoworld:noworld::nw\nsys:sys::glenda\n" +
	"glenda:glenda:glenda:\nalice:alice::\nbob:bob::\ncarol:carol::\ndave:dave::\nnw:nw::\n" +
	"staff:staff:carol:bob\ncarolg:carolg:carol:\n"

// timeout bounds every wait in the tests.
const timeout = 20 * time.Second

// A syncBuffer is a bytes.Buffer for several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A testEnv is a server on a memFS, "main", and a read-only memFS,
// "dump", with connections that are checked for leaks at the end.
type testEnv struct {
	t    testing.TB
	fs   *memFS
	ro   *memFS
	tab  *users.Table
	srv  *Server
	errs *syncBuffer

	mu      sync.Mutex
	closers []io.Closer
	serving sync.WaitGroup
}

// newEnv starts a server; cfg's Fsys, Users and Errors are filled in
// when empty.
func newEnv(t testing.TB, cfg Config) *testEnv {
	tab, err := users.Parse(testUsers)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, fs: newMemFS(), ro: newMemFS(), tab: tab, errs: &syncBuffer{}}
	e.fs.mk("active", "adm", "sys", vac.ModeDir|0775, "")
	e.fs.mk("active/tmp", "adm", "sys", vac.ModeDir|0777, "")
	e.fs.mk("archive", "adm", "sys", vac.ModeDir|0555, "")
	e.ro.readOnly = true
	e.ro.mk("active", "adm", "sys", vac.ModeDir|0777, "")
	e.ro.mk("active/old", "glenda", "glenda", 0666, "old data")
	if cfg.Fsys == nil {
		cfg.Fsys = func(name string) (Fsys, error) {
			switch name {
			case "main":
				return e.fs, nil
			case "dump":
				return e.ro, nil
			}
			return nil, fmt.Errorf("no file system %s", name)
		}
	}
	if cfg.Users == nil {
		cfg.Users = func() *users.Table { return tab }
	}
	if cfg.Errors == nil {
		cfg.Errors = e.errs
	}
	e.srv = NewServer(cfg)
	t.Cleanup(e.finish)
	return e
}

// finish hangs up every connection and checks that the server let go of
// everything: no connections, fids, requests or workers, and every File
// closed once.
func (e *testEnv) finish() {
	e.mu.Lock()
	for _, c := range e.closers {
		c.Close()
	}
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		e.serving.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		e.t.Errorf("connections still served after %v", timeout)
		return
	}
	if err := waitIdle(e.srv); err != nil {
		e.t.Error(err)
	}
	for _, fs := range []*memFS{e.fs, e.ro} {
		if err := fs.check(); err != nil {
			e.t.Error(err)
		}
	}
	if s := e.errs.String(); s != "" && !strings.Contains(e.t.Name(), "Panic") {
		e.t.Errorf("server reported: %s", s)
	}
}

// waitIdle waits for the server to hold nothing.
func waitIdle(s *Server) error {
	deadline := time.Now().Add(timeout)
	for {
		st := s.Stats()
		if st == (Stats{}) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not idle: %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
}

// serve serves one end of a connection in the background.
func (e *testEnv) serve(c net.Conn, name string, opts ConnOptions) {
	e.serving.Add(1)
	go func() {
		defer e.serving.Done()
		e.srv.ServeConn(c, name, opts)
	}()
}

// pipe returns the client end of a connection served over net.Pipe.
func (e *testEnv) pipe(opts ConnOptions) net.Conn {
	cli, srv := net.Pipe()
	e.serve(srv, "pipe", opts)
	e.mu.Lock()
	e.closers = append(e.closers, cli)
	e.mu.Unlock()
	return cli
}

// listen serves connections on a loopback TCP port and returns its
// address.
func (e *testEnv) listen(opts ConnOptions) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.closers = append(e.closers, l)
	e.mu.Unlock()
	e.serving.Add(1)
	go func() {
		defer e.serving.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.closers = append(e.closers, c)
			e.mu.Unlock()
			e.serve(c, "tcp!"+c.RemoteAddr().String(), opts)
		}
	}()
	return l.Addr().String()
}

// dial connects to a listener, closing the connection at the end.
func (e *testEnv) dial(addr string) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.closers = append(e.closers, c)
	e.mu.Unlock()
	return c
}

// mount attaches as uname with the 9fans client, on a new connection
// with opts.
func (e *testEnv) mount(uname, aname string, opts ConnOptions) *client.Fsys {
	e.t.Helper()
	c, err := client.NewConn(e.pipe(opts))
	if err != nil {
		e.t.Fatal(err)
	}
	fsys, err := c.Attach(nil, uname, aname)
	if err != nil {
		e.t.Fatalf("attach %s %q: %v", uname, aname, err)
	}
	return fsys
}

// A raw9p is a client that sends and receives single messages, for
// tests of exact protocol behaviour.
type raw9p struct {
	t testing.TB
	c net.Conn
}

func newRaw(t testing.TB, c net.Conn) *raw9p {
	return &raw9p{t: t, c: c}
}

func (r *raw9p) send(f *plan9.Fcall) {
	r.t.Helper()
	r.c.SetWriteDeadline(time.Now().Add(timeout))
	if err := plan9.WriteFcall(r.c, f); err != nil {
		r.t.Fatalf("send %v: %v", f, err)
	}
}

func (r *raw9p) recv() *plan9.Fcall {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(timeout))
	f, err := plan9.ReadFcall(r.c)
	if err != nil {
		r.t.Fatalf("recv: %v", err)
	}
	return f
}

// rpc sends f and returns the reply, which must have f's tag.
func (r *raw9p) rpc(f *plan9.Fcall) *plan9.Fcall {
	r.t.Helper()
	r.send(f)
	rx := r.recv()
	if rx.Tag != f.Tag {
		r.t.Fatalf("reply to %v has tag %d: %v", f, rx.Tag, rx)
	}
	return rx
}

// ok makes an RPC that must succeed with the right reply type.
func (r *raw9p) ok(f *plan9.Fcall) *plan9.Fcall {
	r.t.Helper()
	rx := r.rpc(f)
	if rx.Type != f.Type+1 {
		r.t.Fatalf("%v: %v", f, rx)
	}
	return rx
}

// fail makes an RPC that must fail with an error containing want.
func (r *raw9p) fail(f *plan9.Fcall, want string) {
	r.t.Helper()
	rx := r.rpc(f)
	if rx.Type != plan9.Rerror || !strings.Contains(rx.Ename, want) {
		r.t.Fatalf("%v: %v, want error %q", f, rx, want)
	}
}

func (r *raw9p) version(msize uint32) *plan9.Fcall {
	r.t.Helper()
	return r.ok(&plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: msize, Version: "9P2000"})
}

// session versions and attaches fid 0 as uname to aname.
func (r *raw9p) session(uname, aname string) {
	r.t.Helper()
	r.version(8192 + plan9.IOHDRSZ)
	r.ok(&plan9.Fcall{Type: plan9.Tattach, Tag: 1, Fid: 0, Afid: plan9.NOFID, Uname: uname, Aname: aname})
}

// walkOpen walks fid 0 to path as newfid and opens it with mode.
func (r *raw9p) walkOpen(newfid uint32, path string, mode uint8) {
	r.t.Helper()
	r.ok(&plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 0, Newfid: newfid, Wname: splitPath(path)})
	r.ok(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: newfid, Mode: mode})
}

func splitPath(p string) []string {
	var out []string
	for _, e := range strings.Split(p, "/") {
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

// goroutines waits for the goroutine count to come down to at most n.
func goroutines(n int) error {
	deadline := time.Now().Add(timeout)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			return fmt.Errorf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// isEOF reports whether err is the end of a connection.
func isEOF(err error) bool {
	return err == io.EOF || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe)
}
