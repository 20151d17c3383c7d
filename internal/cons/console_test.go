package cons

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the console's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	s.b.Reset()
	s.mu.Unlock()
}

// waitFor polls get until it returns want, failing after a while.
func waitFor(t *testing.T, what string, get func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := get()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s:\ngot  %q\nwant %q", what, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type fakeFsys struct {
	name   string
	halted bool
}

func (f *fakeFsys) Name() string { return f.name }
func (f *fakeFsys) Halted() bool { return f.halted }

// fakeTable is an FsysTable that records what it is asked.
type fakeTable struct {
	infos []FsysInfo
	open  map[string]*fakeFsys
	calls []string
}

func newFakeTable() *fakeTable { return &fakeTable{open: make(map[string]*fakeFsys)} }

func (t *fakeTable) List() []FsysInfo { return t.infos }

func (t *fakeTable) Get(name string) Fsys {
	if f, ok := t.open[name]; ok {
		return f
	}
	return nil
}

func (t *fakeTable) find(name string) *FsysInfo {
	for i := range t.infos {
		if t.infos[i].Name == name {
			return &t.infos[i]
		}
	}
	return nil
}

func (t *fakeTable) Config(name, dev string) error {
	t.calls = append(t.calls, fmt.Sprintf("config %s %q", name, dev))
	if dev == "" {
		dev = "/the/-f/partition"
	}
	if fi := t.find(name); fi != nil {
		fi.Dev = dev
		return nil
	}
	t.infos = append(t.infos, FsysInfo{Name: name, Dev: dev})
	return nil
}

func (t *fakeTable) Venti(name, host string, set bool) error {
	t.calls = append(t.calls, fmt.Sprintf("venti %s %q %v", name, host, set))
	fi := t.find(name)
	if fi == nil {
		return fmt.Errorf("fsys: '%s' not found", name)
	}
	if set {
		fi.Venti = host
	}
	return nil
}

func (t *fakeTable) Open(name string, argv []string) error {
	t.calls = append(t.calls, fmt.Sprintf("open %s %q", name, argv))
	if t.find(name) == nil {
		return fmt.Errorf("fsys: '%s' not found", name)
	}
	t.open[name] = &fakeFsys{name: name}
	return nil
}

func (t *fakeTable) Close(name string) error {
	t.calls = append(t.calls, "close "+name)
	delete(t.open, name)
	return nil
}

func (t *fakeTable) Unconfig(name string) error {
	t.calls = append(t.calls, "unconfig "+name)
	if t.open[name] != nil {
		return fmt.Errorf("fsys: '%s' busy", name)
	}
	t.infos = slices.DeleteFunc(t.infos, func(fi FsysInfo) bool { return fi.Name == name })
	return nil
}

// newTest returns a console with no ends attached, so that its output
// goes, synchronously, to the returned buffer.
func newTest(t *testing.T, cfg Config) (*Console, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	cfg.Stderr = out
	if cfg.SrvDir == "" {
		cfg.SrvDir = t.TempDir()
	}
	c := New(cfg)
	t.Cleanup(func() { c.Close() })
	return c, out
}

// run runs lines and returns what they printed.
func run(c *Console, out *syncBuffer, lines ...string) string {
	out.Reset()
	for _, l := range lines {
		c.Run(l)
	}
	return out.String()
}

