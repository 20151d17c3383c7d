package fs

import (
	"fmt"
	"testing"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
)

// TestBigDirectory: a directory with more entries than one block holds
// (204 with 8 KiB blocks) records its size as the C fossil does, a whole
// block for each full block of entries (fsdisk.DirSize), so that the
// checker, the C fossil and a reopen count the same entries. The engine
// once counted 40 bytes an entry throughout, which made flchk call the
// last entries of a 1,000-file directory missing.
func TestBigDirectory(t *testing.T) {
	name := format(t, 64<<20)
	fs := open(t, name, Options{CacheBlocks: 300})
	d, _ := fs.OpenFile("/active")
	nd, err := d.Create("many", vac.ModeDir|0o775, "glenda")
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := nd.(*File)
	defer dir.Close()
	const n = 450
	for i := 0; i < n; i++ {
		writeFile(t, fs, fmt.Sprintf("/active/many/f%05d", i), []byte(fmt.Sprint(i)))
	}
	fs.mu.Lock()
	e, err := dir.src.entry()
	fs.mu.Unlock()
	if err != nil || e.Size != fsdisk.DirSize(n, e.DSize) || e.NumEntries() != n {
		t.Fatalf("entries tree of %d files: size %d (%d entries), %v; want size %d", n, e.Size, e.NumEntries(), err, fsdisk.DirSize(n, e.DSize))
	}
	if err := fs.Sync(); err != nil {
		t.Fatal(err)
	}
	if out := diskCheck(t, name); !isClean(out) {
		t.Errorf("flchk:\n%s", out)
	}
	dir.Close()
	fs.Close()
	fs = open(t, name, Options{})
	defer fs.Close()
	for _, i := range []int{0, 203, 204, 407, 408, n - 1} {
		if got := string(readFile(t, fs, fmt.Sprintf("/active/many/f%05d", i))); got != fmt.Sprint(i) {
			t.Errorf("f%05d after reopen: %q", i, got)
		}
	}
	// Removing and creating again reuses the slots.
	p, _ := fs.OpenFile("/active/many")
	defer p.Close()
	g, err := fs.OpenFile("/active/many/f00300")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Remove("glenda"); err != nil {
		t.Fatal(err)
	}
	g.Close()
	writeFile(t, fs, "/active/many/again", []byte("again"))
	fs.mu.Lock()
	e, _ = p.src.entry()
	fs.mu.Unlock()
	if e.NumEntries() != n {
		t.Errorf("after a remove and a create: %d entries, want %d", e.NumEntries(), n)
	}
	if err := fs.Sync(); err != nil {
		t.Fatal(err)
	}
	if out := diskCheck(t, name); !isClean(out) {
		t.Errorf("flchk after reuse:\n%s", out)
	}
}

// TestRecentDirs: a directory's File, with its name index and slot
// hint, outlives the last walker, so that creating files one request
// at a time does not read the whole directory again for each; and the
// oldest goes when more directories than recentDirsMax are used.
func TestRecentDirs(t *testing.T) {
	fs := open(t, format(t, 16<<20), Options{})
	defer fs.Close()
	for i := 0; i <= recentDirsMax; i++ {
		mkdir(t, fs, fmt.Sprintf("/active/d%d", i))
	}
	held := func(name string) bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		for _, g := range fs.recentDirs {
			if g.de.Elem == name {
				return true
			}
		}
		return false
	}
	writeFile(t, fs, "/active/d1/f", []byte("x"))
	if !held("d1") {
		t.Error("d1 not held after its last walker went")
	}
	fs.mu.Lock()
	var d1 *File
	for _, g := range fs.recentDirs {
		if g.de.Elem == "d1" {
			d1 = g
		}
	}
	hasIndex := d1 != nil && d1.names != nil
	fs.mu.Unlock()
	if !hasIndex {
		t.Error("d1's name index went with its last walker")
	}
	if held("d0") {
		t.Errorf("d0 still held after %d more directories", recentDirsMax)
	}
}
