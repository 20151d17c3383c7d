package venti

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fixtures is the folder of partitions and data made by the C programs.
var fixtures = filepath.Join("..", "..", "shared", "fixtures")

func TestScore(t *testing.T) {
	if ZeroScore.String() != "da39a3ee5e6b4b0d3255bfef95601890afd80709" {
		t.Errorf("ZeroScore = %v", ZeroScore)
	}
	for _, in := range []string{
		"6f2b89bb618db8de945d1b5304307895643ad340",
		"vac:6f2b89bb618db8de945d1b5304307895643ad340",
		"6F2B89BB618DB8DE945D1B5304307895643AD340",
	} {
		s, _, err := ParseScore(in)
		if err != nil || s != b02 {
			t.Errorf("ParseScore(%q) = %v, %v", in, s, err)
		}
	}
	if _, label, _ := ParseScore("vac:6f2b89bb618db8de945d1b5304307895643ad340"); label != "vac" {
		t.Errorf("label = %q, want vac", label)
	}
	for _, in := range []string{"", "vac:", "6f2b89bb", "6f2b89bb618db8de945d1b5304307895643ad34g",
		"6f2b89bb618db8de945d1b5304307895643ad3400", " 6f2b89bb618db8de945d1b5304307895643ad34"} {
		if _, _, err := ParseScore(in); err == nil {
			t.Errorf("ParseScore(%q) accepted", in)
		}
	}
	if Fingerprint([]byte("hello")) != MustParseScore("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d") {
		t.Error("Fingerprint(hello) wrong")
	}
}

func TestTypes(t *testing.T) {
	// Every valid type maps to a disk type and back to itself, except
	// DataType+n, which comes back as DirType+n (venti(6)).
	for ty := Type(0); ty < MaxType; ty++ {
		d, ok := ty.Disk()
		if !ok {
			t.Fatalf("type %v has no disk type", ty)
		}
		back, ok := d.Type()
		want := ty
		if ty.IsPointer() {
			want = DirType + Type(ty.Depth())
		}
		if !ok || back != want {
			t.Errorf("type %v -> disk %d -> %v, want %v", ty, d, back, want)
		}
	}
	if _, ok := MaxType.Disk(); ok {
		t.Error("MaxType has a disk type")
	}
	for _, d := range []DiskType{0, 10, 11, 12, DiskMaxType, 255} {
		if ty, ok := d.Type(); ok {
			t.Errorf("disk type %d -> %v, want none", d, ty)
		}
	}
	// The fixture's b13, written with -t 1, is listed as type 9.
	d, _ := (DataType + 1).Disk()
	if ty, _ := d.Type(); ty != 9 {
		t.Errorf("type 1 reads back as %d, want 9", ty)
	}
	if RootType != 16 || DirType != 8 || MaxType != 17 {
		t.Error("type numbers differ from venti(6)")
	}
}

func TestEntryBytes(t *testing.T) {
	// gen[4] psize[2] dsize[2] flags[1] zero[5] size[6] score[20]:
	// an active directory of depth 2 (flags 0x01|0x02|2<<2 = 0x0b).
	e := Entry{Gen: 0x01020304, PSize: 8192, DSize: 8160, Type: DirType + 2,
		Flags: EntryActive, Size: 0x0000_1234_5678_9abc, Score: b02}
	want := unhex(t, "01020304 2000 1fe0 0b 0000000000 123456789abc 6f2b89bb618db8de945d1b5304307895643ad340")
	got := make([]byte, EntrySize)
	if err := e.Pack(got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("pack\n got %x\nwant %x", got, want)
	}
	back, err := UnpackEntry(want)
	if err != nil || back != e {
		t.Fatalf("unpack = %+v, %v", back, err)
	}
	// A data file of depth 1 with fossil's local flag (0x01|1<<2|0x20).
	e = Entry{PSize: 512, DSize: 1024, Type: DataType + 1, Flags: EntryActive | EntryLocal, Size: 5000, Score: ZeroScore}
	if err := e.Pack(got); err != nil {
		t.Fatal(err)
	}
	if got[8] != 0x25 {
		t.Errorf("flags = %#x, want 0x25", got[8])
	}
	// The five pad bytes are written as zeros whatever the buffer held.
	buf := bytes.Repeat([]byte{0xee}, EntrySize)
	e.Pack(buf)
	if !bytes.Equal(buf[9:14], make([]byte, 5)) {
		t.Errorf("pad = %x", buf[9:14])
	}
}

func TestEntryErrors(t *testing.T) {
	if _, err := UnpackEntry(make([]byte, EntrySize-1)); err == nil {
		t.Error("short entry accepted")
	}
	// Active with a block size venti cannot store.
	b := unhex(t, "00000000 0010 2000 01 0000000000 000000000000 6f2b89bb618db8de945d1b5304307895643ad340")
	if _, err := UnpackEntry(b); err == nil {
		t.Error("psize 16 accepted")
	}
	// Inactive entries are not checked: vac leaves them zeroed.
	if _, err := UnpackEntry(make([]byte, EntrySize)); err != nil {
		t.Errorf("zero entry: %v", err)
	}
	for _, e := range []Entry{{Type: RootType}, {Type: 40}, {Size: MaxFileSize + 1}} {
		if err := e.Pack(make([]byte, EntrySize)); err == nil {
			t.Errorf("Pack(%+v) accepted", e)
		}
	}
	if err := (&Entry{}).Pack(make([]byte, 10)); err == nil {
		t.Error("Pack into short buffer accepted")
	}
}

