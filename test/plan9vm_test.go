package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// parallelTests are the tests plan9vm has made parallel already.
var parallelTests sync.Map

// plan9vm returns the runner of ../shared/plan9vm, or skips the test
// unless PLAN9VM=1 asks for the Plan 9 runs (CI's Plan 9 stage does:
// each boots a Plan 9 under qemu and takes a minute or more).
func plan9vm(t *testing.T) string {
	t.Helper()
	if os.Getenv("PLAN9VM") != "1" {
		t.Skip("set PLAN9VM=1 to run the tests inside Plan 9")
	}
	// Each run is a qemu of its own with one CPU: two at a time (go
	// test's -parallel is GOMAXPROCS) halve CI's Plan 9 stage.
	if _, again := parallelTests.LoadOrStore(t, true); !again {
		t.Parallel()
	}
	run := filepath.Join(root(), "..", "shared", "plan9vm", "run")
	if _, err := os.Stat(run); err != nil {
		t.Fatal(err)
	}
	return run
}

// plan9Dir makes a directory for the runner: the files of test/plan9/NAME
// and our commands built for plan9/386 under bin/.
func plan9Dir(t *testing.T, name string, cmds ...string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(root(), "test", "plan9", name)
	files, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(src, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f.Name()), b, 0o755)
	}
	for _, c := range cmds {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", c), "./"+c)
		build.Dir = root()
		build.Env = append(os.Environ(), "GOOS=plan9", "GOARCH=386")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", c, err, out)
		}
	}
	return dir
}

// disk makes a blank disk image of the given size in MiB.
func disk(t *testing.T, mib int64) string {
	f := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f, mib<<20); err != nil {
		t.Fatal(err)
	}
	return f
}

// runPlan9 boots Plan 9 on dir and fails the test with the guest's
// status and transcript unless it reports ok.
func runPlan9(t *testing.T, dir string, args ...string) {
	run := plan9vm(t)
	cmd := exec.Command(run, append(append([]string{"-t", "600"}, args...), dir)...)
	out, err := cmd.CombinedOutput()
	status, _ := os.ReadFile(filepath.Join(dir, "out", "status"))
	transcript, _ := os.ReadFile(filepath.Join(dir, "out", "transcript.txt"))
	if err != nil || string(status) != "ok\n" {
		t.Fatalf("plan9vm: %v; status %q\ntranscript:\n%s\nrunner output (tail):\n%s", err, status, transcript, tail(out, 3000))
	}
	t.Logf("transcript:\n%s", transcript)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// TestPlan9VentiInterop runs our venti clients inside Plan 9 against the
// C venti, and the C clients against what ours wrote.
func TestPlan9VentiInterop(t *testing.T) {
	plan9vm(t)
	dir := plan9Dir(t, "venti", "venti/read", "venti/write", "venti/copy", "venti/venti")
	runPlan9(t, dir, "-d", disk(t, 64))
}
