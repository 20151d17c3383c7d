//go:build !plan9

package test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// freePort returns a port free on ip at the moment.
func freePort(t *testing.T, ip string) int {
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type ventiServer struct {
	cmd      *exec.Cmd
	addr     string // dial string
	httpAddr string // host:port
	log      *bytes.Buffer
}

// startVenti runs our venti/venti in the foreground (-s) on a config
// and waits until it serves.
func startVenti(t *testing.T, config, ip string) *ventiServer {
	t.Helper()
	port, hport := freePort(t, ip), freePort(t, ip)
	v := &ventiServer{
		addr:     fmt.Sprintf("tcp!%s!%d", ip, port),
		httpAddr: fmt.Sprintf("%s:%d", ip, hport),
		log:      &bytes.Buffer{},
	}
	v.cmd = exec.Command(bin(t, "venti/venti"), "-s", "-c", config, "-a", v.addr, "-h", fmt.Sprintf("tcp!%s!%d", ip, hport))
	stderr, _ := v.cmd.StderrPipe()
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.cmd.Process.Kill(); v.cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		br := bufio.NewReader(stderr)
		signalled := false
		for {
			line, err := br.ReadString('\n')
			v.log.WriteString(line)
			if !signalled && strings.Contains(line, "serving.") {
				ready <- true
				signalled = true
			}
			if err != nil {
				if !signalled {
					ready <- false
				}
				return
			}
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("venti did not start: %s", v.log)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("venti did not start in time: %s", v.log)
	}
	return v
}

func (v *ventiServer) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + v.httpAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return string(b)
}

// ventiAFiles unpacks fixture venti-a and writes a venti.conf for it.
func ventiAFiles(t *testing.T) (dir, config string) {
	dir = t.TempDir()
	arenas := fixture.Gunzip(t, "venti-a/arenas.gz", dir)
	isect := fixture.Gunzip(t, "venti-a/isect.gz", dir)
	bloom := fixture.Gunzip(t, "venti-a/bloom.gz", dir)
	config = filepath.Join(dir, "venti.conf")
	text := fmt.Sprintf("index main\narenas %s\nisect %s\nbloom %s\nmem 16m\nbcmem 16m\nicmem 16m\n", arenas, isect, bloom)
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, config
}

// TestVentiServesFixture runs our venti on the C venti's partitions: every
// block the C venti stored is served, the status pages match the C
// ones, new writes survive a kill -9, and the C layout stays readable.
func TestVentiServesFixture(t *testing.T) {
	dir, config := ventiAFiles(t)
	v := startVenti(t, config, "127.0.0.2")

	// /storage is the C venti's, to the byte.
	want, _ := os.ReadFile(fixture.Path(t, "venti-a/http-storage.txt"))
	if got := v.get(t, "/storage"); got != string(want) {
		t.Errorf("/storage:\n%s\nwant (C venti):\n%s", got, want)
	}
	// /index too, but for the path and the indexed line: the C venti
	// was still running, with its index cache not yet flushed.
	wantIndex, _ := os.ReadFile(fixture.Path(t, "venti-a/http-index.txt"))
	wantText := strings.Replace(string(wantIndex), "$W/va/arenas", filepath.Join(dir, "arenas"), 1)
	wantText = strings.Replace(wantText, "indexed: clumps=0 compressed clumps=0 data=0 compressed data=0 storage=0",
		"indexed: clumps=11 compressed clumps=4 data=207,413 compressed data=135,206 storage=135,899", 1)
	if got := v.get(t, "/index"); got != wantText {
		t.Errorf("/index:\n%s\nwant:\n%s", got, wantText)
	}

	for _, b := range fixtureBlocks(t) {
		if strings.HasPrefix(b.score, "venti/write") {
			continue
		}
		want := b.data
		if b.flags == "-z" {
			want = nil
		}
		r := run(t, nil, nil, "venti/read", "-h", v.addr, "-t", strconv.Itoa(b.typ), b.score)
		if !r.ok || r.stdout != string(want) {
			t.Errorf("%s: read %d bytes, %q", b.name, len(r.stdout), r.stderr)
		}
	}

	// New blocks, acknowledged after a sync (venti/write syncs), then
	// kill -9.
	var scores []string
	for i := 0; i < 20; i++ {
		r := run(t, []byte(fmt.Sprintf("block %d after the fixture", i)), nil, "venti/write", "-h", v.addr)
		if !r.ok {
			t.Fatalf("write: %+v", r)
		}
		scores = append(scores, strings.TrimSpace(r.stdout))
	}
	v.cmd.Process.Signal(syscall.SIGKILL)
	v.cmd.Wait()

	v = startVenti(t, config, "127.0.0.2")
	for i, s := range scores {
		r := run(t, nil, nil, "venti/read", "-h", v.addr, "-t", "0", s)
		if r.stdout != fmt.Sprintf("block %d after the fixture", i) {
			t.Errorf("after kill -9: block %d: %q %q", i, r.stdout, r.stderr)
		}
	}
	if got := v.get(t, "/flushicache"); got != "flushed icache\n" {
		t.Errorf("/flushicache: %q", got)
	}
	if !strings.Contains(v.get(t, "/storage"), "clumps=31 ") {
		t.Errorf("/storage after 20 writes: %s", v.get(t, "/storage"))
	}
	resp, err := http.Get("http://" + v.httpAddr + "/graph/writes")
	if err != nil || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("graph: %v %v", err, resp)
	}
}

// TestVentiConfigInPartition starts venti as Plan 9's boot program does,
// with -c naming the arenas partition that holds the config block, and
// in the background (no -s): the command returns once the server
// serves.
func TestVentiConfigInPartition(t *testing.T) {
	dir, config := ventiAFiles(t)
	text, _ := os.ReadFile(config)
	arenas := filepath.Join(dir, "arenas")
	f, err := os.OpenFile(arenas, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := vtdisk.WriteConfig(f, string(text)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	port := freePort(t, "127.0.0.3")
	addr := fmt.Sprintf("tcp!127.0.0.3!%d", port)
	r := run(t, nil, nil, "venti/venti", "-c", arenas, "-a", addr)
	t.Cleanup(func() { killByArg(arenas) })
	if !r.ok || !strings.Contains(r.stderr, "serving.") {
		t.Fatalf("venti -c partition: %+v", r)
	}
	w := run(t, []byte("boot"), nil, "venti/write", "-h", addr)
	if !w.ok || strings.TrimSpace(w.stdout) != venti.Fingerprint([]byte("boot")).String() {
		t.Errorf("write to the background venti: %+v", w)
	}
	// A config that does not parse is refused with its line.
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("index main\nfrobnicate yes\n"), 0o644)
	r = run(t, nil, nil, "venti/venti", "-s", "-c", bad)
	if r.ok || !strings.Contains(r.stderr, "line 2") {
		t.Errorf("bad config: %+v", r)
	}
}

// killByArg kills the processes whose command line holds arg.
func killByArg(arg string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(arg)) {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if pid != os.Getpid() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
