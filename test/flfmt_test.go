//go:build !plan9

package test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// newPart makes a file of size zero bytes.
func newPart(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fossil.part")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirEntryTimes returns the byte ranges of a formatted partition that
// hold the mtime, ctime and atime of the DirEntries in its meta blocks
// (the allocated BtData blocks), with the times found there.
func dirEntryTimes(t *testing.T, part []byte) (ranges [][2]int64, times []uint32) {
	t.Helper()
	d, err := fsdisk.Open(bytes.NewReader(part), int64(len(part)))
	if err != nil {
		t.Fatal(err)
	}
	for a := uint32(0); a < d.NumData(); a++ {
		l, err := d.ReadLabel(a)
		if err != nil {
			t.Fatal(err)
		}
		if l.State == fsdisk.BsFree || l.Type != fsdisk.BtData {
			continue
		}
		b, err := d.ReadData(a)
		if err != nil {
			t.Fatal(err)
		}
		mb, err := vac.UnpackMetaBlock(b)
		if err != nil {
			t.Fatalf("block %d: %v", a, err)
		}
		for i := 0; i < mb.Len(); i++ {
			off, size, _ := mb.Index(i)
			de, err := mb.DirEntry(i)
			if err != nil || de.PackedSize() != size {
				t.Fatalf("block %d entry %d: %v", a, i, err)
			}
			// An entry without optional fields ends with mtime mcount
			// ctime atime mode.
			base := d.DataOffset(a) + int64(off+size-20)
			ranges = append(ranges, [2]int64{base, base + 4}, [2]int64{base + 8, base + 16})
			times = append(times, de.MTime, de.CTime, de.ATime)
		}
	}
	return ranges, times
}

// TestFlfmtFresh formats a 32 MiB file as fixture fossil-b's was
// (fossil-b.txt: flfmt -y -h ... -l fixture-b) and compares it with
// fossil-fresh.part byte for byte, but for two kinds of ranges:
//
//   - the config block, bytes [ConfigOffset, ConfigOffset+ConfigSize)
//     = [130048, 131072): fossil/conf -w wrote it after flfmt, which
//     does not touch it;
//   - the mtime, ctime and atime of the four DirEntries (root, active,
//     archive, snapshot), 12 bytes each: flfmt sets them from the clock.
//     They must hold the time of our run.
//
// Everything else is the same, the random tags included (the C flfmt
// draws them from an unseeded lrand) and the super block, which holds
// no time.
func TestFlfmtFresh(t *testing.T) {
	want := readFile(t, fixture.Gunzip(t, "fossil-b/fossil-fresh.part.gz", t.TempDir()))
	p := newPart(t, int64(len(want)))
	start := uint32(time.Now().Unix())
	r := run(t, nil, nil, "fossil/flfmt", "-y", "-h", "tcp!127.0.0.1!17034", "-l", "fixture-b", p)
	end := uint32(time.Now().Unix())
	if !r.ok || r.stdout != "" || r.stderr != "" {
		t.Fatalf("flfmt: %+v", r)
	}
	got := readFile(t, p)
	if len(got) != len(want) {
		t.Fatalf("partition of %d bytes, want %d", len(got), len(want))
	}

	wantRanges, _ := dirEntryTimes(t, want)
	ranges, times := dirEntryTimes(t, got)
	if len(ranges) != 8 || fmt.Sprint(ranges) != fmt.Sprint(wantRanges) {
		t.Fatalf("DirEntry times at %v, want %v (8 ranges)", ranges, wantRanges)
	}
	for _, tm := range times {
		if tm < start || tm > end {
			t.Errorf("DirEntry time %d not in [%d, %d]", tm, start, end)
		}
	}
	excluded := append([][2]int64{{fsdisk.ConfigOffset, fsdisk.ConfigOffset + fsdisk.ConfigSize}}, ranges...)
	for _, x := range excluded {
		copy(got[x[0]:x[1]], want[x[0]:x[1]])
	}
	if !bytes.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("first difference at byte %d: %#x, want %#x", i, got[i], want[i])
			}
		}
	}

	if r := run(t, nil, nil, "fossil/last", p); r.stdout != "vac:"+venti.ZeroScore.String()+"\n" {
		t.Errorf("fossil/last: %+v", r)
	}
}

