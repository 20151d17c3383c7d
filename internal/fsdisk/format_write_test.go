package fsdisk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// memPart is a partition in memory.
type memPart []byte

func (p memPart) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(b)) > int64(len(p)) {
		return 0, errors.New("write past the end")
	}
	return copy(p[off:], b), nil
}

func (p memPart) ReadAt(b []byte, off int64) (int, error) {
	if off >= int64(len(p)) {
		return 0, io.EOF
	}
	n := copy(b, p[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// fixtureTime is when the C flfmt made fossil-fresh: the mtime of its
// root's DirEntry (0x6b040a76, in every DirEntry it wrote).
const fixtureTime = 0x6b040a76

// TestPlan9Rand checks the unseeded lrand sequence against the tags the
// C flfmt and fossil drew for fossil-fresh.
func TestPlan9Rand(t *testing.T) {
	var r plan9Rand
	want := map[int]uint32{0: 0x4c0fe2a2, 2: 0x53ed9b6c, 7: 0x1feea085, 9: 0x7dac1a86}
	for i := 0; i < 10; i++ {
		v := r.next()
		if w, ok := want[i]; ok && v != w {
			t.Errorf("draw %d = %#x, want %#x", i, v, w)
		}
	}
}

// timeRanges are the byte ranges of the partition that hold the times
// (mtime, ctime, atime) of the DirEntries in the meta blocks f wrote.
func timeRanges(t *testing.T, f *Format) [][2]int64 {
	t.Helper()
	d := &Disk{Header: f.Header}
	var rs [][2]int64
	for i, b := range f.Blocks {
		if f.Labels[i].Type != BtData {
			continue
		}
		mb, err := vac.UnpackMetaBlock(append([]byte(nil), b...))
		if err != nil {
			continue
		}
		for j := 0; j < mb.Len(); j++ {
			off, size, err := mb.Index(j)
			if err != nil {
				t.Fatal(err)
			}
			de, err := mb.DirEntry(j)
			if err != nil {
				t.Fatal(err)
			}
			// mtime mcount ctime atime mode are the last 20 bytes of an
			// entry without optional fields.
			if de.PackedSize() != size {
				t.Fatalf("entry %q has %d bytes, want %d", de.Elem, size, de.PackedSize())
			}
			base := d.DataOffset(uint32(i)) + int64(off+size-20)
			rs = append(rs, [2]int64{base, base + 4}, [2]int64{base + 8, base + 16})
		}
	}
	return rs
}

// TestFormatFresh lays out fossil-b's partition as the C flfmt did and
// compares it with fossil-fresh.part byte for byte. The only bytes
// excluded are the config block (ConfigOffset, ConfigSize bytes), which
// fossil/conf -w wrote after flfmt; the DirEntry times match because
// the test gives NewFormat the C run's time. A second layout with
// another time must differ from the first exactly in the times of the
// four DirEntries (root, active, archive, snapshot).
func TestFormatFresh(t *testing.T) {
	want, err := os.ReadFile(partition(t, "fossil-b", "fossil-fresh.part"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFormat(int64(len(want)), FormatOptions{Label: "fixture-b", Time: fixtureTime})
	if err != nil {
		t.Fatal(err)
	}
	got := make(memPart, len(want))
	if err := f.Write(got); err != nil {
		t.Fatal(err)
	}
	// The config block is fossil/conf's: it is the only difference.
	copy(got[ConfigOffset:ConfigOffset+ConfigSize], want[ConfigOffset:])
	if !bytes.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("first difference at byte %d (block %d): %#x, want %#x", i, i/8192, got[i], want[i])
			}
		}
	}

	// Another time changes the time fields, and only them.
	f2, err := NewFormat(int64(len(want)), FormatOptions{Label: "fixture-b", Time: 12345})
	if err != nil {
		t.Fatal(err)
	}
	got2 := make(memPart, len(want))
	if err := f2.Write(got2); err != nil {
		t.Fatal(err)
	}
	copy(got2[ConfigOffset:ConfigOffset+ConfigSize], want[ConfigOffset:])
	rs := timeRanges(t, f2)
	if len(rs) != 8 {
		t.Fatalf("%d time ranges, want 8 (four DirEntries)", len(rs))
	}
	for _, r := range rs {
		if bytes.Equal(got2[r[0]:r[1]], want[r[0]:r[1]]) {
			t.Errorf("bytes %d-%d equal the fixture's", r[0], r[1])
		}
		copy(got2[r[0]:r[1]], want[r[0]:r[1]])
	}
	if !bytes.Equal(got2, want) {
		t.Errorf("layout with another time differs beyond the DirEntry times")
	}

	// And the result reads as a fossil: three empty directories.
	d, err := Open(got, int64(len(got)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	root, err := NewReader(d, noVenti{}).Root(s.Active)
	if err != nil {
		t.Fatal(err)
	}
	des, err := root.ReadDir()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, fmt.Sprintf("%s %s %s %#o", de.Elem, de.UID, de.GID, de.Mode))
	}
	if fmt.Sprint(names) != "[active adm adm 0100555 archive adm adm 0100555 snapshot adm adm 0100555]" {
		t.Errorf("root holds %v", names)
	}
}

// TestFormatBlockSizes formats with other block sizes and reads the
// result back.
func TestFormatBlockSizes(t *testing.T) {
	for _, bs := range []int{512, 1024, 4096, 16384, venti.MaxLumpSize} {
		size := int64(2 << 20)
		f, err := NewFormat(size, FormatOptions{BlockSize: bs, Label: "x"})
		if err != nil {
			t.Fatalf("bs %d: %v", bs, err)
		}
		p := make(memPart, size)
		if err := f.Write(p); err != nil {
			t.Fatal(err)
		}
		d, err := Open(p, size)
		if err != nil {
			t.Fatal(err)
		}
		s, err := d.ReadSuper()
		if err != nil {
			t.Fatal(err)
		}
		root, err := NewReader(d, noVenti{}).Root(s.Active)
		if err != nil {
			t.Fatalf("bs %d: %v", bs, err)
		}
		for _, name := range []string{"active", "archive", "snapshot"} {
			if _, err := root.Walk(name); err != nil {
				t.Errorf("bs %d: %v", bs, err)
			}
		}
	}
	if _, err := NewFormat(1<<20, FormatOptions{}); !errors.Is(err, ErrShort) {
		t.Errorf("1 MiB partition: %v", err)
	}
	if _, err := NewFormat(32<<20, FormatOptions{BlockSize: 1000}); err == nil {
		t.Errorf("block size 1000 accepted")
	}
}

const fixtureArchive = "2016745728b185e07a1ada97c0214f56cb630c8b"

// TestFormatVenti restores fossil-b's archive into a new partition and
// reads its files back through the Reader.
func TestFormatVenti(t *testing.T) {
	v := fossilBVenti(t)
	score := venti.MustParseScore(fixtureArchive)
	size := int64(32 << 20)
	var printed []venti.Score
	f, err := NewVentiFormat(size, FormatOptions{Label: "restored"}, score, v, func(s venti.Score) { printed = append(printed, s) })
	if err != nil {
		t.Fatal(err)
	}
	if len(printed) != 3 || len(f.Blocks) != 2 {
		t.Fatalf("%d scores printed, %d blocks", len(printed), len(f.Blocks))
	}
	p := make(memPart, size)
	if err := f.Write(p); err != nil {
		t.Fatal(err)
	}
	last, err := Last(p)
	if err != nil || last != score {
		t.Errorf("Last = %v, %v", last, err)
	}
	d, err := Open(p, size)
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	if s.Active != 1 || s.EpochLow != 1 || s.EpochHigh != 1 || s.Name != "restored" || s.Qid < 10 {
		t.Errorf("super %+v", s)
	}
	root, err := NewReader(d, v).Root(s.Active)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"usr/root/hello.txt":         "usr_root_hello.txt",
		"usr/root/dir1/small.bin":    "usr_root_dir1_small.bin",
		"usr/root/dir1/big.bin":      "usr_root_dir1_big.bin",
		"usr/root/dir1/sub/text.txt": "usr_root_dir1_sub_text.txt",
		"usr/root/dir2/zeros.bin":    "usr_root_dir2_zeros.bin",
	} {
		want, err := os.ReadFile(fixture.Path(t, filepath.Join("fossil-b/data", data)))
		if err != nil {
			t.Fatal(err)
		}
		file, err := root.Open("active/" + name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(file.Reader())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes differ from the fixture's %d", name, len(got), len(want))
		}
	}

	// Errors: no such block, a block that is no root.
	if _, err := NewVentiFormat(size, FormatOptions{}, venti.MustParseScore("0000000000000000000000000000000000000001"), v, nil); err == nil {
		t.Errorf("missing root accepted")
	}
	if _, err := NewVentiFormat(size, FormatOptions{}, printed[0], v, nil); err == nil {
		t.Errorf("directory block taken for a root")
	}
}
