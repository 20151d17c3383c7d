package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/internal/vtmem"
	"github.com/plan9fossil/fossil/venti"
)

func TestMain(m *testing.M) {
	if os.Getenv("FS_CRASH_CHILD") != "" {
		crashChild()
		return
	}
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}

// format makes a fresh file system of size bytes in a temporary file.
func format(t testing.TB, size int64) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "fossil")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	fm, err := fsdisk.NewFormat(size, fsdisk.FormatOptions{Label: "test", Time: 1700000000})
	if err != nil {
		t.Fatal(err)
	}
	if err := fm.Write(f); err != nil {
		t.Fatal(err)
	}
	return name
}

func open(t testing.TB, name string, opt Options) *Fs {
	t.Helper()
	fs, err := OpenFile(name, opt)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// serveVenti serves an in-memory venti on 127.0.0.1 and dials it.
func serveVenti(t testing.TB) (*venti.Conn, *vtmem.Store) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	store := &vtmem.Store{}
	srv := &venti.Server{Handler: store}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	c, err := venti.Dial("tcp!127.0.0.1!" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, store
}

func mkdir(t testing.TB, fs *Fs, path string) {
	t.Helper()
	create(t, fs, path, vac.ModeDir|0o775).Close()
}

// create makes a new file at path with mode and returns it open.
func create(t testing.TB, fs *Fs, path string, mode uint32) *File {
	t.Helper()
	dir, elem := splitPath(path)
	p, err := fs.OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f, err := p.Create(elem, mode, "glenda")
	if err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
	return f.(*File)
}

func writeFile(t testing.TB, fs *Fs, path string, data []byte) {
	t.Helper()
	dir, elem := splitPath(path)
	p, err := fs.OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f, err := p.walk(elem)
	if errors.Is(err, ErrNotFound) {
		var nf any
		nf, err = p.Create(elem, 0o664, "glenda")
		if err == nil {
			f = nf.(*File)
		}
	}
	if err != nil {
		t.Fatalf("create %s: %v", path, err)
	}
	defer f.Close()
	if err := f.Truncate("glenda"); err != nil {
		t.Fatal(err)
	}
	// Write in 8 KiB pieces not aligned to blocks, as 9P clients do.
	for off := 0; off < len(data); {
		n := min(len(data)-off, 8000)
		m, err := f.WriteAt(data[off:off+n], int64(off), "glenda")
		if err != nil || m != n {
			t.Fatalf("write %s at %d: %d, %v", path, off, m, err)
		}
		off += n
	}
}

func readFile(t testing.TB, fs *Fs, path string) []byte {
	t.Helper()
	f, err := fs.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	de, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, de.Size+10)
	n, err := f.ReadAt(buf, 0)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if uint64(n) != de.Size {
		t.Fatalf("read %s: %d bytes, size %d", path, n, de.Size)
	}
	return buf[:n]
}

// diskRead reads a file with fsdisk's independent reader, as flchk and
// the C fossil would see the partition.
func diskRead(t testing.TB, name, path string, v fsdisk.BlockReader) []byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	d, err := fsdisk.Open(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	sb, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	r := fsdisk.NewReader(d, v)
	r.EpochLow, r.EpochHigh = sb.EpochLow, sb.EpochHigh
	root, err := r.Root(sb.Active)
	if err != nil {
		t.Fatal(err)
	}
	file, err := root.Open(path)
	if err != nil {
		t.Fatalf("fsdisk: open %s: %v", path, err)
	}
	data, err := io.ReadAll(file.Reader())
	if err != nil {
		t.Fatalf("fsdisk: read %s: %v", path, err)
	}
	return data
}

