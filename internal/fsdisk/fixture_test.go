package fsdisk

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/vtstore"
	"github.com/plan9fossil/fossil/venti"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}

// fixtureFile unpacks the gzipped fixture rel once and checks its
// digest against want (hex SHA-1 or SHA-256), returning its path.
func fixtureFile(t testing.TB, rel, want string) string {
	t.Helper()
	return fixture.Unpack(t, rel, want)
}

func fixtureText(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(fixture.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// partition returns a partition listed in dir/partitions.sha1, unpacked.
func partition(t testing.TB, dir, name string) string {
	t.Helper()
	for _, line := range strings.Split(fixtureText(t, dir+"/partitions.sha1"), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == name {
			return fixtureFile(t, dir+"/"+name+".gz", f[0])
		}
	}
	t.Fatalf("%s/partitions.sha1 lists no %s", dir, name)
	return ""
}

// openFile opens a file for the test's duration.
func openFile(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// openDisk opens one of fossil-b's partitions ("fossil", "fossil-fresh", ...).
func openDisk(t testing.TB, name string) (*Disk, *os.File) {
	t.Helper()
	f := openFile(t, partition(t, "fossil-b", name+".part"))
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return d, f
}

// plan9Disk is the disk image of fixture plan9-c; its fossil partition
// is at sectors 4160-45120, the venti arenas at 45120-114752 and the
// index section at 114752-131040 (disk/prep's table, out/ls-sdC0.txt).
const (
	plan9Fossil0, plan9Fossil1 = 4160 * 512, 45120 * 512
	plan9Arenas0, plan9Arenas1 = 45120 * 512, 114752 * 512
	plan9ISect0, plan9ISect1   = 114752 * 512, 131040 * 512
)

func plan9Image(t testing.TB) string {
	t.Helper()
	sum := strings.Fields(fixtureText(t, "plan9-c/disk64-after.img.sha256"))[0]
	return fixtureFile(t, "plan9-c/disk64-after.img.gz", sum)
}

// storeReader serves venti blocks from a vtstore.Store.
type storeReader struct {
	s     *vtstore.Store
	reads int
}

func (r *storeReader) ReadVenti(score venti.Score, t venti.Type) ([]byte, error) {
	r.reads++
	return r.s.Read(context.Background(), score, t, venti.MaxLumpSize)
}

func openStore(t testing.TB, cfg *vtdisk.Config) *storeReader {
	t.Helper()
	s, err := vtstore.Open(cfg, vtstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &storeReader{s: s}
}

// fossilBVenti is the venti fossil-b archived to.
func fossilBVenti(t testing.TB) *storeReader {
	t.Helper()
	dir := "fossil-b/venti-after-archive"
	return openStore(t, &vtdisk.Config{
		Arenas: []string{partition(t, dir, "arenas")},
		ISects: []string{partition(t, dir, "isect")},
		Bloom:  partition(t, dir, "bloom"),
	})
}

// plan9Venti is the venti on the plan9-c disk.
func plan9Venti(t testing.TB) *storeReader {
	t.Helper()
	img := plan9Image(t)
	return openStore(t, &vtdisk.Config{
		Arenas: []string{fmt.Sprintf("%s:%d-%d", img, plan9Arenas0, plan9Arenas1)},
		ISects: []string{fmt.Sprintf("%s:%d-%d", img, plan9ISect0, plan9ISect1)},
	})
}

// noVenti fails every read, to prove a tree is all local.
type noVenti struct{}

func (noVenti) ReadVenti(score venti.Score, t venti.Type) ([]byte, error) {
	return nil, fmt.Errorf("no venti for %v", score)
}
