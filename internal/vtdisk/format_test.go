package vtdisk

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// memDisk is a partition in memory.
type memDisk []byte

func (d memDisk) ReadAt(b []byte, off int64) (int, error) {
	if off >= int64(len(d)) {
		return 0, io.EOF
	}
	n := copy(b, d[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (d memDisk) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(b)) > int64(len(d)) {
		return 0, errors.New("write past the end")
	}
	return copy(d[off:], b), nil
}

// TestLayoutArenaPartVentiA lays out venti-a's arena partition as
// "fmtarenas -a 16M arenas0." did and compares with what it made.
func TestLayoutArenaPartVentiA(t *testing.T) {
	f, size := partition(t, dirA, "arenas")
	p, err := OpenArenaPartition(f, size)
	if err != nil {
		t.Fatal(err)
	}
	l, err := LayoutArenaPart(size, 8192, DefaultTableSize, 16<<20, "arenas0.")
	if err != nil {
		t.Fatal(err)
	}
	if l.Header != p.Header || !reflect.DeepEqual(l.Map, p.Map) || l.Size != uint64(p.Size) {
		t.Errorf("layout %+v\nwant header %+v map %v", l, p.Header, p.Map)
	}
	// "6 arenas, 99,868,672 bytes storage, 524,288 bytes for index map"
	if len(l.Map) != 6 || l.Storage() != 99868672 || l.Header.TableSize() != 524288 {
		t.Errorf("%d arenas, %d storage, %d table", len(l.Map), l.Storage(), l.Header.TableSize())
	}
}

func TestLayoutArenaPart(t *testing.T) {
	const M = 1 << 20
	base := uint64(794624)
	for _, c := range []struct {
		size  int64
		asize uint64
		stops []uint64 // arena sizes
	}{
		// A remainder of at least MinArenaSize is an arena of its own;
		// a smaller one goes to the last arena.
		{int64(base + 2*8*M + M), 8 * M, []uint64{8 * M, 8 * M, M}},
		{int64(base + 2*8*M + M - 8192), 8 * M, []uint64{8 * M, 8*M + M - 8192}},
		{int64(base + M), 8 * M, []uint64{M}},
		{int64(base + 3*M + 4095), M, []uint64{M, M, M}}, // rounded down to blocks
	} {
		l, err := LayoutArenaPart(c.size, 8192, DefaultTableSize, c.asize, "a")
		if err != nil {
			t.Errorf("size %d: %v", c.size, err)
			continue
		}
		var got []uint64
		for i, m := range l.Map {
			got = append(got, m.Stop-m.Start)
			if m.Name != "a"+itoa(uint64(i)) {
				t.Errorf("arena %d named %s", i, m.Name)
			}
		}
		if !reflect.DeepEqual(got, c.stops) {
			t.Errorf("size %d arena size %d: arenas %v, want %v", c.size, c.asize, got, c.stops)
		}
		if err := checkAMap(l.Map, base, l.Size, "map"); err != nil || l.Map[len(l.Map)-1].Stop != l.Size {
			t.Errorf("size %d: map %v does not fill the partition: %v", c.size, l.Map, err)
		}
	}

	for _, c := range []struct {
		size   int64
		bs     uint32
		asize  uint64
		prefix string
		kind   error
	}{
		{int64(base + M - 8192), 8192, 8 * M, "a", ErrShort},
		{100, 8192, 8 * M, "a", ErrShort},
		{int64(base + 8*M), 8192, M / 2, "a", ErrCorrupt},     // the C math always ends in a runt
		{int64(base + 8*M), 8192, M + 512, "a", ErrCorrupt},   // not a multiple of the block size
		{int64(base + 8*M), 3000, 8 * M, "a", ErrCorrupt},     // block size
		{int64(base + 8*M), 8192, 8 * M, "a\x01", ErrCorrupt}, // name
		{int64(base + 8*M), 8192, 8 * M, string(bytes.Repeat([]byte("n"), 63)), ErrTooLarge},
		{int64(base + 3000*M), 8192, M, "a", ErrTooLarge}, // more than MaxAMap arenas
	} {
		_, err := LayoutArenaPart(c.size, c.bs, DefaultTableSize, c.asize, c.prefix)
		if !errors.Is(err, c.kind) {
			t.Errorf("size %d bs %d asize %d prefix %q: err %v, want %v", c.size, c.bs, c.asize, c.prefix, err, c.kind)
		}
	}
	// A map too large for its table.
	if _, err := LayoutArenaPart(int64(base+2000*M), 8192, 1024, M, "a"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("map in a 1k table: %v", err)
	}
}

// TestFormatArenaVentiA formats arenas like venti-a's untouched
// arenas0.1 and compares the blocks, taking the clump magic from it.
func TestFormatArenaVentiA(t *testing.T) {
	f, size := partition(t, dirA, "arenas")
	p, err := OpenArenaPartition(f, size)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(p.Map); i++ {
		a, err := p.Arena(i)
		if err != nil {
			t.Fatal(err)
		}
		head := a.Head
		disk := make(memDisk, a.Size)
		copy(disk[8192:], bytes.Repeat([]byte{0xee}, int(a.Size)-8192))
		if err := FormatArena(disk, 0, &head); err != nil {
			t.Fatal(err)
		}
		for _, off := range []int64{0, 8192, int64(a.Size) - 8192} {
			want := rawAt(t, f, a.Offset+off, 8192)
			if !bytes.Equal(disk[off:off+8192], want) {
				t.Errorf("%s: block at %d differs", a.Name(), off)
			}
		}
		if disk[16384] != 0xee || disk[len(disk)-8193] != 0xee {
			t.Errorf("%s: FormatArena wrote past its three blocks", a.Name())
		}
		b, err := OpenArena(disk, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if end, n, err := b.Walk(func(uint64, *Clump, []byte) error { return nil }); end != 0 || n != 0 || err != nil {
			t.Errorf("%s: walk %d %d %v", a.Name(), end, n, err)
		}
	}
	// Version 4 records no clump magic.
	h := ArenaHead{Version: ArenaVersion4, Name: "v4", BlockSize: 8192, Size: 1 << 20, ClumpMagic: OldClumpMagic}
	disk := make(memDisk, 1<<20)
	if err := FormatArena(disk, 0, &h); err != nil {
		t.Fatal(err)
	}
	if a, err := OpenArena(disk, 0, 0, 0); err != nil || a.ClumpMagic() != OldClumpMagic || a.Tail.Version != 4 {
		t.Errorf("version 4 arena: %v %+v", err, a)
	}
	h.Size = 8192 * 2
	if err := FormatArena(disk, 0, &h); err == nil {
		t.Errorf("formatted an arena of two blocks")
	}
}

// TestWriteArenaPartVentiA writes venti-a's header and map and compares
// them with the partition's first 776 KiB but for the config block.
func TestWriteArenaPartVentiA(t *testing.T) {
	f, size := partition(t, dirA, "arenas")
	l, err := LayoutArenaPart(size, 8192, DefaultTableSize, 16<<20, "arenas0.")
	if err != nil {
		t.Fatal(err)
	}
	disk := make(memDisk, l.Header.ArenaBase)
	if err := WriteArenaPart(disk, &l.Header, l.Map); err != nil {
		t.Fatal(err)
	}
	want := rawAt(t, f, 0, int(l.Header.ArenaBase))
	clear(want[ConfigOffset : ConfigOffset+ConfigSize])
	if !bytes.Equal(disk, want) {
		t.Errorf("header and map differ from venti-a's")
	}
	// A map that does not fit is not written at all.
	big := make([]AMap, 2000)
	for i := range big {
		big[i] = AMap{Name: "arena" + itoa(uint64(i)), Start: uint64(i), Stop: uint64(i)}
	}
	h := l.Header
	h.ArenaBase = uint32(h.TableBase()) + 8192
	disk = make(memDisk, 1<<20)
	if err := WriteArenaPart(disk, &h, big); !errors.Is(err, ErrTooLarge) || !bytes.Equal(disk, make([]byte, 1<<20)) {
		t.Errorf("oversized map: %v", err)
	}
}

func TestNewISectVentiA(t *testing.T) {
	f, size := partition(t, dirA, "isect")
	s, err := OpenIndexSection(f, size)
	if err != nil {
		t.Fatal(err)
	}
	is, err := NewISect(size, "isect0", 8192, DefaultTableSize, ISectVersion2)
	if err != nil {
		t.Fatal(err)
	}
	if is.BucketMagic == 0 {
		t.Errorf("no bucket magic")
	}
	// What fmtindex changed, and the random magic, from the C section.
	is.Index, is.Start, is.Stop, is.BucketMagic = s.Header.Index, s.Header.Start, s.Header.Stop, s.Header.BucketMagic
	if *is != s.Header {
		t.Errorf("NewISect %+v\nwant %+v", is, s.Header)
	}
	disk := make(memDisk, PartBlank+HeadSize)
	if err := WriteISect(disk, is); err != nil {
		t.Fatal(err)
	}
	if want := rawAt(t, f, PartBlank, HeadSize); !bytes.Equal(disk[PartBlank:], want) {
		t.Errorf("header block differs")
	}

	if is, err := NewISect(size, "v1", 8192, DefaultTableSize, ISectVersion1); err != nil || is.BucketMagic != 0 || is.Blocks != 927 {
		t.Errorf("version 1: %+v %v", is, err)
	}
	for _, c := range []struct {
		size int64
		bs   uint32
		name string
		kind error
	}{
		{794624 + 8191, 8192, "s", ErrShort},
		{0, 8192, "s", ErrShort},
		{size, 1000, "s", ErrCorrupt},
		{size, 8192, string(bytes.Repeat([]byte("s"), 64)), ErrCorrupt},
	} {
		if _, err := NewISect(c.size, c.name, c.bs, DefaultTableSize, ISectVersion2); !errors.Is(err, c.kind) {
			t.Errorf("NewISect(%d, %q, %d): %v, want %v", c.size, c.name, c.bs, err, c.kind)
		}
	}
	if is, err := NewISect(794624+8192, "s", 8192, DefaultTableSize, ISectVersion2); err != nil || is.Blocks != 1 {
		t.Errorf("one bucket: %+v %v", is, err)
	}
}

// TestLayoutIndexVentiA lays out venti-a's index as fmtindex did and
// writes its map as the C program wrote it into isect0.
func TestLayoutIndexVentiA(t *testing.T) {
	af, asize := partition(t, dirA, "arenas")
	p, err := OpenArenaPartition(af, asize)
	if err != nil {
		t.Fatal(err)
	}
	var arenas []*Arena
	for i := range p.Map {
		a, err := p.Arena(i)
		if err != nil {
			t.Fatal(err)
		}
		arenas = append(arenas, a)
	}
	sf, ssize := partition(t, dirA, "isect")
	s, err := OpenIndexSection(sf, ssize)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.ReadMap()
	if err != nil {
		t.Fatal(err)
	}
	fresh := s.Header
	fresh.Index, fresh.Start, fresh.Stop = "", 0, 0
	smap, err := LayoutIndex("main", []*ISect{&fresh})
	if err != nil {
		t.Fatal(err)
	}
	if fresh != s.Header || !reflect.DeepEqual(smap, want.Sects) {
		t.Errorf("LayoutIndex: %+v %v\nwant %+v %v", fresh, smap, s.Header, want.Sects)
	}
	amap, err := LayoutIndexArenas(nil, arenas)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(amap, want.Arenas) {
		t.Errorf("arenas %v\nwant %v", amap, want.Arenas)
	}
	m := &IndexMap{Version: IndexVersion, Name: "main", BlockSize: 8192, Sects: smap, Arenas: amap}
	disk := make(memDisk, fresh.BlockBase)
	if err := WriteIndexMap(disk, &fresh, m); err != nil {
		t.Fatal(err)
	}
	if w := rawAt(t, sf, int64(fresh.TableBase()), int(fresh.TableSize())); !bytes.Equal(disk[fresh.TableBase():], w) {
		t.Errorf("index map table differs")
	}

	// fmtindex -a: the same arenas keep their places; new ones follow.
	if again, err := LayoutIndexArenas(amap, arenas); err != nil || !reflect.DeepEqual(again, amap) {
		t.Errorf("re-adding: %v %v", again, err)
	}
	if more, err := LayoutIndexArenas(amap[:2], arenas); err != nil || !reflect.DeepEqual(more, amap) {
		t.Errorf("adding 4: %v %v", more, err)
	}
	if _, err := LayoutIndexArenas(amap, arenas[:5]); err == nil {
		t.Errorf("dropped an arena")
	}
	if _, err := LayoutIndexArenas(amap, append([]*Arena{arenas[1]}, arenas[1:]...)); err == nil {
		t.Errorf("accepted mismatched arenas")
	}
	moved := append([]AMap(nil), amap...)
	moved[1].Start++
	if _, err := LayoutIndexArenas(moved, arenas); err == nil {
		t.Errorf("accepted a mis-located arena")
	}
	if _, err := LayoutIndexArenas(nil, []*Arena{arenas[0], arenas[0]}); err == nil {
		t.Errorf("accepted a duplicate arena")
	}
}

func TestLayoutIndex(t *testing.T) {
	mk := func(blocks ...uint32) []*ISect {
		var s []*ISect
		for i, b := range blocks {
			s = append(s, &ISect{Version: 2, Name: "s" + itoa(uint64(i)), BlockSize: 8192, BlockBase: 794624, Blocks: b})
		}
		return s
	}
	for _, blocks := range [][]uint32{{927}, {1000, 1000}, {1018, 921, 5000}, {1, 1}, {40000000, 3000000}} {
		sects := mk(blocks...)
		m, err := LayoutIndex("ix", sects)
		if err != nil {
			t.Errorf("%v: %v", blocks, err)
			continue
		}
		var last uint64
		for i, s := range sects {
			if s.Index != "ix" || uint64(s.Start) != last || s.Stop < s.Start || s.Stop-s.Start > s.Blocks || m[i] != (AMap{s.Name, uint64(s.Start), uint64(s.Stop)}) {
				t.Errorf("%v: section %d: %+v, map %v", blocks, i, s, m[i])
			}
			last = uint64(s.Stop)
		}
		if _, ok := Divisor(uint32(last)); !ok {
			t.Errorf("%v: %d buckets have no divisor", blocks, last)
		}
	}
	used := mk(10, 10)
	used[1].Index = "old"
	sizes := mk(10, 10)
	sizes[1].BlockSize = 4096
	tables := mk(10, 10)
	tables[1].BlockBase += 8192
	dup := mk(10, 10)
	dup[1].Name = "s0"
	for name, sects := range map[string][]*ISect{"used": used, "sizes": sizes, "tables": tables, "dup": dup, "none": nil, "empty": mk(0)} {
		if _, err := LayoutIndex("ix", sects); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := LayoutIndex("bad name\x01", mk(10)); err == nil {
		t.Errorf("bad index name accepted")
	}
}

func TestZeroRange(t *testing.T) {
	disk := make(memDisk, 5<<20)
	for i := range disk {
		disk[i] = 0xaa
	}
	var calls []int64
	if err := ZeroRange(disk, 100, 3<<20+7, func(n int64) { calls = append(calls, n) }); err != nil {
		t.Fatal(err)
	}
	if disk[99] != 0xaa || disk[100+3<<20+7] != 0xaa || bytes.IndexFunc(disk[100:100+3<<20+7], func(r rune) bool { return r != 0 }) >= 0 {
		t.Errorf("wrong range zeroed")
	}
	if len(calls) != 4 || calls[3] != 3<<20+7 {
		t.Errorf("progress %v", calls)
	}
	if err := ZeroRange(disk, 5<<20-1, 2, nil); err == nil {
		t.Errorf("zeroed past the end")
	}
}

func TestOpenPartition(t *testing.T) {
	file := filepath.Join(t.TempDir(), "disk")
	data := make([]byte, 10000)
	for i := range data {
		data[i] = byte(i)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPartition(file+":1000-3000", true)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Offset != 1000 || p.Size != 2000 || p.File != file {
		t.Errorf("partition %+v", p)
	}
	buf := make([]byte, 10)
	if n, err := p.ReadAt(buf, 1995); n != 5 || err != io.EOF || !bytes.Equal(buf[:5], data[2995:3000]) {
		t.Errorf("read at the end: %d %v", n, err)
	}
	if _, err := p.WriteAt([]byte{1, 2}, 1999); err == nil {
		t.Errorf("wrote past the end")
	}
	if _, err := p.WriteAt([]byte{7, 7}, 0); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(file)
	if got[1000] != 7 || got[1001] != 7 || got[999] != data[999] || got[1002] != data[1002] {
		t.Errorf("write landed in the wrong place")
	}
	for _, name := range []string{file + ":20000", file + ":-20000", file + ":3000-1000", file + ":x", file + "-missing"} {
		if p, err := OpenPartition(name, false); err == nil {
			p.Close()
			t.Errorf("%s: opened", name)
		}
	}
	if p, err := OpenPartition(file+":9000", false); err != nil || p.Size != 1000 {
		t.Errorf("open lo only: %v", err)
	} else {
		p.Close()
	}
}

func TestNewMagics(t *testing.T) {
	seen := map[uint32]bool{}
	for i := 0; i < 1000; i++ {
		c, b := NewClumpMagic(), NewBucketMagic()
		if c == 0 || c == OldClumpMagic || b == 0 {
			t.Fatalf("magic %#x %#x", c, b)
		}
		seen[c] = true
	}
	if len(seen) < 990 {
		t.Errorf("only %d different clump magics in 1000", len(seen))
	}
}
