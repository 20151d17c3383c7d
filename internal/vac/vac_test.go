package vac

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// hexBytes joins hex strings, ignoring spaces, into bytes.
func hexBytes(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(parts, ""), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func str(s string) string {
	return hex.EncodeToString([]byte{byte(len(s) >> 8), byte(len(s))}) + hex.EncodeToString([]byte(s))
}

// TestDirEntryVectors packs and unpacks entries built by hand from the
// layout, one per version.
func TestDirEntryVectors(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  []byte
		d    DirEntry
	}{
		{
			// Fossil's "active" in fossil-b's root directory (block 0xfa).
			"version 9",
			hexBytes(t, "1c4d9072", "0009", str("active"),
				"00000000", "00000000", "00000001", "00000000", // entry gen mentry mgen
				"0000000000000002", // qid
				str("adm"), str("adm"), str("sys"),
				"6b040a86", "00000004", "6b040a76", "6b040a87", "0000816d"),
			DirEntry{Elem: "active", Entry: 0, MEntry: 1, Qid: 2, UID: "adm", GID: "adm", MID: "sys",
				MTime: 0x6b040a86, MCount: 4, CTime: 0x6b040a76, ATime: 0x6b040a87, Mode: ModeDir | 0555, Version: 9},
		},
		{
			"version 9 qid space",
			hexBytes(t, "1c4d9072", "0009", str("1123"),
				"00000007", "00000002", "00000008", "00000003", "0000000000000016",
				str("adm"), str("adm"), str("adm"),
				"00000001", "00000000", "00000002", "00000003", "0010816d",
				"03", "0010", "0000000000000000", "0000000000000017"),
			DirEntry{Elem: "1123", Entry: 7, Gen: 2, MEntry: 8, MGen: 3, Qid: 0x16, UID: "adm", GID: "adm", MID: "adm",
				MTime: 1, CTime: 2, ATime: 3, Mode: ModeDir | ModeSnapshot | 0555,
				QidSpace: true, QidMax: 0x17, Version: 9},
		},
		{
			// vac's version 8 with all three optional fields in the order
			// vac writes them; the generation field is kept raw.
			"version 8",
			hexBytes(t, "1c4d9072", "0008", str("f"),
				"00000005", "0000000000000009",
				str("u"), str("g"), str(""),
				"00000001", "00000000", "00000002", "00000003", "000001a4",
				"01", "000c", "00000000deadbeef", "00000007",
				"03", "0010", "0000000000000100", "0000000000000200",
				"04", "0004", "0000002a"),
			DirEntry{Elem: "f", Entry: 5, MEntry: 6, Qid: 9, UID: "u", GID: "g", MTime: 1, CTime: 2, ATime: 3, Mode: 0644,
				Plan9: true, P9Path: 0xdeadbeef, P9Version: 7, QidSpace: true, QidOffset: 0x100, QidMax: 0x200,
				Version: 8, Ext: []Extension{{DirGenEntry, []byte{0, 0, 0, 42}}}},
		},
		{
			"version 7",
			hexBytes(t, "1c4d9072", "0007", str("old"),
				"00000001", "0000000000000003", strings.Repeat("ab", 20),
				str("a"), str("b"), str("c"),
				"00000001", "00000002", "00000003", "00000004", "00000005",
				"02", "0002", "beef"),
			DirEntry{Elem: "old", Entry: 1, MEntry: 2, Qid: 3, Unused: venti.Score(bytes.Repeat([]byte{0xab}, 20)),
				UID: "a", GID: "b", MID: "c", MTime: 1, MCount: 2, CTime: 3, ATime: 4, Mode: 5,
				Version: 7, Ext: []Extension{{DirNTEntry, []byte{0xbe, 0xef}}}},
		},
	} {
		var d DirEntry
		if err := d.Unpack(c.raw); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(d, c.d) {
			t.Errorf("%s: unpacked\n%+v\nwant\n%+v", c.name, d, c.d)
		}
		if n := c.d.PackedSize(); n != len(c.raw) {
			t.Errorf("%s: PackedSize %d, want %d", c.name, n, len(c.raw))
		}
		b := make([]byte, len(c.raw))
		if err := c.d.Pack(b); err != nil {
			t.Errorf("%s: %v", c.name, err)
		} else if !bytes.Equal(b, c.raw) {
			t.Errorf("%s: packed\n%x\nwant\n%x", c.name, b, c.raw)
		}
	}

	// A zero Version packs as 9; the plan9 fields are read as optional
	// data in version 9.
	d := DirEntry{Elem: "x", Ext: []Extension{{DirPlan9Entry, make([]byte, 12)}}}
	b := make([]byte, d.PackedSize())
	if err := d.Pack(b); err != nil {
		t.Fatal(err)
	}
	var x DirEntry
	if err := x.Unpack(b); err != nil || x.Version != DirVersion || x.Plan9 || len(x.Ext) != 1 {
		t.Errorf("%+v %v", x, err)
	}
}