func random(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

var sizes = []int{0, 1, 100, 8191, 8192, 8193, 100000, 1500000}

func TestWriteReopen(t *testing.T) {
	name := format(t, 64<<20)
	fs := open(t, name, Options{})
	mkdir(t, fs, "/active/usr")
	mkdir(t, fs, "/active/usr/glenda")
	for i, n := range sizes {
		writeFile(t, fs, fmt.Sprintf("/active/usr/glenda/f%d", i), random(int64(i), n))
	}
	for i, n := range sizes {
		if got := readFile(t, fs, fmt.Sprintf("/active/usr/glenda/f%d", i)); !bytes.Equal(got, random(int64(i), n)) {
			t.Fatalf("f%d: before sync: wrong data", i)
		}
	}
	if err := fs.Close(); err != nil {
		t.Fatal(err)
	}
	fs = open(t, name, Options{})
	defer fs.Close()
	for i, n := range sizes {
		p := fmt.Sprintf("/active/usr/glenda/f%d", i)
		if got := readFile(t, fs, p); !bytes.Equal(got, random(int64(i), n)) {
			t.Fatalf("%s: after reopen: wrong data", p)
		}
		if got := diskRead(t, name, p, nil); !bytes.Equal(got, random(int64(i), n)) {
			t.Fatalf("%s: fsdisk reader: wrong data", p)
		}
	}
	d, err := fs.OpenFile("/active/usr/glenda")
	if err != nil {
		t.Fatal(err)
	}
	des, err := d.ReadDir()
	d.Close()
	if err != nil || len(des) != len(sizes) {
		t.Fatalf("readdir: %d entries, %v", len(des), err)
	}
	for _, de := range des {
		var i int
		fmt.Sscanf(de.Elem, "f%d", &i)
		if de.Size != uint64(sizes[i]) || de.UID != "glenda" || de.GID != "adm" {
			t.Errorf("dir entry %v", &de)
		}
	}
}

func TestOverwriteTruncateRemove(t *testing.T) {
	name := format(t, 64<<20)
	fs := open(t, name, Options{})
	defer fs.Close()
	_, free0, _ := fs.Df()
	data := random(1, 3<<20)
	writeFile(t, fs, "/active/big", data)
	if err := fs.Sync(); err != nil {
		t.Fatal(err)
	}
	// Overwrite the middle, not aligned.
	f, _ := fs.OpenFile("/active/big")
	patch := random(2, 20000)
	if _, err := f.WriteAt(patch, 12345, "glenda"); err != nil {
		t.Fatal(err)
	}
	copy(data[12345:], patch)
	// Shrink with wstat.
	de, _ := f.Stat()
	de.Size = 1 << 20
	if err := f.SetStat(de, "glenda"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data = data[:1<<20]
	if got := readFile(t, fs, "/active/big"); !bytes.Equal(got, data) {
		t.Fatal("after overwrite and truncate: wrong data")
	}
	if err := fs.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := diskRead(t, name, "/active/big", nil); !bytes.Equal(got, data) {
		t.Fatal("fsdisk reader: wrong data")
	}
	// Rename.
	f, _ = fs.OpenFile("/active/big")
	de, _ = f.Stat()
	de.Elem = "renamed"
	if err := f.SetStat(de, "glenda"); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove("glenda"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := fs.OpenFile("/active/renamed"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed file: %v", err)
	}
	if err := fs.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, free, _ := fs.Df(); free < free0-int64(4*fs.bs) {
		t.Errorf("free space not returned: %d before, %d after", free0, free)
	}
}

func TestSnapshot(t *testing.T) {
	name := format(t, 64<<20)
	now := time.Date(2026, 11, 23, 9, 42, 0, 0, time.Local)
	fs := open(t, name, Options{Now: func() time.Time { return now }})
	mkdir(t, fs, "/active/d")
	old := random(1, 100000)
	writeFile(t, fs, "/active/d/f", old)
	snap, err := fs.Snapshot("", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if snap != "/snapshot/2026/1123/0942" {
		t.Errorf("snapshot named %s", snap)
	}
	writeFile(t, fs, "/active/d/f", random(2, 50000))
	writeFile(t, fs, "/active/d/g", random(3, 10))
	if got := readFile(t, fs, snap+"/d/f"); !bytes.Equal(got, old) {
		t.Fatal("snapshot changed with the active file")
	}
	if _, err := fs.OpenFile(snap + "/d/g"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("new file in snapshot: %v", err)
	}
	f, _ := fs.OpenFile(snap + "/d/f")
	if _, err := f.WriteAt([]byte("x"), 0, "glenda"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write into snapshot: %v", err)
	}
	f.Close()
	if lo, hi := fs.Epochs(); lo != 1 || hi != 2 {
		t.Errorf("epochs %d %d", lo, hi)
	}
	fs.Close()
	fs = open(t, name, Options{Now: func() time.Time { return now }})
	defer fs.Close()
	if got := readFile(t, fs, snap+"/d/f"); !bytes.Equal(got, old) {
		t.Fatal("snapshot after reopen: wrong data")
	}
	if got := diskRead(t, name, snap+"/d/f", nil); !bytes.Equal(got, old) {
		t.Fatal("snapshot through fsdisk: wrong data")
	}
	// snapclean frees what only the snapshot used.
	_, free1, _ := fs.Df()
	now = now.Add(2 * time.Hour)
	if err := fs.Snapclean(time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.OpenFile(snap); !errors.Is(err, ErrNotFound) {
		t.Fatalf("snapshot still there: %v", err)
	}
	if lo, hi := fs.Epochs(); lo != 2 || hi != 2 {
		t.Errorf("epochs after snapclean %d %d", lo, hi)
	}
	if _, free2, _ := fs.Df(); free2 < free1+int64(100000/fs.bs)*int64(fs.bs) {
		t.Errorf("snapclean freed too little: %d -> %d", free1, free2)
	}
}

func TestArchive(t *testing.T) {
	v, store := serveVenti(t)
	name := format(t, 64<<20)
	now := time.Date(2026, 11, 23, 9, 42, 0, 0, time.Local)
	fs := open(t, name, Options{Venti: v, Now: func() time.Time { return now }})
	mkdir(t, fs, "/active/d")
	for i, n := range sizes {
		writeFile(t, fs, fmt.Sprintf("/active/d/f%d", i), random(int64(i), n))
	}
	dst, err := fs.Snapshot("", "", true)
	if err != nil {
		t.Fatal(err)
	}
	if dst != "/archive/2026/1123" {
		t.Errorf("archive named %s", dst)
	}
	score, ok, err := fs.ArchiveNow()
	if err != nil || !ok {
		t.Fatalf("archive: %v %v", ok, err)
	}
	if sb := fs.Super(); sb.Last != score || sb.Current != fsdisk.NilBlock || sb.Next != fsdisk.NilBlock {
		t.Fatalf("super after archive: %+v", sb)
	}
	for i, n := range sizes {
		if got := readFile(t, fs, fmt.Sprintf("%s/d/f%d", dst, i)); !bytes.Equal(got, random(int64(i), n)) {
			t.Fatalf("%s/d/f%d: wrong data", dst, i)
		}
	}
	// The archive is on venti alone.
	r := fsdisk.NewVentiReader(connReader{v})
	root, err := r.OpenVac(score)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range sizes {
		f, err := root.Open(fmt.Sprintf("/active/d/f%d", i))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(f.Reader())
		if !bytes.Equal(data, random(int64(i), n)) {
			t.Fatalf("venti copy of f%d: wrong data", i)
		}
	}
	// A second archive of an unchanged tree stores (almost) nothing.
	n0 := store.Len()
	now = now.Add(time.Hour)
	if _, err := fs.Snapshot("", "", true); err != nil {
		t.Fatal(err)
	}
	score2, _, err := fs.ArchiveNow()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ root, prev venti.Score }{{score, venti.ZeroScore}, {score2, score}} {
		b, err := v.Read(bgctx, c.root, venti.RootType, venti.RootSize)
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := venti.UnpackRoot(b); r.Prev != c.prev || r.Name != "fossil" || r.Type != "vac" {
			t.Errorf("archive root %v: %+v, want prev %v", c.root, r, c.prev)
		}
	}
	if d := store.Len() - n0; d > 10 {
		t.Errorf("second archive stored %d new blocks", d)
	}
	if _, err := fs.OpenFile("/archive/2026/1123.1/d/f7"); err != nil {
		t.Error(err)
	}
	// flfmt -v: a new file system from the archive.
	name2 := filepath.Join(t.TempDir(), "restored")
	pf, _ := os.Create(name2)
	pf.Truncate(64 << 20)
	fm, err := fsdisk.NewVentiFormat(64<<20, fsdisk.FormatOptions{}, score2, connReader{v}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fm.Write(pf); err != nil {
		t.Fatal(err)
	}
	pf.Close()
	fs2 := open(t, name2, Options{Venti: v})
	defer fs2.Close()
	for i, n := range sizes {
		if got := readFile(t, fs2, fmt.Sprintf("/active/d/f%d", i)); !bytes.Equal(got, random(int64(i), n)) {
			t.Fatalf("restored f%d: wrong data", i)
		}
	}
	// And it is writable: copy-on-write from venti.
	writeFile(t, fs2, "/active/d/f3", []byte("changed"))
	if got := readFile(t, fs2, "/active/d/f3"); string(got) != "changed" {
		t.Fatalf("restored write: %q", got)
	}
	if got := readFile(t, fs2, "/active/d/f7"); !bytes.Equal(got, random(7, sizes[7])) {
		t.Fatal("restored f7 after write: wrong data")
	}
	fs.Close()
}

type connReader struct{ c *venti.Conn }

func (r connReader) ReadVenti(s venti.Score, t venti.Type) ([]byte, error) {
	return r.c.Read(bgctx, s, t, venti.MaxLumpSize)
}

func TestFullDisk(t *testing.T) {
	name := format(t, 4<<20)
	fs := open(t, name, Options{})
	defer fs.Close()
	var err error
	n := 0
	for ; n < 1000; n++ {
		dir, _ := fs.OpenFile("/active")
		var f any
		f, err = dir.Create(fmt.Sprintf("f%d", n), 0o664, "glenda")
		dir.Close()
		if err != nil {
			break
		}
		_, err = f.(*File).WriteAt(random(int64(n), 300000), 0, "glenda")
		f.(*File).Close()
		if err != nil {
			break
		}
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("filling the disk: %d files, %v", n, err)
	}
	if err := fs.Sync(); err != nil {
		t.Fatalf("sync on a full disk: %v", err)
	}
	for i := 0; i < n; i++ {
		f, err := fs.OpenFile(fmt.Sprintf("/active/f%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Remove("glenda"); err != nil {
			t.Fatalf("remove on a full disk: %v", err)
		}
		f.Close()
	}
	if err := fs.Sync(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fs, "/active/after", random(9, 1<<20))
	if got := readFile(t, fs, "/active/after"); !bytes.Equal(got, random(9, 1<<20)) {
		t.Fatal("after emptying: wrong data")
	}
}

var bgctx = context.Background()

// TestFullDiskSnapshots fills a disk whose old data a snapshot holds;
// removing the snapshot (snapclean) or archiving it gives the space
// back, without reformatting.
func TestFullDiskSnapshots(t *testing.T) {
	for _, archive := range []bool{false, true} {
		t.Run(fmt.Sprint("archive=", archive), func(t *testing.T) {
			var v *venti.Conn
			if archive {
				v, _ = serveVenti(t)
			}
			now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.Local)
			fs := open(t, format(t, 4<<20), Options{Venti: v, Now: func() time.Time { return now }})
			defer fs.Close()
			writeFile(t, fs, "/active/a", random(1, 1500000))
			if _, err := fs.Snapshot("", "", archive); err != nil {
				t.Fatal(err)
			}
			writeFile(t, fs, "/active/a", random(2, 1500000))
			dir, _ := fs.OpenFile("/active")
			f, err := dir.create("b", 0o664, "glenda")
			dir.Close()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			off := int64(0)
			for ; ; off += 8192 {
				if _, err = f.WriteAt(random(off, 8192), off, "glenda"); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrFull) {
				t.Fatalf("filling: %v", err)
			}
			if archive {
				if _, ok, err := fs.ArchiveNow(); err != nil || !ok {
					t.Fatalf("archive on a full disk: %v %v", ok, err)
				}
			} else {
				now = now.Add(2 * time.Hour)
				if err := fs.Snapclean(time.Hour); err != nil {
					t.Fatalf("snapclean on a full disk: %v", err)
				}
			}
			if err := fs.Sync(); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 100; i++ {
				if _, err := f.WriteAt(random(off, 8192), off, "glenda"); err != nil {
					t.Fatalf("write %d after freeing: %v", i, err)
				}
				off += 8192
			}
			if got := readFile(t, fs, "/active/a"); !bytes.Equal(got, random(2, 1500000)) {
				t.Fatal("a: wrong data")
			}
		})
	}
}
