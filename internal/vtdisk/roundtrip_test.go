package vtdisk

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func rawAt(t *testing.T, r io.ReaderAt, off int64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if err := readAt(r, b, off, "test"); err != nil {
		t.Fatal(err)
	}
	return b
}

func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("%s: packed bytes differ from the disk at byte %d", what, i)
	}
}

// roundTripArenas unpacks and packs again every structure of an arena
// partition: header, map, each arena's head, trailer, clump headers and
// directory entries. It returns how many structures it checked.
func roundTripArenas(t *testing.T, r io.ReaderAt, size int64) int {
	n := 0
	block := rawAt(t, r, PartBlank, HeadSize)
	var ap ArenaPart
	if err := ap.Unpack(block); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, HeadSize)
	if err := ap.Pack(out); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "arena partition header", out, block)
	n++

	table := rawAt(t, r, int64(ap.TableBase()), int(ap.TableSize()))
	m, err := UnpackAMap(table)
	if err != nil {
		t.Fatal(err)
	}
	out = make([]byte, len(table))
	if err := PackAMap(out, m); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "arena map", out, table)
	n++

	p, err := OpenArenaPartition(r, size)
	if err != nil {
		t.Fatal(err)
	}
	bs := int(ap.BlockSize)
	for i := range p.Map {
		a, err := p.Arena(i)
		if err != nil {
			t.Fatal(err)
		}
		block := rawAt(t, r, a.Offset, bs)
		var h ArenaHead
		if err := h.Unpack(block); err != nil {
			t.Fatal(err)
		}
		out := make([]byte, bs)
		if err := h.Pack(out); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, a.Name()+" head", out, block)

		block = rawAt(t, r, a.Offset+int64(a.Size)-int64(bs), bs)
		var tl ArenaTail
		if err := tl.Unpack(block); err != nil {
			t.Fatal(err)
		}
		if err := tl.Pack(out); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, a.Name()+" trailer", out, block)
		n += 2

		_, nc, err := a.Walk(func(aa uint64, c *Clump, stored []byte) error {
			raw := rawAt(t, r, a.DataOffset()+int64(aa), ClumpSize)
			var c2 Clump
			if err := c2.Unpack(raw, a.ClumpMagic()); err != nil {
				t.Fatal(err)
			}
			out := make([]byte, ClumpSize)
			if err := c2.Pack(out, a.ClumpMagic()); err != nil {
				t.Fatal(err)
			}
			sameBytes(t, a.Name()+" clump header", out, raw)
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for j := uint32(0); j < nc; j++ {
			raw := rawAt(t, r, a.ClumpInfoOffset(j), ClumpInfoSize)
			var ci ClumpInfo
			ci.Unpack(raw)
			out := make([]byte, ClumpInfoSize)
			ci.Pack(out)
			sameBytes(t, a.Name()+" directory entry", out, raw)
			n++
		}
	}
	return n
}

// roundTripIndex does the same for an index section: header, index
// map, and every bucket in use with its entries.
func roundTripIndex(t *testing.T, r io.ReaderAt, size int64) int {
	n := 0
	block := rawAt(t, r, PartBlank, HeadSize)
	var h ISect
	if err := h.Unpack(block); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, HeadSize)
	if err := h.Pack(out); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "index section header", out, block)
	n++

	table := rawAt(t, r, int64(h.TableBase()), int(h.TableSize()))
	var m IndexMap
	if err := m.Unpack(table); err != nil {
		t.Fatal(err)
	}
	out = make([]byte, len(table))
	if err := m.Pack(out); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "index map", out, table)
	n++

	used := 0
	for b := h.Start; b < h.Stop; b++ {
		raw := rawAt(t, r, h.BucketOffset(b), int(h.BlockSize))
		var bk Bucket
		if err := bk.Unpack(raw, h.BucketMagic); err != nil {
			t.Fatal(err)
		}
		if bk.Magic != h.BucketMagic {
			continue // never written
		}
		used++
		out := make([]byte, bk.PackedSize())
		if err := bk.Pack(out); err != nil {
			t.Fatal(err)
		}
		sameBytes(t, "bucket", out, raw[:len(out)])
		n++
		for i := range bk.Entries {
			e := make([]byte, IEntrySize)
			bk.Entries[i].Pack(e)
			sameBytes(t, "index entry", e, raw[BucketHeadSize+i*IEntrySize:][:IEntrySize])
			n++
		}
	}
	if used == 0 {
		t.Errorf("no bucket in use")
	}
	return n
}

func roundTripBloom(t *testing.T, r io.ReaderAt) {
	raw := rawAt(t, r, 0, BloomHeadSize)
	var h BloomHead
	if err := h.Unpack(raw); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, BloomHeadSize)
	if err := h.Pack(out); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "bloom header", out, raw)
}

func TestRoundTrip(t *testing.T) {
	for _, dir := range []string{dirA, dirB} {
		t.Run(strings.Split(dir, "/")[0], func(t *testing.T) {
			f, size := partition(t, dir, "arenas")
			n := roundTripArenas(t, f, size)
			f, size = partition(t, dir, "isect")
			n += roundTripIndex(t, f, size)
			f, _ = partition(t, dir, "bloom")
			roundTripBloom(t, f)
			t.Logf("%d structures", n+1)
		})
	}
	t.Run("plan9-c", func(t *testing.T) {
		sum := strings.Fields(fixtureText(t, "plan9-c/disk64-after.img.sha256"))[0]
		disk, _ := openFixture(t, "plan9-c/disk64-after.img.gz", sum)
		n := roundTripArenas(t, io.NewSectionReader(disk, 45120*512, (114752-45120)*512), (114752-45120)*512)
		n += roundTripIndex(t, io.NewSectionReader(disk, 114752*512, (131040-114752)*512), (131040-114752)*512)
		t.Logf("%d structures", n)
	})
}
