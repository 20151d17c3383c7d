//go:build !plan9

package test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// The rc toolkit of rc/ (see man/8/fossilize) runs here with the rc of
// Debian's 9base, in a world shaped like a Plan 9 machine's:
//
//   - In a private mount namespace (unshare -rm, test/rc/ns.sh), the
//     scripts see the machine's files with a directory of the test's
//     mounted on /n/9fat (or nothing, for 9fat: to mount) and another on
//     /srv, where consoles are posted. Nothing outside the test's
//     directory changes. Where unshare -rm does not work (or with
//     RCTEST_NONS=1), copies of the scripts and stand-ins are run
//     instead, with /n/9fat and /srv rewritten to directories of the
//     test's.
//   - $path holds, first, stand-ins for the Plan 9 programs that Linux
//     lacks (test/rc/standin: 9fat:, which mounts a directory of the
//     test's, and aux/zerotrunc); then rc/, so that one script finds
//     another as in /rc/bin; then our built commands, as venti/wrarena
//     and fossil/last (rc looks names with a slash up in $path too);
//     then 9base's Plan 9 programs (dd, sed, grep, test, echo) before
//     Linux's.
//   - Each script runs as ". script args" in an rc whose sigexit saves
//     $status, so the tests see the status string (no.9fat, fossilzombie)
//     that Plan 9 would, where Linux has only an exit code. (So the
//     scripts keep off sigexit themselves.)
//   - Stand-ins for fossil, until the server exists: consoles are FIFOs
//     in /srv read by the test, as fossil posts them on Linux; a running
//     fossil is a process named fossil holding the partition open; and
//     test/rc/fakefossil/fossil/fossil takes fossilstart's place.
//
// TestPlan9RCToolkit (rc_plan9vm_test.go) runs the scripts inside Plan 9
// too, against the C fossil and venti.

// rcWorld is that world for one test.
type rcWorld struct {
	t       *testing.T
	dir     string   // the test's directory
	root    string   // the namespace's mount points; the rewritten / otherwise
	fat     string   // the directory on /n/9fat; "" leaves /n/9fat empty
	ninefat string   // what the 9fat: stand-in mounts; "" for no 9fat
	srv     string   // the directory on /srv
	path    []string // directories to put first on $path
	env     []string // more environment, NAME=value
	before  string   // rc commands to run before the script
	scripts string   // rc/, or its rewritten copy
	standin string   // the stand-ins
	ns      bool
}

var (
	nsOnce sync.Once
	nsOK   bool
)

// haveNamespace says whether test/rc/ns.sh works here under unshare -rm.
func haveNamespace(t *testing.T) bool {
	nsOnce.Do(func() {
		if os.Getenv("RCTEST_NONS") != "" {
			return
		}
		dir, err := os.MkdirTemp("", "rcns")
		if err != nil {
			return
		}
		defer os.RemoveAll(dir)
		os.Mkdir(filepath.Join(dir, "srv"), 0o755)
		cmd := exec.Command("unshare", "-rm", "sh", filepath.Join(root(), "test/rc/ns.sh"),
			filepath.Join(dir, "root"), "", filepath.Join(dir, "srv"), "/", "test", "-d", "/n/9fat")
		nsOK = cmd.Run() == nil
	})
	if !nsOK {
		t.Logf("no private namespace (unshare -rm): running rewritten copies of the scripts")
	}
	return nsOK
}

