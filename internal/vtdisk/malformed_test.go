package vtdisk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// wantErr checks that err wraps kind and reads exactly msg (or, if msg
// ends in "...", starts with it).
func wantErr(t *testing.T, what string, err, kind error, msg string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: no error, want %q", what, msg)
	case !errors.Is(err, kind):
		t.Errorf("%s: error %q does not wrap %q", what, err, kind)
	case strings.HasSuffix(msg, "...") && !strings.HasPrefix(err.Error(), strings.TrimSuffix(msg, "...")):
		t.Errorf("%s: error\n\t%s\nwant\n\t%s", what, err, msg)
	case !strings.HasSuffix(msg, "...") && err.Error() != msg:
		t.Errorf("%s: error\n\t%s\nwant\n\t%s", what, err, msg)
	}
}

func TestMalformedHeaders(t *testing.T) {
	good := func(pack func([]byte) error, n int) []byte {
		b := make([]byte, n)
		if err := pack(b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	with := func(b []byte, off int, v uint32) []byte {
		b = bytes.Clone(b)
		be.PutUint32(b[off:], v)
		return b
	}
	ap := good((&ArenaPart{Version: 3, BlockSize: 8192, ArenaBase: 794624}).Pack, HeadSize)
	var p ArenaPart
	wantErr(t, "short", p.Unpack(ap[:10]), ErrShort, "vtdisk: arena partition header: truncated: 10 bytes, need 16")
	wantErr(t, "magic", p.Unpack(with(ap, 0, 0)), ErrBadMagic, "vtdisk: arena partition header: bad magic 0x00000000 (want 0xa9e4a5e7)")
	wantErr(t, "version", p.Unpack(with(ap, 4, 2)), ErrVersion, "vtdisk: arena partition header: unknown version: 2")
	wantErr(t, "block size", p.Unpack(with(ap, 8, 1000)), ErrCorrupt, "vtdisk: arena partition header: corrupt: bad block size 1000")
	wantErr(t, "base", p.Unpack(with(ap, 12, 8192)), ErrCorrupt, "vtdisk: arena partition header: corrupt: arena base 8192 overlaps the map table at 270336")

	hd := good((&ArenaHead{Version: 5, Name: "a", BlockSize: 8192, Size: 1 << 20, ClumpMagic: 7}).Pack, 8192)
	var h ArenaHead
	wantErr(t, "head short", h.Unpack(hd[:80]), ErrShort, "vtdisk: arena head: truncated: 80 bytes, need 84")
	wantErr(t, "head short 5", h.Unpack(hd[:86]), ErrShort, "vtdisk: arena head: truncated: 86 bytes, need 88")
	wantErr(t, "head magic", h.Unpack(with(hd, 0, ArenaTailMagic)), ErrBadMagic, "vtdisk: arena head: bad magic 0xf2a14ead (want 0xd15c4ead)")
	wantErr(t, "head version", h.Unpack(with(hd, 4, 6)), ErrVersion, "vtdisk: arena head: unknown version: 6")
	unterminated := bytes.Clone(hd)
	copy(unterminated[8:72], bytes.Repeat([]byte("n"), 64))
	wantErr(t, "head name", h.Unpack(unterminated), ErrCorrupt, "vtdisk: arena head: corrupt: name not terminated")
	wantErr(t, "pack v4 magic", (&ArenaHead{Version: 4, Name: "a", ClumpMagic: 7}).Pack(make([]byte, 512)), ErrCorrupt, "vtdisk: arena head: corrupt: version 4 cannot record clump magic 0x00000007")
	wantErr(t, "pack name", (&ArenaHead{Version: 5, Name: "a\nb"}).Pack(make([]byte, 512)), ErrCorrupt, `vtdisk: arena head: corrupt: bad name "a\nb"`)

	tl := make([]byte, 512)
	tail := ArenaTail{Version: 5, Name: "a", ClumpMagic: 7, Mem: TailStats{Clumps: 1}}
	if err := tail.Pack(tl); err != nil {
		t.Fatal(err)
	}
	var tt ArenaTail
	wantErr(t, "tail short", tt.Unpack(tl[:100]), ErrShort, "vtdisk: arena trailer: truncated: 100 bytes, need 125")
	wantErr(t, "tail short ext", tt.Unpack(tl[:140]), ErrShort, "vtdisk: arena trailer: truncated: 140 bytes, need 155")
	wantErr(t, "tail magic", tt.Unpack(with(tl, 0, 1)), ErrBadMagic, "vtdisk: arena trailer: bad magic 0x00000001 (want 0xf2a14ead)")
	wantErr(t, "tail version", tt.Unpack(with(tl, 4, 3)), ErrVersion, "vtdisk: arena trailer: unknown version: 3")
	if err := tt.Unpack(tl); err != nil || tt.Mem.Clumps != 1 || !tt.MemStored {
		t.Errorf("memstats extension: %+v %v", tt, err)
	}

	is := good((&ISect{Version: 2, Name: "s", Index: "main", BlockSize: 8192, BlockBase: 794624, Blocks: 10, Stop: 10, BucketMagic: 9}).Pack, HeadSize)
	var s ISect
	wantErr(t, "isect short", s.Unpack(is[:150]), ErrShort, "vtdisk: index section header: truncated: 150 bytes, need 156")
	wantErr(t, "isect short 2", s.Unpack(is[:157]), ErrShort, "vtdisk: index section header: truncated: 157 bytes, need 160")
	wantErr(t, "isect magic", s.Unpack(with(is, 0, ArenaPartMagic)), ErrBadMagic, "vtdisk: index section header: bad magic 0xa9e4a5e7 (want 0xd15c5ec7)")
	wantErr(t, "isect version", s.Unpack(with(is, 4, 3)), ErrVersion, "vtdisk: index section header: unknown version: 3")
	wantErr(t, "isect v1 magic", (&ISect{Version: 1, BucketMagic: 3}).Pack(make([]byte, 512)), ErrCorrupt, "vtdisk: index section header: corrupt: version 1 cannot record bucket magic 0x00000003")

	bl := good((&BloomHead{NHash: 32, Size: 1 << 20}).Pack, 16)
	var b BloomHead
	wantErr(t, "bloom short", b.Unpack(bl[:15]), ErrShort, "vtdisk: bloom header: truncated: 15 bytes, need 16")
	wantErr(t, "bloom magic", b.Unpack(with(bl, 0, 0xdeadbeef)), ErrBadMagic, "vtdisk: bloom header: bad magic 0xdeadbeef (want 0xb1004ead)")
	wantErr(t, "bloom version", b.Unpack(with(bl, 4, 2)), ErrVersion, "vtdisk: bloom header: unknown version: 2")
	wantErr(t, "bloom nhash", b.Unpack(with(bl, 8, 33)), ErrCorrupt, "vtdisk: bloom header: corrupt: bad hash count 33")
	wantErr(t, "bloom size", b.Unpack(with(bl, 12, 3<<20)), ErrCorrupt, "vtdisk: bloom header: corrupt: bad size 0x300000")
	wantErr(t, "bloom size big", b.Unpack(with(bl, 12, 1<<30)), ErrCorrupt, "vtdisk: bloom header: corrupt: bad size 0x40000000")

	var c Clump
	ch := make([]byte, ClumpSize)
	be.PutUint32(ch, 5)
	wantErr(t, "clump short", c.Unpack(ch[:37], 5), ErrShort, "vtdisk: clump: truncated: 37 bytes, need 38")
	wantErr(t, "clump magic", c.Unpack(ch, 6), ErrBadMagic, "vtdisk: clump: bad magic 0x00000005 (want 0x00000006)")
	wantErr(t, "clump encoding", c.Unpack(ch, 5), ErrCorrupt, "vtdisk: clump: corrupt: bad encoding 0")
	ch[29] = byte(EncodingWhack)
	wantErr(t, "clump whack sizes", c.Unpack(ch, 5), ErrCorrupt, "vtdisk: clump: corrupt: compressed clump has size 0, uncompressed size 0")
	ch[29] = byte(EncodingNone)
	ch[6] = 1
	wantErr(t, "clump sizes", c.Unpack(ch, 5), ErrCorrupt, "vtdisk: clump: corrupt: uncompressed clump has size 1, uncompressed size 0")

	var bk Bucket
	bb := make([]byte, 512)
	be.PutUint16(bb, 14)
	wantErr(t, "bucket short", bk.Unpack(bb[:5], 0), ErrShort, "vtdisk: bucket: truncated: 5 bytes, need 6")
	wantErr(t, "bucket n", bk.Unpack(bb, 0), ErrCorrupt, "vtdisk: bucket: corrupt: 14 entries, room for 13")
	if err := bk.Unpack(bb, 77); err != nil || len(bk.Entries) != 0 {
		t.Errorf("bucket with another magic: %v %d entries", err, len(bk.Entries))
	}

	wantErr(t, "config magic", func() error { _, err := UnpackConfig(make([]byte, ConfigSize)); return err }(),
		ErrBadMagic, `vtdisk: config block: bad magic: no "venti config" line`)
}

func TestMalformedTables(t *testing.T) {
	for _, tc := range []struct{ text, msg string }{
		{"", "vtdisk: arena map: corrupt: missing entry count"},
		{"x\n", `vtdisk: arena map: corrupt: bad entry count "x"`},
		{"3000\n", "vtdisk: arena map: corrupt: 3000 entries, more than 2048"},
		{"2\na\t0\t8192\n", "vtdisk: arena map: truncated: ends after 1 of 2 entries"},
		{"1\na\t0\n", `vtdisk: arena map: corrupt: entry 0: want name, start and stop: "a\t0"`},
		{"1\na\t0\t-1\n", `vtdisk: arena map: corrupt: entry 0: bad range "a\t0\t-1"`},
		{"1\na\t0\t99999999999999999999\n", `vtdisk: arena map: corrupt: entry 0: bad range "a\t0\t99999999999999999999"`},
		{"1\n\x01\t0\t1\n", `vtdisk: arena map: corrupt: entry 0: bad name "\x01"`},
		{"1\na\t0\t1", "vtdisk: arena map: truncated: ends after 0 of 1 entries"},
	} {
		_, err := UnpackAMap([]byte(tc.text))
		if err == nil || err.Error() != tc.msg {
			t.Errorf("%q: %v, want %s", tc.text, err, tc.msg)
		}
	}
	if err := PackAMap(make([]byte, 20), []AMap{{"arenas0.0", 794624, 17571840}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("map too large for its table: %v", err)
	}
	if err := checkAMap([]AMap{{"a", 10, 20}, {"b", 15, 30}}, 0, 100, "m"); err == nil || err.Error() != "vtdisk: m: corrupt: b at 15 overlaps a" {
		t.Errorf("overlap: %v", err)
	}
	if err := checkAMap([]AMap{{"a", 10, 20}, {"b", 20, 130}}, 0, 100, "m"); err == nil || err.Error() != "vtdisk: m: corrupt: ends at 130, past 100" {
		t.Errorf("past end: %v", err)
	}
	var m IndexMap
	for _, tc := range []struct{ text, msg string }{
		{"venti index\n", `vtdisk: index map: bad magic: no "venti index configuration" line`},
		{IndexMagic + "\n2\n", "vtdisk: index map: unknown version: 2"},
		{IndexMagic + "\n1\nmain\nbig\n", `vtdisk: index map: corrupt: bad block size "big"`},
		{IndexMagic + "\n1\nmain\n8192\n1\ns\t0\t10\n", "vtdisk: index map: arenas: corrupt: missing entry count"},
	} {
		err := m.Unpack([]byte(tc.text))
		if err == nil || err.Error() != tc.msg {
			t.Errorf("%q: %v, want %s", tc.text, err, tc.msg)
		}
	}
}

func TestMalformedPartitions(t *testing.T) {
	f, size := partition(t, dirA, "arenas")
	head := make([]byte, 1<<20)
	if _, err := f.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	_, err := OpenArenaPartition(bytes.NewReader(head[:300<<10]), 300<<10)
	wantErr(t, "small partition", err, ErrShort,
		"vtdisk: arena partition header: truncated: partition is 307200 bytes, arenas start at 794624")
	_, err = OpenArenaPartition(bytes.NewReader(head[:300<<10]), size)
	wantErr(t, "truncated partition", err, ErrShort,
		"vtdisk: arena partition: table at 0x42000: truncated: read 36864 of 524288 bytes at 0x42000")
	_, err = OpenArenaPartition(f, 1<<20)
	wantErr(t, "small partition", err, ErrCorrupt,
		"vtdisk: arena partition: table at 0x42000: corrupt: ends at 100663296, past 1048576")
	bad := bytes.Clone(head)
	copy(bad[0x42000+2:], "arenas0.0\t7946x4")
	_, err = OpenArenaPartition(x2reader{bad, f}, size)
	wantErr(t, "bad table", err, ErrCorrupt, `vtdisk: arena partition: table at 0x42000: arena map: corrupt: entry 0: bad range "arenas0.0\t7946x4\t17571840"`)

	imgf, _ := openFixture(t, dirA+"/arenas0.0.img.gz", imgA)
	img := make([]byte, 16<<20)
	if _, err := imgf.ReadAt(img, 0); err != nil {
		t.Fatal(err)
	}
	openImg := func(b []byte) (*Arena, error) { return OpenArena(bytes.NewReader(b), 0, 0, 0) }
	walk := func(a *Arena) error {
		_, _, err := a.Walk(func(aa uint64, c *Clump, stored []byte) error {
			data, err := c.Decode(stored)
			if err == nil {
				err = c.Verify(data)
			}
			return relocate(err, fmt.Sprintf("arena %s: clump at %#x", a.Name(), aa))
		})
		return err
	}
	// Garbage where the log should end.
	x := bytes.Clone(img)
	be.PutUint32(x[8192+0x211c8:], 0x12345678)
	a, err := openImg(x)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "clump magic", walk(a), ErrBadMagic, "vtdisk: arena arenas0.0: clump at 0x211c8: bad magic 0x12345678 (want 0x8c81fb1d)")
	// A bad encoding byte in the first clump.
	x = bytes.Clone(img)
	x[8192+29] = 7
	a, _ = openImg(x)
	wantErr(t, "encoding", walk(a), ErrCorrupt, "vtdisk: arena arenas0.0: clump at 0x0: corrupt: bad encoding 7")
	// A flipped data byte in the uncompressed clump at 39.
	x = bytes.Clone(img)
	x[8192+39+ClumpSize+100] ^= 1
	a, _ = openImg(x)
	wantErr(t, "score", walk(a), ErrScore, "vtdisk: arena arenas0.0: clump at 0x27: score mismatch: data has score ...")
	_, _, err = a.ReadData(39, 1)
	wantErr(t, "ReadData", err, ErrScore, "vtdisk: arena arenas0.0: clump at 0x27: score mismatch...")
	// Corrupt compressed bytes of the text clump at 64307.
	x = bytes.Clone(img)
	for i := 0; i < 64; i++ {
		x[8192+64307+ClumpSize+i] = 0xff
	}
	a, _ = openImg(x)
	if err := walk(a); err == nil || !strings.HasPrefix(err.Error(), "vtdisk: arena arenas0.0: clump at 0xfb33: ") {
		t.Errorf("corrupt whack data: %v", err)
	}
	// Trailer statistics that do not fit.
	x = bytes.Clone(img)
	be.PutUint64(x[len(x)-8192+92:], 16<<20)
	_, err = openImg(x)
	wantErr(t, "used", err, ErrCorrupt, "vtdisk: arena arenas0.0: trailer: corrupt: 11 clumps using 16777216 bytes do not fit in 16760832 bytes")
	// Head and trailer disagree.
	x = bytes.Clone(img)
	x[8+8] = '1'
	_, err = openImg(x)
	wantErr(t, "names", err, ErrCorrupt, `vtdisk: arena arenas0.1: corrupt: trailer name "arenas0.0", head "arenas0.1"`)
	// A truncated image.
	_, err = openImg(img[:1<<20])
	wantErr(t, "truncated arena", err, ErrShort, "vtdisk: arena arenas0.0: trailer at 0xffe000: truncated: read 0 of 8192 bytes at 0xffe000")
	_, err = openImg(img[:100])
	wantErr(t, "truncated head", err, ErrShort, "vtdisk: arena at 0x0: head at 0x0: truncated: read 100 of 512 bytes at 0x0")
	a, _ = openImg(img)
	_, err = a.ReadClumpInfos(0, 1<<30)
	wantErr(t, "directory range", err, ErrCorrupt, "vtdisk: arena arenas0.0: directory: corrupt: entries [0,1073741824) cannot exist")

	// A clump that runs past the clump area of its arena.
	tiny := tinyArena(t)
	a, err = openImg(tiny)
	if err != nil {
		t.Fatal(err)
	}
	if err := walk(a); err != nil {
		t.Fatalf("tiny arena: %v", err)
	}
	x = bytes.Clone(tiny)
	var c Clump
	if err := c.Unpack(x[512:], 0x01020304); err != nil {
		t.Fatal(err)
	}
	c.Size, c.UncSize = 3000, 3000
	if err := c.Pack(x[512:], 0x01020304); err != nil {
		t.Fatal(err)
	}
	a, _ = openImg(x)
	wantErr(t, "past the arena", walk(a), ErrCorrupt,
		"vtdisk: arena tiny: clump at 0x0: corrupt: 3000 bytes run past the clump area (to 0xbde, limit 0xa00)")

	// Index sections.
	sf, ssize := partition(t, dirA, "isect")
	shead := make([]byte, 2<<20)
	if _, err := sf.ReadAt(shead, 0); err != nil {
		t.Fatal(err)
	}
	_, err = OpenIndexSection(bytes.NewReader(shead[:1<<20]), 1<<20)
	wantErr(t, "isect size", err, ErrShort, "vtdisk: index section isect0: truncated: 927 blocks at 794624 do not fit in 1048576 bytes")
	x = bytes.Clone(shead)
	be.PutUint32(x[PartBlank+152:], 2000)
	_, err = OpenIndexSection(bytes.NewReader(x), ssize)
	wantErr(t, "isect range", err, ErrCorrupt, "vtdisk: index section isect0: corrupt: buckets [0,2000) do not fit in 927 blocks")
	x = bytes.Clone(shead)
	copy(x[0x42000:], "venti index configuratiom")
	s, err := OpenIndexSection(io.NewSectionReader(x2reader{x, sf}, 0, ssize), ssize)
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenIndex(s)
	wantErr(t, "index map", err, ErrBadMagic, `vtdisk: index section isect0: table at 0x42000: index map: bad magic: no "venti index configuration" line`)
	// A bucket claiming more entries than fit.
	s, _ = OpenIndexSection(sf, ssize)
	ix, err := OpenIndex(s)
	if err != nil {
		t.Fatal(err)
	}
	sc := venti.MustParseScore("1dc3882d4bcccb325751803b817489c3715db4cc")
	bno := ix.Bucket(sc)
	x = bytes.Clone(shead)
	be.PutUint16(x[794624+int(bno)*8192:], 216)
	be.PutUint32(x[794624+int(bno)*8192+2:], s.Header.BucketMagic)
	s, _ = OpenIndexSection(x2reader{x, sf}, ssize)
	ix, _ = OpenIndex(s)
	_, _, err = ix.Lookup(sc, 13, false)
	if bno != 107 {
		t.Errorf("%v is in bucket %d, want 107", sc, bno)
	}
	wantErr(t, "bucket", err, ErrCorrupt, "vtdisk: index section isect0: bucket 107 at 0x198000: corrupt: 216 entries, room for 215")
}

// x2reader reads its first len(b) bytes from b and the rest from r.
type x2reader struct {
	b []byte
	r io.ReaderAt
}

func (x x2reader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(x.b)) {
		return x.r.ReadAt(p, off)
	}
	n := copy(p, x.b[off:])
	if n == len(p) {
		return n, nil
	}
	m, err := x.r.ReadAt(p[n:], off+int64(n))
	return n + m, err
}