func TestDirEntryErrors(t *testing.T) {
	good := DirEntry{Elem: "name", UID: "u", GID: "g", MID: "m", Version: 9, QidSpace: true}
	raw := make([]byte, good.PackedSize())
	if err := good.Pack(raw); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		b    []byte
		msg  string
	}{
		{"short", raw[:3], "vac: dir entry: corrupted meta data: 3 bytes end in magic"},
		{"magic", append([]byte{0}, raw[1:]...), "vac: dir entry: corrupted meta data: bad magic 0x004d9072"},
		{"version", append(append([]byte{}, raw[:4]...), append([]byte{0, 10}, raw[6:]...)...), "vac: dir entry: corrupted meta data: unknown version 10"},
		{"truncated", raw[:20], "vac: dir entry: corrupted meta data: 20 bytes end in mentry"},
		{"trailing", append(bytes.Clone(raw), 9), "vac: dir entry: corrupted meta data: 85 bytes end in optional field"},
		{"field", append(bytes.Clone(raw), 9, 0, 5, 1), "vac: dir entry: corrupted meta data: 88 bytes end in optional field type 9"},
		{"two qid spaces", append(bytes.Clone(raw), raw[len(raw)-19:]...), "vac: dir entry: corrupted meta data: bad qid space field (16 bytes)"},
		{"qid space size", append(bytes.Clone(raw[:len(raw)-19]), 3, 0, 1, 0), "vac: dir entry: corrupted meta data: bad qid space field (1 bytes)"},
	} {
		var d DirEntry
		err := d.Unpack(c.b)
		if !errors.Is(err, ErrBadMeta) || err.Error() != c.msg {
			t.Errorf("%s: %v\nwant %s", c.name, err, c.msg)
		}
	}
	for _, c := range []struct {
		d   DirEntry
		msg string
	}{
		{DirEntry{Version: 6}, "vac: dir entry: corrupted meta data: unknown version 6"},
		{DirEntry{Plan9: true}, "vac: dir entry: corrupted meta data: version 9 cannot hold plan9 fields"},
		{DirEntry{Version: 8, Ext: []Extension{{DirPlan9Entry, nil}}}, "vac: dir entry: corrupted meta data: optional field type 1 kept as raw data"},
		{DirEntry{Elem: strings.Repeat("x", 1<<16)}, "vac: dir entry: does not fit: string of 65536 bytes"},
		{DirEntry{Elem: strings.Repeat("x", 40000), UID: strings.Repeat("x", 40000)}, "vac: dir entry: does not fit: entry of 80058 bytes"},
	} {
		err := c.d.Pack(make([]byte, 1<<17))
		if err == nil || err.Error() != c.msg {
			t.Errorf("pack: %v\nwant %s", err, c.msg)
		}
	}
	if err := good.Pack(make([]byte, 10)); !errors.Is(err, ErrShort) {
		t.Errorf("pack short: %v", err)
	}
}

func entry(name string) *DirEntry {
	return &DirEntry{Elem: name, UID: "glenda", GID: "sys", MID: "glenda", Qid: uint64(len(name)), Mode: 0644}
}

func names(t *testing.T, mb *MetaBlock) string {
	t.Helper()
	ds, err := mb.DirEntries()
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, d := range ds {
		s = append(s, d.Elem)
	}
	return strings.Join(s, " ")
}

