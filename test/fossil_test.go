//go:build !plan9

package test

import (
	"bytes"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"

	"github.com/plan9fossil/fossil/internal/srv"
)

// fossilServer is a fossil/fossil started by a test, with its console
// posted as a FIFO and 9P on a loopback TCP port.
type fossilServer struct {
	cmd    *exec.Cmd
	cons   string // the console FIFO
	log    string // what the console printed
	tcp    string // host:port of listen
	srv    string // the posted 9P socket
	stderr *bytes.Buffer
	mark   int
}

// startFossil starts fossil on partition part with the given extra
// console commands, posting and listening under unique names.
func startFossil(t *testing.T, part string, extra ...string) *fossilServer {
	t.Helper()
	dir, err := srv.Dir()
	if err != nil {
		t.Skipf("no srv directory: %v", err)
	}
	tag := fmt.Sprintf("t%d.%d", os.Getpid(), rand.Intn(1e9))
	port := freePort(t, "127.0.0.1")
	f := &fossilServer{
		cons:   filepath.Join(dir, "fscons."+tag),
		log:    filepath.Join(dir, "fscons."+tag+".log"),
		srv:    filepath.Join(dir, "fossil."+tag),
		tcp:    fmt.Sprintf("127.0.0.1:%d", port),
		stderr: &bytes.Buffer{},
	}
	args := []string{
		"-c", "fsys main config " + part,
	}
	args = append(args, extra...)
	args = append(args,
		"-c", "srv -p fscons."+tag,
		"-c", "srv -A fossil."+tag,
		"-c", fmt.Sprintf("listen tcp!127.0.0.1!%d", port),
	)
	f.cmd = exec.Command(bin(t, "fossil/fossil"), args...)
	f.cmd.Env = append(os.Environ(), "FOSSIL_FOREGROUND=1")
	f.cmd.Stderr = f.stderr
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.cmd.Process.Kill()
		f.cmd.Wait()
		os.Remove(f.log)
		os.Remove(f.cons)
		os.Remove(f.srv)
		os.Remove(f.cons + ".sock")
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("tcp", f.tcp); err == nil {
			c.Close()
			if _, err := os.Stat(f.cons); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("fossil did not start: %s", f.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return f
}

// console runs a command as an operator does, echo cmd >>/srv/fscons,
// and returns what the console printed for it.
func (f *fossilServer) console(t *testing.T, line string) string {
	t.Helper()
	f.mark++
	mark := fmt.Sprintf("mark-%d-done", f.mark)
	before, _ := os.ReadFile(f.log)
	c, err := os.OpenFile(f.cons, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "%s\necho %s\n", line, mark)
	c.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(f.log)
		out := string(b[len(before):])
		// The log echoes the typed "echo mark" line too: the mark
		// is printed when it stands alone on a line.
		if i := strings.Index(out, "\n"+mark+"\n"); i >= 0 {
			out = out[:i+1]
			if j := strings.LastIndex(out, "echo "+mark+"\n"); j >= 0 {
				out = out[:j]
			}
			return strings.TrimSuffix(out, f.prompt())
		}
		if time.Now().After(deadline) {
			t.Fatalf("console: %q: no answer; log so far:\n%s\nstderr:\n%s", line, out, f.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// prompt is the console's prompt as the log shows it.
func (f *fossilServer) prompt() string { return "main: " }

// waitLog waits for a regular expression to appear in the console log.
func (f *fossilServer) waitLog(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(f.log)
		if m := rx.FindStringSubmatch(string(b)); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("console log never showed %q:\n%s", re, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop asks fossil to exit as the boot scripts do, with SIGTERM.
func (f *fossilServer) stop(t *testing.T) {
	t.Helper()
	f.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- f.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("fossil did not exit on SIGTERM: %s", f.stderr)
	}
}

func newFossilPart(t *testing.T) string {
	t.Helper()
	part := filepath.Join(t.TempDir(), "fossil")
	if err := os.WriteFile(part, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(part, 64<<20); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, nil, "fossil/flfmt", "-y", "-l", "test", part); !r.ok {
		t.Fatalf("flfmt: %s", r.stderr)
	}
	return part
}

func mount(t *testing.T, addr, user string) *client.Fsys {
	return mountName(t, addr, user, "")
}

func mountName(t *testing.T, addr, user, aname string) *client.Fsys {
	t.Helper()
	c, err := client.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fs, err := c.Attach(nil, user, aname)
	if err != nil {
		t.Fatalf("attach as %s: %v", user, err)
	}
	return fs
}

// TestFossilExample is fossil(4)'s EXAMPLES walkthrough: format, start
// with authentication off, make the users file, mount and use the file
// system; then archive it to venti and find the archive with
// fossil/last.
func TestFossilExample(t *testing.T) {
	vaddr, store := serveMem(t, "127.0.0.1")
	part := newFossilPart(t)
	f := startFossil(t, part, "-c", "fsys main venti "+vaddr, "-c", "fsys main open -A -c 1000")
	for _, cmd := range []string{
		"create /active/adm adm sys d775",
		"create /active/adm/users adm sys 664",
		"create /active/usr sys sys d775",
		"uname root root",
		"create /active/usr/glenda glenda glenda d775",
	} {
		if out := f.console(t, cmd); strings.Contains(out, "error") || strings.Contains(out, "usage") {
			t.Fatalf("%s: %s", cmd, out)
		}
	}
	if out := f.console(t, "users"); !strings.Contains(out, "\tnuser 6 len 96") {
		t.Errorf("users: %q", out)
	}
	out := f.console(t, "stat /active/usr/glenda")
	if !strings.Contains(out, "\tstat /active/usr/glenda glenda glenda glenda d775 0") {
		t.Errorf("uname made no home: %q", out)
	}

	fsys := mount(t, f.tcp, "glenda")
	data := bytes.Repeat([]byte("fossil example\n"), 10000)
	w, err := fsys.Create("/usr/glenda/hello", plan9.OWRITE, 0o664)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 8192 {
		if _, err := w.Write(data[off:min(off+8192, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if dir, err := fsys.Create("/usr/glenda/dir", plan9.OREAD, plan9.DMDIR|0o775); err != nil {
		t.Fatal(err)
	} else {
		dir.Close()
	}
	r, err := fsys.Open("/usr/glenda/hello", plan9.OREAD)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	d, err := fsys.Stat("/usr/glenda/hello")
	if err != nil || d.Uid != "glenda" || d.Gid != "glenda" || d.Length != uint64(len(data)) {
		t.Fatalf("stat: %+v %v", d, err)
	}
	// The users file the console wrote is what /adm/users holds.
	uf, err := fsys.Open("/adm/users", plan9.OREAD)
	if err != nil {
		t.Fatal(err)
	}
	users, _ := readAll(uf)
	uf.Close()
	if !strings.Contains(string(users), "glenda:glenda:glenda:") {
		t.Errorf("users file: %q", users)
	}

	// Archive.
	n0 := store.Len()
	f.console(t, "snap -a")
	m := f.waitLog(t, `archive vac:([0-9a-f]{40})`)
	if store.Len() <= n0 {
		t.Error("archive stored nothing on venti")
	}
	f.console(t, "sync")
	last := run(t, nil, nil, "fossil/last", part)
	if strings.TrimSpace(last.stdout) != "vac:"+m[1] {
		t.Errorf("fossil/last: %q, console said vac:%s", last.stdout, m[1])
	}
	whole := mountName(t, f.tcp, "glenda", "main")
	day := time.Now().Format("2006/0102")
	r, err = whole.Open("/archive/"+day+"/usr/glenda/hello", plan9.OREAD)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = readAll(r)
	r.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("archived copy: wrong data")
	}
	if _, err := whole.Create("/archive/"+day+"/usr/glenda/new", plan9.OWRITE, 0o664); err == nil {
		t.Error("created a file in the archive")
	}
	f.stop(t)

	// A second start reads it all back.
	f = startFossil(t, part, "-c", "fsys main venti "+vaddr, "-c", "fsys main open -A -c 1000", "-c", "users -r /active/adm/users")
	fsys = mount(t, f.tcp, "glenda")
	r, err = fsys.Open("/usr/glenda/hello", plan9.OREAD)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = readAll(r)
	r.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("after restart: wrong data")
	}
}

type reader interface {
	Read([]byte) (int, error)
}

func readAll(r reader) ([]byte, error) {
	var out []byte
	buf := make([]byte, 8192)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil || n == 0 {
			if err != nil && err.Error() == "EOF" {
				err = nil
			}
			return out, err
		}
	}
}
