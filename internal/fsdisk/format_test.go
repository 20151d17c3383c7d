package fsdisk

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// readAtT reads n bytes at off of r.
func readAtT(t testing.TB, r io.ReaderAt, off int64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHeader checks the headers flfmt wrote: fossil-b's fresh and used
// partitions (README.txt: blockSize 8192, super=18 label=19 data=26
// end=4096) and plan9-c's 20 MiB partition, which flfmt laid out the
// same way as NewHeader does.
func TestHeader(t *testing.T) {
	want := Header{Version: 1, BlockSize: 8192, Super: 18, Label: 19, Data: 26, End: 4096}
	for _, name := range []string{"fossil-fresh", "fossil"} {
		d, f := openDisk(t, name)
		if d.Header != want {
			t.Errorf("%s: header %+v, want %+v", name, d.Header, want)
		}
		raw := readAtT(t, f, HeaderOffset, HeaderSize)
		packed := make([]byte, HeaderSize)
		if err := d.Header.Pack(packed); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(packed, raw) {
			t.Errorf("%s: packed header\n%x\nwant\n%x", name, packed, raw)
		}
		if d.NumData() != 4070 {
			t.Errorf("%s: %d data blocks, want 4070 (flchk: total=4070)", name, d.NumData())
		}
	}
	if h, err := NewHeader(32<<20, 8192); err != nil || h != want {
		t.Errorf("NewHeader(32 MiB) = %+v, %v", h, err)
	}

	f := openFile(t, plan9Image(t))
	p := io.NewSectionReader(f, plan9Fossil0, plan9Fossil1-plan9Fossil0)
	d, err := Open(p, p.Size())
	if err != nil {
		t.Fatal(err)
	}
	want9 := Header{Version: 1, BlockSize: 8192, Super: 18, Label: 19, Data: 24, End: 2560}
	if d.Header != want9 || d.NumData() != 2536 {
		t.Errorf("plan9-c header %+v, want %+v (flchk: total=2536)", d.Header, want9)
	}
	if h, err := NewHeader(p.Size(), 8192); err != nil || h != want9 {
		t.Errorf("NewHeader(20 MiB) = %+v, %v", h, err)
	}
}

// TestSuper checks the super blocks: fresh (epochs 1..1, nothing
// archived) and after the session (README.txt: epoch low 1 hi 4, last
// vac:2016745728...), packing each back to the bytes on disk.
func TestSuper(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Super
	}{
		{"fossil-fresh", Super{Version: 1, EpochLow: 1, EpochHigh: 1, Qid: 5, Active: 2, Next: NilBlock, Current: NilBlock,
			Last: venti.ZeroScore, Name: "fixture-b"}},
		{"fossil", Super{Version: 1, EpochLow: 1, EpochHigh: 4, Qid: 0x17, Active: 0xf5, Next: NilBlock, Current: NilBlock,
			Last: venti.MustParseScore("2016745728b185e07a1ada97c0214f56cb630c8b"), Name: "fixture-b"}},
	} {
		d, f := openDisk(t, tc.name)
		s, err := d.ReadSuper()
		if err != nil {
			t.Fatal(err)
		}
		if *s != tc.want {
			t.Errorf("%s: super %+v, want %+v", tc.name, *s, tc.want)
		}
		raw := readAtT(t, f, int64(d.Header.Super)*8192, 8192)
		packed := make([]byte, 8192)
		if err := s.Pack(packed); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(packed, raw) {
			t.Errorf("%s: packed super block differs", tc.name)
		}
	}
}

// TestLast prints what fossil/last printed (fossil-b.txt and plan9-c's
// out/last-archive.txt).
func TestLast(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"fossil-fresh", "vac:da39a3ee5e6b4b0d3255bfef95601890afd80709\n"},
		{"fossil", "vac:2016745728b185e07a1ada97c0214f56cb630c8b\n"},
	} {
		_, f := openDisk(t, tc.name)
		var b strings.Builder
		if err := WriteLast(&b, f); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("%s: fossil/last printed %q, want %q", tc.name, b.String(), tc.want)
		}
	}
	f := openFile(t, plan9Image(t))
	p := io.NewSectionReader(f, plan9Fossil0, plan9Fossil1-plan9Fossil0)
	var b strings.Builder
	if err := WriteLast(&b, p); err != nil {
		t.Fatal(err)
	}
	if want := fixtureText(t, "plan9-c/out/last-archive.txt"); b.String() != want {
		t.Errorf("plan9-c: fossil/last printed %q, want %q", b.String(), want)
	}
	if _, err := Last(bytes.NewReader(make([]byte, 200<<10))); err == nil {
		t.Errorf("Last of zeros: no error")
	}
}