// TestFlfmtConfirm checks the question asked before overwriting a
// fossil: an answer other than y leaves the file as it is (and, as in
// C, is no error); y formats; a file holding no fossil is formatted
// without a question.
func TestFlfmtConfirm(t *testing.T) {
	p := newPart(t, 8<<20)
	if r := run(t, nil, nil, "fossil/flfmt", "-l", "one", p); !r.ok || r.stderr != "" {
		t.Fatalf("flfmt on an empty file: %+v", r)
	}
	before := readFile(t, p)
	for _, answer := range []string{"n\n", "", "no\n", "Y\n"} {
		r := run(t, []byte(answer), nil, "fossil/flfmt", "-l", "two", p)
		if !r.ok || r.stderr != "fs header block already exists; are you sure? [y/n]: " {
			t.Errorf("answer %q: %+v", answer, r)
		}
		if !bytes.Equal(readFile(t, p), before) {
			t.Fatalf("answer %q: file changed", answer)
		}
	}
	if r := run(t, []byte("y\n"), nil, "fossil/flfmt", "-l", "two", p); !r.ok {
		t.Fatalf("answer y: %+v", r)
	}
	d, s := openSuper(t, p)
	if s.Name != "two" || d.BlockSize() != 8192 {
		t.Errorf("after y: name %q", s.Name)
	}
	if r := run(t, nil, nil, "fossil/flfmt", "-y", "-b", "4k", "-l", "three", p); !r.ok || r.stderr != "" {
		t.Fatalf("-y -b 4k: %+v", r)
	}
	if d, s := openSuper(t, p); s.Name != "three" || d.BlockSize() != 4096 {
		t.Errorf("after -b 4k: name %q block size %d", s.Name, d.BlockSize())
	}
}

func openSuper(t *testing.T, p string) (*fsdisk.Disk, *fsdisk.Super) {
	t.Helper()
	b := readFile(t, p)
	d, err := fsdisk.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	return d, s
}

// TestFlfmtErrors checks that bad arguments fail with a message and
// leave the file untouched.
func TestFlfmtErrors(t *testing.T) {
	small := newPart(t, 1<<20)
	part := newPart(t, 8<<20)
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-y", small}, "fossil/flfmt: " + small + ": file too small"},
		{[]string{"-y", "-b", "1000", part}, "fossil/flfmt: block size must be a multiple of 512 bytes"},
		{[]string{"-y", "-b", "64k", part}, "fossil/flfmt: block size must be less than"},
		{[]string{"-y", "-b", "x", part}, "usage: fossil/flfmt "},
		{[]string{"-y", "-v", "vac:123", part}, "fossil/flfmt: bad score 'vac:123'"},
		{[]string{"-y", "-v", "vac:zz16745728b185e07a1ada97c0214f56cb630c8b", part}, "fossil/flfmt: bad score"},
		{[]string{"-y", "-h", fmt.Sprintf("tcp!127.0.0.1!%d", freePort(t, "127.0.0.1")), "-v", "vac:2016745728b185e07a1ada97c0214f56cb630c8b", part}, "fossil/flfmt: connect to venti: "},
		{[]string{"-y", filepath.Join(t.TempDir(), "nonexistent")}, "fossil/flfmt: could not open file: "},
		{[]string{"-y"}, "usage: fossil/flfmt "},
	} {
		r := run(t, nil, nil, "fossil/flfmt", c.args...)
		if r.ok || !strings.HasPrefix(r.stderr, c.msg) {
			t.Errorf("flfmt %q: %+v, want %q", c.args, r, c.msg)
		}
	}
	for _, p := range []string{small, part} {
		if b := readFile(t, p); !bytes.Equal(b, make([]byte, len(b))) {
			t.Errorf("%s was written", p)
		}
	}
}

// ventiReader reads venti blocks through a client connection.
type ventiReader struct{ z *venti.Conn }

