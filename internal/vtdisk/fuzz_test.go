package vtdisk

import (
	"bytes"
	"io"
	"reflect"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// The fuzz targets check that Unpack never panics and that what it
// accepts packs again into bytes it reads back the same way (and, for
// structures without slack bytes, into the same bytes).

func FuzzUnpackArenaPart(f *testing.F) {
	b := make([]byte, ArenaPartSize)
	(&ArenaPart{Version: 3, BlockSize: 8192, ArenaBase: 794624}).Pack(b)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var p ArenaPart
		if p.Unpack(data) != nil {
			return
		}
		out := make([]byte, ArenaPartSize)
		if err := p.Pack(out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data[:ArenaPartSize]) {
			t.Fatalf("repacked %x, was %x", out, data[:ArenaPartSize])
		}
	})
}

func FuzzUnpackAMap(f *testing.F) {
	f.Add([]byte("6\narenas0.0\t794624\t17571840\narenas0.1\t17571840\t34349056\n\x00\x00"))
	f.Add([]byte("  # c\n1\n\ta b\t0\t1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := UnpackAMap(data)
		if err != nil {
			return
		}
		text, err := appendAMap(nil, m, "m")
		if err != nil {
			t.Fatal(err)
		}
		table := make([]byte, len(text)+1)
		if err := PackAMap(table, m); err != nil {
			t.Fatal(err)
		}
		m2, err := UnpackAMap(table)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("%v != %v (%v)", m, m2, err)
		}
	})
}

func FuzzUnpackArenaHead(f *testing.F) {
	for _, v := range []uint32{4, 5} {
		b := make([]byte, 512)
		h := ArenaHead{Version: v, Name: "arenas0.0", BlockSize: 8192, Size: 16 << 20, ClumpMagic: OldClumpMagic}
		h.Pack(b)
		f.Add(b[:h.PackedSize()])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var h ArenaHead
		if h.Unpack(data) != nil {
			return
		}
		out := make([]byte, h.PackedSize())
		if err := h.Pack(out); err != nil {
			t.Fatal(err)
		}
		var h2 ArenaHead
		if err := h2.Unpack(out); err != nil || h2 != h {
			t.Fatalf("%+v != %+v (%v)", h2, h, err)
		}
	})
}

func FuzzUnpackArenaTail(f *testing.F) {
	for _, tl := range []ArenaTail{
		{Version: 5, Name: "arenas0.0", Disk: TailStats{Clumps: 11, Used: 135624}, Mem: TailStats{Clumps: 11, Used: 135624}, ClumpMagic: 9},
		{Version: 4, Name: "x", Mem: TailStats{Clumps: 2, Sealed: true}, ClumpMagic: OldClumpMagic, Score: venti.ZeroScore},
	} {
		b := make([]byte, 512)
		if err := tl.Pack(b); err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var tl ArenaTail
		if tl.Unpack(data) != nil {
			return
		}
		out := make([]byte, len(data))
		if err := tl.Pack(out); err != nil {
			t.Fatal(err)
		}
		var t2 ArenaTail
		if err := t2.Unpack(out); err != nil || t2 != tl {
			t.Fatalf("%+v != %+v (%v)", t2, tl, err)
		}
	})
}

func FuzzUnpackClump(f *testing.F) {
	b := make([]byte, ClumpSize)
	c := Clump{ClumpInfo: ClumpInfo{Type: 13, Size: 10, UncSize: 20}, Encoding: EncodingWhack, Time: 5}
	c.Pack(b, 0x8c81fb1d)
	f.Add(b, uint32(0x8c81fb1d))
	f.Fuzz(func(t *testing.T, data []byte, magic uint32) {
		var c Clump
		if c.Unpack(data, magic) != nil {
			return
		}
		out := make([]byte, ClumpSize)
		if err := c.Pack(out, magic); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data[:ClumpSize]) {
			t.Fatalf("repacked %x, was %x", out, data[:ClumpSize])
		}
		if _, err := c.Decode(data[ClumpSize:]); err == nil && len(data)-ClumpSize != int(c.Size) {
			t.Fatalf("decoded %d bytes for size %d", len(data)-ClumpSize, c.Size)
		}
	})
}

func FuzzUnpackClumpInfo(f *testing.F) {
	f.Add(bytes.Repeat([]byte{7}, ClumpInfoSize))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < ClumpInfoSize {
			return
		}
		var ci ClumpInfo
		ci.Unpack(data)
		out := make([]byte, ClumpInfoSize)
		ci.Pack(out)
		if !bytes.Equal(out, data[:ClumpInfoSize]) {
			t.Fatalf("repacked %x, was %x", out, data[:ClumpInfoSize])
		}
	})
}

func FuzzUnpackISect(f *testing.F) {
	for _, v := range []uint32{1, 2} {
		s := ISect{Version: v, Name: "isect0", Index: "main", BlockSize: 8192, BlockBase: 794624, Blocks: 927, Stop: 927}
		if v == 2 {
			s.BucketMagic = 0xf0ca64ce
		}
		b := make([]byte, s.PackedSize())
		s.Pack(b)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s ISect
		if s.Unpack(data) != nil {
			return
		}
		out := make([]byte, s.PackedSize())
		if err := s.Pack(out); err != nil {
			t.Fatal(err)
		}
		var s2 ISect
		if err := s2.Unpack(out); err != nil || s2 != s {
			t.Fatalf("%+v != %+v (%v)", s2, s, err)
		}
	})
}

