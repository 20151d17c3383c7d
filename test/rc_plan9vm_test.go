package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPlan9RCToolkit runs the rc toolkit inside Plan 9, on Plan 9's rc
// and programs, with our fossil/last, fossil/flfmt, venti/wrarena and
// venti/printarenapart (plan9/386) bound before the C ones, against the
// C fossil and venti: the configuration scripts against the C conf
// scripts, fossilstart, fossilize into a real 9fat, ventiprog to a
// second venti, fosreset from it, foshalt, and fosreset under a running
// fossil (test/rc/plan9/toolkit.rc).
func TestPlan9RCToolkit(t *testing.T) {
	plan9vm(t)
	dir := t.TempDir()
	copyTree := func(src, dst string) {
		t.Helper()
		ents, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(dst, 0o755)
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			name := e.Name()
			if name == "9fat" {
				name = "9fat:"
			}
			if err := os.WriteFile(filepath.Join(dst, name), b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	copyTree(filepath.Join(root(), "test/rc/plan9"), dir)
	os.Remove(filepath.Join(dir, "9fat:"))
	copyTree(filepath.Join(root(), "test/rc/plan9"), filepath.Join(dir, "standin"))
	for _, f := range []string{"autorun.rc", "toolkit.rc"} {
		os.Remove(filepath.Join(dir, "standin", f))
	}
	copyTree(filepath.Join(root(), "rc"), filepath.Join(dir, "rc"))
	for _, c := range []string{"venti/wrarena", "venti/printarenapart", "fossil/last", "fossil/flfmt"} {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", c), "./"+c)
		build.Dir = root()
		build.Env = append(os.Environ(), "GOOS=plan9", "GOARCH=386")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", c, err, out)
		}
	}
	runPlan9(t, dir, "-d", disk(t, 256))
}
