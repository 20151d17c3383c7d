//go:build linux

package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/cons"
	"github.com/plan9fossil/fossil/internal/srv"
)

// TestCon runs commands on a posted console, by path and by name in
// $SRVDIR, and reports the mistakes.
func TestCon(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SRVDIR", dir)
	c := cons.New(cons.Config{SrvDir: dir, Stderr: io.Discard})
	defer c.Close()
	if err := c.Run("srv -p fscons"); err != nil {
		t.Fatal(err)
	}
	// /srv is not writable for everyone; where it is (as root), name
	// lookups go there, so the by-name case needs $SRVDIR to win.
	names := []string{filepath.Join(dir, "fscons")}
	if d, _ := srv.Dir(); d == dir {
		names = append(names, "fscons")
	}
	for _, name := range names {
		var out, errs bytes.Buffer
		status := runBounded(t, []string{"-l", name}, "echo hello\necho 'two words'\n", &out, &errs)
		if status != 0 || errs.String() != "" {
			t.Errorf("%s: status %d, stderr %q", name, status, errs.String())
		}
		if want := "prompt: hello\nprompt: two words\nprompt: "; out.String() != want {
			t.Errorf("%s: output %q, want %q", name, out.String(), want)
		}
	}

	var out, errs bytes.Buffer
	if status := runBounded(t, []string{filepath.Join(dir, "nosuch")}, "", &out, &errs); status != 1 || !strings.HasPrefix(errs.String(), "fossil/con: "+filepath.Join(dir, "nosuch")+": ") {
		t.Errorf("no console: status %d, stderr %q", status, errs.String())
	}
	errs.Reset()
	if status := runBounded(t, nil, "", &out, &errs); status != 1 || errs.String() != "usage: fossil/con [-l] name\n" {
		t.Errorf("no name: status %d, stderr %q", status, errs.String())
	}
	errs.Reset()
	if status := runBounded(t, []string{"-x", "fscons"}, "", &out, &errs); status != 1 || errs.String() != "usage: fossil/con [-l] name\n" {
		t.Errorf("bad flag: status %d, stderr %q", status, errs.String())
	}
}

func runBounded(t *testing.T, args []string, in string, out, errs io.Writer) int {
	t.Helper()
	done := make(chan int, 1)
	go func() { done <- run(args, strings.NewReader(in), out, errs) }()
	select {
	case s := <-done:
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("fossil/con %q did not finish", args)
		return -1
	}
}
