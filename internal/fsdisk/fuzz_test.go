package fsdisk

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// The fuzz targets check that Unpack never panics and that what it
// accepts packs into bytes it reads back the same way, and into the
// same bytes where the structure has no slack.

func FuzzUnpackHeader(f *testing.F) {
	b := make([]byte, HeaderSize)
	(&Header{BlockSize: 8192, Super: 18, Label: 19, Data: 26, End: 4096}).Pack(b)
	f.Add(b[:headerFields])
	f.Add([]byte{0x37, 0x76, 0xae, 0x89, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var h Header
		if h.Unpack(data) != nil {
			return
		}
		h.Check(int64(len(data)))
		h.Check(-1)
		out := make([]byte, HeaderSize)
		if err := h.Pack(out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out[:headerFields], data[:headerFields]) {
			t.Fatalf("repacked %x, was %x", out[:headerFields], data[:headerFields])
		}
	})
}

func FuzzUnpackSuper(f *testing.F) {
	b := make([]byte, SuperSize)
	(&Super{EpochLow: 1, EpochHigh: 4, Qid: 23, Active: 0xf5, Next: NilBlock, Current: NilBlock, Name: "fixture-b"}).Pack(b)
	f.Add(b[:superFields])
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Super
		if s.Unpack(data) != nil {
			return
		}
		out := make([]byte, SuperSize)
		if err := s.Pack(out); err != nil {
			t.Fatal(err)
		}
		var s2 Super
		if err := s2.Unpack(out); err != nil || s2 != s {
			t.Fatalf("%+v != %+v (%v)", s2, s, err)
		}
		// All but the name's slack after its NUL comes back.
		if !bytes.Equal(out[:54], data[:54]) {
			t.Fatalf("repacked %x, was %x", out[:54], data[:54])
		}
	})
}

func FuzzUnpackLabel(f *testing.F) {
	for _, l := range []Label{
		{State: BsAlloc, Type: BtData, Epoch: 4, EpochClose: NilBlock, Tag: 0x7dac1a86},
		{State: BsAlloc | BsVenti | BsClosed, Type: BtDir + 1, Epoch: 1, EpochClose: 1, Tag: 7},
		{},
	} {
		b := make([]byte, LabelSize)
		l.Pack(b)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var l Label
		if l.Unpack(data) != nil {
			return
		}
		_ = l.String()
		out := make([]byte, LabelSize)
		if err := l.Pack(out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data[:LabelSize]) {
			t.Fatalf("repacked %x, was %x", out, data[:LabelSize])
		}
	})
}

func FuzzUnpackEntry(f *testing.F) {
	for _, e := range []Entry{
		{Entry: venti.Entry{PSize: 8160, DSize: 8192, Type: venti.DirType, Flags: venti.EntryActive | venti.EntryLocal, Size: 120, Score: LocalScore(0xf6)}, Tag: 0x53ed9b6c},
		{Entry: venti.Entry{Type: venti.DirType, Flags: venti.EntryActive | venti.EntryLocal, Score: LocalScore(0xec)}, Snap: 3, Archive: 1, Tag: RootTag},
		{Entry: venti.Entry{PSize: 8180, DSize: 8192, Type: venti.DataType + 1, Flags: venti.EntryActive, Size: 1500000, Score: venti.ZeroScore}},
	} {
		b := make([]byte, EntrySize)
		if err := e.Pack(b); err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := UnpackEntry(data)
		if err != nil {
			return
		}
		e.Check(8192)
		out := make([]byte, EntrySize)
		if err := e.Pack(out); err != nil {
			t.Fatal(err)
		}
		e2, err := UnpackEntry(out)
		if err != nil || e2 != e {
			t.Fatalf("%+v != %+v (%v)", e2, e, err)
		}
		// Pack clears the reserved bytes; the rest comes back.
		want := bytes.Clone(data[:EntrySize])
		clear(want[9:14])
		if e.IsLocal() {
			clear(want[20:27])
		}
		if !bytes.Equal(out, want) {
			t.Fatalf("repacked %x, was %x", out, want)
		}
	})
}

func FuzzUnpackConfig(f *testing.F) {
	b, _ := PackConfig("fsys main config\nfsys main open -c 1000\n")
	f.Add(b)
	f.Add([]byte("fossil config\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		text, err := UnpackConfig(data)
		if err != nil {
			return
		}
		_ = ConfigCommands(text, "/dev/sdC0/fossil")
		out, err := PackConfig(text)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := UnpackConfig(out); err != nil || got != text {
			t.Fatalf("read back %q, was %q (%v)", got, text, err)
		}
	})
}

// patched is a partition with some bytes replaced, which fails reads
// after a budget so that a corrupted tree that loops back on itself
// ends.
type patched struct {
	r     io.ReaderAt
	off   int64
	patch []byte
	reads int
}

var errBudget = errors.New("read budget spent")

func (p *patched) ReadAt(b []byte, off int64) (int, error) {
	if p.reads++; p.reads > 2000 {
		return 0, errBudget
	}
	n, err := p.r.ReadAt(b, off)
	lo, hi := max(off, p.off), min(off+int64(n), p.off+int64(len(p.patch)))
	if lo < hi {
		copy(b[lo-off:hi-off], p.patch[lo-p.off:hi-p.off])
	}
	return n, err
}

// FuzzReadTree damages fossil-b's partition (bytes at an offset in the
// header, super block, labels or the blocks of the tree) and reads the
// whole tree from it: errors, never panics.
func FuzzReadTree(f *testing.F) {
	file := openFile(f, partition(f, "fossil-b", "fossil.part"))
	v := fossilBVenti(f)
	f.Add(int64(HeaderOffset+6), []byte{0x01, 0x00})
	f.Add(int64(18*8192+22), []byte{0, 0, 0, 0xfa})
	f.Add(int64(159148), []byte{1, 8, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1})
	f.Add(int64(2260992+4), []byte{0xff, 0xff})
	f.Add(int64((26+0xf6)*8192+8), []byte{0x3f})
	f.Add(int64((26+0xf6)*8192+14), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, off int64, patch []byte) {
		const size = 32 << 20
		if off < 0 || off >= size || len(patch) > 8192 {
			return
		}
		p := &patched{r: file, off: off, patch: patch}
		d, err := Open(p, size)
		if err != nil {
			return
		}
		s, err := d.ReadSuper()
		if err != nil {
			return
		}
		root, err := NewReader(d, v).Root(s.Active)
		if err != nil {
			return
		}
		readTree(root, 0)
	})
}

// readTree reads everything below dir, ignoring errors.
func readTree(dir *File, depth int) {
	if depth > 10 {
		return
	}
	ds, err := dir.ReadDir()
	if err != nil {
		return
	}
	buf := make([]byte, 8192)
	for _, d := range ds {
		f, err := dir.Walk(d.Elem)
		if err != nil {
			continue
		}
		if f.IsDir() {
			readTree(f, depth+1)
			continue
		}
		for off := int64(0); off < int64(f.Size()) && off < 1<<20; off += int64(len(buf)) {
			if _, err := f.ReadAt(buf, off); err != nil {
				break
			}
		}
	}
}
