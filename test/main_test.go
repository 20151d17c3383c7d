// Package test holds end-to-end tests: they build the real commands and
// run them as an operator or a script would, against real servers on
// loopback addresses and real partitions in files.
package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// trees are the folders whose commands the tests run; each command is
// built as binDir/TREE/NAME, its Plan 9 name (venti/read, fossil/flfmt;
// the fossil server, built from fossil/, is fossil/fossil).
var trees = []string{"venti", "fossil"}

// root is the module's top directory.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// fixtures is shared/fixtures beside the checkout ($FIXTURES if set).
func fixtures() string { return fixture.Dir() }

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// bin returns the path of a built command, building all of them once.
func bin(t testing.TB, name string) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "fossil-bin")
		if binErr != nil {
			return
		}
		for _, tree := range trees {
			if _, err := os.Stat(filepath.Join(root(), tree)); err != nil {
				continue
			}
			dir := filepath.Join(binDir, tree) + string(filepath.Separator)
			build := exec.Command("go", "build", "-o", dir, "./"+tree+"/...")
			build.Dir = root()
			if out, err := build.CombinedOutput(); err != nil {
				binErr = &buildError{tree, string(out)}
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, name)
}

type buildError struct{ cmd, out string }

func (e *buildError) Error() string { return "build " + e.cmd + ": " + e.out }

// result is what a command did.
type result struct {
	stdout, stderr string
	ok             bool
}

// run runs a command with the given standard input and environment
// additions, from the module's top directory. Its output goes through
// files, not pipes, so that a command leaving a server behind (venti
// without -s) still returns.
func run(t testing.TB, stdin []byte, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin(t, name), args...)
	cmd.Dir = root()
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := os.CreateTemp("", "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	errf, err := os.CreateTemp("", "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = out, errf
	err = cmd.Run()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("%s: %v", name, err)
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return result{string(o), string(e), err == nil}
}
