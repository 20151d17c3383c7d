package fsdisk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// usersFile is /active/adm/users after "uname root root" (96 bytes:
// console "users": nuser 6 len 96).
const usersFile = "adm:adm:adm:sys\nglenda:glenda:glenda:\nnone:none::\nnoworld:noworld::\nroot:root::\nsys:sys::glenda\n"

// want is one file of fossil-b's tree (README.txt, fossil-b-9p.txt).
type want struct {
	path     string // below the tree's top
	uid, gid string
	mode     uint32 // vac mode bits
	size     uint64
	data     string // file under data/, or literal contents if it starts with "="
}

var fossilBTree = []want{
	{"adm", "adm", "sys", vac.ModeDir | 0775, 0, ""},
	{"adm/users", "adm", "sys", 0664, 96, "=" + usersFile},
	{"usr", "sys", "sys", vac.ModeDir | 0775, 0, ""},
	{"usr/root", "root", "root", vac.ModeDir | 0775, 0, ""},
	{"usr/root/dir1", "root", "root", vac.ModeDir | 0775, 0, ""},
	{"usr/root/dir1/big.bin", "root", "root", 0664, 1500000, "usr_root_dir1_big.bin"},
	{"usr/root/dir1/small.bin", "root", "root", 0664, 5000, "usr_root_dir1_small.bin"},
	{"usr/root/dir1/sub", "root", "root", vac.ModeDir | 0775, 0, ""},
	{"usr/root/dir1/sub/text.txt", "root", "root", 0664, 20000, "usr_root_dir1_sub_text.txt"},
	{"usr/root/dir2", "root", "root", vac.ModeDir | 0755, 0, ""},
	{"usr/root/dir2/zeros.bin", "root", "root", 0644, 100000, "usr_root_dir2_zeros.bin"},
	{"usr/root/empty", "root", "root", 0664, 0, "="},
	{"usr/root/hello.txt", "root", "root", 0664, 61, "usr_root_hello.txt"},
}

// readAll reads a whole file through ReadAt in odd-sized pieces.
func readAll(t *testing.T, f *File) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 10007)
	for off := int64(0); ; {
		n, err := f.ReadAt(buf, off)
		out = append(out, buf[:n]...)
		off += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: read at %d: %v", f.Path, off, err)
		}
	}
	if uint64(len(out)) != f.Size() {
		t.Fatalf("%s: read %d bytes, size %d", f.Path, len(out), f.Size())
	}
	return out
}

// walkTree lists every file below dir as "path mode uid gid size".
func walkTree(t *testing.T, dir *File, prefix string, out map[string]*File) {
	t.Helper()
	ds, err := dir.ReadDir()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ds); i++ {
		if ds[i-1].Elem >= ds[i].Elem {
			t.Errorf("%s: %q listed before %q", dir.Path, ds[i-1].Elem, ds[i].Elem)
		}
	}
	for _, d := range ds {
		f, err := dir.Walk(d.Elem)
		if err != nil {
			t.Fatal(err)
		}
		if f.Dir.Size != d.Size || f.Dir.Qid != d.Qid {
			t.Errorf("%s: walk gives size %d qid %d, listing %d %d", f.Path, f.Dir.Size, f.Dir.Qid, d.Size, d.Qid)
		}
		p := strings.TrimPrefix(prefix+"/"+d.Elem, "/")
		out[p] = f
		if d.IsDir() {
			walkTree(t, f, p, out)
		}
	}
}