func TestRunErrors(t *testing.T) {
	c, out := newTest(t, Config{})
	for _, tt := range []struct {
		line, want string
		err        bool
	}{
		{"", "", false},
		{"   ", "", false},
		{"# a comment", "", false},
		{"#comment too", "", false},
		{"  # indented comment", "", false},
		{"frob x y", "frob: - eh?\n", true},
		{"echo -x", "usage: echo [-n] ...\n", true},
		{"echo hello  'big world'", "hello big world\n", false},
		{"echo -n no newline", "no newline", false},
		{"echo", "\n", false},
		{"echo -- -n", "-n\n", false},
		{"dflag", "dflag: no debug flag\n", true},
		{"printconfig extra", "usage: printconfig\n", true},
		{"msg -m 0", "usage: msg [-m nmsg] [-p nproc]\n", true},
		{"users -d -r /x", "cannot use -d and -r together\n", true},
		{"bind -a -b x y", "usage: bind [-b|-a|-c|-bc|-ac] new old\n", true},
		{"srv -p -P fscons", "srv: cannot use -P with -p\n", true},
		{"srv a b", "usage: srv [-APWdp] [service]\n", true},
		{"srv -d nosuch", "srv: 'nosuch' not found\n", true},
		{"listen -d tcp!*!564", "listen: 'tcp!*!564' not found\n", true},
		{"listen -x", "usage: listen [-dIN] [address]\n", true},
		{". ", "usage: . file\n", true},
	} {
		out.Reset()
		err := c.Run(tt.line)
		if got := out.String(); got != tt.want || (err != nil) != tt.err {
			t.Errorf("Run(%q) printed %q, error %v; want %q (error %v)", tt.line, got, err, tt.want, tt.err)
		}
	}
}

func TestRegister(t *testing.T) {
	c, out := newTest(t, Config{})
	var got []string
	c.Register("probe", func(x *Ctx, argv []string) error {
		got = argv
		x.Tabf("result %d", len(argv))
		x.Printf("progress\n")
		fmt.Fprintf(x, "via writer\n")
		return errors.New("it failed")
	})
	err := c.Run("probe a 'b c'")
	if err == nil || err.Error() != "it failed" {
		t.Errorf("error %v", err)
	}
	if !slices.Equal(got, []string{"probe", "a", "b c"}) {
		t.Errorf("argv %q", got)
	}
	if want := "\tresult 3\nprogress\nvia writer\nit failed\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}

	// A later registration replaces a built-in.
	c.Register("echo", func(x *Ctx, argv []string) error { x.Printf("mine\n"); return nil })
	if got := run(c, out, "echo x"); got != "mine\n" {
		t.Errorf("replaced echo printed %q", got)
	}

	// A panicking command is reported, not fatal.
	c.Register("boom", func(x *Ctx, argv []string) error { panic("bad") })
	if got := run(c, out, "boom"); !strings.Contains(got, "panic: bad") || !strings.HasSuffix(got, "boom: internal error: bad\n") {
		t.Errorf("panic printed %q", got)
	}
}

