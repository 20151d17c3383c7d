//go:build linux

package cons

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"github.com/plan9fossil/fossil/internal/srv"
)

// rcPath finds the rc of Debian's 9base, which the project's scripts
// use and its tests need.
func rcPath(t *testing.T) string {
	for _, p := range []string{"/usr/bin/rc", "/usr/lib/plan9/bin/rc"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("no rc: apt-get install 9base")
	return ""
}

// shell runs script with sh or rc, with $F set to file, bounded in time.
func shell(t *testing.T, sh, script, file string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sh, "-c", script)
	cmd.Env = append(os.Environ(), "F="+file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s -c %q: %v\n%s", sh, script, err, out)
	}
}

func readFile(path string) func() string {
	return func() string {
		b, _ := os.ReadFile(path)
		return string(b)
	}
}

// TestPostedConsole posts a console with srv -p and drives it as
// operators and cron jobs do: echo into the FIFO from sh and from rc,
// read the log, and talk on the interactive socket.
func TestPostedConsole(t *testing.T) {
	dir := t.TempDir()
	stderr := &syncBuffer{}
	c := New(Config{SrvDir: dir, Stderr: stderr})
	defer c.Close()
	if err := c.Run("srv -p fscons"); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fscons")
	logf := fifo + ".log"
	for _, p := range []string{fifo, fifo + ".sock"} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0600 {
			t.Errorf("%s: mode %v, want 0600", p, fi.Mode())
		}
	}

	log := "prompt: "
	waitFor(t, "log at start", readFile(logf), log)

	shell(t, "sh", `echo 'echo from sh' >>"$F"`, fifo)
	log += "echo from sh\nfrom sh\nprompt: "
	waitFor(t, "log after sh", readFile(logf), log)

	shell(t, rcPath(t), `echo 'echo from rc' >>$F`, fifo)
	log += "echo from rc\nfrom rc\nprompt: "
	waitFor(t, "log after rc", readFile(logf), log)

	// Two commands in one write, and a command in two writes.
	shell(t, "sh", `printf 'echo a\necho b\necho -n par' >>"$F"; printf 'tial\n' >>"$F"`, fifo)
	log += "echo a\na\nprompt: echo b\nb\nprompt: echo -n partial\npartialprompt: "
	waitFor(t, "log after printf", readFile(logf), log)

	// The interactive socket.
	conn, err := srv.DialConsole(fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got := &syncBuffer{}
	copied := make(chan struct{})
	go func() { io.Copy(got, conn); close(copied) }()
	waitFor(t, "socket's prompt", got.String, "prompt: ")
	io.WriteString(conn, "echo via socket\n")
	waitFor(t, "socket after echo", got.String, "prompt: via socket\nprompt: ")
	log += "echo via socket\nvia socket\nprompt: "
	waitFor(t, "log after socket", readFile(logf), log)

	// What comes in on the FIFO shows on the socket too.
	shell(t, "sh", `echo 'echo to all' >>"$F"`, fifo)
	waitFor(t, "socket after sh", got.String, "prompt: via socket\nprompt: echo to all\nto all\nprompt: ")

	// Closing the socket's write side ends the session once the
	// output has been written.
	io.WriteString(conn, "echo last\n")
	conn.(*net.UnixConn).CloseWrite()
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		t.Fatal("session did not end")
	}
	if s := got.String(); !strings.HasSuffix(s, "last\nprompt: ") {
		t.Errorf("session ended with %q", s)
	}

	if out := run(c, stderr, "srv"); out != "" {
		t.Errorf("srv printed %q on standard error, with a console attached", out)
	}

	// srv -d takes the names away and keeps the log.
	if err := c.Run("srv -d fscons"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, fifo + ".sock"} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there after srv -d: %v", p, err)
		}
	}
	if _, err := os.Stat(logf); err != nil {
		t.Errorf("log gone after srv -d: %v", err)
	}
	// With no console left, output goes to standard error again.
	if out := run(c, stderr, "echo back"); out != "back\n" {
		t.Errorf("after srv -d, standard error got %q", out)
	}
}

