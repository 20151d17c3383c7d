//go:build linux

// Crashcampaign is issue #9's crash campaign: venti/venti and
// fossil/fossil, run as real processes on file-backed partitions on a
// loopback address, under a mixed write load (9P writers creating,
// writing, overwriting, truncating, renaming and removing files and
// directories; the console's sync and snap -a; blocks written to venti
// directly), killed with SIGKILL at a random moment or at a fault point
// of package fault (FAULT=point:n in their environment), restarted and
// checked, cycle after cycle:
//
//	go run ./internal/crashcampaign [-cycles 1000] [-seed N] [-dir D] [-v]
//
// Each cycle starts the servers on the partitions the last one crashed
// (they recover), checks that every worker's directory is in a state
// it was in at the last completed sync or later (exactly the last one
// after a clean stop), that every archive fossil reported ("archive
// vac:") reads back whole from venti and holds a state its snap -a may
// have caught, and that every block venti acknowledged with a sync
// reads back; then loads them and crashes them. Once both have
// stopped, venti/checkarenas -a and venti/checkindex check venti's
// partitions (after a crash the index may lack only entries of clumps
// the arena trailers say it need not cover yet) and fossil/flchk -f
// checks fossil's, which may leak blocks but show nothing else. When
// the partitions fill, the next generation formats new ones.
//
// A failing cycle's partitions and the servers' output are kept under
// the work directory (-dir, by default a temporary directory removed
// when the campaign passes), and crashcampaign exits with status 1.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func main() {
	cycles := flag.Int("cycles", 1000, "crash `cycles` to run")
	seed := flag.Int64("seed", 0, "random `seed` (default: from the clock)")
	dir := flag.String("dir", "", "work `directory` (default: a temporary one)")
	bin := flag.String("bin", "", "`directory` of built commands, venti/... and fossil/... (default: build them)")
	load := flag.Duration("load", time.Second, "longest load of a cycle")
	workers := flag.Int("workers", 2, "9P writers")
	verbose := flag.Bool("v", false, "say more")
	stop := flag.Bool("stop", false, "stop at the first failing cycle")
	flag.Parse()
	if *seed == 0 {
		*seed = time.Now().UnixNano()
	}
	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "crashcampaign")
		if err != nil {
			fatal(err)
		}
		work = d
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		fatal(err)
	}
	if *bin == "" {
		b := filepath.Join(work, "bin")
		if err := build(b); err != nil {
			fatal(err)
		}
		*bin = b
	}
	fmt.Printf("crash campaign: %d cycles, seed %d, in %s\n", *cycles, *seed, work)
	sum, err := Run(Config{
		Cycles: *cycles, Seed: *seed, Dir: work, Bin: *bin, Load: *load,
		Workers: *workers, Log: os.Stdout, Verbose: *verbose, StopOnFailure: *stop,
	})
	fmt.Print(sum)
	if err != nil {
		fmt.Fprintf(os.Stderr, "crashcampaign: %v\n", err)
		os.Exit(2)
	}
	if sum.Failures > 0 {
		fmt.Printf("failing cycles kept in %s\n", work)
		os.Exit(1)
	}
	if *dir == "" {
		os.RemoveAll(work)
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "crashcampaign: %v\n", err)
	os.Exit(2)
}

// build builds the venti and fossil commands into dir/venti and
// dir/fossil, from the module this file belongs to.
func build(dir string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	for _, tree := range []string{"venti", "fossil"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, tree)+string(filepath.Separator), "./"+tree+"/...")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./%s/...: %v\n%s", tree, err, out)
		}
	}
	return nil
}

// moduleRoot finds the module's top directory: from this source file's
// path when it is known, else from the current directory.
func moduleRoot() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok {
		root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root, nil
		}
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the module: run from its directory or give -bin")
	}
	return filepath.Dir(mod), nil
}
