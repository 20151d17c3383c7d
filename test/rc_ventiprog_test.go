//go:build !plan9

package test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/venti"
)

// startVentiAt runs our venti/venti in the foreground on a config,
// listening at tcp!ip!port (its HTTP server on a free port), and waits
// until it serves; it returns the server and its standard error, which
// may be read while it runs. ventiprog's replicas differ only in their
// host, so they share a port.
func startVentiAt(t *testing.T, config, ip string, port int) (*ventiServer, *syncBuffer) {
	t.Helper()
	hport := freePort(t, ip)
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
	logs := &syncBuffer{}
	go func() {
		br := bufio.NewReader(stderr)
		signalled := false
		for {
			line, err := br.ReadString('\n')
			logs.WriteString(line)
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
			t.Fatalf("venti did not start: %s", logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("venti did not start in time: %s", logs.String())
	}
	return v, logs
}

// syncBuffer is a buffer that one goroutine may write while another
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// freePortOn returns a port free on every one of the addresses.
func freePortOn(t *testing.T, ips ...string) int {
	t.Helper()
	for range 100 {
		port := freePort(t, ips[0])
		ok := true
		for _, ip := range ips[1:] {
			l, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, port))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return port
		}
	}
	t.Fatalf("no port free on all of %v", ips)
	return 0
}

// writeBlocks writes n data blocks to a venti and syncs: with random,
// incompressible data of size bytes each, or, size 0, compressible
// text. It returns their scores.
func writeBlocks(t *testing.T, addr string, seed int64, n, size int) []venti.Score {
	t.Helper()
	z, err := venti.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	rnd := rand.New(rand.NewSource(seed))
	var scores []venti.Score
	for i := range n {
		var data []byte
		if size == 0 {
			data = []byte(strings.Repeat(fmt.Sprintf("block %d of run %d ", i, seed), 50))
		} else {
			data = make([]byte, size)
			rnd.Read(data)
		}
		s, err := z.Write(context.Background(), venti.DataType, data)
		if err != nil {
			t.Fatal(err)
		}
		scores = append(scores, s)
	}
	if err := z.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return scores
}

// missing returns how many of the blocks a venti lacks.
func missing(t *testing.T, addr string, scores []venti.Score) int {
	t.Helper()
	z, err := venti.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	n := 0
	for _, s := range scores {
		if _, err := z.Read(context.Background(), s, venti.DataType, venti.MaxLumpSize); err != nil {
			n++
		}
	}
	return n
}

// arenaOffsets returns the offsets of the arenas of a partition, as
// printarenapart prints them.
func arenaOffsets(t *testing.T, arenas string) map[string]string {
	t.Helper()
	r := run(t, nil, nil, "venti/printarenapart", arenas)
	m := map[string]string{}
	for _, f := range regexp.MustCompile(`(?m)^arena (\S+) ([0-9]+) `).FindAllStringSubmatch(r.stdout, -1) {
		m[f[1]] = f[2]
	}
	if len(m) == 0 {
		t.Fatalf("printarenapart: %+v", r)
	}
	return m
}

// ventiprogOutput splits what ventiprog printed: the copy reports, then
// the old and the new command.
func ventiprogOutput(t *testing.T, r rcResult) (reports []string, old, new string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.status != "" || len(lines) < 3 {
		t.Fatalf("ventiprog: %+v", r)
	}
	n := len(lines)
	return lines[:n-2], lines[n-2], lines[n-1]
}

var endOffsetArg = regexp.MustCompile(` (0x[0-9a-f]+|0)$`)