// TestSrvListen posts 9P with srv and listen from the console and
// reaches them with a 9P client. The 9P server here answers Tversion
// only: the protocol is package ninep's; the plumbing is tested here.
func TestSrvListen(t *testing.T) {
	dir := t.TempDir()
	c, out := newTest(t, Config{SrvDir: dir, Serve: versionOnly})

	if got := run(c, out, "srv -A fossil", "srv -P fossilP", "listen tcp!127.0.0.1!0"); got != "" {
		t.Fatalf("srv, listen printed %q", got)
	}
	sock := filepath.Join(dir, "fossil")
	for p, mode := range map[string]os.FileMode{sock: 0666, sock + "P": 0600} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want socket %v", p, fi.Mode(), mode)
		}
	}
	if got, want := run(c, out, "srv"), "\tfossil\t"+sock+"\n\tfossilP\t"+sock+"P\n"; got != want {
		t.Errorf("srv printed %q, want %q", got, want)
	}
	listing := run(c, out, "listen")
	m := regexp.MustCompile(`^\ttcp!127\.0\.0\.1!0\ttcp!127\.0\.0\.1!([0-9]+)\n$`).FindStringSubmatch(listing)
	if m == nil {
		t.Fatalf("listen printed %q", listing)
	}

	for _, addr := range [][2]string{{"unix", sock}, {"tcp", "127.0.0.1:" + m[1]}} {
		conn, err := net.DialTimeout(addr[0], addr[1], 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if err := plan9.WriteFcall(conn, &plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: 8192, Version: "9P2000"}); err != nil {
			t.Fatal(err)
		}
		r, err := plan9.ReadFcall(conn)
		if err != nil || r.Type != plan9.Rversion || r.Version != "9P2000" {
			t.Errorf("%s: reply %v, %v", addr, r, err)
		}
		conn.Close()
	}

	if got := run(c, out, "srv -A fossil"); got != "srv: already serving 'fossil'\n" {
		t.Errorf("second srv printed %q", got)
	}
	if got := run(c, out, "listen tcp!127.0.0.1!0"); got != "listen: already serving 'tcp!127.0.0.1!0'\n" {
		t.Errorf("second listen printed %q", got)
	}
	if got := run(c, out, "listen -d tcp!127.0.0.1!0", "srv -d fossil", "listen", "srv"); got != "\tfossilP\t"+sock+"P\n" {
		t.Errorf("after -d: %q", got)
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+m[1]); err == nil {
		t.Error("still listening after listen -d")
	}

	// The 9p command talks to the server on a connection of its own.
	want := "\t-> Tversion tag 65535 msize 8192 version '9P2000'\n\t<- Rversion tag 65535 msize 8192 version '9P2000'\n"
	if got := run(c, out, "9p Tversion 8192 9P2000"); got != want {
		t.Errorf("9p printed %q, want %q", got, want)
	}
	want = "\t-> Tclunk tag 7 fid 1\n\t<- Rerror tag 7 ename only Tversion here\n"
	if got := run(c, out, "9p nexttag 7", "9p Tclunk 1"); got != want {
		t.Errorf("9p printed %q, want %q", got, want)
	}
	if got := run(c, out, "9p Tversion 100000 9P2000", "9p Tread 1", "9p Tbogus"); got != "Tversion: msize too big\nusage: Tread fid offset count\nusage: 9p T-message ...\n" {
		t.Errorf("9p errors printed %q", got)
	}

	c.Close()
	if _, err := os.Lstat(sock + "P"); !os.IsNotExist(err) {
		t.Errorf("%sP still there after Close: %v", sock, err)
	}
}

// versionOnly is a 9P server that answers Tversion and refuses the rest.
func versionOnly(rwc io.ReadWriteCloser, name string, opts srv.Options) {
	for {
		f, err := plan9.ReadFcall(rwc)
		if err != nil {
			return
		}
		r := &plan9.Fcall{Type: plan9.Rerror, Tag: f.Tag, Ename: "only Tversion here"}
		if f.Type == plan9.Tversion {
			r = &plan9.Fcall{Type: plan9.Rversion, Tag: f.Tag, Msize: f.Msize, Version: f.Version}
		}
		if plan9.WriteFcall(rwc, r) != nil {
			return
		}
	}
}
