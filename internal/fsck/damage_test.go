package fsck

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/fsck/fsckdamage"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
)

// memPart is a partition in memory.
type memPart []byte

func (m memPart) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m)) {
		return 0, fmt.Errorf("read of %d at %d beyond %d", len(p), off, len(m))
	}
	return copy(p, m[off:]), nil
}

func (m memPart) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m)) {
		return 0, fmt.Errorf("write of %d at %d beyond %d", len(p), off, len(m))
	}
	return copy(m[off:], p), nil
}

// testFiles is the tree the damage tests break, with a file big enough
// for a pointer block (384 data blocks under one), a directory of
// several, an empty file and an empty directory.
func testFiles() []fsckdamage.File {
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i / 8192)
	}
	return []fsckdamage.File{
		{Path: "adm/users", Data: []byte("adm:adm:adm:glenda\nglenda:glenda:glenda:\n")},
		{Path: "usr/glenda/big", Data: big},
		{Path: "usr/glenda/small", Data: bytes.Repeat([]byte("small\n"), 800)},
		{Path: "usr/glenda/empty", Data: []byte{}},
		{Path: "usr/glenda/lib/profile", Data: []byte("bind -a $home/bin/rc /bin\n")},
		{Path: "tmp/"},
	}
}

const testPartSize = 16 << 20

// buildPart makes a partition holding testFiles.
func buildPart(t testing.TB) (memPart, *fsckdamage.Layout, *fsckdamage.Part) {
	t.Helper()
	m := make(memPart, testPartSize)
	l, err := fsckdamage.Build(m, int64(len(m)), testFiles())
	if err != nil {
		t.Fatal(err)
	}
	return m, l, fsckdamage.NewPart(m, l)
}

// check runs a check of the partition as flchk -f does.
func check(t testing.TB, m memPart, opts Options) (string, *Report) {
	t.Helper()
	src, err := OpenDisk(m, int64(len(m)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if opts.Fixer == nil {
		opts.Fix, opts.Fixer = true, PrintFixer{W: &out}
	}
	rep, err := Check(src, opts, &out)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	return out.String(), rep
}

// proposals are the "# " lines of an output.
func proposals(out string) []string {
	var p []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "# ") {
			p = append(p, line)
		}
	}
	return p
}

func node(t testing.TB, l *fsckdamage.Layout, path string) *fsckdamage.Node {
	t.Helper()
	n := l.Lookup(path)
	if n == nil {
		t.Fatalf("no %s in the layout", path)
	}
	return n
}