// checkTree checks that the directory top holds fossil-b's files,
// byte for byte.
func checkTree(t *testing.T, top *File) {
	t.Helper()
	got := map[string]*File{}
	walkTree(t, top, "", got)
	var names []string
	for p := range got {
		names = append(names, p)
	}
	sort.Strings(names)
	var wantNames []string
	for _, w := range fossilBTree {
		wantNames = append(wantNames, w.path)
	}
	if strings.Join(names, " ") != strings.Join(wantNames, " ") {
		t.Fatalf("%s holds\n%s\nwant\n%s", top.Path, strings.Join(names, " "), strings.Join(wantNames, " "))
	}
	for _, w := range fossilBTree {
		f := got[w.path]
		d := f.Dir
		if d.UID != w.uid || d.GID != w.gid || d.Mode != w.mode || f.Size() != w.size {
			t.Errorf("%s: %s %s %#o %d, want %s %s %#o %d", f.Path, d.UID, d.GID, d.Mode, f.Size(), w.uid, w.gid, w.mode, w.size)
		}
		if f.IsDir() {
			continue
		}
		var data []byte
		if c, ok := strings.CutPrefix(w.data, "="); ok {
			data = []byte(c)
		} else {
			var err error
			if data, err = os.ReadFile(fixture.Path(t, "fossil-b/data/"+w.data)); err != nil {
				t.Fatal(err)
			}
		}
		if got := readAll(t, f); !bytes.Equal(got, data) {
			t.Errorf("%s: %d bytes differ from %s", f.Path, len(got), w.data)
		}
	}
	// What fossil-b-9p.txt's stat printed for big.bin: qid path 0xf,
	// version 368, mtime 1795426951.
	big := got["usr/root/dir1/big.bin"].Dir
	if big.Qid != 0xf || big.MCount != 368 || big.MTime != 1795426951 || big.MID != "root" {
		t.Errorf("big.bin: %s", &big)
	}
}

// TestFossilBTree walks fossil-b's partition after the session from the
// super block's active root: the root's three directories, then every
// file of /active, the temporary snapshot and the archival snapshot,
// compared with the data written. Blocks the archiver replaced by
// venti scores (big.bin's among them) come from fixture venti.
func TestFossilBTree(t *testing.T) {
	d, _ := openDisk(t, "fossil")
	s, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	v := fossilBVenti(t)
	r := NewReader(d, v)
	root, err := r.Root(s.Active)
	if err != nil {
		t.Fatal(err)
	}
	if root.Dir.Elem != "root" || root.Dir.UID != "adm" || root.Dir.Mode != vac.ModeDir|0555 {
		t.Errorf("root: %s", &root.Dir)
	}
	ds, err := root.ReadDir()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Elem)
	}
	if strings.Join(names, " ") != "active archive snapshot" {
		t.Errorf("root lists %q", names)
	}
	for _, top := range []string{"/active", "/archive/2026/1123", "/snapshot/2026/1123/0942"} {
		f, err := root.Open(top)
		if err != nil {
			t.Fatal(err)
		}
		if f.Path != top {
			t.Errorf("opened %s as %s", top, f.Path)
		}
		checkTree(t, f)
	}
	if v.reads == 0 {
		t.Errorf("no block came from venti")
	}
	snap, _ := root.Open("/archive/2026/1123")
	if snap.Dir.Mode&vac.ModeSnapshot == 0 {
		t.Errorf("/archive/2026/1123 mode %#o is not a snapshot", snap.Dir.Mode)
	}
	if up, _ := snap.Walk(".."); up == nil || up.Path != "/archive/2026" {
		t.Errorf("/archive/2026/1123/.. is %v", up)
	}

	// The temporary snapshot's entries enter the snapshot of epoch 1
	// ("snap" ended epoch 1); the archival one's went to venti and lost
	// their local fields.
	tmp, _ := root.Open("/snapshot/2026/1123/0942")
	if e := tmp.Source().Entry; e.Snap != 1 || e.Archive != 0 || !e.IsLocal() {
		t.Errorf("temporary snapshot entry %+v", e)
	}
	if e := snap.Source().Entry; e.Snap != 0 || e.IsLocal() {
		t.Errorf("archived snapshot entry %+v", e)
	}
	// With the epochs of the super block it still opens; once the low
	// epoch passes it, fossil would say it has been deleted.
	r.EpochLow, r.EpochHigh = s.EpochLow, s.EpochHigh
	if _, err := root.Open("/snapshot/2026/1123/0942/usr"); err != nil {
		t.Error(err)
	}
	r.EpochLow = 2
	_, err = root.Open("/snapshot/2026/1123/0942")
	wantErr(t, "old snapshot", err, ErrSnapOld, "fsdisk: /snapshot/2026/1123/0942: snapshot has been deleted: epoch 1, low epoch 2")
	r.EpochLow, r.EpochHigh = 1, 1
	_, err = root.Open("/snapshot/2026/1123/0942")
	wantErr(t, "future snapshot", err, ErrBadEntry, "fsdisk: /snapshot/2026/1123/0942: corrupted file entry: snapshot epoch 1, high epoch 1")
	r.EpochLow, r.EpochHigh = 0, 0

	if _, err := root.Open("/active/usr/root/nonesuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("nonesuch: %v", err)
	}
	if _, err := root.Open("/active/usr/root/hello.txt/x"); !errors.Is(err, ErrNotDir) {
		t.Errorf("walk through a file: %v", err)
	}

	// Without venti the root directory (its blocks are of the current
	// epoch) lists, but the archived blocks of /active cannot be read.
	root, err = NewReader(d, nil).Root(s.Active)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.ReadDir(); err != nil {
		t.Errorf("root without venti: %v", err)
	}
	if _, err := root.Open("/active/usr/root/dir1/big.bin"); !errors.Is(err, ErrNoVenti) {
		t.Errorf("big.bin without venti: %v", err)
	}
}

