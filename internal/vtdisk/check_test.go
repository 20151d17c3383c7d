package vtdisk

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// chkWritable copies a fixture partition into a file of the test's
// own and opens it for reading and writing.
func chkWritable(t *testing.T, dir, name string) (*os.File, []byte) {
	t.Helper()
	f, _ := partition(t, dir, name)
	orig, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, orig
}

func chkBytes(t *testing.T, f *os.File) []byte {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestArenaWriters rewrites the trailer, every directory entry and every
// clump header of venti-a's arenas0.0 as read: the partition must not
// change by a byte. Then it checks that changes land where the readers
// find them.
func TestArenaWriters(t *testing.T) {
	f, orig := chkWritable(t, dirA, "arenas")
	p, err := OpenArenaPartition(f, int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Arena(0)
	if err != nil {
		t.Fatal(err)
	}
	if a.TailOffset() != 794624+16<<20-8192 {
		t.Errorf("trailer at %d", a.TailOffset())
	}
	if err := a.WriteTail(f); err != nil {
		t.Fatal(err)
	}
	var n uint32
	_, _, err = a.Walk(func(aa uint64, c *Clump, stored []byte) error {
		m, err := a.ReadClumpMagic(aa)
		if err != nil || m != a.ClumpMagic() {
			t.Errorf("clump at %#x: magic %#x, %v", aa, m, err)
		}
		if err := a.WriteClumpHeader(f, aa, n, c); err != nil {
			return err
		}
		ci, err := a.ReadClumpInfo(n)
		if err != nil {
			return err
		}
		if err := a.WriteClumpInfo(f, n, &ci); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 11 {
		t.Fatalf("%d clumps", n)
	}
	if m, err := a.ReadClumpMagic(135624); err != nil || m != ClumpFreeMagic {
		t.Errorf("end of log: magic %#x, %v", m, err)
	}
	if !bytes.Equal(chkBytes(t, f), orig) {
		t.Fatal("rewriting what was read changed the partition")
	}

	// Mark clump 1 corrupt, change the trailer's statistics.
	c, _, err := a.ReadClump(39, 1)
	if err != nil {
		t.Fatal(err)
	}
	c.Type = CorruptType
	if err := a.WriteClumpHeader(f, 39, 1, c); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteClumpInfo(f, 1, &c.ClumpInfo); err != nil {
		t.Fatal(err)
	}
	a.Tail.Mem.Clumps++
	if err := a.WriteTail(f); err != nil {
		t.Fatal(err)
	}
	b, err := p.Arena(0)
	if err != nil {
		t.Fatal(err)
	}
	if b.Tail.Mem.Clumps != 12 || !b.Tail.MemStored || b.Tail.Disk.Clumps != 11 {
		t.Errorf("trailer read back %+v", b.Tail)
	}
	if c2, _, err := b.ReadClump(39, 1); err != nil || c2.Type != CorruptType {
		t.Errorf("clump 1 read back %+v, %v", c2, err)
	}
	if ci, err := b.ReadClumpInfo(1); err != nil || ci.Type != CorruptType {
		t.Errorf("directory entry 1 read back %+v, %v", ci, err)
	}
	if err := b.WriteClumpMagic(f, 135624, 0x12345678); err != nil {
		t.Fatal(err)
	}
	if m, err := b.ReadClumpMagic(135624); err != nil || m != 0x12345678 {
		t.Errorf("magic read back %#x, %v", m, err)
	}

	// Out of range.
	if err := a.WriteClumpMagic(f, a.DataSize()-2, 0); err == nil {
		t.Error("magic past the clump area written")
	}
	if err := a.WriteClumpInfo(f, 1<<30, &ClumpInfo{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("directory entry 1<<30: %v", err)
	}
	if err := a.WriteClumpHeader(f, a.DataSize()-10, 0, c); !errors.Is(err, ErrCorrupt) {
		t.Errorf("clump header at the end: %v", err)
	}
	a.Tail.Name = strings.Repeat("x", 70)
	if err := a.WriteTail(f); err == nil {
		t.Error("trailer with a bad name written")
	}
}

// TestIndexWriters rewrites every bucket of venti-a's index from the
// entries the arena directory implies, and the bloom filter from their
// scores: both come out as the C venti wrote them.
func TestIndexWriters(t *testing.T) {
	f, orig := chkWritable(t, dirA, "isect")
	s, err := OpenIndexSection(f, int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := OpenIndex(s)
	if err != nil {
		t.Fatal(err)
	}
	ap, asize := partition(t, dirA, "arenas")
	p, err := OpenArenaPartition(ap, asize)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Arena(0)
	if err != nil {
		t.Fatal(err)
	}
	cis, err := a.ReadClumpInfos(0, int(a.Tail.Mem.Clumps))
	if err != nil {
		t.Fatal(err)
	}
	buckets := map[uint32][]IEntry{}
	bf, _ := partition(t, dirA, "bloom")
	cbloom, err := ReadBloom(bf)
	if err != nil {
		t.Fatal(err)
	}
	bloom, err := BlankBloom(cbloom.BloomHead)
	if err != nil {
		t.Fatal(err)
	}
	addr := ix.Map.Arenas[0].Start
	for _, ci := range cis {
		e := ci.IEntry(addr)
		addr += ClumpSize + uint64(ci.Size)
		b := ix.Bucket(ci.Score)
		buckets[b] = append(buckets[b], e)
		bloom.Add(ci.Score)
		got, found, err := ix.Lookup(ci.Score, ci.Type, false)
		if err != nil || !found || got != e {
			t.Errorf("%v: index has %+v, directory makes %+v", ci.Score, got, e)
		}
		if !got.SameAddr(&e) || got.Compare(&e) != 0 {
			t.Errorf("%v: SameAddr or Compare", ci.Score)
		}
	}
	for b := uint32(0); b < ix.Buckets(); b++ {
		bk := &Bucket{Entries: buckets[b]}
		bk.Sort()
		if err := s.WriteBucket(f, b, bk.Entries); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(chkBytes(t, f), orig) {
		t.Error("rebuilt index differs from the C one")
	}
	if !bytes.Equal(bloom.Data, cbloom.Data) {
		t.Error("rebuilt bloom filter differs from the C one")
	}
	bw, borig := chkWritable(t, dirA, "bloom")
	if err := bloom.Store(bw); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(chkBytes(t, bw), borig) {
		t.Error("stored bloom filter differs from the C one")
	}

	// Entry order, sameness.
	x := IEntry{Score: venti.Score{1}, Type: 3, Addr: 5}
	y := x
	y.Type = 4
	if x.Compare(&y) >= 0 || y.Compare(&x) <= 0 || x.Compare(&x) != 0 {
		t.Error("Compare by type")
	}
	y = x
	y.WTime, y.Train = 7, 8
	if !x.SameAddr(&y) {
		t.Error("SameAddr looks at wtime or train")
	}
	y.Blocks = 2
	if x.SameAddr(&y) {
		t.Error("SameAddr ignores blocks")
	}

	// Buckets out of range or too full.
	if err := s.WriteBucket(f, 927, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bucket 927: %v", err)
	}
	if err := s.WriteBucket(f, 3, make([]IEntry, 216)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("216 entries: %v", err)
	}
	if _, err := BlankBloom(BloomHead{NHash: 0, Size: 1 << 20}); err == nil {
		t.Error("BlankBloom accepts 0 hashes")
	}
	short := &Bloom{BloomHead: cbloom.BloomHead, Data: make([]byte, 10)}
	if err := short.Store(bw); err == nil {
		t.Error("short bloom filter stored")
	}
}

// TestOpenVenti opens venti-a as its venti.conf describes it, with the
// partitions' names rewritten, from the file and from the copy of the
// configuration kept in the arena partition.
func TestOpenVenti(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"arenas", "isect", "bloom"} {
		f, _ := partition(t, dirA, name)
		if err := os.Symlink(f.Name(), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	conf := strings.ReplaceAll(fixtureText(t, dirA+"/venti.conf"), "/dev/sdC0/", dir+"/")
	confFile := filepath.Join(dir, "venti.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := OpenVenti(confFile, false)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if len(v.ArenaParts) != 1 || len(v.Arenas) != 6 || v.Arenas[0].Name() != "arenas0.0" ||
		len(v.SectParts) != 1 || v.Index.Buckets() != 927 || v.Bloom == nil || v.Bloom.NHash != 32 {
		t.Errorf("opened %+v", v)
	}

	// The configuration stored in the arena partition names
	// /dev/sdC0/...: those do not exist here.
	if _, err := OpenVenti(filepath.Join(dir, "arenas"), false); err == nil || !strings.Contains(err.Error(), "/dev/sdC0/arenas") {
		t.Errorf("config from the partition: %v", err)
	}
	// No index sections.
	noisect := filepath.Join(dir, "noisect.conf")
	os.WriteFile(noisect, []byte("index main\narenas "+dir+"/arenas\n"), 0o644)
	if _, err := OpenVenti(noisect, false); err == nil || !strings.Contains(err.Error(), "no index sections") {
		t.Errorf("config without isect: %v", err)
	}
	// An index whose map names an arena that is not configured.
	noarena := filepath.Join(dir, "noarena.conf")
	os.WriteFile(noarena, []byte("index main\nisect "+dir+"/isect\n"), 0o644)
	if _, err := OpenVenti(noarena, false); err == nil || !strings.Contains(err.Error(), "can't find arena arenas0.0") {
		t.Errorf("config without arenas: %v", err)
	}
}