// TestVentiprog replicates a venti on 127.0.0.1 to replicas on
// 127.0.0.2 (the saved command's) and 127.0.0.3 (named by host alone),
// as the seed's cron job does: the first run copies every block to
// both; a second with nothing new copies nothing and keeps the offset;
// after more writes only the new blocks travel and the offset in wrcmd
// advances. rootscor gets the old and the new command of every run.
// The failures: no wrcmd, a saved command that is no wrarena with -o,
// an unreachable venti and an unreachable replica, each leaving wrcmd
// and rootscor as they were.
func TestVentiprog(t *testing.T) {
	srcConf, srcArenas := newVenti(t, "src")
	conf2, _ := newVenti(t, "r2")
	conf3, _ := newVenti(t, "r3")
	src := startVenti(t, srcConf, "127.0.0.1")
	port := freePortOn(t, "127.0.0.2", "127.0.0.3")
	r2, _ := startVentiAt(t, conf2, "127.0.0.2", port)
	r3, _ := startVentiAt(t, conf3, "127.0.0.3", port)
	aoff := arenaOffsets(t, srcArenas)["src.0"]

	w := newRC(t)
	wrcmd := filepath.Join(w.fat, "wrcmd")
	rootscor := filepath.Join(w.fat, "rootscor")

	// No wrcmd.
	if r := w.run(nil, "ventiprog", "127.0.0.3"); r.status != "no.wrcmd" || !strings.HasPrefix(r.stderr, "ventiprog: no ") || !strings.Contains(r.stderr, "/n/9fat/wrcmd;") {
		t.Errorf("ventiprog with no wrcmd: %+v", r)
	}
	if _, err := os.Stat(rootscor); err == nil {
		t.Errorf("rootscor written")
	}

	first := writeBlocks(t, src.addr, 1, 40, 0)
	cmd0 := fmt.Sprintf("venti/wrarena -h %s -o %s %s 0", r2.addr, aoff, srcArenas)
	os.WriteFile(wrcmd, []byte(cmd0+"\n"), 0o644)
	os.WriteFile(rootscor, []byte("vac:0000000000000000000000000000000000000000 /dev/sdC0/fossil tcp!127.0.0.1!17034\n"), 0o644)
	log := readFile(t, rootscor)

	r := w.run(nil, "ventiprog", "127.0.0.3")
	reports, old, cmd1 := ventiprogOutput(t, r)
	if old != cmd0 || !strings.HasPrefix(cmd1, strings.TrimSuffix(cmd0, "0")) || !endOffsetArg.MatchString(cmd1) || cmd1 == cmd0 {
		t.Errorf("first run: old %q new %q", old, cmd1)
	}
	wantReports := []string{r2.addr + ": src.0: sent 40 clumps", r3.addr + ": src.0: sent 40 clumps"}
	if !sameReports(reports, wantReports) {
		t.Errorf("first run reported %q, want %q", reports, wantReports)
	}
	if got := w.fatFile("wrcmd"); got != cmd1+"\n" {
		t.Errorf("wrcmd %q, want %q", got, cmd1)
	}
	log = append(log, cmd0+"\n"+cmd1+"\n"...)
	if got := w.fatFile("rootscor"); got != string(log) {
		t.Errorf("rootscor:\n%s\nwant:\n%s", got, log)
	}
	for _, v := range []*ventiServer{r2, r3} {
		if n := missing(t, v.addr, first); n != 0 {
			t.Errorf("%s lacks %d of the 40 blocks", v.addr, n)
		}
	}
	// The offset is the one wrarena itself prints.
	wr := run(t, nil, nil, "venti/wrarena", "-h", "/dev/null", "-o", aoff, srcArenas, "0")
	if m := endOffset.FindStringSubmatch(wr.stdout); m == nil || !strings.HasSuffix(cmd1, " "+m[1]) {
		t.Errorf("wrcmd %q; wrarena says %q", cmd1, wr.stdout)
	}

	// Nothing new: nothing copied, the same offset. The command is
	// saved as the seed's example has it, wrarena alone, and stays so.
	bare := strings.TrimPrefix(cmd1, "venti/")
	os.WriteFile(wrcmd, []byte(bare+"\n"), 0o644)
	r = w.run(nil, "ventiprog", "127.0.0.3")
	reports, old, cmd2 := ventiprogOutput(t, r)
	if old != bare || cmd2 != bare {
		t.Errorf("second run: old %q new %q, want both %q", old, cmd2, bare)
	}
	wantReports = []string{r2.addr + ": src.0: sent 0 clumps", r3.addr + ": src.0: sent 0 clumps"}
	if !sameReports(reports, wantReports) {
		t.Errorf("second run reported %q, want %q", reports, wantReports)
	}
	if got := w.fatFile("wrcmd"); got != bare+"\n" {
		t.Errorf("wrcmd %q, want %q", got, bare)
	}
	log = append(log, bare+"\n"+bare+"\n"...)
	os.WriteFile(wrcmd, []byte(cmd1+"\n"), 0o644)

	// Ten more blocks: those ten travel, and the offset advances.
	more := writeBlocks(t, src.addr, 2, 10, 0)
	r = w.run(nil, "ventiprog", "127.0.0.3")
	reports, old, cmd3 := ventiprogOutput(t, r)
	if old != cmd1 || cmd3 == cmd1 || !endOffsetArg.MatchString(cmd3) {
		t.Errorf("third run: old %q new %q", old, cmd3)
	}
	wantReports = []string{r2.addr + ": src.0: sent 10 clumps", r3.addr + ": src.0: sent 10 clumps"}
	if !sameReports(reports, wantReports) {
		t.Errorf("third run reported %q, want %q", reports, wantReports)
	}
	log = append(log, cmd1+"\n"+cmd3+"\n"...)
	if got := w.fatFile("rootscor"); got != string(log) {
		t.Errorf("rootscor:\n%s\nwant:\n%s", got, log)
	}
	for _, v := range []*ventiServer{r2, r3} {
		if n := missing(t, v.addr, more); n != 0 {
			t.Errorf("%s lacks %d of the 10 new blocks", v.addr, n)
		}
	}
	if !strings.Contains(r2.get(t, "/storage"), "clumps=50 ") || !strings.Contains(r3.get(t, "/storage"), "clumps=50 ") {
		t.Errorf("replicas' storage:\n%s\n%s", r2.get(t, "/storage"), r3.get(t, "/storage"))
	}

	// Failures change nothing.
	wrcmdSum, logSum := sum(t, wrcmd), sum(t, rootscor)
	unchanged := func(what string) {
		t.Helper()
		if sum(t, wrcmd) != wrcmdSum || sum(t, rootscor) != logSum {
			t.Errorf("%s: wrcmd or rootscor changed", what)
		}
	}
	writeBlocks(t, src.addr, 3, 5, 0)
	// A replica that is not there: nothing saved, so the next run
	// copies these blocks again, to every venti.
	r = w.run(nil, "ventiprog", "127.0.0.3", "127.0.0.4")
	if r.status != "no.replica" || !strings.Contains(r.stderr, "warning! ventiprog dump to tcp!127.0.0.4!") {
		t.Errorf("ventiprog with a missing replica: %+v", r)
	}
	unchanged("missing replica")
	// The saved venti is not there.
	dead := fmt.Sprintf("tcp!127.0.0.1!%d", freePort(t, "127.0.0.1"))
	os.WriteFile(wrcmd, []byte(strings.Replace(cmd3, r2.addr, dead, 1)+"\n"), 0o644)
	wrcmdSum = sum(t, wrcmd)
	r = w.run(nil, "ventiprog", "127.0.0.3")
	if r.status != "no.newoff" || !strings.HasSuffix(r.stderr, "warning! ventiprog dump unsuccessful, aborting\n") || r.stdout != "" {
		t.Errorf("ventiprog with its venti gone: %+v", r)
	}
	unchanged("venti gone")
	// Saved commands it cannot follow.
	for _, bad := range []string{
		"venti/wrarena -h " + r2.addr + " " + srcArenas + " 0x100",
		"venti/wrarena -h " + r2.addr + " -o " + aoff,
		"venti/wrarena -o " + aoff + " " + srcArenas + " 0x100 junk",
		"venti/wrarena -o " + aoff + " " + srcArenas + " 0x10z",
		"",
	} {
		os.WriteFile(wrcmd, []byte(bad+"\n"), 0o644)
		wrcmdSum = sum(t, wrcmd)
		if r := w.run(nil, "ventiprog"); r.status != "no.wrcmd" || r.stdout != "" {
			t.Errorf("ventiprog with wrcmd %q: %+v", bad, r)
		}
		unchanged(bad)
	}
}