// TestFreshTree reads the freshly formatted file system: a root with
// three empty directories, all on the local disk.
func TestFreshTree(t *testing.T) {
	d, _ := openDisk(t, "fossil-fresh")
	s, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	root, err := NewReader(d, noVenti{}).Root(s.Active)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := root.ReadDir()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%s %s %#o %d/%d", d.Elem, d.UID, d.Mode, d.Entry, d.MEntry))
		f, err := root.Walk(d.Elem)
		if err != nil {
			t.Fatal(err)
		}
		if sub, err := f.ReadDir(); err != nil || len(sub) != 0 {
			t.Errorf("%s: %d entries, %v", f.Path, len(sub), err)
		}
	}
	want := "active adm 0100555 0/1|archive adm 0100555 2/3|snapshot adm 0100555 4/5"
	if strings.Join(got, "|") != want {
		t.Errorf("root lists %q, want %q", got, want)
	}
}

// TestArchiveFromVenti reads the archive fossil made (fossil/last's
// score) and the console's vac of /archive/2026/1123 (data/archive.vac)
// from venti alone, and finds the files written.
func TestArchiveFromVenti(t *testing.T) {
	v := fossilBVenti(t)
	// The archiver's root: type vac, name fossil, the file system's
	// block size, and as previous root the last one before, here the
	// zero score flfmt left in the super block.
	last := venti.MustParseScore("2016745728b185e07a1ada97c0214f56cb630c8b")
	b, err := v.ReadVenti(last, venti.RootType)
	if err != nil {
		t.Fatal(err)
	}
	vr, err := venti.UnpackRoot(b)
	if err != nil {
		t.Fatal(err)
	}
	if vr.Name != "fossil" || vr.Type != "vac" || vr.BlockSize != 8192 || vr.Prev != venti.ZeroScore {
		t.Errorf("archive root %+v", vr)
	}
	r := NewVentiReader(v)
	root, err := r.OpenVac(last)
	if err != nil {
		t.Fatal(err)
	}
	for _, top := range []string{"/active", "/archive/2026/1123"} {
		f, err := root.Open(top)
		if err != nil {
			t.Fatal(err)
		}
		checkTree(t, f)
	}
	// The archiver does not archive temporary snapshots: their entries
	// are emptied in the copy sent to venti.
	snap, err := root.Open("/snapshot/2026/1123/0942")
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := snap.ReadDir(); err != nil || len(ds) != 0 {
		t.Errorf("archived temporary snapshot lists %d entries, %v", len(ds), err)
	}

	sc, label, err := venti.ParseScore(strings.TrimSpace(fixtureText(t, "fossil-b/data/archive.vac")))
	if err != nil || label != "vac" {
		t.Fatal(err, label)
	}
	top, err := r.OpenVac(sc)
	if err != nil {
		t.Fatal(err)
	}
	if top.Dir.Elem != "1123" || top.Dir.Mode != vac.ModeDir|vac.ModeSnapshot|0555 {
		t.Errorf("vac root: %s", &top.Dir)
	}
	checkTree(t, top)
}

