//go:build linux

package srv

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echo is a ServeFunc that sends back what it reads, a stand-in for
// the 9P server.
func echo(rwc io.ReadWriteCloser, name string, opts Options) { io.Copy(rwc, rwc) }

func newServices(t *testing.T, serve ServeFunc, cons Console) (*Services, string) {
	t.Helper()
	dir := t.TempDir()
	s := New(Config{Serve: serve, Console: cons, Dir: dir})
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// roundTrip sends a line on c and expects it back.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
		t.Fatalf("sent %q, got %q, %v", msg, buf, err)
	}
}

func TestDir(t *testing.T) {
	tmp := t.TempDir()
	writable := filepath.Join(tmp, "srv")
	os.Mkdir(writable, 0777)
	if d, err := dirFrom(writable, "/unused"); err != nil || d != writable {
		t.Errorf("writable srv: %q, %v", d, err)
	}
	env := filepath.Join(tmp, "made", "by", "us")
	if d, err := dirFrom(filepath.Join(tmp, "nosuch"), env); err != nil || d != env {
		t.Errorf("with $SRVDIR: %q, %v", d, err)
	}
	if fi, err := os.Stat(env); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0700 {
		t.Errorf("$SRVDIR not made 0700: %v %v", fi, err)
	}
	_, err := dirFrom(filepath.Join(tmp, "nosuch"), "")
	if err == nil || err.Error() != "srv: "+filepath.Join(tmp, "nosuch")+" is not a writable directory and $SRVDIR is not set" {
		t.Errorf("neither: %v", err)
	}
	// A file named like the directory is no directory.
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, nil, 0666)
	if d, err := dirFrom(file, env); err != nil || d != env {
		t.Errorf("srv a file: %q, %v", d, err)
	}
}

func TestPost(t *testing.T) {
	var mu sync.Mutex
	var names []string
	var opts []Options
	s, dir := newServices(t, func(rwc io.ReadWriteCloser, name string, o Options) {
		mu.Lock()
		names = append(names, name)
		opts = append(opts, o)
		mu.Unlock()
		echo(rwc, name, o)
	}, nil)
	if err := s.Post("fossil", Options{NoAuth: true}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fossil")
	// Every connection is a conversation of its own.
	for i := 0; i < 3; i++ {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(t, c, "Tversion\n")
		c.Close()
	}
	mu.Lock()
	if len(names) != 3 || names[0] != path || !opts[0].NoAuth || opts[0].NoPerm {
		t.Errorf("served %q with %+v", names, opts)
	}
	mu.Unlock()
	if got := s.Posted(); len(got) != 1 || got[0] != (Posted{Name: "fossil", Where: path}) {
		t.Errorf("Posted %+v", got)
	}
	for _, bad := range []string{"", "a/b", "..", "."} {
		if err := s.Post(bad, Options{}); err == nil {
			t.Errorf("posted bad name %q", bad)
		}
	}
	if err := s.Post("fossil", Options{}); err == nil || err.Error() != "srv: already serving 'fossil'" {
		t.Errorf("second post: %v", err)
	}
	// Another fossil on the same directory finds the name in use.
	other := New(Config{Serve: echo, Dir: dir})
	defer other.Close()
	if err := other.Post("fossil", Options{}); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("post over a live socket: %v", err)
	}
	if err := s.Remove("fossil"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket still there after Remove: %v", err)
	}
	if err := s.Remove("fossil"); err == nil || err.Error() != "srv: 'fossil' not found" {
		t.Errorf("second Remove: %v", err)
	}
}

// TestStale replaces the names a dead fossil left behind, and leaves
// alone files that are not its names.
func TestStale(t *testing.T) {
	s, dir := newServices(t, echo, &fakeConsole{})
	path := filepath.Join(dir, "fossil")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close() // a socket file nobody accepts on
	if err := s.Post("fossil", Options{}); err != nil {
		t.Fatalf("post over a stale socket: %v", err)
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "hello")
	c.Close()

	cons := filepath.Join(dir, "fscons")
	if err := syscall.Mkfifo(cons, 0600); err != nil { // a FIFO nobody reads
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(cons+".sock", 0600); err != nil { // not even a socket
		t.Fatal(err)
	}
	if err := s.PostConsole("fscons"); err != nil {
		t.Fatalf("post over a stale FIFO: %v", err)
	}
	if fi, err := os.Lstat(cons + ".sock"); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("%s.sock: %v %v", cons, fi, err)
	}

	// A live FIFO (this fossil's) is refused to another.
	other := New(Config{Serve: echo, Console: &fakeConsole{}, Dir: dir})
	defer other.Close()
	if err := other.PostConsole("fscons"); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("post over a live FIFO: %v", err)
	}

	regular := filepath.Join(dir, "notes")
	os.WriteFile(regular, []byte("keep me"), 0666)
	if err := s.Post("notes", Options{}); err == nil || !strings.Contains(err.Error(), "is not a socket or fifo") {
		t.Errorf("post over a file: %v", err)
	}
	if b, _ := os.ReadFile(regular); string(b) != "keep me" {
		t.Errorf("file overwritten: %q", b)
	}
}

// fakeConsole records the console ends it is given and echoes their
// lines back in upper case, standing in for package cons.
type fakeConsole struct {
	mu   sync.Mutex
	ends []ConsoleEnd
}

func (f *fakeConsole) Attach(e ConsoleEnd) func() {
	f.mu.Lock()
	f.ends = append(f.ends, e)
	f.mu.Unlock()
	done := make(chan struct{})
	var once sync.Once
	stop := func() { once.Do(func() { close(done) }) }
	go func() {
		defer func() {
			if e.Ended != nil {
				e.Ended()
			}
		}()
		sc := bufio.NewScanner(e.In)
		for sc.Scan() {
			select {
			case <-done:
				return
			default:
			}
			if e.Out != nil {
				io.WriteString(e.Out, strings.ToUpper(sc.Text())+"\n")
			}
		}
	}()
	return stop
}

