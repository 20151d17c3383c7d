package vtdisk

import (
	"bytes"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// testClump is a block to put in a test arena.
type testClump struct {
	data []byte
	typ  venti.DiskType
	time uint32
}

// buildArena lays out an arena image the way the C venti writes one:
// head block, clumps back to back from the second block, directory
// blocks down from the block before the trailer, trailer. Times of the
// trailer come from the clumps.
func buildArena(t testing.TB, name string, bs uint32, size uint64, magic uint32, clumps []testClump) []byte {
	t.Helper()
	img := make([]byte, size)
	h := ArenaHead{Version: ArenaVersion5, Name: name, BlockSize: bs, Size: size, ClumpMagic: magic}
	if err := h.Pack(img); err != nil {
		t.Fatal(err)
	}
	a := &Arena{Head: h, Size: size, BlockSize: bs}
	tail := ArenaTail{Version: ArenaVersion5, Name: name, ClumpMagic: magic}
	var st TailStats
	log := img[bs:]
	for i, tc := range clumps {
		c, stored, err := Encode(tc.data, tc.typ, tc.time)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Pack(log[st.Used:], magic); err != nil {
			t.Fatal(err)
		}
		copy(log[st.Used+ClumpSize:], stored)
		c.ClumpInfo.Pack(img[a.ClumpInfoOffset(uint32(i)):])
		st.Clumps++
		if c.Encoding == EncodingWhack {
			st.CClumps++
		}
		st.Used += ClumpSize + uint64(c.Size)
		st.UncSize += uint64(c.UncSize)
		if tail.CTime == 0 {
			tail.CTime = tc.time
		}
		tail.WTime = tc.time
	}
	tail.Disk, tail.Mem = st, st
	if err := tail.Pack(img[size-uint64(bs):]); err != nil {
		t.Fatal(err)
	}
	return img
}

// TestBuildArenaA writes arenas0.0 again from the blocks of venti-a,
// in the order, with the types and the times the C venti wrote them:
// the image must come out as venti/rdarena copied it, byte for byte.
func TestBuildArenaA(t *testing.T) {
	img, _ := openFixture(t, dirA+"/arenas0.0.img.gz", imgA)
	a, err := OpenArena(img, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var clumps []testClump
	if _, _, err := a.Walk(func(aa uint64, c *Clump, stored []byte) error {
		data, err := c.Decode(stored)
		clumps = append(clumps, testClump{bytes.Clone(data), c.Type, c.Time})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	built := buildArena(t, "arenas0.0", 8192, 16<<20, a.ClumpMagic(), clumps)
	want := make([]byte, 16<<20)
	if _, err := img.ReadAt(want, 0); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "rebuilt arenas0.0", built, want)
}

// tinyArena is a small valid arena for the malformed-input tests and
// the fuzzers: 512-byte blocks, 8 blocks, three clumps.
func tinyArena(t testing.TB) []byte {
	return buildArena(t, "tiny", 512, 8*512, 0x01020304, []testClump{
		{[]byte("hello, world\n"), 13, 1000},
		{bytes.Repeat([]byte("abc"), 100), 2, 1001},
		{nil, 13, 1002},
	})
}

// TestCanAppend checks the space rule against the tiny arena: 512-byte
// blocks, 3072 bytes between head and trailer, 20 directory entries a
// block.
func TestCanAppend(t *testing.T) {
	a, err := OpenArena(bytes.NewReader(tinyArena(t)), 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	st := a.Tail.Mem
	if st.Clumps != 3 || a.DataSize() != 3072 || a.ClumpsPerBlock() != 20 || a.DirSize(3) != 512 {
		t.Fatalf("tiny arena: %+v data %d", st, a.DataSize())
	}
	// The log may grow to 3072-512 bytes, less 8 spare bytes.
	room := int(3072 - 512 - st.Used - ClumpSize - 8)
	if !a.CanAppend(st, room) || a.CanAppend(st, room+1) {
		t.Errorf("room for %d bytes: %v %v", room, a.CanAppend(st, room), a.CanAppend(st, room+1))
	}
	// With 19 clumps the 20th needs a second directory block.
	st.Clumps = 19
	if a.CanAppend(st, room-512+1) || !a.CanAppend(st, room-512) {
		t.Errorf("second directory block not accounted for")
	}
	st.Clumps, st.Sealed = 3, true
	if a.CanAppend(st, 0) {
		t.Errorf("sealed arena accepts clumps")
	}
}
