//go:build !plan9

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/plan9fossil/fossil/venti"
)

// A Profile is a CPU profile written by a run with -cpuprofile, and
// the top of what go tool pprof -top says of it.
type Profile struct {
	Name string
	File string
	What string
	Top  string
}

// pprofTop is the first lines of go tool pprof -top.
func pprofTop(file string, lines int) string {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", file).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("go tool pprof: %v\n%s", err, out)
	}
	all := strings.Split(string(out), "\n")
	if len(all) > lines {
		all = all[:lines]
	}
	return strings.Join(all, "\n")
}

// profileVenti profiles venti's unique 8 KiB writes: a second
// venti/venti, formatted and configured as the measured one, runs with
// VENTI_CPUPROFILE while 16 writers share one connection to it, so that
// its figures stay clear of the profiler's cost.
func profileVenti(bin, dir, ip, file string, size int64) (Profile, error) {
	p := Profile{Name: "venti/venti, unique 8 KiB writes", File: filepath.Base(file),
		What: "VENTI_CPUPROFILE of a second venti process, formatted and configured as the measured one, written by 16 writers on one connection; the profile covers its whole run, with its start and the index flush of its stop"}
	conf, err := formatVenti(bin, dir, "prof", ventiArenas(size), 2<<30-1<<20, 256<<20)
	if err != nil {
		return p, err
	}
	v, addr, err := startVenti(bin, conf, ip, "VENTI_CPUPROFILE="+file)
	if err != nil {
		return p, err
	}
	defer v.stop()
	c, err := venti.Dial(addr)
	if err != nil {
		return p, err
	}
	blocks := makeBlocks(9, int(size/8192))
	_, d, err := ventiWrite(c, blocks, 16)
	c.Close()
	if err != nil {
		return p, err
	}
	// The profile is written when venti stops.
	if err := v.stop(); err != nil {
		return p, err
	}
	if fi, err := os.Stat(file); err != nil || fi.Size() == 0 {
		return p, fmt.Errorf("venti wrote no profile to %s", file)
	}
	p.What += fmt.Sprintf("; %.0f MB/s while profiled", mbs(int64(len(blocks))*8192, d))
	p.Top = pprofTop(file, 35)
	return p, nil
}