// rcPath finds 9base's rc.
func rcPath(t *testing.T) string {
	for _, p := range []string{"/usr/lib/plan9/bin/rc", "/usr/bin/rc"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("no rc: install Debian's 9base (apt-get install -y 9base)")
	return ""
}

// newRC makes a world with a mounted 9fat holding plan9.ini.
func newRC(t *testing.T) *rcWorld {
	t.Helper()
	dir := t.TempDir()
	w := &rcWorld{
		t:    t,
		dir:  dir,
		root: filepath.Join(dir, "root"),
		fat:  filepath.Join(dir, "9fat"),
		srv:  filepath.Join(dir, "srv"),
		ns:   haveNamespace(t),
	}
	for _, d := range []string{w.fat, w.srv, filepath.Join(w.root, "n/9fat")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(w.fat, "plan9.ini"), []byte("bootfile=sdC0!9fat!9pcf\n"), 0o644)
	w.scripts = filepath.Join(root(), "rc")
	w.standin = filepath.Join(dir, "standin")
	if !w.ns {
		w.scripts = w.install(w.scripts, filepath.Join(dir, "rcbin"))
	}
	w.install(filepath.Join(root(), "test/rc/standin"), w.standin)
	if err := os.Rename(filepath.Join(w.standin, "9fat"), filepath.Join(w.standin, "9fat:")); err != nil {
		t.Fatal(err)
	}
	return w
}

// install copies the scripts of the tree src into dst, rewriting the
// Plan 9 names /n/9fat and /srv when there is no namespace to give
// them, and returns dst.
func (w *rcWorld) install(src, dst string) string {
	w.t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !w.ns {
			s := strings.ReplaceAll(string(b), "/n/9fat", filepath.Join(w.root, "n/9fat"))
			b = []byte(strings.ReplaceAll(s, "/srv", w.srv))
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o755)
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return dst
}

// rcResult is what a script did: its output and its exit status, the
// Plan 9 status string.
type rcResult struct {
	stdout, stderr, status string
}

func rcQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// run runs rc/script with args and the given standard input.
func (w *rcWorld) run(stdin []byte, script string, args ...string) rcResult {
	w.t.Helper()
	statusFile := filepath.Join(w.dir, "status")
	os.Remove(statusFile)
	cmdline := "fn sigexit { echo -n $status >" + rcQuote(statusFile) + " }\n" + w.before + "\n. " + rcQuote(filepath.Join(w.scripts, script))
	for _, a := range args {
		cmdline += " " + rcQuote(a)
	}

	bindir := filepath.Dir(filepath.Dir(bin(w.t, "venti/wrarena")))
	path := append(append([]string{}, w.path...), w.standin, w.scripts, bindir, "/usr/lib/plan9/bin", "/usr/bin", "/bin")
	env := []string{"PATH=" + strings.Join(path, ":"), "HOME=" + w.dir, "ninefat=" + w.ninefat}
	if w.ns {
		env = append(env, "ninefatns=yes")
	}
	for _, e := range os.Environ() {
		switch strings.SplitN(e, "=", 2)[0] {
		case "PATH", "path", "HOME", "home", "venti", "SRVDIR", "ninefat", "ninefatns", "prompt", "status":
		default:
			env = append(env, e)
		}
	}
	env = append(env, w.env...)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if w.ns {
		cmd = exec.CommandContext(ctx, "unshare", "-rm", "sh", filepath.Join(root(), "test/rc/ns.sh"),
			w.root, w.fat, w.srv, root(), rcPath(w.t), "-c", cmdline)
	} else {
		fat := filepath.Join(w.root, "n/9fat")
		os.Remove(fat)
		if w.fat != "" {
			if err := os.Symlink(w.fat, fat); err != nil {
				w.t.Fatal(err)
			}
		} else {
			os.MkdirAll(fat, 0o755)
		}
		cmd = exec.CommandContext(ctx, rcPath(w.t), "-c", cmdline)
		cmd.Dir = root()
	}
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(stdin)
	// Files, not pipes: a script may leave a process behind.
	out, err := os.CreateTemp(w.dir, "stdout")
	if err != nil {
		w.t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.CreateTemp(w.dir, "stderr")
	if err != nil {
		w.t.Fatal(err)
	}
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = out, errf
	err = cmd.Run()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		w.t.Fatalf("%s: %v", script, err)
	}
	if ctx.Err() != nil {
		w.t.Fatalf("%s %q: timed out", script, args)
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	st, serr := os.ReadFile(statusFile)
	if serr != nil {
		st = []byte("(no status: rc died: " + err.Error() + ")")
	}
	return rcResult{string(o), string(e), string(st)}
}

// fatFile reads a file of the 9fat ("" if there is none).
func (w *rcWorld) fatFile(name string) string {
	b, _ := os.ReadFile(filepath.Join(w.fat, name))
	return string(b)
}

// sum is the SHA-1 of a file, to tell that it did not change.
func sum(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha1.Sum(b))
}

// A console is a FIFO posted in /srv as fossil posts its console on
// Linux, and the lines written to it, with when they came.
type console struct {
	mu    sync.Mutex
	lines []string
	times []time.Time
}

func (w *rcWorld) console(name string) *console {
	w.t.Helper()
	p := filepath.Join(w.srv, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		w.t.Fatal(err)
	}
	// Open for reading and writing: the open does not wait for a
	// writer, and each script's close is no end of file.
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	c := &console{}
	w.t.Cleanup(func() { f.Close() })
	go func() {
		br := bufio.NewReader(f)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			c.mu.Lock()
			c.lines = append(c.lines, strings.TrimSuffix(line, "\n"))
			c.times = append(c.times, time.Now())
			c.mu.Unlock()
		}
	}()
	return c
}

// got returns the lines read so far, after a moment for the last ones.
func (c *console) got() ([]string, []time.Time) {
	time.Sleep(100 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...), append([]time.Time(nil), c.times...)
}

