//go:build !plan9

package test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// newVenti formats a venti with our tools in a fresh directory: 64 MiB
// of arenas (16 MiB each), an 8 MiB index section, a 1 MiB bloom filter.
func newVenti(t *testing.T, name string) (config, arenas string) {
	t.Helper()
	return newVentiSized(t, name, "16M", 64<<20, 8<<20)
}

// newVentiSized formats a venti whose arenas partition of arenasSize
// bytes holds arenas of arenaSize (fmtarenas -a) and whose index
// section has isectSize bytes.
func newVentiSized(t *testing.T, name, arenaSize string, arenasSize, isectSize int64) (config, arenas string) {
	t.Helper()
	dir := t.TempDir()
	arenas = filepath.Join(dir, "arenas")
	isect := filepath.Join(dir, "isect")
	bloom := filepath.Join(dir, "bloom")
	for f, size := range map[string]int64{arenas: arenasSize, isect: isectSize, bloom: 1 << 20} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Truncate(f, size)
	}
	config = filepath.Join(dir, "venti.conf")
	os.WriteFile(config, []byte(fmt.Sprintf("index main\narenas %s\nisect %s\nbloom %s\n", arenas, isect, bloom)), 0o644)
	for _, c := range [][]string{
		{"venti/fmtarenas", "-a", arenaSize, name + ".", arenas},
		{"venti/fmtisect", name + "isect", isect},
		{"venti/fmtbloom", bloom},
		{"venti/fmtindex", config},
	} {
		if r := run(t, nil, nil, c[0], c[1:]...); !r.ok {
			t.Fatalf("%v: %+v", c, r)
		}
	}
	return config, arenas
}

var endOffset = regexp.MustCompile(`(?m)^end offset (0x[0-9a-f]+|0)$`)

// TestReplicateWithWrarena is ventiprog's step, between two of our
// ventis on 127.0.0.2 and 127.0.0.3, both formatted by our tools: the
// first wrarena copies everything, a second from the printed offset
// copies nothing and prints the same offset, and after more writes a
// third copies just those. The source survives kill -9 too.
func TestReplicateWithWrarena(t *testing.T) {
	srcConf, srcArenas := newVenti(t, "src")
	dstConf, _ := newVenti(t, "dst")
	src := startVenti(t, srcConf, "127.0.0.2")
	dst := startVenti(t, dstConf, "127.0.0.3")

	write := func(v *ventiServer, from, to int) []string {
		var scores []string
		for i := from; i < to; i++ {
			data := []byte(strings.Repeat(fmt.Sprintf("replicated block %d ", i), 100))
			r := run(t, data, nil, "venti/write", "-h", v.addr)
			if !r.ok {
				t.Fatalf("write: %+v", r)
			}
			scores = append(scores, strings.TrimSpace(r.stdout))
		}
		return scores
	}
	clumps := func(v *ventiServer) string {
		m := regexp.MustCompile(`(?m)^clumps=([0-9,]+) `).FindStringSubmatch(v.get(t, "/storage"))
		if m == nil {
			t.Fatalf("no clumps in /storage")
		}
		return m[1]
	}
	// The first arena starts where fmtarenas put it; printarenapart says.
	pa := run(t, nil, nil, "venti/printarenapart", srcArenas)
	m := regexp.MustCompile(`(?m)^arena src\.0 ([0-9]+) `).FindStringSubmatch(pa.stdout)
	if m == nil {
		t.Fatalf("printarenapart: %+v", pa)
	}
	aoff := m[1]

	first := write(src, 0, 40)
	r := run(t, nil, nil, "venti/wrarena", "-o", aoff, "-h", dst.addr, srcArenas)
	off := endOffset.FindStringSubmatch(r.stdout)
	if !r.ok || off == nil {
		t.Fatalf("wrarena: %+v", r)
	}
	if got := clumps(dst); got != "40" {
		t.Errorf("destination holds %s clumps after the first copy, want 40", got)
	}
	for _, s := range first {
		if r := run(t, nil, nil, "venti/read", "-h", dst.addr, "-t", "0", s); !r.ok {
			t.Errorf("replica lacks %s: %s", s, r.stderr)
		}
	}
	// Nothing new: nothing copied, the same offset.
	r = run(t, nil, nil, "venti/wrarena", "-o", aoff, "-h", dst.addr, srcArenas, off[1])
	again := endOffset.FindStringSubmatch(r.stdout)
	if !r.ok || again == nil || again[1] != off[1] || clumps(dst) != "40" {
		t.Errorf("second wrarena: offset %v (first %s), destination clumps %s: %+v", again, off[1], clumps(dst), r)
	}
	// More data: only the new blocks travel.
	more := write(src, 40, 50)
	r = run(t, nil, nil, "venti/wrarena", "-o", aoff, "-h", dst.addr, srcArenas, off[1])
	third := endOffset.FindStringSubmatch(r.stdout)
	if !r.ok || third == nil || third[1] == off[1] || clumps(dst) != "50" {
		t.Errorf("third wrarena: offset %v, destination clumps %s: %+v", third, clumps(dst), r)
	}
	for _, s := range more {
		if r := run(t, nil, nil, "venti/read", "-h", dst.addr, "-t", "0", s); !r.ok {
			t.Errorf("replica lacks %s: %s", s, r.stderr)
		}
	}

	// The source, killed and restarted, still has everything.
	src.cmd.Process.Signal(syscall.SIGKILL)
	src.cmd.Wait()
	src = startVenti(t, srcConf, "127.0.0.2")
	for _, s := range append(first, more...) {
		if r := run(t, nil, nil, "venti/read", "-h", src.addr, "-t", "0", s); !r.ok {
			t.Errorf("after kill -9, source lacks %s: %s", s, r.stderr)
		}
	}
	// Stopped cleanly, both ventis check clean with our checkers.
	for _, v := range []*ventiServer{src, dst} {
		v.cmd.Process.Signal(syscall.SIGTERM)
		if err := v.cmd.Wait(); err != nil {
			t.Errorf("venti stopped with %v: %s", err, v.log)
		}
	}
	for _, conf := range []string{srcConf, dstConf} {
		tmp := filepath.Join(t.TempDir(), "tmp")
		os.WriteFile(tmp, nil, 0o644)
		os.Truncate(tmp, 8<<20)
		if r := run(t, nil, nil, "venti/checkindex", conf, tmp); !r.ok || !strings.Contains(r.stdout+r.stderr, "index is correct") {
			t.Errorf("checkindex %s: %+v", conf, r)
		}
	}
}