// TestMetaBlockLayout builds a block by hand and checks its bytes.
func TestMetaBlockLayout(t *testing.T) {
	buf := make([]byte, 512)
	for i := range buf {
		buf[i] = 0xee // NewMetaBlock clears the block
	}
	mb, err := NewMetaBlock(buf, 5)
	if err != nil {
		t.Fatal(err)
	}
	const base = MetaHeaderSize + 5*MetaIndexSize // 32
	if want := hexBytes(t, "5656fc7a", "0020", "0000", "0005", "0000"); !bytes.Equal(buf[:12], want) {
		t.Fatalf("empty header %x", buf[:12])
	}
	var sizes []int
	for _, n := range []string{"b", "abc", "ab"} {
		if _, err := mb.Insert(entry(n)); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, entry(n).PackedSize())
	}
	// Entries go off the end in the order they come; the index is
	// sorted: ab abc b.
	ob, oabc, oab := base, base+sizes[0], base+sizes[0]+sizes[1]
	end := oab + sizes[2]
	want := hexBytes(t, "5656fc7a", hex.EncodeToString([]byte{byte(end >> 8), byte(end)}), "0000", "0005", "0003")
	for _, x := range [][2]int{{oab, sizes[2]}, {oabc, sizes[1]}, {ob, sizes[0]}} {
		want = append(want, byte(x[0]>>8), byte(x[0]), byte(x[1]>>8), byte(x[1]))
	}
	want = append(want, make([]byte, 8)...)
	if !bytes.Equal(buf[:base], want) {
		t.Errorf("header and index\n%x\nwant\n%x", buf[:base], want)
	}
	for _, x := range []struct {
		off  int
		name string
	}{{ob, "b"}, {oabc, "abc"}, {oab, "ab"}} {
		p := make([]byte, entry(x.name).PackedSize())
		entry(x.name).Pack(p)
		if !bytes.Equal(buf[x.off:x.off+len(p)], p) {
			t.Errorf("entry %s not at %d", x.name, x.off)
		}
	}
	if !bytes.Equal(buf[end:], make([]byte, len(buf)-end)) {
		t.Errorf("bytes after the entries are not zero")
	}
	if got := names(t, mb); got != "ab abc b" {
		t.Errorf("order %q", got)
	}
	for i, n := range []string{"ab", "abc", "b"} {
		if j, ok := mb.Search(n); !ok || j != i {
			t.Errorf("Search(%q) = %d, %v", n, j, ok)
		}
	}
	for _, c := range []struct {
		name string
		at   int
	}{{"a", 0}, {"abd", 2}, {"c", 3}, {"aba", 1}} {
		if j, ok := mb.Search(c.name); ok || j != c.at {
			t.Errorf("Search(%q) = %d, %v, want %d", c.name, j, ok, c.at)
		}
	}
	if _, err := mb.Insert(entry("abc")); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate: %v", err)
	}
	if err := mb.Check(); err != nil {
		t.Error(err)
	}

	// The same block read back is the same block.
	mb2, err := UnpackMetaBlock(bytes.Clone(buf))
	if err != nil {
		t.Fatal(err)
	}
	if mb2.Size() != end || mb2.Free() != 0 || mb2.MaxIndex() != 5 || mb2.Len() != 3 || mb2.OldOrder() {
		t.Errorf("read back size %d free %d maxindex %d len %d", mb2.Size(), mb2.Free(), mb2.MaxIndex(), mb2.Len())
	}
	d, i, err := mb2.Lookup("abc")
	if err != nil || i != 1 || !reflect.DeepEqual(d, *withVersion(entry("abc"))) {
		t.Errorf("Lookup: %+v %d %v", d, i, err)
	}
	if _, _, err := mb2.Lookup("zz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup(zz): %v", err)
	}

	// Delete the middle entry ("abc", at oabc): zeroed, a hole.
	if err := mb.Delete(1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[oabc:oabc+sizes[1]], make([]byte, sizes[1])) || mb.Free() != sizes[1] || mb.Size() != end {
		t.Errorf("after delete: free %d size %d", mb.Free(), mb.Size())
	}
	if got := names(t, mb); got != "ab b" {
		t.Errorf("order %q", got)
	}
	if !bytes.Equal(buf[MetaHeaderSize+2*MetaIndexSize:base], make([]byte, base-MetaHeaderSize-2*MetaIndexSize)) {
		t.Errorf("index slot not cleared")
	}
	// Delete the last entry ("ab"): size shrinks.
	if err := mb.Delete(0); err != nil {
		t.Fatal(err)
	}
	if mb.Size() != oab || mb.Free() != sizes[1] {
		t.Errorf("after delete: free %d size %d", mb.Free(), mb.Size())
	}
	if err := mb.Check(); err != nil {
		t.Error(err)
	}
	if err := mb.Delete(5); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete 5: %v", err)
	}
	// "abc" again fits the hole exactly... but goes off the end first.
	if _, err := mb.Insert(entry("abc")); err != nil {
		t.Fatal(err)
	}
	if off, _, _ := mb.Index(0); off != oab {
		t.Errorf("abc went to %d, want %d (off the end)", off, oab)
	}
}