func FuzzUnpackIndexMap(f *testing.F) {
	f.Add([]byte(IndexMagic + "\n1\nmain\n8192\n1\nisect0\t0\t927\n1\narenas0.0\t1048576\t17809408\n\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m IndexMap
		if m.Unpack(data) != nil {
			return
		}
		table := make([]byte, len(data)+64)
		if err := m.Pack(table); err != nil {
			if m.Name == "" {
				return // an empty name is read but never written
			}
			t.Fatal(err)
		}
		var m2 IndexMap
		if err := m2.Unpack(table); err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("%+v != %+v (%v)", m2, m, err)
		}
	})
}

func FuzzUnpackIEntry(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0x5a}, IEntrySize))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < IEntrySize {
			return
		}
		var e IEntry
		e.Unpack(data)
		out := make([]byte, IEntrySize)
		e.Pack(out)
		if !bytes.Equal(out, data[:IEntrySize]) {
			t.Fatalf("repacked %x, was %x", out, data[:IEntrySize])
		}
	})
}

func FuzzUnpackBucket(f *testing.F) {
	b := Bucket{Magic: 0xf0ca64ce, Entries: []IEntry{{Score: venti.ZeroScore, Addr: 1 << 20, Size: 3, Type: 13, Blocks: 1}}}
	buf := make([]byte, 512)
	b.Pack(buf)
	f.Add(buf, uint32(0xf0ca64ce))
	f.Add(buf, uint32(0))
	f.Fuzz(func(t *testing.T, data []byte, magic uint32) {
		var b Bucket
		if b.Unpack(data, magic) != nil {
			return
		}
		out := make([]byte, b.PackedSize())
		if err := b.Pack(out); err != nil {
			t.Fatal(err)
		}
		if (magic == 0 || b.Magic == magic) && !bytes.Equal(out, data[:len(out)]) {
			t.Fatalf("repacked %x, was %x", out, data[:len(out)])
		}
		var b2 Bucket
		if err := b2.Unpack(out, magic); err != nil || !reflect.DeepEqual(b, b2) && len(b.Entries) > 0 {
			t.Fatalf("%+v != %+v (%v)", b2, b, err)
		}
		for i := range b.Entries {
			if _, ok := b.Find(b.Entries[i].Score, b.Entries[i].Type, true); !ok && sorted(b.Entries) {
				t.Fatalf("entry %d not found", i)
			}
		}
	})
}

func sorted(es []IEntry) bool {
	for i := 1; i < len(es); i++ {
		if es[i-1].compare(es[i].Score, es[i].Type) > 0 {
			return false
		}
	}
	return true
}

func FuzzUnpackBloomHead(f *testing.F) {
	b := make([]byte, BloomHeadSize)
	(&BloomHead{NHash: 32, Size: 1 << 20}).Pack(b)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var h BloomHead
		if h.Unpack(data) != nil {
			return
		}
		out := make([]byte, BloomHeadSize)
		if err := h.Pack(out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data[:BloomHeadSize]) {
			t.Fatalf("repacked %x, was %x", out, data[:BloomHeadSize])
		}
		for _, x := range BloomBits(venti.Fingerprint(data), h.NHash, h.Size) {
			if uint64(x) >= uint64(h.Size)*8 || len(BloomBits(venti.ZeroScore, h.NHash, h.Size)) != int(h.NHash) {
				t.Fatalf("bit %d outside %d bytes", x, h.Size)
			}
		}
	})
}

func FuzzUnpackConfig(f *testing.F) {
	f.Add([]byte(ConfigMagic + "index main\nisect /dev/sdC0/isect\n\x00\x00junk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		text, err := UnpackConfig(data)
		if err != nil {
			return
		}
		block := make([]byte, ConfigSize)
		if err := PackConfig(block, text); err != nil {
			t.Fatal(err)
		}
		if text2, err := UnpackConfig(block); err != nil || text2 != text {
			t.Fatalf("%q != %q (%v)", text2, text, err)
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add("index main\narenas /dev/sdC0/arenas\nisect /dev/sdC0/isect\nbloom /dev/sdC0/bloom\n" +
		"mem 16m\nbcmem 16m\nicmem 16m\naddr tcp!127.0.0.1!17034\nhttpaddr tcp!127.0.0.1!18000\nqueuewrites\nwebroot /w\n")
	f.Add("# comment\n\tindex x # y\r\nfoo\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ParseConfig(text)
		if err != nil {
			return
		}
		c2, err := ParseConfig(c.String())
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("%+v != %+v (%v)\n%s", c2, c, err, c.String())
		}
	})
}

// FuzzArena mutates a small valid arena and reads it every way the
// package can: nothing may panic.
func FuzzArena(f *testing.F) {
	f.Add(tinyArena(f))
	f.Fuzz(func(t *testing.T, img []byte) {
		a, err := OpenArena(bytes.NewReader(img), 0, 0, 0)
		if err != nil {
			return
		}
		a.Walk(func(aa uint64, c *Clump, stored []byte) error {
			data, err := c.Decode(stored)
			if err == nil {
				c.Verify(data)
			}
			return nil
		})
		a.ReadClumpInfos(0, int(min(a.Tail.Mem.Clumps, 1000)))
		a.PrintArena(io.Discard)
		a.SealScore()
	})
}