// holdWithFossil makes the rc that runs each script first start a
// process named fossil that holds the partition open, as a running
// fossil does; with ignoreTerm, one that a kill does not stop. It is
// started inside the script's namespace, where the script may look at
// its open files. Their ids go to the file returned, one a line.
func (w *rcWorld) holdWithFossil(part string, ignoreTerm bool) (pidFile string) {
	w.t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		w.t.Fatal(err)
	}
	fake := filepath.Join(w.dir, "holder", "fossil")
	os.MkdirAll(filepath.Dir(fake), 0o755)
	b, err := os.ReadFile(sleep)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(fake, b, 0o755); err != nil {
		w.t.Fatal(err)
	}
	pidFile = filepath.Join(w.dir, "fossil.pid")
	trap := ""
	if ignoreTerm {
		trap = `trap "" TERM HUP INT; `
	}
	w.before = "sh -c " + rcQuote(trap+"exec "+fake+" 600") + " <" + rcQuote(part) + " >/dev/null >[2=1] &\n" +
		"echo $apid >>" + rcQuote(pidFile) + "\nsleep 1"
	w.t.Cleanup(func() {
		b, _ := os.ReadFile(pidFile)
		for _, f := range strings.Fields(string(b)) {
			var pid int
			fmt.Sscan(f, &pid)
			if pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return pidFile
}

// alive says whether the last process in pidFile is still running (a
// zombie is not).
func alive(t *testing.T, pidFile string) bool {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pids := strings.Fields(string(b))
	if len(pids) == 0 {
		t.Fatalf("no process in %s", pidFile)
	}
	st, err := os.ReadFile("/proc/" + pids[len(pids)-1] + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// TestRCUsage runs every script with arguments it does not take: each
// says how to call it and exits with status usage, touching nothing.
func TestRCUsage(t *testing.T) {
	w := newRC(t)
	os.WriteFile(filepath.Join(w.fat, "wrcmd"), []byte("venti/wrarena -h tcp!127.0.0.2!17034 -o 794624 /dev/sdC0/arenas 0x1000\n"), 0o644)
	fat := sum(t, filepath.Join(w.fat, "wrcmd"))
	for _, c := range []struct {
		script string
		args   []string
		usage  string
	}{
		{"foshalt", []string{"x"}, "foshalt"},
		{"fossilize", []string{"a", "b"}, "fossilize [partition]"},
		{"fossilize", []string{"-x"}, "fossilize [partition]"},
		{"fosreset", nil, "fosreset score [partition] [venti]"},
		{"fosreset", []string{"a", "b", "c", "d"}, "fosreset score [partition] [venti]"},
		{"fossilstart", []string{"a", "b", "c"}, "fossilstart [partition] [name]"},
		{"fossilstart", []string{"part", "a/b"}, "fossilstart [partition] [name]"},
		{"ventiprog", []string{"-v"}, "ventiprog [venti...]"},
		{"fossilconf", nil, "fossilconf [-w] partition [configfile]"},
		{"fossilconf", []string{"part", "conf"}, "fossilconf [-w] partition [configfile]"},
		{"fossilconf", []string{"-w", "a", "b", "c"}, "fossilconf [-w] partition [configfile]"},
		{"venticonf", []string{"-x", "part"}, "venticonf [-w] partition [configfile]"},
		{"venticonf", nil, "venticonf [-w] partition [configfile]"},
	} {
		r := w.run(nil, c.script, c.args...)
		if r.status != "usage" || r.stderr != "usage: "+c.usage+"\n" || r.stdout != "" {
			t.Errorf("%s %q: %+v", c.script, c.args, r)
		}
	}
	if sum(t, filepath.Join(w.fat, "wrcmd")) != fat || w.fatFile("rootscor") != "" {
		t.Errorf("the 9fat changed")
	}
	if ents, _ := os.ReadDir(w.srv); len(ents) != 0 {
		t.Errorf("/srv holds %v", ents)
	}
}

// TestFoshalt halts two fossils through their consoles (FIFOs in /srv,
// as fossil posts them on Linux): each gets an empty line and fsys all
// sync, then, after a pause, fsys all halt. A file in /srv that is no
// console is left alone.
func TestFoshalt(t *testing.T) {
	w := newRC(t)
	c1, c2 := w.console("fscons"), w.console("fscons.other")
	os.WriteFile(filepath.Join(w.srv, "fossil"), nil, 0o644)
	r := w.run(nil, "foshalt")
	if r.status != "" || r.stdout != "syncing...halting...halted\n" || r.stderr != "" {
		t.Errorf("foshalt: %+v", r)
	}
	for _, c := range []*console{c1, c2} {
		lines, times := c.got()
		if strings.Join(lines, "|") != "|fsys all sync|fsys all halt" {
			t.Errorf("console got %q", lines)
			continue
		}
		if d := times[2].Sub(times[1]); d < time.Second {
			t.Errorf("halt came %v after sync", d)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(w.srv, "fossil")); len(b) != 0 {
		t.Errorf("/srv/fossil written: %q", b)
	}

	// No fossil at all: nothing to do.
	w2 := newRC(t)
	if r := w2.run(nil, "foshalt"); r.status != "" || r.stdout != "syncing...halting...halted\n" || r.stderr != "" {
		t.Errorf("foshalt with no consoles: %+v", r)
	}
}

// fossilB unpacks fixture fossil-b's partition, the one whose newest
// archive is fossilBArchive.
func fossilB(t *testing.T) string {
	return fixture.Gunzip(t, "fossil-b/fossil.part.gz", t.TempDir())
}

const fossilBArchive = "vac:2016745728b185e07a1ada97c0214f56cb630c8b"

// TestFossilize records fixture fossil-b's archive score: appended to
// /n/9fat/rootscor after what was there, and printed, as the line
// fosreset takes. With no 9fat mounted it mounts one with 9fat: (the
// stand-in binds a directory); the failures leave rootscor and the
// partition as they were.
func TestFossilize(t *testing.T) {
	part := fossilB(t)
	partSum := sum(t, part)
	const addr = "tcp!127.0.0.1!17034"

	w := newRC(t)
	w.env = []string{"venti=" + addr}
	os.WriteFile(filepath.Join(w.fat, "rootscor"), []byte("vac:0000000000000000000000000000000000000000 /dev/sdC0/fossil tcp!10.0.0.1!17034\n"), 0o644)
	want := fossilBArchive + " " + part + " " + addr + "\n"
	r := w.run(nil, "fossilize", part)
	if r.status != "" || r.stdout != want || r.stderr != "" {
		t.Errorf("fossilize: %+v, want %q", r, want)
	}
	if got := w.fatFile("rootscor"); got != "vac:0000000000000000000000000000000000000000 /dev/sdC0/fossil tcp!10.0.0.1!17034\n"+want {
		t.Errorf("rootscor:\n%s", got)
	}

	// 9fat not mounted: fossilize mounts it.
	w = newRC(t)
	w.env = []string{"venti=" + addr}
	w.ninefat, w.fat = w.fat, ""
	r = w.run(nil, "fossilize", part)
	if r.status != "" || r.stdout != want {
		t.Errorf("fossilize mounting 9fat: %+v", r)
	}
	if b, _ := os.ReadFile(filepath.Join(w.ninefat, "rootscor")); string(b) != want {
		t.Errorf("rootscor in the 9fat it mounted: %q", b)
	}

	// No 9fat to mount.
	w = newRC(t)
	w.fat = ""
	if r := w.run(nil, "fossilize", part); r.status != "no.9fat" || r.stdout != "" || !strings.Contains(r.stderr, "9fat") {
		t.Errorf("fossilize without a 9fat: %+v", r)
	}

	// No score: a partition that is no fossil, and the default
	// partition, which this machine lacks.
	w = newRC(t)
	os.WriteFile(filepath.Join(w.fat, "rootscor"), []byte("old\n"), 0o644)
	notFossil := newPart(t, 1<<20)
	for _, args := range [][]string{{notFossil}, nil} {
		r := w.run(nil, "fossilize", args...)
		if r.status != "no.score" || r.stdout != "" || !strings.HasSuffix(r.stderr, "no score?!\n") {
			t.Errorf("fossilize %q: %+v", args, r)
		}
		if args == nil && !strings.Contains(r.stderr, "/dev/sdC0/fossil") {
			t.Errorf("fossilize with no partition did not read /dev/sdC0/fossil: %q", r.stderr)
		}
	}
	if w.fatFile("rootscor") != "old\n" {
		t.Errorf("rootscor changed: %q", w.fatFile("rootscor"))
	}
	if sum(t, part) != partSum || sum(t, notFossil) != sum(t, newPart(t, 1<<20)) {
		t.Errorf("a partition changed")
	}
}

// fossilBVenti serves fixture fossil-b's venti, which holds its archive.
func fossilBVenti(t *testing.T, ip string) *ventiServer {
	dir := t.TempDir()
	arenas := fixture.Gunzip(t, "fossil-b/venti-after-archive/arenas.gz", dir)
	isect := fixture.Gunzip(t, "fossil-b/venti-after-archive/isect.gz", dir)
	bloom := fixture.Gunzip(t, "fossil-b/venti-after-archive/bloom.gz", dir)
	config := filepath.Join(dir, "venti.conf")
	text := fmt.Sprintf("index main\narenas %s\nisect %s\nbloom %s\nmem 16m\nbcmem 16m\nicmem 16m\n", arenas, isect, bloom)
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return startVenti(t, config, ip)
}

// TestFosresetChecks runs fosreset with what it must refuse: a short or
// non-hex score, no venti, a partition that is a network address or
// is not there, a score the venti lacks, a venti that is not there,
// and a fossil that will not die. Each exits with its status and
// leaves the partition as it was.
func TestFosresetChecks(t *testing.T) {
	part := fossilB(t)
	partSum := sum(t, part)
	v := fossilBVenti(t, "127.0.0.1")
	dead := fmt.Sprintf("tcp!127.0.0.1!%d", freePort(t, "127.0.0.1"))
	const addr = "tcp!127.0.0.1!17034"
	score := strings.TrimPrefix(fossilBArchive, "vac:")
	w := newRC(t)
	for _, c := range []struct {
		args   []string
		venti  string
		status string
	}{
		{[]string{"vac:2016745728", part, addr}, "", "no.rootscore"},
		{[]string{score[:39], part, addr}, "", "no.rootscore"},
		{[]string{score + "0", part, addr}, "", "no.rootscore"},
		{[]string{"vac:zz" + score[2:], part, addr}, "", "no.rootscore"},
		{[]string{"", part, addr}, "", "no.rootscore"},
		{[]string{fossilBArchive, part}, "", "no.venti"},
		{[]string{fossilBArchive, part, ""}, addr, "no.venti"},
		{[]string{fossilBArchive, "tcp!127.0.0.1!17034"}, addr, "no.disk"},
		{[]string{fossilBArchive, "tcp!127.0.0.1!17034", addr}, "", "no.disk"},
		{[]string{score, filepath.Join(t.TempDir(), "nonexistent"), addr}, "", "no.disk"},
		{[]string{fossilBArchive}, addr, "no.disk"}, // /dev/sdC0/fossil
		{[]string{strings.Repeat("0", 40), part, v.addr}, "", "no.rootscore"},
		{[]string{fossilBArchive, part, dead}, "", "no.venti"},
	} {
		w.env = nil
		if c.venti != "" {
			w.env = []string{"venti=" + c.venti}
		}
		r := w.run(nil, "fosreset", c.args...)
		if r.status != c.status || r.stdout != "" || !strings.HasPrefix(r.stderr, "fosreset: ") {
			t.Errorf("fosreset %q (venti=%s): %+v, want status %s", c.args, c.venti, r, c.status)
		}
	}
	if sum(t, part) != partSum {
		t.Fatalf("partition changed")
	}

	// A fossil holds the partition and ignores the kill. With its venti
	// unreachable, it is left alone; with the archive there, it is
	// halted through its console, and fosreset gives up.
	cons := w.console("fscons")
	pid := w.holdWithFossil(part, true)
	r := w.run(nil, "fosreset", fossilBArchive, part, dead)
	if r.status != "no.venti" || r.stdout != "" {
		t.Errorf("fosreset with its venti gone: %+v", r)
	}
	if lines, _ := cons.got(); len(lines) != 0 || !alive(t, pid) {
		t.Errorf("fosreset with its venti gone: console got %q; fossil alive %v", lines, alive(t, pid))
	}
	w.env = []string{"venti=" + v.addr}
	r = w.run(nil, "fosreset", fossilBArchive, part)
	if r.status != "fossilzombie" || r.stdout != "syncing...halting...halted\n" || !strings.Contains(r.stderr, "fossil still holds "+part) {
		t.Errorf("fosreset with a fossil that will not die: %+v", r)
	}
	if lines, _ := cons.got(); strings.Join(lines, "|") != "|fsys all sync|fsys all halt" {
		t.Errorf("console got %q", lines)
	}
	if !alive(t, pid) {
		t.Errorf("the fossil died after all")
	}
	if sum(t, part) != partSum {
		t.Errorf("partition changed")
	}
}

// TestFosreset resets fixture fossil-b's partition, while a fossil
// holds it, to the archive that fossilize records, read from the
// fixture's venti on 127.0.0.1: fosreset halts the fossil through its
// console and stops it, and flfmt -v makes /active the archived tree.
// Read back with fsdisk's Reader, that tree is the archive on venti,
// entry for entry and byte for byte.
func TestFosreset(t *testing.T) {
	v := fossilBVenti(t, "127.0.0.1")
	part := fossilB(t)
	// Make it differ from a fresh restore: flfmt must rewrite it all.
	f, err := os.OpenFile(part, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte{0xa5}, 1<<20), 4<<20)
	f.Close()

	w := newRC(t)
	w.env = []string{"venti=" + v.addr}
	r := w.run(nil, "fossilize", part)
	if r.status != "" || r.stdout != fossilBArchive+" "+part+" "+v.addr+"\n" {
		t.Fatalf("fossilize: %+v", r)
	}
	cons := w.console("fscons")
	pid := w.holdWithFossil(part, false)
	w.env = nil // the venti comes from fossilize's line
	r = w.run(nil, "fosreset", strings.Fields(r.stdout)...)
	if r.status != "" || r.stdout != "syncing...halting...halted\n" || len(strings.Fields(r.stderr)) != 3 {
		t.Fatalf("fosreset: %+v (want flfmt's three root scores on stderr)", r)
	}
	if lines, _ := cons.got(); strings.Join(lines, "|") != "|fsys all sync|fsys all halt" {
		t.Errorf("console got %q", lines)
	}
	if alive(t, pid) {
		t.Errorf("the fossil still runs")
	}
	if r := run(t, nil, nil, "fossil/last", part); r.stdout != fossilBArchive+"\n" {
		t.Errorf("fossil/last after fosreset: %+v", r)
	}

	z, err := venti.Dial(v.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	b := readFile(t, part)
	d, err := fsdisk.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	root, err := fsdisk.NewReader(d, ventiReader{z}).Root(s.Active)
	if err != nil {
		t.Fatal(err)
	}
	active, err := root.Walk("active")
	if err != nil {
		t.Fatal(err)
	}
	sc, _, err := venti.ParseScore(fossilBArchive)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := fsdisk.NewVentiReader(ventiReader{z}).OpenVac(sc)
	if err != nil {
		t.Fatal(err)
	}
	// The archive is a snapshot of the whole file system: its active is
	// the tree fossil served.
	archived, err := archive.Walk("active")
	if err != nil {
		t.Fatal(err)
	}
	if n := sameTree(t, active, archived, "/active"); n != 13 {
		t.Errorf("compared %d files and directories, want the 13 of the archive", n)
	}
	hello, err := active.Open("usr/root/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(hello.Reader())
	if want := readFile(t, fixture.Path(t, "fossil-b/data/usr_root_hello.txt")); !bytes.Equal(got, want) {
		t.Errorf("hello.txt: %q, want %q", got, want)
	}
}

// sameTree compares two trees entry by entry and file by file, and
// returns how many files and directories it compared.
func sameTree(t *testing.T, got, want *fsdisk.File, path string) int {
	t.Helper()
	gd, err := got.ReadDir()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	wd, err := want.ReadDir()
	if err != nil {
		t.Fatalf("archive %s: %v", path, err)
	}
	if len(gd) != len(wd) {
		var gn, wn []string
		for _, d := range gd {
			gn = append(gn, d.Elem)
		}
		for _, d := range wd {
			wn = append(wn, d.Elem)
		}
		t.Errorf("%s: entries %q, want %q", path, gn, wn)
		return 0
	}
	n := 0
	for i := range gd {
		g, w := gd[i], wd[i]
		p := path + "/" + g.Elem
		if !sameDirEntry(g, w) {
			t.Errorf("%s: entry %+v, want %+v", p, g, w)
			continue
		}
		gf, err := got.Walk(g.Elem)
		if err != nil {
			t.Fatal(err)
		}
		wf, err := want.Walk(w.Elem)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if gf.IsDir() {
			n += sameTree(t, gf, wf, p)
			continue
		}
		gb, err1 := io.ReadAll(gf.Reader())
		wb, err2 := io.ReadAll(wf.Reader())
		if err1 != nil || err2 != nil || !bytes.Equal(gb, wb) {
			t.Errorf("%s: contents differ (%v, %v)", p, err1, err2)
		}
	}
	return n
}

func sameDirEntry(a, b vac.DirEntry) bool {
	return a.Elem == b.Elem && a.Size == b.Size && a.Qid == b.Qid && a.UID == b.UID && a.GID == b.GID &&
		a.MID == b.MID && a.MTime == b.MTime && a.MCount == b.MCount && a.CTime == b.CTime && a.Mode == b.Mode
}

// TestFossilstart starts a fossil with a stand-in for fossil/fossil
// (test/rc/fakefossil: it posts its console as a plain file that keeps
// what is written to it) and checks that the configuration goes to the
// console fossilstart made, not to another fossil's /srv/fscons.
//
// The whole workflow of the seed, on our real fossil and ventis, is
// TestBackupWorkflow (rc_workflow_test.go). Not covered yet: fosreset
// on a partition whose fossil runs, which needs the fossil and
// fosreset in one user namespace (each rcWorld.run makes its own, and
// /proc/N/fd of a sibling's process cannot be read).
func TestFossilstart(t *testing.T) {
	const addr = "tcp!127.0.0.1!17034"
	part := newPart(t, 8<<20)
	w := newRC(t)
	w.path = []string{filepath.Join(w.dir, "fake")}
	w.install(filepath.Join(root(), "test/rc/fakefossil"), filepath.Join(w.dir, "fake"))

	// No venti: nothing started.
	if r := w.run(nil, "fossilstart", part); r.status != "no.venti" || !strings.HasPrefix(r.stderr, "fossilstart: ") {
		t.Errorf("fossilstart without venti: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(w.srv, "fossil.args")); err == nil {
		t.Errorf("fossil started without venti")
	}

	// Another fossil's console is there already: it gets nothing.
	os.WriteFile(filepath.Join(w.srv, "fscons"), nil, 0o644)
	w.env = []string{"venti=" + addr}
	r := w.run(nil, "fossilstart", part, "fscons.2")
	if r.status != "" || r.stdout != "" || r.stderr != "" {
		t.Errorf("fossilstart: %+v", r)
	}
	args, _ := os.ReadFile(filepath.Join(w.srv, "fossil.args"))
	if string(args) != "-c srv -p fscons.2\nventi "+addr+"\n" {
		t.Errorf("fossil/fossil ran with %q", args)
	}
	cons, _ := os.ReadFile(filepath.Join(w.srv, "fscons.2"))
	want := "fsys main config " + part + "\nfsys main open -c 3000\nfsys main snaptime -s 60 -a 0500 -t 2880\nsrv -A fossil.2\nlisten tcp!*!564\n"
	if string(cons) != want {
		t.Errorf("console fscons.2 got:\n%s\nwant:\n%s", cons, want)
	}
	if b, _ := os.ReadFile(filepath.Join(w.srv, "fscons")); len(b) != 0 {
		t.Errorf("the other fossil's console got %q", b)
	}

	// A console of that name exists: no second fossil behind it.
	os.Remove(filepath.Join(w.srv, "fossil.args"))
	if r := w.run(nil, "fossilstart", part); r.status != "cons.exists" {
		t.Errorf("fossilstart over /srv/fscons: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(w.srv, "fossil.args")); err == nil {
		t.Errorf("fossil started over an existing console")
	}
	if b, _ := os.ReadFile(filepath.Join(w.srv, "fscons")); len(b) != 0 {
		t.Errorf("the other fossil's console got %q", b)
	}

	// The defaults: /dev/sdC0/fossil, console fscons, 9P at /srv/fossil.
	os.Remove(filepath.Join(w.srv, "fscons"))
	if r := w.run(nil, "fossilstart"); r.status != "" {
		t.Errorf("fossilstart: %+v", r)
	}
	cons, _ = os.ReadFile(filepath.Join(w.srv, "fscons"))
	want = "fsys main config /dev/sdC0/fossil\nfsys main open -c 3000\nfsys main snaptime -s 60 -a 0500 -t 2880\nsrv -A fossil\nlisten tcp!*!564\n"
	if string(cons) != want {
		t.Errorf("console fscons got:\n%s\nwant:\n%s", cons, want)
	}
}

// TestFossilconf reads the config block that the C fossil/conf wrote in
// fixture fossil-b's fresh partition, writes another (from a file and
// from standard input) that fsdisk and so fossil -f read back, byte
// for byte the block fsdisk packs, and refuses a config too large, a
// partition without a config, and one too small, changing nothing.
func TestFossilconf(t *testing.T) {
	part := fixture.Gunzip(t, "fossil-b/fossil-fresh.part.gz", t.TempDir())
	w := newRC(t)
	want, err := fsdisk.ReadConfig(bytes.NewReader(readFile(t, part)))
	if err != nil {
		t.Fatal(err)
	}
	if conf := readFile(t, fixture.Path(t, "fossil-b/fossil.conf")); string(conf) != want {
		t.Fatalf("fixture: fossil.conf %q, partition %q", conf, want)
	}
	if r := w.run(nil, "fossilconf", part); r.status != "" || r.stdout != want || r.stderr != "" {
		t.Errorf("fossilconf: %+v, want %q", r, want)
	}

	whole := readFile(t, part)
	text := "fsys main config\nfsys main open -c 3000\nfsys main snaptime -s 60 -a 0500 -t 2880\nsrv -p fscons\nsrv -A fossil\nlisten tcp!*!564\n"
	conf := filepath.Join(t.TempDir(), "conf")
	os.WriteFile(conf, []byte(text), 0o644)
	check := func(what, text string, r rcResult) {
		t.Helper()
		if r.status != "" || r.stdout != "" || r.stderr != "" {
			t.Errorf("%s: %+v", what, r)
		}
		got := readFile(t, part)
		block, _ := fsdisk.PackConfig(text)
		if !bytes.Equal(got[fsdisk.ConfigOffset:fsdisk.ConfigOffset+fsdisk.ConfigSize], block) {
			t.Errorf("%s: the block is not fsdisk's", what)
		}
		if !bytes.Equal(got[:fsdisk.ConfigOffset], whole[:fsdisk.ConfigOffset]) || !bytes.Equal(got[fsdisk.ConfigOffset+fsdisk.ConfigSize:], whole[fsdisk.ConfigOffset+fsdisk.ConfigSize:]) {
			t.Errorf("%s: bytes outside the block changed", what)
		}
		if c, err := fsdisk.ReadConfig(bytes.NewReader(got)); err != nil || c != text {
			t.Errorf("%s: fsdisk reads %q, %v", what, c, err)
		}
		if r := w.run(nil, "fossilconf", part); r.status != "" || r.stdout != text {
			t.Errorf("%s: fossilconf reads %+v", what, r)
		}
	}
	check("fossilconf -w file", text, w.run(nil, "fossilconf", "-w", part, conf))
	// The most that fits: the block full, with no NUL at all.
	most := strings.Repeat("# a comment line, of which there are many\n", 23)
	most += strings.Repeat("#", fsdisk.ConfigSize-len(fsdisk.ConfigMagic)-len(most)-1) + "\n"
	check("fossilconf -w <full config", most, w.run([]byte(most), "fossilconf", "-w", part))
	check("fossilconf -w <config", text, w.run([]byte(text), "fossilconf", "-w", part))

	before := sum(t, part)
	r := w.run([]byte(most+"x"), "fossilconf", "-w", part)
	if r.status != "too.large" || !strings.HasPrefix(r.stderr, "fossilconf: config is too large") {
		t.Errorf("fossilconf -w too large: %+v", r)
	}
	if r := w.run(nil, "fossilconf", "-w", part, filepath.Join(t.TempDir(), "none")); r.status != "no.config" {
		t.Errorf("fossilconf -w with no config file: %+v", r)
	}
	if sum(t, part) != before {
		t.Errorf("a refused config changed the partition")
	}

	blank := newPart(t, 1<<20)
	if r := w.run(nil, "fossilconf", blank); r.status != "no.config" || r.stdout != "" || !strings.HasPrefix(r.stderr, "fossilconf: no fossil config") {
		t.Errorf("fossilconf on a blank partition: %+v", r)
	}
	small := newPart(t, 64<<10)
	for _, args := range [][]string{{small}, {"-w", small, conf}} {
		if r := w.run(nil, "fossilconf", args...); r.status != "no.disk" {
			t.Errorf("fossilconf %q on a small partition: %+v", args, r)
		}
	}
	if r := w.run(nil, "fossilconf", filepath.Join(t.TempDir(), "none")); r.status != "no.disk" {
		t.Errorf("fossilconf on no partition: %+v", r)
	}
	if sum(t, small) != sum(t, newPart(t, 64<<10)) || sum(t, blank) != sum(t, newPart(t, 1<<20)) {
		t.Errorf("a partition changed")
	}
}

// TestVenticonf writes and reads the venti config block of an arenas
// partition against venti/conf, both ways, byte for byte; starts venti
// with -c naming the partition, as Plan 9 boots it; and refuses a
// config too large, changing nothing.
func TestVenticonf(t *testing.T) {
	config, arenas := newVenti(t, "conf")
	text := string(readFile(t, config))
	whole := readFile(t, arenas)
	w := newRC(t)

	if r := w.run(nil, "venticonf", arenas); r.status != "no.config" || !strings.HasPrefix(r.stderr, "venticonf: no venti config") {
		t.Errorf("venticonf before any config: %+v", r)
	}
	if r := w.run(nil, "venticonf", "-w", arenas, config); r.status != "" || r.stdout != "" || r.stderr != "" {
		t.Fatalf("venticonf -w: %+v", r)
	}
	got := readFile(t, arenas)
	block := make([]byte, vtdisk.ConfigSize)
	if err := vtdisk.PackConfig(block, text); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[vtdisk.ConfigOffset:vtdisk.ConfigOffset+vtdisk.ConfigSize], block) {
		t.Errorf("the block is not vtdisk's")
	}
	if !bytes.Equal(got[:vtdisk.ConfigOffset], whole[:vtdisk.ConfigOffset]) || !bytes.Equal(got[vtdisk.ConfigOffset+vtdisk.ConfigSize:], whole[vtdisk.ConfigOffset+vtdisk.ConfigSize:]) {
		t.Errorf("bytes outside the block changed")
	}
	if r := run(t, nil, nil, "venti/conf", arenas); !r.ok || r.stdout != text {
		t.Errorf("venti/conf reads %+v", r)
	}
	if r := w.run(nil, "venticonf", arenas); r.status != "" || r.stdout != text {
		t.Errorf("venticonf reads %+v", r)
	}

	// venti/conf writes, venticonf reads; venticonf writes from standard
	// input, venti/conf reads.
	other := text + "mem 16m\nhttpaddr tcp!127.0.0.1!0\n"
	if r := run(t, []byte(other), nil, "venti/conf", "-w", arenas); !r.ok {
		t.Fatalf("venti/conf -w: %+v", r)
	}
	if r := w.run(nil, "venticonf", arenas); r.status != "" || r.stdout != other {
		t.Errorf("venticonf reads venti/conf's %+v", r)
	}
	viaConf := readFile(t, arenas)
	if r := w.run([]byte(other), "venticonf", "-w", arenas); r.status != "" {
		t.Errorf("venticonf -w <config: %+v", r)
	}
	if !bytes.Equal(readFile(t, arenas), viaConf) {
		t.Errorf("venticonf -w and venti/conf -w wrote different partitions")
	}

	// venti reads it from the partition.
	if r := w.run(nil, "venticonf", "-w", arenas, config); r.status != "" {
		t.Fatalf("venticonf -w: %+v", r)
	}
	v := startVenti(t, arenas, "127.0.0.4")
	z, err := venti.Dial(v.addr)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := z.Write(context.Background(), venti.DataType, []byte("configured from the partition"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := z.Read(context.Background(), sc, venti.DataType, 100); err != nil || string(b) != "configured from the partition" {
		t.Errorf("read back %q, %v", b, err)
	}
	z.Close()
	v.cmd.Process.Signal(syscall.SIGTERM)
	v.cmd.Wait()

	before := sum(t, arenas)
	big := strings.Repeat("# a long config\n", vtdisk.ConfigSize/16)
	if r := w.run([]byte(big), "venticonf", "-w", arenas); r.status != "too.large" || !strings.HasPrefix(r.stderr, "venticonf: config is too large") {
		t.Errorf("venticonf -w too large: %+v", r)
	}
	if sum(t, arenas) != before {
		t.Errorf("a refused config changed the partition")
	}
	if r := w.run(nil, "venticonf", arenas); r.status != "" || r.stdout != text {
		t.Errorf("after the refusal venticonf reads %+v", r)
	}
}