// TestFsys follows the transcript of the C fossil (fossil-b-console.txt):
// the prompt, printconfig, and per-file-system commands typed bare and
// with the fsys prefix.
func TestFsys(t *testing.T) {
	tab := newFakeTable()
	c, out := newTest(t, Config{Fsys: tab})
	df := func(x *Ctx, fs Fsys, argv []string) error {
		if err := noArgs(argv, "usage: [fsys name] df"); err != nil {
			return err
		}
		x.Tabf("%s: 40,960 used + 33,300,480 free = 33,341,440 (0.1%% used)", fs.Name())
		return nil
	}
	c.RegisterFsys("df", df)
	c.RegisterFsys("check", func(x *Ctx, fs Fsys, argv []string) error {
		x.Printf("checking %s\n", fs.Name())
		return nil
	}, WhileHalted)
	c.RegisterFsys("halt", func(x *Ctx, fs Fsys, argv []string) error {
		fs.(*fakeFsys).halted = true
		return nil
	})

	if p := c.Prompt(); p != "prompt: " {
		t.Errorf("first prompt %q", p)
	}
	for _, tt := range []struct{ line, want string }{
		{"df", "fsys: no current fsys\n"},
		{"fsys main", "fsys: 'main' not found\n"},
		{"fsys main config /w/fb/fossil.part", ""},
		{"fsys main venti tcp!127.0.0.1!17034", ""},
		{"fsys main", "fsys: 'main' not open\n"},
		{"fsys main df", "fsys: 'main' not open\n"},
		{"fsys main open -A -c 1000", ""},
		{"fsys other config", ""},
		{"printconfig", "\tfsys main config /w/fb/fossil.part\n\tfsys main venti tcp!127.0.0.1!17034\n\tfsys other config /the/-f/partition\n"},
		{"fsys", "\tmain\n\tother\n"},
		{"fsys main", ""},
		{"df", "\tmain: 40,960 used + 33,300,480 free = 33,341,440 (0.1% used)\n"},
		{"df extra", "usage: [fsys name] df\n"},
		{"fsys main df", "\tmain: 40,960 used + 33,300,480 free = 33,341,440 (0.1% used)\n"},
		{"fsys other df", "fsys: 'other' not open\n"},
		{"fsys main frob", "unknown command - 'frob'\n"},
		{"fsys all open", "cannot use fsys 'all' with 'open' command\n"},
		{"open", "open: - eh?\n"},
		{"config", "config: - eh?\n"},
		{"fsys main config a b", "usage: fsys name config [dev]\n"},
		{"venti", ""},
		{"venti ''", ""},
		{"printconfig", "\tfsys main config /w/fb/fossil.part\n\tfsys other config /the/-f/partition\n"},
		{"fsys other open", ""},
		{"fsys all df", "\tmain: 40,960 used + 33,300,480 free = 33,341,440 (0.1% used)\n\tother: 40,960 used + 33,300,480 free = 33,341,440 (0.1% used)\n"},
		{"halt", ""},
		{"df", "file system main is halted\n"},
		{"check", "checking main\n"},
		{"fsys all check", "checking main\nchecking other\n"},
		{"fsys all df", "\tother: 40,960 used + 33,300,480 free = 33,341,440 (0.1% used)\nfile system main is halted\n"},
	} {
		if got := run(c, out, tt.line); got != tt.want {
			t.Errorf("%s\nprinted %q\nwant    %q", tt.line, got, tt.want)
		}
	}
	if p := c.Prompt(); p != "main: " {
		t.Errorf("prompt %q, want \"main: \"", p)
	}
	wantCalls := []string{
		`config main "/w/fb/fossil.part"`,
		`venti main "tcp!127.0.0.1!17034" true`,
		`open main ["open" "-A" "-c" "1000"]`,
		`config other ""`,
		`venti main "" false`,
		`venti main "" true`,
		`open other ["open"]`,
	}
	if !slices.Equal(tab.calls, wantCalls) {
		t.Errorf("table calls\n%q\nwant\n%q", tab.calls, wantCalls)
	}

	// Closing the current file system takes its name off the prompt;
	// close may be typed bare, unconfig needs the prefix.
	tab.open["main"].halted = false
	if got := run(c, out, "close", "fsys main unconfig"); got != "" {
		t.Errorf("close, unconfig printed %q", got)
	}
	if p := c.Prompt(); p != "prompt: " {
		t.Errorf("prompt after close %q", p)
	}
	if got := run(c, out, "fsys all", "fsys all df"); got != "\tother: 40,960 used + 33,300,480 free = 33,341,440 (0.1% used)\n" {
		t.Errorf("fsys all df printed %q", got)
	}
	if p := c.Prompt(); p != "all: " {
		t.Errorf("prompt %q", p)
	}
}

// TestDot runs a file of commands: errors are printed and the rest
// goes on, and the command fails at the end, as in the C console.
func TestDot(t *testing.T) {
	c, out := newTest(t, Config{})
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("# configuration\necho one\n\necho 'two  words'\necho no newline at the end"), 0666)
	if got := run(c, out, ". "+good); got != "one\ntwo  words\nno newline at the end\n" {
		t.Errorf(". good printed %q", got)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("echo before\nbogus arg\necho after\n"), 0666)
	want := "before\nbogus: - eh?\nbogus arg: bogus: - eh?\nafter\nerrors in . '" + bad + "'\n"
	if got := run(c, out, ". "+bad); got != want {
		t.Errorf(". bad printed %q\nwant %q", got, want)
	}
	nested := filepath.Join(dir, "nested")
	os.WriteFile(nested, []byte(". "+good+"\n"), 0666)
	if got := run(c, out, ". "+nested); got != "one\ntwo  words\nno newline at the end\n" {
		t.Errorf(". nested printed %q", got)
	}
	missing := filepath.Join(dir, "missing")
	if got := run(c, out, ". "+missing); got != ". open "+missing+": no such file or directory\n" {
		t.Errorf(". missing printed %q", got)
	}
}