// TestPlan9C reads the fossil that 9legacy's C tools made on real Plan
// 9: /active/hello.txt and /active/dir/nested.txt, the last archive
// (out/last-archive.txt) and the same files read back from the archive
// on the disk's venti.
func TestPlan9C(t *testing.T) {
	f := openFile(t, plan9Image(t))
	p := io.NewSectionReader(f, plan9Fossil0, plan9Fossil1-plan9Fossil0)
	d, err := Open(p, p.Size())
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	last := venti.MustParseScore(strings.TrimPrefix(strings.TrimSpace(fixtureText(t, "plan9-c/out/last-archive.txt")), "vac:"))
	if s.Last != last || s.Name != "vfs" || s.EpochLow != 1 || s.EpochHigh != 3 {
		t.Errorf("super %+v", s)
	}
	v := plan9Venti(t)
	live, err := NewReader(d, v).Root(s.Active)
	if err != nil {
		t.Fatal(err)
	}
	archived, err := NewVentiReader(v).OpenVac(last)
	if err != nil {
		t.Fatal(err)
	}
	for _, root := range []*File{live, archived} {
		for _, c := range []struct{ path, data string }{
			{"/active/hello.txt", "hello from plan9 fossil\n"},
			{"/active/dir/nested.txt", "nested\n"},
			{"/archive/2026/1123/hello.txt", "hello from plan9 fossil\n"},
		} {
			f, err := root.Open(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, f); string(got) != c.data || f.Dir.UID != "glenda" {
				t.Errorf("%s: %q owned by %s", c.path, got, f.Dir.UID)
			}
		}
	}
	if got := fixtureText(t, "plan9-c/out/vac-hello.txt"); got != "hello from plan9 fossil\n" {
		t.Errorf("vacfs read %q", got)
	}
}

// TestDamaged reads the two damaged copies of fossil-b: block 0xfa, the
// root directory's meta block, with its label zeroed and with its data
// zeroed. Listing or walking the root fails with an error naming the
// block; nothing below it is reachable, nothing panics.
func TestDamaged(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind error
		msg  string
	}{
		{"fossil-badlabel2", ErrLabelMismatch,
			"fsdisk: / (meta): block 0xfa: block label mismatch: label BtData,Free,e=0,0,tag=0x0, want type BtData tag 0x7dac1a86"},
		{"fossil-baddata2", vac.ErrBadMeta,
			"fsdisk: / (meta): block 0xfa: meta block: corrupted meta data: bad magic 0x00000000"},
	} {
		d, _ := openDisk(t, tc.name)
		s, err := d.ReadSuper()
		if err != nil {
			t.Fatal(err)
		}
		root, err := NewReader(d, fossilBVenti(t)).Root(s.Active)
		if err != nil {
			t.Fatal(err)
		}
		_, err = root.ReadDir()
		if !errors.Is(err, tc.kind) || err.Error() != tc.msg {
			t.Errorf("%s: ReadDir: %v\nwant %s", tc.name, err, tc.msg)
		}
		if _, err = root.Open("/active/usr/root/hello.txt"); !errors.Is(err, tc.kind) || err.Error() != tc.msg {
			t.Errorf("%s: Open: %v\nwant %s", tc.name, err, tc.msg)
		}
		// The archive on venti is intact.
		archived, err := NewVentiReader(fossilBVenti(t)).OpenVac(s.Last)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := archived.Open("/active/usr/root/hello.txt"); err != nil {
			t.Errorf("%s: archive: %v", tc.name, err)
		}
	}
}