// TestRootFixture reads the root block that the C fossil archived on
// real Plan 9 (fixture plan9-c) and packs it back to the same bytes.
func TestRootFixture(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(fixtures, "plan9-c", "out", "vacroot.bin"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := UnpackRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := Root{Name: "fossil", Type: "vac", BlockSize: 8192,
		Score: MustParseScore("217ef8df479d9e5102b8ee39301540eb335da57c"), Prev: ZeroScore}
	if r != want {
		t.Errorf("root = %+v\nwant %+v", r, want)
	}
	got := make([]byte, RootSize)
	if err := r.Pack(got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, raw) {
		t.Errorf("repacked root differs\n got %x\nwant %x", got, raw)
	}
	// The root's score is the one fossil/last printed for that archive.
	last, _ := os.ReadFile(filepath.Join(fixtures, "plan9-c", "out", "last-archive.txt"))
	if s, _, _ := ParseScore(string(bytes.TrimSpace(last))); s != Fingerprint(raw) {
		t.Errorf("fossil/last said %s, root block hashes to %v", last, Fingerprint(raw))
	}
}

func TestRootErrors(t *testing.T) {
	good := make([]byte, RootSize)
	(&Root{Name: "n", Type: "vac", BlockSize: 8192}).Pack(good)
	if _, err := UnpackRoot(good[:RootSize-1]); err == nil {
		t.Error("short root accepted")
	}
	bad := append([]byte(nil), good...)
	bad[1] = 3
	if _, err := UnpackRoot(bad); err == nil {
		t.Error("version 3 accepted")
	}
	bad = append([]byte(nil), good...)
	bad[278], bad[279] = 0, 1
	if _, err := UnpackRoot(bad); err == nil {
		t.Error("block size 1 accepted")
	}
	long := string(bytes.Repeat([]byte("x"), 128))
	if err := (&Root{Name: long, BlockSize: 8192}).Pack(make([]byte, RootSize)); err == nil {
		t.Error("128-byte name accepted (no room for its NUL)")
	}
}

func TestZeroTruncate(t *testing.T) {
	data := append([]byte("hello world"), make([]byte, 1013)...)
	if got := ZeroTruncate(DataType, data); string(got) != "hello world" {
		t.Errorf("data: %q", got)
	}
	if got := ZeroTruncate(DataType, make([]byte, 8192)); len(got) != 0 {
		t.Errorf("all zeros: %d bytes left", len(got))
	}
	// Directory blocks truncate like data: entries are bytes.
	if got := ZeroTruncate(DirType, append([]byte{1}, make([]byte, 79)...)); len(got) != 1 {
		t.Errorf("dir: %d bytes", len(got))
	}
	// Pointer blocks lose trailing zero scores, not zero bytes; slop
	// after the last whole score goes too.
	ptr := append(append(append([]byte{}, b02[:]...), ZeroScore[:]...), ZeroScore[:]...)
	ptr = append(ptr, 0, 0, 0)
	if got := ZeroTruncate(DataType+1, ptr); !bytes.Equal(got, b02[:]) {
		t.Errorf("pointer: %x", got)
	}
	allzero := bytes.Repeat(ZeroScore[:], 3)
	if got := ZeroTruncate(DirType+3, allzero); len(got) != 0 {
		t.Errorf("zero pointers: %d bytes left", len(got))
	}
	// A pointer block of zero bytes is not all zero scores.
	if got := ZeroTruncate(DataType+1, make([]byte, 40)); len(got) != 40 {
		t.Errorf("pointer of zero bytes truncated to %d", len(got))
	}
	root := make([]byte, 400)
	if got := ZeroTruncate(RootType, root); len(got) != RootSize {
		t.Errorf("root: %d", len(got))
	}
	// ZeroExtend undoes it.
	if got := ZeroExtend(DataType+1, append([]byte(nil), b02[:]...), 60); !bytes.Equal(got, append(b02[:], bytes.Repeat(ZeroScore[:], 2)...)) {
		t.Errorf("extend pointer: %x", got)
	}
	if got := ZeroExtend(DataType, []byte("hi"), 5); !bytes.Equal(got, []byte("hi\x00\x00\x00")) {
		t.Errorf("extend data: %q", got)
	}
	if got := PointerScores(append(b02[:], ZeroScore[:]...)); len(got) != 2 || got[0] != b02 || got[1] != ZeroScore {
		t.Errorf("PointerScores = %v", got)
	}
}

func FuzzUnpackEntry(f *testing.F) {
	f.Add(make([]byte, EntrySize))
	f.Add(unhex(f, "01020304 2000 1fe0 0b 0000000000 123456789abc 6f2b89bb618db8de945d1b5304307895643ad340"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := UnpackEntry(b)
		if err != nil {
			return
		}
		out := make([]byte, EntrySize)
		if err := e.Pack(out); err != nil {
			t.Fatalf("unpacked %+v but cannot pack it: %v", e, err)
		}
		// Everything but the pad bytes survives the round trip.
		in := append([]byte(nil), b[:EntrySize]...)
		clear(in[9:14])
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip %x -> %x", in, out)
		}
	})
}

func FuzzUnpackRoot(f *testing.F) {
	good := make([]byte, RootSize)
	(&Root{Name: "fossil", Type: "vac", BlockSize: 8192, Prev: ZeroScore}).Pack(good)
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := UnpackRoot(b)
		if err != nil {
			return
		}
		out := make([]byte, RootSize)
		if err := r.Pack(out); err != nil {
			t.Fatalf("unpacked %+v but cannot pack it: %v", r, err)
		}
		if r2, err := UnpackRoot(out); err != nil || r2 != r {
			t.Fatalf("round trip %+v -> %+v, %v", r, r2, err)
		}
	})
}