type fakeServer struct {
	maxmsg, maxproc int
}

func (s *fakeServer) Who() []Conn {
	return []Conn{
		{Name: "/srv/fboot", Users: []string{"glenda", "none", "glenda"}},
		{Name: "tcp!127.0.0.1!40000", Remote: "127.0.0.1!40000", Users: []string{"it's"}},
	}
}

func (s *fakeServer) Msg(maxmsg, maxproc int) MsgStats {
	if maxmsg != 0 {
		s.maxmsg = maxmsg
	}
	if maxproc != 0 {
		s.maxproc = maxproc
	}
	return MsgStats{MaxMsg: s.maxmsg, MaxProc: s.maxproc, NMsg: 3, NProc: 2, NProcStarve: 1}
}

type fakeUsers struct {
	calls []string
	n     int
}

func (u *fakeUsers) Uname(x *Ctx, argv []string) error {
	u.calls = append(u.calls, strings.Join(argv, " "))
	if len(argv) == 3 {
		return x.Exec("fsys main create /active/usr/" + argv[1] + " " + argv[1] + " " + argv[1] + " d775")
	}
	return nil
}
func (u *fakeUsers) Reset() error { u.calls = append(u.calls, "reset"); u.n = 5; return nil }
func (u *fakeUsers) Read(file string) error {
	u.calls = append(u.calls, "read "+file)
	u.n = 6
	return nil
}
func (u *fakeUsers) Write() error      { u.calls = append(u.calls, "write"); return nil }
func (u *fakeUsers) Stats() (int, int) { return u.n, 16 * u.n }

func TestHooks(t *testing.T) {
	debug := false
	users := &fakeUsers{}
	c, out := newTest(t, Config{
		Server: &fakeServer{maxmsg: 384, maxproc: 64},
		Users:  users,
		Dflag:  func() bool { debug = !debug; return debug },
	})
	var created []string
	c.Register("fsys", func(x *Ctx, argv []string) error { created = append(created, strings.Join(argv, " ")); return nil })
	for _, tt := range []struct{ line, want string }{
		{"dflag", "dflag 1\n"},
		{"dflag", "dflag 0\n"},
		{"msg", "\tmsg -m 384 -p 64\n\tnmsg 3 nmsgstarve 0 nproc 2 nprocstarve 1\n"},
		{"msg -m 0x28 -p 010", "\tmsg -m 40 -p 8\n\tnmsg 3 nmsgstarve 0 nproc 2 nprocstarve 1\n"},
		{"msg -m x", "usage: msg [-m nmsg] [-p nproc]\n"},
		// name and remote padded to the longest of each: 19 and 15
		{"who", "\t/srv/fboot" + strings.Repeat(" ", 19-10+1+15) + " glenda none\n\ttcp!127.0.0.1!40000 127.0.0.1!40000 'it''s'\n"},
		{"users", "\tnuser 0 len 0\n"},
		{"users -d", "\tnuser 5 len 80\n"},
		{"users -r /active/adm/users -w", "\tnuser 6 len 96\n"},
		{"uname root root", ""},
		{"con", "\tcon -m 128\n\tncon 0 nconstarve 0\n"},
		{"con -m 10", "\tcon -m 10\n\tncon 0 nconstarve 0\n"},
	} {
		if got := run(c, out, tt.line); got != tt.want {
			t.Errorf("%s\nprinted %q\nwant    %q", tt.line, got, tt.want)
		}
	}
	if want := []string{"reset", "read /active/adm/users", "write", "uname root root"}; !slices.Equal(users.calls, want) {
		t.Errorf("user table calls %q, want %q", users.calls, want)
	}
	if want := []string{"fsys main create /active/usr/root root root d775"}; !slices.Equal(created, want) {
		t.Errorf("uname ran %q, want %q", created, want)
	}
}

func TestBind(t *testing.T) {
	c, out := newTest(t, Config{})
	got := run(c, out, "bind -c /a /b")
	if runtime.GOOS != "plan9" && got != "bind: not supported on this system\n" {
		t.Errorf("bind printed %q", got)
	}
}
