package fs

import (
	"fmt"
	"testing"
)

// TestArchiveBigDirectory: the blocks of a directory of more than a
// block of entries are archived several at a time; under -race this
// once found their venti entries recorded in a map without a lock.
func TestArchiveBigDirectory(t *testing.T) {
	v, _ := serveVenti(t)
	name := format(t, 64<<20)
	fs := open(t, name, Options{Venti: v})
	defer fs.Close()
	mkdir(t, fs, "/active/many")
	const n = 700 // four blocks of entries
	for i := 0; i < n; i++ {
		writeFile(t, fs, fmt.Sprintf("/active/many/f%05d", i), []byte(fmt.Sprint(i)))
	}
	dst, err := fs.Snapshot("", "", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := fs.ArchiveNow(); err != nil || !ok {
		t.Fatalf("archive: %v %v", ok, err)
	}
	for _, i := range []int{0, 204, 500, n - 1} {
		if got := string(readFile(t, fs, fmt.Sprintf("%s/many/f%05d", dst, i))); got != fmt.Sprint(i) {
			t.Errorf("%s/many/f%05d: %q", dst, i, got)
		}
	}
}