// sameReports compares ventiprog's reports, but for the byte counts,
// which depend on the compression.
func sameReports(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, _, _ := strings.Cut(got[i], ", ")
		if g != want[i] || !regexp.MustCompile(`, [0-9]+ bytes$`).MatchString(got[i]) {
			return false
		}
	}
	return true
}

// newSmallVenti formats a venti of 1 MiB arenas, to fill one quickly.
func newSmallVenti(t *testing.T, name string) (config, arenas string) {
	t.Helper()
	return newVentiSized(t, name, "1M", 6<<20, 4<<20)
}

// TestVentiprogArenaRollover fills the source venti's first arena,
// which it seals and goes on in the next: ventiprog copies the rest of
// the sealed arena, carries on with the next from its start, and saves
// a command for that arena; the next run goes on from there. The
// replicas (the second named by its whole dial string) end up with
// every block.
func TestVentiprogArenaRollover(t *testing.T) {
	srcConf, srcArenas := newSmallVenti(t, "small")
	conf2, _ := newVenti(t, "r2")
	conf3, _ := newVenti(t, "r3")
	src, srcLog := startVentiAt(t, srcConf, "127.0.0.1", freePort(t, "127.0.0.1"))
	r2 := startVenti(t, conf2, "127.0.0.2")
	r3 := startVenti(t, conf3, "127.0.0.3")
	offs := arenaOffsets(t, srcArenas)

	w := newRC(t)
	cmd0 := fmt.Sprintf("venti/wrarena -h %s -o %s %s 0", r2.addr, offs["small.0"], srcArenas)
	os.WriteFile(filepath.Join(w.fat, "wrcmd"), []byte(cmd0+"\n"), 0o644)

	const size = 8000 // incompressible: about 130 fill an arena
	first := writeBlocks(t, src.addr, 10, 50, size)
	r := w.run(nil, "ventiprog", r3.addr)
	reports, _, cmd1 := ventiprogOutput(t, r)
	if !sameReports(reports, []string{r2.addr + ": small.0: sent 50 clumps", r3.addr + ": small.0: sent 50 clumps"}) {
		t.Errorf("first run reported %q", reports)
	}

	second := writeBlocks(t, src.addr, 11, 150, size)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(srcLog.String(), "arena small.0 sealed") {
		if time.Now().After(deadline) {
			t.Fatalf("arena small.0 not sealed: %s", srcLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	r = w.run(nil, "ventiprog", r3.addr)
	t.Logf("ventiprog %s:\n%s", r3.addr, r.stdout)
	reports, old, cmd2 := ventiprogOutput(t, r)
	if old != cmd1 || !strings.HasPrefix(cmd2, fmt.Sprintf("venti/wrarena -h %s -o %s %s ", r2.addr, offs["small.1"], srcArenas)) || !endOffsetArg.MatchString(cmd2) {
		t.Errorf("rollover run: old %q new %q", old, cmd2)
	}
	// small.0's last clumps, then small.1's first: 150 in all.
	var n0, n1 int
	if len(reports) != 4 {
		t.Fatalf("rollover run reported %q", reports)
	}
	fmt.Sscanf(reports[0], r2.addr+": small.0: sent %d clumps", &n0)
	fmt.Sscanf(reports[2], r2.addr+": small.1: sent %d clumps", &n1)
	if n0 == 0 || n1 == 0 || n0+n1 != 150 ||
		!sameReports(reports, []string{
			fmt.Sprintf("%s: small.0: sent %d clumps", r2.addr, n0), fmt.Sprintf("%s: small.0: sent %d clumps", r3.addr, n0),
			fmt.Sprintf("%s: small.1: sent %d clumps", r2.addr, n1), fmt.Sprintf("%s: small.1: sent %d clumps", r3.addr, n1),
		}) {
		t.Errorf("rollover run reported %q", reports)
	}
	if got := w.fatFile("wrcmd"); got != cmd2+"\n" {
		t.Errorf("wrcmd %q, want %q", got, cmd2)
	}
	for _, v := range []*ventiServer{r2, r3} {
		if n := missing(t, v.addr, append(first, second...)); n != 0 {
			t.Errorf("%s lacks %d of the 200 blocks", v.addr, n)
		}
	}

	third := writeBlocks(t, src.addr, 12, 10, size)
	r = w.run(nil, "ventiprog", r3.addr)
	reports, old, cmd3 := ventiprogOutput(t, r)
	if old != cmd2 || !strings.HasPrefix(cmd3, fmt.Sprintf("venti/wrarena -h %s -o %s ", r2.addr, offs["small.1"])) || cmd3 == cmd2 {
		t.Errorf("run after the rollover: old %q new %q", old, cmd3)
	}
	if !sameReports(reports, []string{r2.addr + ": small.1: sent 10 clumps", r3.addr + ": small.1: sent 10 clumps"}) {
		t.Errorf("run after the rollover reported %q", reports)
	}
	for _, v := range []*ventiServer{r2, r3} {
		if n := missing(t, v.addr, third); n != 0 {
			t.Errorf("%s lacks %d of the 10 new blocks", v.addr, n)
		}
	}
}
