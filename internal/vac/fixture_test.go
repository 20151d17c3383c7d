package vac_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/vtstore"
	"github.com/plan9fossil/fossil/venti"
)

// unpack unpacks a gzipped fixture into dir and checks its digest
// (hex SHA-1, or SHA-256 if 64 digits).
func unpack(t *testing.T, rel, dir, want string) string {
	t.Helper()
	path := fixture.Gunzip(t, rel, dir)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h hash.Hash = sha1.New()
	if len(want) == 64 {
		h = sha256.New()
	}
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("%s: digest %s, want %s", rel, got, want)
	}
	return path
}

// sums reads a partitions.sha1.
func sums(t *testing.T, rel string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fixture.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			m[f[1]] = f[0]
		}
	}
	return m
}

// checkBlock checks a meta block written by the C code: it unpacks,
// its entries unpack and pack back to their bytes, each is found by
// Search, the entries do not overlap, and a block with no holes is
// rebuilt byte for byte by inserting its entries in order of offset
// into an empty block.
func checkBlock(t *testing.T, where string, raw []byte) (entries int, rebuilt bool) {
	t.Helper()
	raw = bytes.Clone(raw)
	mb, err := vac.UnpackMetaBlock(raw)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return 0, false
	}
	if err := mb.Check(); err != nil {
		t.Errorf("%s: %v", where, err)
	}
	type placed struct {
		off int
		d   vac.DirEntry
	}
	var byOff []placed
	for i := 0; i < mb.Len(); i++ {
		p, err := mb.EntryBytes(i)
		if err != nil {
			t.Fatal(err)
		}
		d, err := mb.DirEntry(i)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		out := make([]byte, d.PackedSize())
		if err := d.Pack(out); err != nil {
			t.Errorf("%s: entry %d: %v", where, i, err)
		} else if !bytes.Equal(out, p) {
			t.Errorf("%s: entry %d %s packs to\n%x\nwant\n%x", where, i, &d, out, p)
		}
		if j, ok := mb.Search(d.Elem); !ok || j != i {
			t.Errorf("%s: Search(%q) = %d, %v, want %d", where, d.Elem, j, ok, i)
		}
		off, _, _ := mb.Index(i)
		byOff = append(byOff, placed{off, d})
	}
	if mb.Free() != 0 || !bytes.Equal(raw[mb.Size():], make([]byte, len(raw)-mb.Size())) {
		return mb.Len(), false
	}
	for i := 1; i < len(byOff); i++ {
		for j := i; j > 0 && byOff[j].off < byOff[j-1].off; j-- {
			byOff[j], byOff[j-1] = byOff[j-1], byOff[j]
		}
	}
	buf := make([]byte, len(raw))
	nb, err := vac.NewMetaBlock(buf, mb.MaxIndex())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range byOff {
		if _, err := nb.Insert(&p.d); err != nil {
			t.Fatalf("%s: rebuild: %v", where, err)
		}
	}
	if !bytes.Equal(buf, raw) {
		t.Errorf("%s: rebuilt block differs", where)
		return mb.Len(), false
	}
	return mb.Len(), true
}

// TestFixtureMetaBlocks finds every meta block in the data blocks of
// the C fossils' partitions (live, old copies and archived ones alike:
// a data block that starts with the magic) and checks it.
func TestFixtureMetaBlocks(t *testing.T) {
	dir := t.TempDir()
	sum := sums(t, "fossil-b/partitions.sha1")
	type part struct {
		name string
		r    io.ReaderAt
		size int64
	}
	var parts []part
	for _, name := range []string{"fossil-fresh.part", "fossil.part"} {
		f, err := os.Open(unpack(t, "fossil-b/"+name+".gz", dir, sum[name]))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		parts = append(parts, part{name, f, 32 << 20})
	}
	img, err := os.ReadFile(fixture.Path(t, "plan9-c/disk64-after.img.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(unpack(t, "plan9-c/disk64-after.img.gz", dir, strings.Fields(string(img))[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parts = append(parts, part{"plan9-c", io.NewSectionReader(f, 4160*512, (45120-4160)*512), (45120 - 4160) * 512})

	for _, p := range parts {
		d, err := fsdisk.Open(p.r, p.size)
		if err != nil {
			t.Fatal(err)
		}
		blocks, entries, rebuilt := 0, 0, 0
		for a := uint32(0); a < d.NumData(); a++ {
			l, err := d.ReadLabel(a)
			if err != nil {
				t.Fatal(err)
			}
			if l.State == fsdisk.BsFree || l.Type != fsdisk.BtData {
				continue
			}
			b, err := d.ReadData(a)
			if err != nil {
				t.Fatal(err)
			}
			if m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]); m != vac.MetaMagic && m != vac.MetaMagicOld {
				continue
			}
			n, ok := checkBlock(t, fmt.Sprintf("%s: block %#x (%s)", p.name, a, &l), b)
			blocks++
			entries += n
			if ok {
				rebuilt++
			}
		}
		t.Logf("%s: %d meta blocks, %d entries, %d rebuilt byte for byte", p.name, blocks, entries, rebuilt)
		if blocks == 0 || rebuilt == 0 {
			t.Errorf("%s: %d meta blocks, %d rebuilt", p.name, blocks, rebuilt)
		}
	}
}