func TestPostConsole(t *testing.T) {
	fc := &fakeConsole{}
	s, dir := newServices(t, echo, fc)
	if err := s.PostConsole("fscons"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fscons")
	for p, typ := range map[string]os.FileMode{path: os.ModeNamedPipe, path + ".sock": os.ModeSocket, path + ".log": 0} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != typ || fi.Mode().Perm() != 0600 {
			t.Errorf("%s: mode %v", p, fi.Mode())
		}
	}
	fc.mu.Lock()
	if len(fc.ends) != 1 || fc.ends[0].Name != path || !fc.ends[0].Echo || fc.ends[0].ZeroReadNotEOF {
		t.Errorf("FIFO end %+v", fc.ends)
	}
	fc.mu.Unlock()

	// Writers of the FIFO reach the console; its output goes to the log.
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "df\n")
	w.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path + ".log")
		if string(b) == "DF\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %q", b)
		}
		time.Sleep(5 * time.Millisecond)
	}

	c, err := DialConsole(path)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c.(net.Conn), "SYNC\n")

	// srv -d removes the names; the session already open goes on
	// until Close.
	if err := s.Remove("fscons"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + ".sock"} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s after Remove: %v", p, err)
		}
	}
	roundTrip(t, c.(net.Conn), "STILL\n")
	s.Close()
	c.(net.Conn).SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("session after Close: read %d, %v; want EOF", n, err)
	}
	c.Close()
}

// TestListen announces on the loopback and stops.
func TestListen(t *testing.T) {
	var mu sync.Mutex
	var names []string
	var opts Options
	s, _ := newServices(t, func(rwc io.ReadWriteCloser, name string, o Options) {
		mu.Lock()
		names = append(names, name)
		opts = o
		mu.Unlock()
		echo(rwc, name, o)
	}, nil)
	if err := s.Listen("tcp!127.0.0.1!0", Options{NoneAllow: true}); err != nil {
		t.Fatal(err)
	}
	ls := s.Listening()
	if len(ls) != 1 || ls[0].Addr != "tcp!127.0.0.1!0" || !strings.HasPrefix(ls[0].Dir, "tcp!127.0.0.1!") {
		t.Fatalf("Listening %+v", ls)
	}
	port := strings.TrimPrefix(ls[0].Dir, "tcp!127.0.0.1!")
	c, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "Tversion")
	mu.Lock()
	if len(names) != 1 || names[0] != "tcp!"+strings.Replace(c.LocalAddr().String(), ":", "!", 1) || !opts.NoneAllow {
		t.Errorf("served %q %+v; client %v", names, opts, c.LocalAddr())
	}
	mu.Unlock()
	if st := s.Conns(); st.N != 1 || len(st.Names) != 1 || st.Max != DefaultMaxConns {
		t.Errorf("Conns %+v", st)
	}

	if err := s.Listen("tcp!127.0.0.1!0", Options{}); err == nil || err.Error() != "listen: already serving 'tcp!127.0.0.1!0'" {
		t.Errorf("second Listen: %v", err)
	}
	if err := s.Listen("tcp!256.0.0.1!1", Options{}); err == nil || !strings.HasPrefix(err.Error(), "listen: announce 'tcp!256.0.0.1!1': ") {
		t.Errorf("bad address: %v", err)
	}
	if err := s.Unlisten("tcp!127.0.0.1!0"); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		t.Error("listening after Unlisten")
	}
	// The connection made before goes on.
	roundTrip(t, c, "still here")
	c.Close()
	if err := s.Unlisten("tcp!127.0.0.1!0"); err == nil || err.Error() != "listen: 'tcp!127.0.0.1!0' not found" {
		t.Errorf("second Unlisten: %v", err)
	}
}

// TestMaxConns holds back connections beyond the limit until one ends.
func TestMaxConns(t *testing.T) {
	s, dir := newServices(t, echo, nil)
	s.SetMaxConns(1)
	if err := s.Post("fossil", Options{}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fossil")
	first, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, first, "one")
	second, err := net.Dial("unix", path) // accepted by the kernel, not yet served
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(second, "two")
	second.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := second.Read(make([]byte, 3)); err == nil {
		t.Fatalf("second connection served beyond the limit: %d bytes", n)
	}
	if st := s.Conns(); st.N != 1 || st.Starve != 1 || st.Max != 1 {
		t.Errorf("Conns %+v", st)
	}
	first.Close()
	second.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 3)
	if _, err := io.ReadFull(second, buf); err != nil || string(buf) != "two" {
		t.Errorf("second after first ended: %q %v", buf, err)
	}
	second.Close()
}

// TestClose removes every name and stops every connection.
func TestClose(t *testing.T) {
	s := New(Config{Serve: echo, Console: &fakeConsole{}, Dir: t.TempDir()})
	if err := s.Post("fossil", Options{}); err != nil {
		t.Fatal(err)
	}
	if err := s.PostConsole("fscons"); err != nil {
		t.Fatal(err)
	}
	dir := s.cfg.Dir
	c, err := net.Dial("unix", filepath.Join(dir, "fossil"))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, "x")
	s.Close()
	ents, _ := os.ReadDir(dir)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if strings.Join(left, " ") != "fscons.log" {
		t.Errorf("left after Close: %q", left)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("connection after Close: read %d, %v; want EOF", n, err)
	}
	if err := s.Post("again", Options{}); err == nil {
		t.Error("posted after Close")
	}
}