// TestBuiltClean checks the partition Build makes: every block it
// allocated is reached, nothing is wrong, and the files read back
// through fsdisk's reader.
func TestBuiltClean(t *testing.T) {
	m, l, _ := buildPart(t)
	out, rep := check(t, m, Options{Snapshots: true})
	n := l.Header.NumData()
	// Progress every tenth of the partition's blocks visited.
	want := "checking epoch 1...\n"
	for v := uint32(1); v <= l.Next; v += n / 10 {
		want += fmt.Sprintf("check: visited %d/%d blocks (%.0f%%)\n", v, n, 100*float64(v)/float64(n))
	}
	want += fmt.Sprintf("fsys blocks: total=%d used=%d(%.1f%%) free=%d(%.1f%%) lost=0(0.0%%)\n",
		n, l.Next, 100*float64(l.Next)/float64(n), n-l.Next, 100*float64(n-l.Next)/float64(n))
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if rep.Visited != l.Next || rep.Used != l.Next || rep.Errors != 0 || rep.Lost != 0 {
		t.Errorf("report %+v, want %d blocks visited and used", rep, l.Next)
	}

	d, err := fsdisk.Open(m, int64(len(m)))
	if err != nil {
		t.Fatal(err)
	}
	root, err := fsdisk.NewReader(d, nil).Root(l.Super.Active)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range testFiles() {
		if strings.HasSuffix(f.Path, "/") {
			continue
		}
		ff, err := root.Open("active/" + f.Path)
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		buf := make([]byte, ff.Size())
		if _, err := ff.ReadAt(buf, 0); err != nil && len(buf) > 0 {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if !bytes.Equal(buf, f.Data) {
			t.Errorf("%s: read back %d bytes, differ", f.Path, len(buf))
		}
	}

	// pdir and pfile list the tree.
	out, _ = check(t, m, Options{PrintDirs: true, PrintFiles: true})
	for _, p := range []string{"/\n", "/active/\n", "/active/usr/glenda/\n", "/active/usr/glenda/lib/profile\n", "/active/tmp/\n", "/active/usr/glenda/empty\n"} {
		if !strings.Contains(out, p) {
			t.Errorf("pdir pfile: no %q in\n%s", p, out)
		}
	}
}

// TestDamage breaks one thing at a time and checks that the check names
// it and proposes the repairs an operator would make.
func TestDamage(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) (errs, fixes []string)
	}{
		{"pointer to a free block", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			big := node(t, l, "/active/usr/glenda/big")
			free, err := p.FirstFree(l.Next)
			if err != nil {
				t.Fatal(err)
			}
			ptr := big.Pointers[0]
			if err := p.PointToFree(ptr, 3, free); err != nil {
				t.Fatal(err)
			}
			return []string{
					fmt.Sprintf("error: could not load block 0x%08x type 0 tag %x: block label mismatch", free, big.Tag),
					fmt.Sprintf("error: unreachable block 0x%08x: label BtData,1,e=1,-1,tag=%#x", big.Leaves[3], big.Tag),
				}, []string{
					fmt.Sprintf("# clrp %#x 3", ptr),
					fmt.Sprintf("# bfree %#x", big.Leaves[3]),
				}
		}},
		{"pointer to another file's block", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			big := node(t, l, "/active/usr/glenda/big")
			small := node(t, l, "/active/usr/glenda/small")
			if err := p.PointAt(big.Pointers[0], 7, small.Leaves[0]); err != nil {
				t.Fatal(err)
			}
			return []string{
					fmt.Sprintf("error: could not load block 0x%08x type 0 tag %x: block label mismatch", small.Leaves[0], big.Tag),
				}, []string{
					fmt.Sprintf("# clrp %#x 7", big.Pointers[0]),
					fmt.Sprintf("# bfree %#x", big.Leaves[7]),
				}
		}},
		{"wrong label type", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			small := node(t, l, "/active/usr/glenda/small")
			a := small.Leaves[0]
			if err := p.SetLabelType(a, fsdisk.BtDir); err != nil {
				t.Fatal(err)
			}
			return []string{
					fmt.Sprintf("error: could not load block 0x%08x type 0 tag %x: block label mismatch", a, small.Tag),
				}, []string{
					fmt.Sprintf("# clre %#x %d", small.Entry.Addr, small.Entry.Index),
					fmt.Sprintf("# bfree %#x", a),
				}
		}},
		{"wrong label type of a data block under a pointer block", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			big := node(t, l, "/active/usr/glenda/big")
			a := big.Leaves[100]
			if err := p.SetLabelType(a, fsdisk.BtData+1); err != nil {
				t.Fatal(err)
			}
			return []string{
					fmt.Sprintf("error: could not load block 0x%08x type 0 tag %x: block label mismatch", a, big.Tag),
				}, []string{
					fmt.Sprintf("# clrp %#x 100", big.Pointers[0]),
					fmt.Sprintf("# bfree %#x", a),
				}
		}},
		{"bad entry", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			small := node(t, l, "/active/usr/glenda/small")
			e, err := p.Entry(small.Entry)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.BreakEntry(small.Entry); err != nil {
				t.Fatal(err)
			}
			return []string{
					fmt.Sprintf("error: bad entry %d in block 0x%08x: corrupted file entry: psize 0 or dsize 8192 < 256", small.Entry.Index, small.Entry.Addr),
					fmt.Sprintf("error: /active/usr/glenda/small -> %d: corrupted file entry: psize 0 or dsize 8192 < 256", small.Entry.Index),
					fmt.Sprintf("error: unreachable block 0x%08x: label BtData,1,e=1,-1,tag=%#x", small.Leaves[0], e.Tag),
				}, []string{
					fmt.Sprintf("# clre %#x %d", small.Entry.Addr, small.Entry.Index),
					fmt.Sprintf("# bfree %#x", small.Leaves[0]),
					"# clri /active/usr/glenda/small",
				}
		}},
		{"bad directory entry", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			small := node(t, l, "/active/usr/glenda/small")
			if err := p.BreakDirEntry(small.DirEntryBlock, "small"); err != nil {
				t.Fatal(err)
			}
			return []string{
					fmt.Sprintf("error: /active/usr/glenda/small -> %d: file has been removed: generation 0, want 1", small.Entry.Index),
				}, []string{
					"# clri /active/usr/glenda/small",
				}
		}},
		{"directory entry naming no entry", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			glenda := node(t, l, "/active/usr/glenda")
			small := node(t, l, "/active/usr/glenda/small")
			if err := p.ChangeDirEntry(small.DirEntryBlock, "small", func(d *vac.DirEntry) { d.Entry = 50 }); err != nil {
				t.Fatal(err)
			}
			// The file's entry is left unused.
			return []string{
					"error: /active/usr/glenda/small -> 50: no such entry: the directory has 5",
					"error: non referenced entry in source /active/usr/glenda[4]",
				}, []string{
					"# clri /active/usr/glenda/small",
					fmt.Sprintf("# clre %#x 4", glenda.Leaves[0]),
				}
		}},
		{"two directory entries for one file", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			glenda := node(t, l, "/active/usr/glenda")
			small := node(t, l, "/active/usr/glenda/small")
			if err := p.ChangeDirEntry(small.DirEntryBlock, "small", func(d *vac.DirEntry) { d.Entry = 0 }); err != nil {
				t.Fatal(err)
			}
			// big comes first, in name order.
			return []string{
					"error: /active/usr/glenda/small -> 0: entry used by another directory entry",
					"error: non referenced entry in source /active/usr/glenda[4]",
				}, []string{
					"# clri /active/usr/glenda/small",
					fmt.Sprintf("# clre %#x 4", glenda.Leaves[0]),
				}
		}},
		{"leaked block", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			free := l.Next + 10
			if err := p.Leak(free, fsdisk.BtData, 0x4242, 1); err != nil {
				t.Fatal(err)
			}
			return []string{
					fmt.Sprintf("error: unreachable block 0x%08x: label BtData,1,e=1,-1,tag=0x4242", free),
				}, []string{
					fmt.Sprintf("# bfree %#x", free),
				}
		}},
		{"block from a future epoch", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			lib := node(t, l, "/active/usr/glenda/lib")
			a := lib.Leaves[0]
			if err := p.FutureEpoch(a, 2); err != nil {
				t.Fatal(err)
			}
			// Clearing the directory's entries loses the file in it
			// too, written before it.
			profile := node(t, l, "/active/usr/glenda/lib/profile").Leaves[0]
			if profile > a {
				t.Fatalf("profile's block %#x after its directory's %#x", profile, a)
			}
			return []string{
					fmt.Sprintf("error: could not load block 0x%08x type 8 tag %x: block from the future: epoch 2, tree of epoch 1", a, lib.Tag),
				}, []string{
					fmt.Sprintf("# clre %#x %d", lib.Entry.Addr, lib.Entry.Index),
					fmt.Sprintf("# bfree %#x", profile),
					fmt.Sprintf("# bfree %#x", a),
				}
		}},
		{"closed block still referenced", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			big := node(t, l, "/active/usr/glenda/big")
			a := big.Leaves[5]
			if err := p.CloseBlock(a, 1); err != nil {
				t.Fatal(err)
			}
			// Closed in the epoch it was written in, the block is
			// free for reuse: no bfree.
			return []string{
					fmt.Sprintf("error: could not load block 0x%08x type 0 tag %x: closed block still referenced: closed in epoch 1, tree of epoch 1", a, big.Tag),
				}, []string{
					fmt.Sprintf("# clrp %#x 5", big.Pointers[0]),
				}
		}},
		{"broken meta block", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) ([]string, []string) {
			glenda := node(t, l, "/active/usr/glenda")
			if err := p.BreakMeta(glenda.MetaLeaves[0]); err != nil {
				t.Fatal(err)
			}
			// big, empty, lib (two entries) and small are lost.
			errs := []string{"error: could not unpack meta block: /active/usr/glenda[0]: corrupted meta data"}
			fixes := []string{"# clri /active/usr/glenda"}
			for i := 0; i < 5; i++ {
				errs = append(errs, fmt.Sprintf("error: non referenced entry in source /active/usr/glenda[%d]", i))
				fixes = append(fixes, fmt.Sprintf("# clre %#x %d", glenda.Leaves[0], i))
			}
			return errs, fixes
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, l, p := buildPart(t)
			errs, fixes := c.damage(t, l, p)
			out, rep := check(t, m, Options{Snapshots: true})
			if got := proposals(out); strings.Join(got, "\n") != strings.Join(fixes, "\n") {
				t.Errorf("proposed:\n%s\nwant:\n%s\noutput:\n%s", strings.Join(got, "\n"), strings.Join(fixes, "\n"), out)
			}
			for _, e := range errs {
				if !strings.Contains(out, e+"\n") {
					t.Errorf("no line %q in\n%s", e, out)
				}
			}
			if rep.Errors == 0 {
				t.Errorf("report %+v: no errors", rep)
			}
		})
	}
}

// TestBadBlocks labels a free block bad, as fossil does a block it
// failed to copy: it counts as used and is not lost; pbad prints it and
// killbad frees it.
func TestBadBlocks(t *testing.T) {
	m, l, p := buildPart(t)
	a := l.Next + 3
	if err := p.SetLabel(a, fsdisk.Label{State: fsdisk.BsBad, Type: fsdisk.BtData, Epoch: 1, EpochClose: fsdisk.NilBlock}); err != nil {
		t.Fatal(err)
	}
	out, rep := check(t, m, Options{})
	if rep.Errors != 0 || rep.Used != l.Next+1 || rep.Lost != 0 || strings.Contains(out, "bad block") {
		t.Errorf("plain check: %+v\n%s", rep, out)
	}
	out, rep = check(t, m, Options{PrintBad: true, KillBad: true})
	want := fmt.Sprintf("bad block 0x%08x: BtData,Bad,e=1,-1,tag=0x0\nerror: unreachable block 0x%08x: label BtData,Bad,e=1,-1,tag=0x0\n# bfree %#x\n", a, a, a)
	if rep.Lost != 1 || !strings.Contains(out, want) {
		t.Errorf("pbad killbad: %+v\n%s\nwant\n%s", rep, out, want)
	}
}