func withVersion(d *DirEntry) *DirEntry {
	d.Version = DirVersion
	return d
}

// TestMetaBlockCompact fills a small block so that an entry must go
// into a hole and then, with no hole big enough, compact the block.
func TestMetaBlockCompact(t *testing.T) {
	n := entry("aa").PackedSize() // every two-letter name packs alike
	const slots = 4
	size := MetaHeaderSize + slots*MetaIndexSize + 3*n + n/2
	buf := make([]byte, size)
	mb, err := NewMetaBlock(buf, slots)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"aa", "bb", "cc"} {
		if _, err := mb.Insert(entry(s)); err != nil {
			t.Fatal(err)
		}
	}
	base := MetaHeaderSize + slots*MetaIndexSize
	// Room for half an entry at the end: "dd" does not fit.
	if _, err := mb.Insert(entry("dd")); !errors.Is(err, ErrFull) {
		t.Fatalf("insert into a full block: %v", err)
	}
	// Free "aa" (the first): "dd" goes into its hole.
	mb.Delete(0)
	if _, err := mb.Insert(entry("dd")); err != nil {
		t.Fatal(err)
	}
	if i, _ := mb.Search("dd"); i != 2 {
		t.Errorf("dd at index %d", i)
	}
	if off, _, _ := mb.Index(2); off != base {
		t.Errorf("dd at %d, want the hole at %d", off, base)
	}
	// Free bb and dd: holes of n bytes at both ends of cc and n/2 at the
	// end; an entry of 2n+1 bytes fits none, so the block is compacted.
	mb.Delete(0) // bb
	mb.Delete(1) // dd
	if mb.Len() != 1 || names(t, mb) != "cc" {
		t.Fatalf("left %q", names(t, mb))
	}
	big := entry("b" + strings.Repeat("x", n+2))
	if big.PackedSize() != 2*n+1 {
		t.Fatalf("big entry of %d bytes", big.PackedSize())
	}
	if _, err := mb.Insert(big); err != nil {
		t.Fatal(err)
	}
	// cc moved down to the index, the big one follows it.
	if off, _, _ := mb.Index(1); off != base {
		t.Errorf("cc at %d after compaction, want %d", off, base)
	}
	if off, _, _ := mb.Index(0); off != base+n {
		t.Errorf("new entry at %d, want %d", off, base+n)
	}
	if mb.Free() != 0 || mb.Size() != base+n+big.PackedSize() {
		t.Errorf("free %d size %d", mb.Free(), mb.Size())
	}
	if err := mb.Check(); err != nil {
		t.Error(err)
	}
	if got := names(t, mb); got != "b"+strings.Repeat("x", n+2)+" cc" {
		t.Errorf("order %q", got)
	}

	// All slots used.
	mb, _ = NewMetaBlock(make([]byte, 4096), 2)
	mb.Insert(entry("p"))
	mb.Insert(entry("q"))
	if _, err := mb.Insert(entry("r")); !errors.Is(err, ErrFull) || err.Error() != `vac: meta block: insert "r": meta block full: 2 index slots used` {
		t.Errorf("insert with all slots used: %v", err)
	}
}