func (r ventiReader) ReadVenti(s venti.Score, ty venti.Type) ([]byte, error) {
	return r.z.Read(context.Background(), s, ty, venti.MaxLumpSize)
}

// TestFlfmtVenti restores fixture fossil-b's archive, as fosreset does,
// from our venti serving the C venti's partitions, and reads the files
// back: /active is the archived tree, the super block's last is the
// archive's score.
func TestFlfmtVenti(t *testing.T) {
	dir := t.TempDir()
	arenas := fixture.Gunzip(t, "fossil-b/venti-after-archive/arenas.gz", dir)
	isect := fixture.Gunzip(t, "fossil-b/venti-after-archive/isect.gz", dir)
	bloom := fixture.Gunzip(t, "fossil-b/venti-after-archive/bloom.gz", dir)
	config := filepath.Join(dir, "venti.conf")
	text := fmt.Sprintf("index main\narenas %s\nisect %s\nbloom %s\nmem 16m\nbcmem 16m\nicmem 16m\n", arenas, isect, bloom)
	if err := os.WriteFile(config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	v := startVenti(t, config, "127.0.0.5")

	const archive = "vac:2016745728b185e07a1ada97c0214f56cb630c8b"
	p := newPart(t, 32<<20)
	r := run(t, nil, nil, "fossil/flfmt", "-y", "-h", v.addr, "-v", archive, p)
	if !r.ok || r.stdout != "" || len(strings.Fields(r.stderr)) != 3 {
		t.Fatalf("flfmt -v: %+v (want the three root scores on stderr)", r)
	}
	if r := run(t, nil, nil, "fossil/last", p); r.stdout != archive+"\n" {
		t.Errorf("fossil/last: %+v", r)
	}

	z, err := venti.Dial(v.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	b := readFile(t, p)
	d, err := fsdisk.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "vfs" || s.EpochLow != 1 || s.EpochHigh != 1 || s.Active != 1 {
		t.Errorf("super %+v", s)
	}
	for a := uint32(0); a < d.NumData(); a++ {
		l, err := d.ReadLabel(a)
		if err != nil {
			t.Fatal(err)
		}
		if (a < 2) != (l.State == fsdisk.BsAlloc) {
			t.Errorf("block %d: label %v", a, &l)
		}
	}
	root, err := fsdisk.NewReader(d, ventiReader{z}).Root(s.Active)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"usr/root/empty":             "",
		"usr/root/hello.txt":         "usr_root_hello.txt",
		"usr/root/dir1/small.bin":    "usr_root_dir1_small.bin",
		"usr/root/dir1/big.bin":      "usr_root_dir1_big.bin",
		"usr/root/dir1/sub/text.txt": "usr_root_dir1_sub_text.txt",
		"usr/root/dir2/zeros.bin":    "usr_root_dir2_zeros.bin",
	}
	var files []string
	var walk func(f *fsdisk.File, path string)
	walk = func(f *fsdisk.File, path string) {
		des, err := f.ReadDir()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, de := range des {
			c, err := f.Walk(de.Elem)
			if err != nil {
				t.Fatal(err)
			}
			if c.IsDir() {
				walk(c, path+de.Elem+"/")
				continue
			}
			files = append(files, path+de.Elem)
			if path+de.Elem == "adm/users" {
				continue
			}
			var data []byte
			if name, ok := want[path+de.Elem]; !ok {
				t.Errorf("unexpected file %s", path+de.Elem)
				continue
			} else if name != "" {
				data = readFile(t, fixture.Path(t, "fossil-b/data/"+name))
			}
			got, err := io.ReadAll(c.Reader())
			if err != nil {
				t.Fatalf("%s: %v", path+de.Elem, err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("%s: %d bytes, differ from the fixture's %d", path+de.Elem, len(got), len(data))
			}
		}
	}
	active, err := root.Walk("active")
	if err != nil {
		t.Fatal(err)
	}
	walk(active, "")
	if len(files) != len(want)+1 {
		t.Errorf("/active holds %v", files)
	}
	for _, name := range []string{"archive", "snapshot"} {
		if _, err := root.Walk(name); err != nil {
			t.Error(err)
		}
	}
}
