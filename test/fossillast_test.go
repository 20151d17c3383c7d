package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
)

// TestFossilLast prints what the C fossil/last printed on the fixtures:
// the zero score on a fresh partition, the archive's root after snap -a.
func TestFossilLast(t *testing.T) {
	dir := t.TempDir()
	for part, want := range map[string]string{
		"fossil-b/fossil-fresh.part.gz": "vac:da39a3ee5e6b4b0d3255bfef95601890afd80709\n",
		"fossil-b/fossil.part.gz":       "vac:2016745728b185e07a1ada97c0214f56cb630c8b\n",
	} {
		r := run(t, nil, nil, "fossil/last", fixture.Gunzip(t, part, dir))
		if !r.ok || r.stdout != want {
			t.Errorf("fossil/last %s: %+v, want %q", part, r, want)
		}
	}
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, make([]byte, 256<<10), 0o644)
	if r := run(t, nil, nil, "fossil/last", junk); r.ok || !strings.HasPrefix(r.stderr, "fossil/last: "+junk+": ") {
		t.Errorf("fossil/last on a non-fossil: %+v", r)
	}
	if r := run(t, nil, nil, "fossil/last"); r.ok || r.stderr != "usage: fossil/last disk\n" {
		t.Errorf("fossil/last without a disk: %+v", r)
	}
}