// TestMetaBlockUpdate writes changed entries back: in place when they
// shrink or zeros follow, elsewhere when they grow, renamed in order.
func TestMetaBlockUpdate(t *testing.T) {
	buf := make([]byte, 1024)
	mb, _ := NewMetaBlock(buf, 10)
	for _, s := range []string{"a", "b", "c"} {
		mb.Insert(entry(s))
	}
	offA, sizeA, _ := mb.Index(0)
	// Grow "c", the last entry: zeros follow, it stays.
	i, _ := mb.Search("c")
	offC, _, _ := mb.Index(i)
	c := entry("c")
	c.UID = "a much longer owner name"
	if err := mb.Update(i, c); err != nil {
		t.Fatal(err)
	}
	if off, n, _ := mb.Index(2); off != offC || n != c.PackedSize() || mb.Size() != offC+n {
		t.Errorf("c at %d (%d bytes), size %d", off, n, mb.Size())
	}
	// Grow "a", the first: "b" follows, so it moves off the end and
	// leaves a hole.
	a := entry("a")
	a.GID = "a much longer group name"
	end := mb.Size()
	if err := mb.Update(0, a); err != nil {
		t.Fatal(err)
	}
	if off, _, _ := mb.Index(0); off != end || mb.Free() != sizeA {
		t.Errorf("a at %d, free %d", off, mb.Free())
	}
	if !bytes.Equal(buf[offA:offA+sizeA], make([]byte, sizeA)) {
		t.Errorf("old a not zeroed")
	}
	// Shrink and rename "b" to "d": in place, now last in the index.
	i, _ = mb.Search("b")
	offB, _, _ := mb.Index(i)
	if err := mb.Update(i, entry("d")); err != nil {
		t.Fatal(err)
	}
	if got := names(t, mb); got != "a c d" {
		t.Errorf("order %q", got)
	}
	if off, _, _ := mb.Index(2); off != offB {
		t.Errorf("d at %d, want %d", off, offB)
	}
	if err := mb.Update(0, entry("c")); !errors.Is(err, ErrExists) {
		t.Errorf("rename onto c: %v", err)
	}
	if err := mb.Check(); err != nil {
		t.Error(err)
	}
	ds, _ := mb.DirEntries()
	if ds[0].GID != a.GID || ds[1].UID != c.UID {
		t.Errorf("entries %v", ds)
	}
	// No room: ErrFull, the entry as it was.
	huge := entry("a")
	huge.MID = strings.Repeat("m", 900)
	if err := mb.Update(0, huge); !errors.Is(err, ErrFull) {
		t.Errorf("huge update: %v", err)
	}
	if d, _ := mb.DirEntry(0); d.GID != a.GID {
		t.Errorf("entry changed by a failed update")
	}
}

