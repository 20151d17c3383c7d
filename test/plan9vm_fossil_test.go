package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPlan9Fossil runs our fossil/fossil, flfmt, flchk and last inside
// Plan 9 beside the C fossil of the kit, on partitions of one disk and
// archiving to the C venti (test/plan9/fossil/fossil.rc): our fossil,
// started as the boot program starts it, writes, archives and reads
// back a file system our flfmt made; the C flchk and ours find it
// clean; the C fossil serves it and adds a file, which our fossil then
// reads; and a partition the C flfmt and C fossil made is checked by
// our flchk and served by our fossil. The script's transcript is in
// out/transcript.txt; out/status names the step that failed.
func TestPlan9Fossil(t *testing.T) {
	plan9vm(t)
	dir := plan9StrippedDir(t, "fossil",
		"fossil/fossil", "fossil/flfmt", "fossil/flchk", "fossil/last")
	runPlan9(t, dir, "-d", disk(t, 128))
}

// plan9StrippedDir is plan9Dir with the commands built stripped
// (-ldflags='-s -w'): they reach the guest over u9fs, and half the
// bytes is half the time. The command fossil/fossil is built from
// ./fossil.
func plan9StrippedDir(t *testing.T, name string, cmds ...string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(root(), "test", "plan9", name)
	files, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name()), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cmds {
		pkg := "./" + c
		if c == "fossil/fossil" {
			pkg = "./fossil"
		}
		build := exec.Command("go", "build", "-ldflags=-s -w", "-o", filepath.Join(dir, "bin", c), pkg)
		build.Dir = root()
		build.Env = append(os.Environ(), "GOOS=plan9", "GOARCH=386")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", c, err, out)
		}
	}
	return dir
}
