//go:build linux

package main

import (
	"testing"

	"github.com/plan9fossil/fossil/internal/vtdisk"
)

func TestFlchkResult(t *testing.T) {
	out := `checking epoch 7...
check: visited 1/4070 blocks (0%)
checking epoch 6...
error: unreachable block 0x00000123: label 0x00000123 type 0 tag 0x1 state alloc epoch 6
# bfree 0x123
error: unreachable block 0x00000124: label 0x00000124 type 0 tag 0x1 state alloc epoch 6
# bfree 0x124
fsys blocks: total=4000 used=1000(25.0%) free=3000(75.0%) lost=2(0.1%)
`
	leaked, used, bad := flchkResult(out)
	if leaked != 2 || used != 0.25 || len(bad) != 0 {
		t.Errorf("leaked %d used %v bad %q", leaked, used, bad)
	}
	_, _, bad = flchkResult(out + "error: could not load block 0x000000fa type 0 tag 7dac1a86: block label mismatch\n# clre 0xf6 1\n")
	if len(bad) != 2 {
		t.Errorf("a bad block passed: %q", bad)
	}
	_, _, bad = flchkResult("error: unreachable block 0x00000123: reading label: short read\n")
	if len(bad) != 1 {
		t.Errorf("an unreadable label passed as a leak: %q", bad)
	}
}

func TestArenasResult(t *testing.T) {
	tails := map[string]vtdisk.TailStats{"a.0": {Clumps: 21, Used: 611877}, "a.1": {Clumps: 3, Used: 3000}}
	// A clump cut short past the trailer's end, and the log beyond it.
	out := `a.2: clump=21 at 0x95625: vtdisk: clump: corrupt: decompressing 2823 bytes to 10289: whack: corrupt compressed block
arena a.0: fix=0 flush=0 0->614738 0->22 0->8 0->841378
a.0: incorrect arena header fields
arena='a.0' [4997120,7094272)
	version=5 created=1795453344 modified=1795453347
	clumps=22 compressed clumps=8 data=841,378 compressed data=613,902 disk storage=615,288
venti/checkarenas: errors found
`
	out = "a.0" + out[len("a.2"):]
	extra, bad := arenasResult(out, tails)
	if extra != 1 || len(bad) != 0 {
		t.Errorf("extra %d, bad %q", extra, bad)
	}
	// A trailer claiming more than the log holds.
	extra, bad = arenasResult("arena a.1: fix=0 flush=0 0->2000 0->2 0->0 0->2000\na.1: incorrect arena header fields\n", tails)
	if len(bad) != 1 {
		t.Errorf("a short log passed: extra %d, bad %q", extra, bad)
	}
	// A bad clump the trailer claims.
	_, bad = arenasResult("a.1: clump=1 at 0x100 has mismatched score\n", tails)
	if len(bad) != 1 {
		t.Errorf("a bad claimed clump passed: %q", bad)
	}
}

func TestTreeDigest(t *testing.T) {
	a := newTree()
	a.files["x"] = []byte("hello")
	a.dirs["d"] = true
	b := a.clone()
	if a.digest() != b.digest() {
		t.Fatal("clones differ")
	}
	b.files["d/y"] = nil
	if a.digest() == b.digest() {
		t.Fatal("an empty file made no difference")
	}
	c := a.clone()
	delete(c.dirs, "d")
	c.files["d"] = nil
	if a.digest() == c.digest() {
		t.Fatal("a file and a directory of the same name look alike")
	}
	if d := b.describe(a); d != "d/y: unexpected file (0 bytes)" {
		t.Errorf("describe: %q", d)
	}
}
