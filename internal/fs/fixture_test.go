package fs

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/vtstore"
	"github.com/plan9fossil/fossil/venti"
)

// fixturePart unpacks a partition of fixture fossil-b and returns a
// private, writable copy.
func fixturePart(t *testing.T, dir, name string) string {
	t.Helper()
	sums, err := os.ReadFile(fixture.Path(t, dir+"/partitions.sha1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(sums), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == name {
			src := fixture.Unpack(t, dir+"/"+name+".gz", f[0])
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return dst
		}
	}
	t.Fatalf("no %s in %s", name, dir)
	return ""
}

// fixtureVenti serves fossil-b's venti (after the archive), a private
// writable copy, on loopback.
func fixtureVenti(t *testing.T) *venti.Conn {
	t.Helper()
	dir := "fossil-b/venti-after-archive"
	s, err := vtstore.Open(&vtdisk.Config{
		Arenas: []string{fixturePart(t, dir, "arenas")},
		ISects: []string{fixturePart(t, dir, "isect")},
		Bloom:  fixturePart(t, dir, "bloom"),
	}, vtstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &venti.Server{Handler: s}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	c, err := venti.Dial("tcp!127.0.0.1!" + strings.TrimPrefix(l.Addr().String(), "127.0.0.1:"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// The files fossil-b's README lists, and where their bytes are.
var fixtureFiles = map[string]string{
	"usr/root/hello.txt":         "usr_root_hello.txt",
	"usr/root/dir1/small.bin":    "usr_root_dir1_small.bin",
	"usr/root/dir1/big.bin":      "usr_root_dir1_big.bin",
	"usr/root/dir1/sub/text.txt": "usr_root_dir1_sub_text.txt",
	"usr/root/dir2/zeros.bin":    "usr_root_dir2_zeros.bin",
}

func TestFixture(t *testing.T) {
	v := fixtureVenti(t)
	name := fixturePart(t, "fossil-b", "fossil.part")
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.Local)
	fs := open(t, name, Options{Venti: v, Now: func() time.Time { return now }})
	for _, tree := range []string{"/active/", "/snapshot/2026/1123/0942/", "/archive/2026/1123/"} {
		for p, data := range fixtureFiles {
			want, err := os.ReadFile(fixture.Path(t, "fossil-b/data/"+data))
			if err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, fs, tree+p); !bytes.Equal(got, want) {
				t.Errorf("%s%s: wrong data", tree, p)
			}
		}
	}
	f, err := fs.OpenFile("/active/usr/root/empty")
	if err != nil {
		t.Fatal(err)
	}
	if de, _ := f.Stat(); de.Size != 0 || de.UID != "root" || de.Mode != 0o664 {
		t.Errorf("empty: %v", &de)
	}
	f.Close()
	if sb := fs.Super(); sb.Last.String() != "2016745728b185e07a1ada97c0214f56cb630c8b" || sb.EpochLow != 1 || sb.EpochHigh != 4 {
		t.Errorf("super: last %v epochs %d %d", sb.Last, sb.EpochLow, sb.EpochHigh)
	}

	// Change the C fossil's tree: big.bin's blocks are on venti now.
	big, _ := os.ReadFile(fixture.Path(t, "fossil-b/data/usr_root_dir1_big.bin"))
	bf, err := fs.OpenFile("/active/usr/root/dir1/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bf.WriteAt([]byte("hello"), 1000000, "root"); err != nil {
		t.Fatal(err)
	}
	bf.Close()
	copy(big[1000000:], "hello")
	writeFile(t, fs, "/active/usr/root/new", []byte("new file"))
	if _, err := fs.Snapshot("", "", false); err != nil {
		t.Fatal(err)
	}
	if err := fs.Close(); err != nil {
		t.Fatal(err)
	}
	fs = open(t, name, Options{Venti: v, Now: func() time.Time { return now }})
	defer fs.Close()
	if got := readFile(t, fs, "/active/usr/root/dir1/big.bin"); !bytes.Equal(got, big) {
		t.Error("big.bin after change and reopen: wrong data")
	}
	if got := readFile(t, fs, "/snapshot/2026/1124/1000/usr/root/new"); string(got) != "new file" {
		t.Errorf("new file in new snapshot: %q", got)
	}
	if got := diskRead(t, name, "/active/usr/root/dir1/big.bin", connReader{v}); !bytes.Equal(got, big) {
		t.Error("big.bin through fsdisk: wrong data")
	}
	_ = io.EOF
}

// TestFixtureListings compares every directory of fossil-b, as the
// engine lists it, with what fsdisk's independent reader lists.
func TestFixtureListings(t *testing.T) {
	v := fixtureVenti(t)
	name := fixturePart(t, "fossil-b", "fossil.part")
	fs := open(t, name, Options{Venti: v, ReadOnly: true})
	defer fs.Close()
	pf, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	d, err := fsdisk.Open(pf, -1)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := d.ReadSuper()
	r := fsdisk.NewReader(d, connReader{v})
	r.EpochLow, r.EpochHigh = sb.EpochLow, sb.EpochHigh
	droot, err := r.Root(sb.Active)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(path string)
	walk = func(path string) {
		f, err := fs.OpenFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got, err := f.ReadDir()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		df, err := droot.Open(path)
		if err != nil {
			t.Fatalf("fsdisk: %s: %v", path, err)
		}
		want, err := df.ReadDir()
		if err != nil {
			t.Fatalf("fsdisk: %s: %v", path, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d entries, fsdisk has %d", path, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Elem != w.Elem || g.Size != w.Size || g.Mode != w.Mode || g.UID != w.UID || g.GID != w.GID || g.MID != w.MID || g.Qid != w.Qid || g.MTime != w.MTime {
				t.Errorf("%s: entry %d: %v, fsdisk %v", path, i, &g, &w)
			}
			n++
			if g.IsDir() {
				walk(path + "/" + g.Elem)
			}
		}
	}
	walk("")
	if n < 30 {
		t.Errorf("only %d entries in the whole fixture", n)
	}
}

// TestFixtureVac is the console's "vac /archive/2026/1123" on fossil-b:
// the same score the C fossil printed.
func TestFixtureVac(t *testing.T) {
	v := fixtureVenti(t)
	fs := open(t, fixturePart(t, "fossil-b", "fossil.part"), Options{Venti: v, ReadOnly: true})
	defer fs.Close()
	s, err := fs.Vac("/archive/2026/1123")
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "d3482068eafcbdd1712a088ffeb8851786952835" {
		t.Errorf("vac:%v, the C fossil printed vac:d3482068eafcbdd1712a088ffeb8851786952835", s)
	}
}