// TestMetaBlockOldOrder searches a block of the older order, in which
// "ab" sorts after "abc", and inserts into it in that order.
func TestMetaBlockOldOrder(t *testing.T) {
	buf := make([]byte, 1024)
	mb, _ := NewMetaBlock(buf, 10)
	mb.old = true
	for _, s := range []string{"ab", "b", "abc", "a"} {
		if _, err := mb.Insert(entry(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got := names(t, mb); got != "abc ab a b" {
		t.Errorf("old order %q", got)
	}
	if be.Uint32(buf) != MetaMagicOld {
		t.Errorf("magic %#x", be.Uint32(buf))
	}
	mb2, err := UnpackMetaBlock(buf)
	if err != nil || !mb2.OldOrder() {
		t.Fatal(err)
	}
	for i, s := range []string{"abc", "ab", "a", "b"} {
		if j, ok := mb2.Search(s); !ok || j != i {
			t.Errorf("Search(%q) = %d %v", s, j, ok)
		}
	}
}

func TestMetaBlockErrors(t *testing.T) {
	buf := make([]byte, 256)
	mb, _ := NewMetaBlock(buf, 4)
	mb.Insert(entry("x"))
	good := bytes.Clone(buf)
	put16 := func(off int, v uint16) []byte {
		b := bytes.Clone(good)
		be.PutUint16(b[off:], v)
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		kind error
		msg  string
	}{
		{"short", good[:8], ErrShort, "vac: meta block: truncated: 8 bytes, need 12"},
		{"large", make([]byte, 1<<16), ErrTooLarge, "vac: meta block: does not fit: block of 65536 bytes"},
		{"magic", append([]byte{0, 0, 0, 0}, good[4:]...), ErrBadMeta, "vac: meta block: corrupted meta data: bad magic 0x00000000"},
		{"size", put16(4, 257), ErrBadMeta, "vac: meta block: corrupted meta data: size 257 beyond the block (256 bytes)"},
		{"maxindex", put16(8, 70), ErrBadMeta, "vac: meta block: corrupted meta data: 70 index slots beyond the block (256 bytes)"},
		{"size in index", put16(4, 20), ErrBadMeta, "vac: meta block: corrupted meta data: size 20 inside the index (4 slots)"},
		{"nindex", put16(10, 5), ErrBadMeta, "vac: meta block: corrupted meta data: 5 of 4 index slots used"},
		{"offset", put16(12, 27), ErrBadMeta, "vac: meta block: entry 0: corrupted meta data: bad index: offset 27 size 74"},
		{"entry size", put16(14, 7), ErrBadMeta, "vac: meta block: entry 0: corrupted meta data: bad index: offset 28 size 7"},
		{"entry magic", put16(28, 0), ErrBadMeta, "vac: meta block: entry 0 at 0x1c: corrupted meta data: bad magic 0x00009072"},
	} {
		_, err := UnpackMetaBlock(c.b)
		if !errors.Is(err, c.kind) || err.Error() != c.msg {
			t.Errorf("%s: %v\nwant %s", c.name, err, c.msg)
		}
	}
	// An entry that does not unpack is reported with its place.
	bad := put16(32, 99)
	mb, err := UnpackMetaBlock(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mb.DirEntry(0); err == nil || err.Error() != "vac: meta block: entry 0 at 0x1c: dir entry: corrupted meta data: unknown version 99" {
		t.Errorf("bad entry: %v", err)
	}
	// Free space that disagrees with the entries stops insertion.
	mb, _ = UnpackMetaBlock(put16(6, 3))
	if err := mb.Check(); !errors.Is(err, ErrBadMeta) {
		t.Errorf("Check: %v", err)
	}
	if _, err := NewMetaBlock(make([]byte, 20), 3); !errors.Is(err, ErrTooLarge) {
		t.Errorf("NewMetaBlock: %v", err)
	}
}

// TestMetaBlockRandom applies random inserts, deletes and updates to a
// small block and checks it against a model after each.
func TestMetaBlockRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 20; round++ {
		buf := make([]byte, 600+rng.Intn(600))
		mb, err := NewMetaBlock(buf, len(buf)/BytesPerEntry)
		if err != nil {
			t.Fatal(err)
		}
		model := map[string]DirEntry{}
		for op := 0; op < 300; op++ {
			name := string(rune('a'+rng.Intn(6))) + strings.Repeat("z", rng.Intn(3))
			d := entry(name)
			d.UID = strings.Repeat("u", rng.Intn(40))
			d.Version = DirVersion
			i, found := mb.Search(name)
			switch rng.Intn(3) {
			case 0:
				_, err := mb.Insert(d)
				switch {
				case found && !errors.Is(err, ErrExists):
					t.Fatalf("insert existing %q: %v", name, err)
				case !found && err == nil:
					model[name] = *d
				case !found && !errors.Is(err, ErrFull):
					t.Fatalf("insert %q: %v", name, err)
				}
			case 1:
				if found {
					if err := mb.Delete(i); err != nil {
						t.Fatal(err)
					}
					delete(model, name)
				}
			case 2:
				if found {
					err := mb.Update(i, d)
					if err == nil {
						model[name] = *d
					} else if !errors.Is(err, ErrFull) {
						t.Fatalf("update %q: %v", name, err)
					}
				}
			}
			if err := mb.Check(); err != nil {
				t.Fatalf("round %d op %d: %v", round, op, err)
			}
			again, err := UnpackMetaBlock(bytes.Clone(buf))
			if err != nil {
				t.Fatal(err)
			}
			ds, err := again.DirEntries()
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range model {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if len(ds) != len(keys) {
				t.Fatalf("round %d op %d: %d entries, model %d", round, op, len(ds), len(keys))
			}
			for j, k := range keys {
				if !reflect.DeepEqual(ds[j], model[k]) {
					t.Fatalf("entry %d: %+v, model %+v", j, ds[j], model[k])
				}
			}
		}
	}
}
