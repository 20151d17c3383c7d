//go:build linux

package main

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// TestCampaign is a short crash campaign, for CI: a few cycles of load,
// kill and check. CRASH_CYCLES sets the number of cycles, CRASH_SEED
// the seed (default: from the clock; a failure prints it).
func TestCampaign(t *testing.T) {
	cycles := 8
	if testing.Short() {
		cycles = 3
	}
	if n, err := strconv.Atoi(os.Getenv("CRASH_CYCLES")); err == nil && n > 0 {
		cycles = n
	}
	seed := time.Now().UnixNano()
	if n, err := strconv.ParseInt(os.Getenv("CRASH_SEED"), 10, 64); err == nil {
		seed = n
	}
	dir := t.TempDir()
	bin := dir + "/bin"
	if err := build(bin); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(Config{
		Cycles: cycles, Seed: seed, Dir: dir, Bin: bin,
		Load: 800 * time.Millisecond, Workers: 2,
		Log: testLog{t}, StopOnFailure: true,
	})
	t.Logf("%s", sum)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failures > 0 {
		t.Fatalf("seed %d: %d failing cycles: %v", seed, sum.Failures, sum.Failed)
	}
	if sum.TreesVerified == 0 || sum.Ops == 0 {
		t.Errorf("the campaign checked nothing: %+v", sum)
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s", p)
	return len(p), nil
}
