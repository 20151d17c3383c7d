package fsdisk

import (
	"bytes"
	"errors"
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

func with(b []byte, off int, v ...byte) []byte {
	b = bytes.Clone(b)
	copy(b[off:], v)
	return b
}

func TestMalformedHeader(t *testing.T) {
	good := make([]byte, HeaderSize)
	h := Header{BlockSize: 8192, Super: 18, Label: 19, Data: 26, End: 4096}
	if err := h.Pack(good); err != nil {
		t.Fatal(err)
	}
	var x Header
	wantErr(t, "short", x.Unpack(good[:20]), ErrShort, "fsdisk: header: truncated: 20 bytes, need 24")
	wantErr(t, "magic", x.Unpack(with(good, 0, 0)), ErrBadMagic, "fsdisk: header: bad magic 0x0076ae89 (want 0x3776ae89)")
	wantErr(t, "version", x.Unpack(with(good, 5, 2)), ErrVersion, "fsdisk: header: unknown version: 2")
	wantErr(t, "pack version", (&Header{Version: 2}).Pack(good), ErrVersion, "fsdisk: header: unknown version: 2")
	wantErr(t, "pack short", h.Pack(make([]byte, 24)), ErrShort, "fsdisk: header: truncated: 24 bytes, need 512")

	for _, c := range []struct {
		h   Header
		msg string
	}{
		{Header{BlockSize: 1000, Super: 18, Label: 19, Data: 26, End: 4096}, "corrupt: bad block size 1000"},
		{Header{BlockSize: 8192, Super: 16, Label: 19, Data: 26, End: 4096}, "corrupt: super block 16 overlaps the header"},
		{Header{BlockSize: 8192, Super: 18, Label: 18, Data: 26, End: 4096}, "corrupt: parts out of order: super=18 label=18 data=26 end=4096"},
		{Header{BlockSize: 8192, Super: 18, Label: 19, Data: 25, End: 4096}, "corrupt: 6 label blocks for 4071 data blocks"},
		{Header{BlockSize: 8192, Super: 18, Label: 19, Data: 26, End: 4097}, "corrupt: data end 4097 beyond the partition (4096 blocks)"},
	} {
		wantErr(t, c.msg, c.h.Check(32<<20), ErrCorrupt, "fsdisk: header: "+c.msg)
	}
	if err := h.Check(32 << 20); err != nil {
		t.Error(err)
	}
	_, err := NewHeader(1<<20, 8192)
	wantErr(t, "small", err, ErrShort, "fsdisk: header: truncated: partition of 1048576 bytes too small")
	_, err = NewHeader(32<<20, 8000)
	wantErr(t, "odd size", err, ErrCorrupt, "fsdisk: header: corrupt: bad block size 8000 (a multiple of 512, at most 57344)")

	// A partition too short to hold its header or its data.
	_, err = Open(bytes.NewReader(make([]byte, 100)), 100)
	wantErr(t, "open short", err, ErrShort, "fsdisk: header: truncated: read 0 of 512 bytes at 131072")
	part := make([]byte, 200<<10)
	copy(part[HeaderOffset:], good)
	_, err = Open(bytes.NewReader(part), int64(len(part)))
	wantErr(t, "open small", err, ErrCorrupt, "fsdisk: header: corrupt: data end 4096 beyond the partition (25 blocks)")
	d, err := Open(bytes.NewReader(part), -1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.ReadSuper()
	wantErr(t, "super zero", err, ErrBadMagic, "fsdisk: super block: bad magic 0x00000000 (want 0x2340a3b1)")
	_, err = Open(bytes.NewReader(part[:140<<10]), -1)
	if err != nil {
		t.Fatal(err)
	}
	d, _ = Open(bytes.NewReader(part[:140<<10]), -1)
	_, err = d.ReadSuper()
	wantErr(t, "super beyond", err, ErrShort, "fsdisk: super block: truncated: read 0 of 8192 bytes at 147456")
	_, err = d.ReadLabel(4070)
	wantErr(t, "label beyond", err, ErrBadAddr, "fsdisk: block 0xfe6: illegal block address: 4070 data blocks")
	_, err = d.ReadData(5000)
	wantErr(t, "data beyond", err, ErrBadAddr, "fsdisk: block 0x1388: illegal block address: 4070 data blocks")
}

func TestMalformedSuper(t *testing.T) {
	good := make([]byte, SuperSize)
	s := Super{EpochLow: 1, EpochHigh: 4, Qid: 23, Active: 0xf5, Next: NilBlock, Current: NilBlock, Name: "fixture-b"}
	if err := s.Pack(good); err != nil {
		t.Fatal(err)
	}
	var x Super
	wantErr(t, "short", x.Unpack(good[:100]), ErrShort, "fsdisk: super block: truncated: 100 bytes, need 182")
	wantErr(t, "magic", x.Unpack(with(good, 0, 1)), ErrBadMagic, "fsdisk: super block: bad magic 0x0140a3b1 (want 0x2340a3b1)")
	wantErr(t, "version", x.Unpack(with(good, 4, 0, 2)), ErrVersion, "fsdisk: super block: unknown version: 2")
	wantErr(t, "low 0", x.Unpack(with(good, 6, 0, 0, 0, 0)), ErrBadSuper, "fsdisk: super block: corrupted super block: epochs 0..4 qid 23")
	wantErr(t, "low > high", x.Unpack(with(good, 6, 0, 0, 0, 5)), ErrBadSuper, "fsdisk: super block: corrupted super block: epochs 5..4 qid 23")
	wantErr(t, "qid 0", x.Unpack(with(good, 14, 0, 0, 0, 0, 0, 0, 0, 0)), ErrBadSuper, "fsdisk: super block: corrupted super block: epochs 1..4 qid 0")
	// The C code reads at most 127 bytes of name.
	long := with(good, 54, bytes.Repeat([]byte("n"), 128)...)
	if err := x.Unpack(long); err != nil || x.Name != strings.Repeat("n", 127) {
		t.Errorf("long name: %q %v", x.Name, err)
	}
	s.Name = strings.Repeat("n", 128)
	wantErr(t, "pack long name", s.Pack(good), ErrTooLarge, "fsdisk: super block: does not fit: name \"nnnn...")
	s.Name = "a\x00b"
	wantErr(t, "pack nul", s.Pack(good), ErrTooLarge, "fsdisk: super block: does not fit: name \"a\\x00b\"")
}

func TestMalformedLabel(t *testing.T) {
	var l Label
	wantErr(t, "short", l.Unpack(make([]byte, 13)), ErrShort, "fsdisk: label: truncated: 13 bytes, need 14")
	for _, c := range []struct {
		b   []byte
		msg string
	}{
		{[]byte{1, 17, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9}, "unknown,1,e=1,-1,tag=0x9"},
		{[]byte{2, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9}, "BtData,2,Free,Copied,e=1,-1,tag=0x9"},
		{[]byte{0x11, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9}, "BtData,11,e=1,-1,tag=0x9"},
		{[]byte{9, 8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9}, "BtDir,9,Closed,e=1,-1,tag=0x9"},
		{[]byte{1, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 9}, "BtDir+1,1,e=1,2,tag=0x9"},
	} {
		wantErr(t, c.msg, l.Unpack(c.b), ErrBadLabel, "fsdisk: label: corrupted block label: "+c.msg)
	}
	// Free and bad labels may hold anything but a bad type.
	for _, b := range [][]byte{
		{0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
		{0xff, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
	} {
		if err := l.Unpack(b); err != nil {
			t.Errorf("%x: %v", b, err)
		}
	}
}

func TestMalformedEntry(t *testing.T) {
	_, err := UnpackEntry(make([]byte, 39))
	wantErr(t, "short", err, ErrShort, "fsdisk: entry: truncated: 39 bytes, need 40")
	e := Entry{Entry: venti.Entry{PSize: 8180, DSize: 8192, Type: venti.DataType + 1, Flags: venti.EntryActive | venti.EntryLocal,
		Size: 1500000, Score: venti.ZeroScore}, Tag: 99}
	wantErr(t, "pack local", e.Pack(make([]byte, 40)), ErrBadEntry, "fsdisk: entry: corrupted file entry: local entry with score da39a3ee5e6b4b0d3255bfef95601890afd80709")
	e.Score = LocalScore(7)
	if err := e.Check(8192); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		change func(*Entry)
		msg    string
	}{
		{func(e *Entry) { e.Flags = venti.EntryLocal }, "not active"},
		{func(e *Entry) { e.PSize = 100 }, "psize 100 or dsize 8192 < 256"},
		{func(e *Entry) { e.DSize = 16384 }, "psize 8180 or dsize 16384 > blocksize 8192"},
		{func(e *Entry) { e.Type = venti.DataType }, "depth 0 size 1500000 psize 8180 dsize 8192"},
		{func(e *Entry) { e.Tag = 0 }, "flags 0x21 tag 0x0"},
	} {
		x := e
		c.change(&x)
		wantErr(t, c.msg, x.Check(8192), ErrBadEntry, "fsdisk: entry: corrupted file entry: "+c.msg)
	}
	// Snapshot fields leave with the local flag, as in the C code.
	e.Flags = venti.EntryActive
	e.Snap, e.Archive = 3, 1
	b := make([]byte, EntrySize)
	if err := e.Pack(b); err != nil {
		t.Fatal(err)
	}
	if x, _ := UnpackEntry(b); x.Snap != 0 || x.Archive != 0 || x.Tag != 0 || x.Score != e.Score {
		t.Errorf("non-local entry read back as %+v", x)
	}
	for _, c := range []struct {
		size         uint64
		psize, dsize int
		depth        int
	}{{0, 8180, 8192, 0}, {8192, 8180, 8192, 0}, {8193, 8180, 8192, 1}, {8192 * 409, 8180, 8192, 1}, {8192*409 + 1, 8180, 8192, 2}, {1500000, 8180, 8192, 1}} {
		if d := SizeToDepth(c.size, c.psize, c.dsize); d != c.depth {
			t.Errorf("SizeToDepth(%d) = %d, want %d", c.size, d, c.depth)
		}
	}
}

func TestMalformedConfig(t *testing.T) {
	_, err := UnpackConfig([]byte("fossil conf\nfsys main\n"))
	wantErr(t, "magic", err, ErrConfig, "fsdisk: config block: bad config magic")
	_, err = UnpackConfig(make([]byte, ConfigSize))
	wantErr(t, "zeros", err, ErrConfig, "fsdisk: config block: bad config magic")
	_, err = ReadConfig(bytes.NewReader(make([]byte, 1000)))
	wantErr(t, "short", err, ErrShort, "fsdisk: config block: truncated: partition ends before 130048")
	_, err = PackConfig(strings.Repeat("x", 1011))
	wantErr(t, "long", err, ErrTooLarge, "fsdisk: config block: does not fit: config is too long: 1025 bytes, max 1024")
	text, err := UnpackConfig([]byte("fossil config\nsrv -p fscons\n\x00junk"))
	if err != nil || text != "srv -p fscons\n" {
		t.Errorf("%q %v", text, err)
	}
}

// TestBlockTypes checks the names of block types and states and their
// venti types.
func TestBlockTypes(t *testing.T) {
	for _, c := range []struct {
		t    BlockType
		name string
		v    venti.Type
	}{{BtData, "BtData", venti.DataType}, {BtData + 2, "BtData+2", venti.DataType + 2}, {BtDir, "BtDir", venti.DirType}, {BtDir + 7, "BtDir+7", venti.DirType + 7}, {BtMax, "unknown", venti.RootType}} {
		if c.t.String() != c.name || c.t.Venti() != c.v {
			t.Errorf("%d: %s %v", c.t, c.t, c.t.Venti())
		}
	}
	for _, c := range []struct {
		s    BlockState
		name string
	}{{BsFree, "Free"}, {BsBad, "Bad"}, {BsAlloc, "1"}, {BsAlloc | BsVenti | BsClosed, "d,Venti,Closed"}, {BsAlloc | BsCopied, "3,Copied"}} {
		if c.s.String() != c.name {
			t.Errorf("%#x: %s, want %s", uint8(c.s), c.s, c.name)
		}
	}
}