type storeReader struct{ s *vtstore.Store }

func (r storeReader) ReadVenti(score venti.Score, t venti.Type) ([]byte, error) {
	return r.s.Read(context.Background(), score, t, venti.MaxLumpSize)
}

// TestArchivedMetaBlocks checks every meta block of the trees fossil
// archived to venti (the last archive and the console's vac), walking
// them with fsdisk.
func TestArchivedMetaBlocks(t *testing.T) {
	dir := t.TempDir()
	vdir := "fossil-b/venti-after-archive"
	sum := sums(t, vdir+"/partitions.sha1")
	s, err := vtstore.Open(&vtdisk.Config{
		Arenas: []string{unpack(t, vdir+"/arenas.gz", dir, sum["arenas"])},
		ISects: []string{unpack(t, vdir+"/isect.gz", dir, sum["isect"])},
		Bloom:  unpack(t, vdir+"/bloom.gz", dir, sum["bloom"]),
	}, vtstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := fsdisk.NewVentiReader(storeReader{s})
	blocks := 0
	var walk func(f *fsdisk.File, depth int)
	walk = func(f *fsdisk.File, depth int) {
		ms := f.MetaSource()
		nb := (ms.Size() + uint64(ms.Entry.DSize) - 1) / uint64(ms.Entry.DSize)
		for bn := uint64(0); bn < nb; bn++ {
			b, err := ms.Block(bn)
			if err != nil {
				t.Fatal(err)
			}
			checkBlock(t, fmt.Sprintf("%s: meta block %d", f.Path, bn), b[:ms.Entry.DSize])
			blocks++
		}
		ds, err := f.ReadDir()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if !d.IsDir() || depth > 10 {
				continue
			}
			ff, err := f.Walk(d.Elem)
			if err != nil {
				t.Fatal(err)
			}
			walk(ff, depth+1)
		}
	}
	for _, score := range []string{"2016745728b185e07a1ada97c0214f56cb630c8b", "d3482068eafcbdd1712a088ffeb8851786952835"} {
		root, err := r.OpenVac(venti.MustParseScore(score))
		if err != nil {
			t.Fatal(err)
		}
		walk(root, 0)
	}
	t.Logf("%d meta blocks on venti", blocks)
	if blocks < 20 {
		t.Errorf("only %d meta blocks", blocks)
	}
}

// TestFixtureInsertDelete deletes each entry of the root directory's
// meta block of fossil-b (block 0xfa) and inserts it again: the block
// reads the same, and is byte for byte the same when the entry was the
// last in the block.
func TestFixtureInsertDelete(t *testing.T) {
	dir := t.TempDir()
	sum := sums(t, "fossil-b/partitions.sha1")
	f, err := os.Open(unpack(t, "fossil-b/fossil.part.gz", dir, sum["fossil.part"]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := fsdisk.Open(f, 32<<20)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := d.ReadData(0xfa)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := vac.UnpackMetaBlock(bytes.Clone(raw))
	if err != nil {
		t.Fatal(err)
	}
	want, err := orig.DirEntries()
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 || want[0].Elem != "active" || want[1].Elem != "archive" || want[2].Elem != "snapshot" {
		t.Fatalf("block 0xfa holds %v", want)
	}
	for i := range want {
		mb, _ := vac.UnpackMetaBlock(bytes.Clone(raw))
		off, n, _ := mb.Index(i)
		last := off+n == mb.Size()
		if err := mb.Delete(i); err != nil {
			t.Fatal(err)
		}
		if _, _, err := mb.Lookup(want[i].Elem); err == nil {
			t.Errorf("%s still there", want[i].Elem)
		}
		if j, err := mb.Insert(&want[i]); err != nil || j != i {
			t.Fatalf("insert %s: %d %v", want[i].Elem, j, err)
		}
		got, err := mb.DirEntries()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("after delete and insert of %s: %v %v", want[i].Elem, got, err)
		}
		if err := mb.Check(); err != nil {
			t.Error(err)
		}
		if last != bytes.Equal(mb.Bytes(), raw) {
			t.Errorf("%s (last in block: %v): block bytes equal: %v", want[i].Elem, last, !last)
		}
		// Updating an entry with itself changes nothing.
		mb, _ = vac.UnpackMetaBlock(bytes.Clone(raw))
		if err := mb.Update(i, &want[i]); err != nil || !bytes.Equal(mb.Bytes(), raw) {
			t.Errorf("update %s with itself: %v", want[i].Elem, err)
		}
	}
}
