package fault

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestArm(t *testing.T) {
	defer func() { dieFunc = die; arm("") }()
	died := 0
	dieFunc = func() { died++ }
	for _, c := range []struct {
		env  string
		name string
		at   int
	}{
		{"", "a", 0},
		{"a", "a", 1},
		{"a", "b", 0},
		{"a:3", "a", 3},
		{"a:x", "a", 1},
		{"a:0", "a", 1},
	} {
		arm(c.env)
		died = 0
		at := 0
		for i := 1; i <= 5; i++ {
			Point(c.name)
			if died == 1 && at == 0 {
				at = i
			}
		}
		if at != c.at || died > 1 {
			t.Errorf("FAULT=%q, Point(%q): died at %d (%d times), want %d", c.env, c.name, at, died, c.at)
		}
	}
}

func BenchmarkPointUnarmed(b *testing.B) {
	arm("")
	for b.Loop() {
		Point("fs.commit.afterdata")
	}
}

// TestPointsListed checks that every fault.Point call in the module names
// a point of Points, and every point of Points is called once.
func TestPointsListed(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	call := regexp.MustCompile(`fault\.Point\("([^"]+)"\)`)
	var found []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "fault") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, m := range call.FindAllSubmatch(b, -1) {
			found = append(found, string(m[1]))
		}
		return nil
	})
	slices.Sort(found)
	want := slices.Clone(Points)
	slices.Sort(want)
	if !slices.Equal(found, want) {
		t.Errorf("fault.Point calls in the source:\n%q\nPoints:\n%q", found, want)
	}
}