// usedBlocks counts the blocks in use as the C fossil's cacheCountUsed
// does: not free, and not closed in an epoch already reclaimable.
func usedBlocks(t *testing.T, d *Disk, epochLow uint32) int {
	t.Helper()
	n := 0
	for a := uint32(0); a < d.NumData(); a++ {
		l, err := d.ReadLabel(a)
		if err != nil {
			t.Fatalf("label %#x: %v", a, err)
		}
		if l.State == BsFree || l.State&BsClosed != 0 && (l.EpochClose <= epochLow || l.Epoch == l.EpochClose) {
			continue
		}
		n++
	}
	return n
}

// TestLabels checks the labels fossil-b.txt prints and the block counts
// flchk printed, and that every label block packs back to its bytes.
func TestLabels(t *testing.T) {
	d, f := openDisk(t, "fossil")
	if off := d.LabelOffset(0xfa); off != 159148 {
		t.Errorf("label of 0xfa at %d, want 159148", off)
	}
	if off := d.DataOffset(0xfa); off != 2260992 {
		t.Errorf("block 0xfa at %d, want 2260992", off)
	}
	for _, tc := range []struct {
		addr uint32
		want Label
		str  string
	}{
		// The live meta block of the root directory.
		{0xfa, Label{State: BsAlloc, Type: BtData, Epoch: 4, EpochClose: NilBlock, Tag: 0x7dac1a86}, "BtData,1,e=4,-1,tag=0x7dac1a86"},
		// Old blocks of big.bin, archived to venti and closed.
		{0x16, Label{State: BsAlloc | BsVenti | BsClosed, Type: BtData, Epoch: 1, EpochClose: 1, Tag: 0x34070e87}, "BtData,d,Venti,Closed,e=1,1,tag=0x34070e87"},
		{0x18, Label{State: BsAlloc | BsVenti | BsClosed, Type: BtData, Epoch: 1, EpochClose: 1, Tag: 0x34070e87}, ""},
		// The active root block and the top of the tree.
		{0xf5, Label{State: BsAlloc, Type: BtDir, Epoch: 4, EpochClose: NilBlock, Tag: RootTag}, "BtDir,1,e=4,-1,tag=0x1"},
	} {
		l, err := d.ReadLabel(tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if l != tc.want {
			t.Errorf("label of %#x: %+v, want %+v", tc.addr, l, tc.want)
		}
		if tc.str != "" && l.String() != tc.str {
			t.Errorf("label of %#x prints %q, want %q", tc.addr, l.String(), tc.str)
		}
	}
	// flchk: "used=34" after the session, "used=5" when fresh (the
	// console's df agrees with the second, 40,960 bytes; its 2,056,192
	// after the session is the running count of allocations that
	// cacheCountUsed keeps once it has counted, not a recount).
	if n := usedBlocks(t, d, 1); n != 34 {
		t.Errorf("%d blocks used, flchk said 34", n)
	}
	fresh, _ := openDisk(t, "fossil-fresh")
	if n := usedBlocks(t, fresh, 1); n != 5 || n*8192 != 40960 {
		t.Errorf("fresh: %d blocks used, flchk said 5", n)
	}
	// Every label packs back to its bytes.
	lpb := d.Header.LabelsPerBlock()
	for lb := d.Header.Label; lb < d.Header.Data; lb++ {
		raw := readAtT(t, f, int64(lb)*8192, 8192)
		packed := make([]byte, 8192)
		for i := 0; i < lpb; i++ {
			var l Label
			if err := l.Unpack(raw[i*LabelSize:]); err != nil {
				t.Fatalf("label block %d, label %d: %v", lb, i, err)
			}
			l.Pack(packed[i*LabelSize:])
		}
		if !bytes.Equal(packed, raw) {
			t.Errorf("label block %d packs to other bytes", lb)
		}
	}
}

// TestEntries unpacks every entry of every directory block in use and
// packs it back to the same 40 bytes: local entries (with tags, snap
// and archive) and, after the archive, entries pointing at venti.
func TestEntries(t *testing.T) {
	for _, name := range []string{"fossil-fresh", "fossil"} {
		d, _ := openDisk(t, name)
		var local, global, snaps int
		for a := uint32(0); a < d.NumData(); a++ {
			l, err := d.ReadLabel(a)
			if err != nil {
				t.Fatal(err)
			}
			if l.State == BsFree || l.Type != BtDir {
				continue
			}
			b, err := d.ReadData(a)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i+EntrySize <= len(b); i += EntrySize {
				e, err := UnpackEntry(b[i:])
				if err != nil {
					t.Fatal(err)
				}
				var p [EntrySize]byte
				if err := e.Pack(p[:]); err != nil {
					t.Fatalf("block %#x entry %d: %v", a, i/EntrySize, err)
				}
				if !bytes.Equal(p[:], b[i:i+EntrySize]) {
					t.Errorf("block %#x entry %d: %+v packs to\n%x\nwant\n%x", a, i/EntrySize, e, p, b[i:i+EntrySize])
				}
				if !e.IsActive() {
					continue
				}
				if e.IsLocal() {
					local++
				} else {
					global++
				}
				if e.Snap != 0 {
					snaps++
				}
			}
		}
		t.Logf("%s: %d local entries, %d on venti or empty, %d entering snapshots", name, local, global, snaps)
		if name == "fossil" && (local == 0 || global == 0 || snaps == 0) {
			t.Errorf("%s: expected local, venti and snapshot entries", name)
		}
	}

	// The active root block: the top entry (local, dir, 120 bytes of
	// three entries) and the hint to the previous root, entering the
	// snapshot of epoch 3.
	d, _ := openDisk(t, "fossil")
	b, _, err := d.ReadLocal(0xf5, BtDir, RootTag)
	if err != nil {
		t.Fatal(err)
	}
	e0, _ := UnpackEntry(b)
	want0 := Entry{Entry: venti.Entry{PSize: 8160, DSize: 8192, Type: venti.DirType, Flags: venti.EntryActive | venti.EntryLocal,
		Size: 120, Score: LocalScore(0xf6)}, Tag: 0x53ed9b6c}
	if e0 != want0 {
		t.Errorf("root entry 0: %+v, want %+v", e0, want0)
	}
	e1, _ := UnpackEntry(b[EntrySize:])
	want1 := Entry{Entry: venti.Entry{Type: venti.DirType, Flags: venti.EntryActive | venti.EntryLocal, Score: LocalScore(0xec)},
		Snap: 3, Tag: RootTag}
	if e1 != want1 {
		t.Errorf("root entry 1: %+v, want %+v", e1, want1)
	}
	if a, ok := LocalAddr(e1.Score); !ok || a != 0xec {
		t.Errorf("LocalAddr = %#x, %v", a, ok)
	}
	if _, ok := LocalAddr(venti.ZeroScore); ok {
		t.Errorf("LocalAddr(zero score) is local")
	}
}

// TestConfig reads the config blocks fossil/conf -w wrote (the text of
// fossil.conf) and packs them back to the same 1024 bytes.
func TestConfig(t *testing.T) {
	want := fixtureText(t, "fossil-b/fossil.conf")
	for _, name := range []string{"fossil-fresh", "fossil"} {
		_, f := openDisk(t, name)
		text, err := ReadConfig(f)
		if err != nil {
			t.Fatal(err)
		}
		if text != want {
			t.Errorf("%s: config %q, want %q", name, text, want)
		}
		b, err := PackConfig(text)
		if err != nil {
			t.Fatal(err)
		}
		if raw := readAtT(t, f, ConfigOffset, ConfigSize); !bytes.Equal(b, raw) {
			t.Errorf("%s: packed config differs", name)
		}
	}
	// The plan9-c fossil has no config block.
	f := openFile(t, plan9Image(t))
	p := io.NewSectionReader(f, plan9Fossil0, plan9Fossil1-plan9Fossil0)
	if _, err := ReadConfig(p); err == nil {
		t.Errorf("plan9-c: found a config block")
	}

	cmds := ConfigCommands(want, "/dev/sdC0/fossil")
	wantCmds := []string{"fsys main config", "fsys main venti tcp!127.0.0.1!17034", "fsys main open -A -c 1000", "fsys main", "listen tcp!127.0.0.1!15640"}
	if strings.Join(cmds, "|") != strings.Join(wantCmds, "|") {
		t.Errorf("commands %q", cmds)
	}
	cmds = ConfigCommands("# comment\n\nfsys main config *\nsrv a*b\n*\n", "/dev/sdC0/fossil")
	if strings.Join(cmds, "|") != "fsys main config /dev/sdC0/fossil|srv a*b|/dev/sdC0/fossil" {
		t.Errorf("commands %q", cmds)
	}

	// fossil/conf: "config is too long; max is a little less than a
	// kilobyte": the magic line and the text fill 1024 bytes at most.
	fits := strings.Repeat("x", ConfigSize-len(ConfigMagic))
	if _, err := PackConfig(fits); err != nil {
		t.Errorf("config of exactly 1024 bytes: %v", err)
	}
	if _, err := PackConfig(fits + "y"); err == nil {
		t.Errorf("config of 1025 bytes accepted")
	}
	if _, err := PackConfig("a\x00b"); err == nil {
		t.Errorf("config with a NUL accepted")
	}

	// Write and read back in a scratch partition.
	tmp, err := os.CreateTemp(t.TempDir(), "part")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	if err := WriteConfig(tmp, fits); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadConfig(tmp); err != nil || got != fits {
		t.Errorf("read back %d bytes, %v", len(got), err)
	}
	if err := WriteConfig(tmp, fits+"y"); err == nil {
		t.Errorf("WriteConfig of 1025 bytes accepted")
	}
}
