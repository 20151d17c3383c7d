package fs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/fsck"
	"github.com/plan9fossil/fossil/internal/fsck/fsckdamage"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// damageFiles is the tree the repair tests break: a file with a pointer
// block, a directory of several, an empty file and an empty directory.
func damageFiles() []fsckdamage.File {
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

// buildDamage writes damageFiles into a partition file.
func buildDamage(t *testing.T) (string, *fsckdamage.Layout, *fsckdamage.Part) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "fossil")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	const size = 16 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	l, err := fsckdamage.Build(f, size, damageFiles())
	if err != nil {
		t.Fatal(err)
	}
	return name, l, fsckdamage.NewPart(f, l)
}

// liveCheck runs the console's check on fs.
func liveCheck(t *testing.T, fs *Fs, opts fsck.Options) (string, *fsck.Report) {
	t.Helper()
	var out bytes.Buffer
	var rep *fsck.Report
	err := fs.Check(func(src fsck.BlockSource, fix fsck.Fixer) error {
		if opts.Fixer == nil {
			opts.Fixer = fix
		}
		var err error
		rep, err = fsck.Check(src, opts, &out)
		return err
	})
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	return out.String(), rep
}

// diskCheck runs flchk -f's check on the partition.
func diskCheck(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := fsck.OpenDisk(f, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := fsck.Check(src, fsck.Options{Snapshots: true, Fix: true, Fixer: fsck.PrintFixer{W: &out}}, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func isClean(out string) bool {
	return !strings.Contains(out, "error") && !strings.Contains(out, "\n# ")
}

// proposed returns the repairs a check printed, without the "# ".
func proposed(out string) []string {
	var p []string
	for _, line := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(line, "# "); ok {
			p = append(p, s)
		}
	}
	return p
}

// apply makes the repairs a check proposed, as the console does.
func apply(t *testing.T, fs *Fs, cmds []string) {
	t.Helper()
	num := func(s string) uint32 {
		n, err := strconv.ParseUint(s, 0, 32)
		if err != nil {
			t.Fatalf("bad number %q", s)
		}
		return uint32(n)
	}
	for _, cmd := range cmds {
		w := strings.Fields(cmd)
		var err error
		switch w[0] {
		case "clre":
			_, err = fs.ClearEntry(num(w[1]), int(num(w[2])))
		case "clrp":
			_, err = fs.ClearPointer(num(w[1]), int(num(w[2])))
		case "clri":
			err = fs.ClearDirEntry(w[1])
		case "bfree":
			_, err = fs.FreeBlock(num(w[1]))
			if errors.Is(err, ErrAlreadyFree) {
				err = nil
			}
		default:
			t.Fatalf("unknown repair %q", cmd)
		}
		if err != nil {
			t.Errorf("%s: %v", cmd, err)
		}
	}
}

// checkInvariants checks what a repair must leave right: nothing fresh
// or waiting to be closed after a commit, and the free count.
func checkInvariants(t *testing.T, fs *Fs) {
	t.Helper()
	if err := fs.Sync(); err != nil {
		t.Fatalf("sync: %v", err)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.c.fresh) != 0 || len(fs.c.closes) != 0 || len(fs.dirtyF) != 0 {
		t.Errorf("after sync: %d fresh, %d closes, %d dirty files", len(fs.c.fresh), len(fs.c.closes), len(fs.dirtyF))
	}
	free := 0
	for a := uint32(0); a < fs.h.NumData(); a++ {
		l, err := fs.label(a)
		if err != nil {
			t.Fatal(err)
		}
		if fs.isFree(l) {
			free++
		}
	}
	if free != fs.c.nfree {
		t.Errorf("free count %d, labels say %d", fs.c.nfree, free)
	}
}

func TestCheckClean(t *testing.T) {
	// A partition as fsckdamage builds it: the live check says what
	// flchk says of the disk.
	name, l, _ := buildDamage(t)
	fs := open(t, name, Options{})
	out, rep := liveCheck(t, fs, fsck.Options{Snapshots: true})
	if !isClean(out) || rep.Errors != 0 || rep.Used != l.Next || rep.Lost != 0 {
		t.Errorf("check of a clean partition: %+v\n%s", rep, out)
	}
	if disk := diskCheck(t, name); disk != out {
		t.Errorf("live check:\n%s\nflchk:\n%s", out, disk)
	}
	fs.Close()

	// The engine's own file system, with snapshots and changes not yet
	// committed: the check commits first and sees them.
	name = format(t, 8<<20)
	fs = open(t, name, Options{})
	defer fs.Close()
	mkdir(t, fs, "/active/d")
	writeFile(t, fs, "/active/d/a", random(1, 100000))
	if _, err := fs.Snapshot("", "", false); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fs, "/active/d/a", random(2, 30000))
	writeFile(t, fs, "/active/b", []byte("hello"))
	if _, err := fs.Snapshot("", "/snapshot/two", false); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fs, "/active/d/c", random(3, 20000))
	out, rep = liveCheck(t, fs, fsck.Options{Snapshots: true, Fix: true})
	if !isClean(out) || rep.Errors != 0 || rep.Clre+rep.Clrp+rep.Clri+rep.Bclose != 0 {
		t.Errorf("check of the engine's file system: %+v\n%s", rep, out)
	}
	if !strings.Contains(out, "checking epoch 3...\n") || !strings.Contains(out, "checking epoch 1...\n") {
		t.Errorf("check did not walk the snapshots' epochs:\n%s", out)
	}
	if disk := diskCheck(t, name); !isClean(disk) {
		t.Errorf("flchk after the check:\n%s", disk)
	}
	checkInvariants(t, fs)
	if got := readFile(t, fs, "/active/d/c"); !bytes.Equal(got, random(3, 20000)) {
		t.Error("file changed by the check")
	}
}

// damages are the kinds of damage fsckdamage makes.
var damages = []struct {
	name   string
	damage func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part)
}{
	{"pointer to a free block", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		free, err := p.FirstFree(l.Next)
		must(t, err)
		must(t, p.PointToFree(l.Lookup("/active/usr/glenda/big").Pointers[0], 3, free))
	}},
	{"pointer to another file's block", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		must(t, p.PointAt(l.Lookup("/active/usr/glenda/big").Pointers[0], 7, l.Lookup("/active/usr/glenda/small").Leaves[0]))
	}},
	{"wrong label type", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		must(t, p.SetLabelType(l.Lookup("/active/usr/glenda/small").Leaves[0], fsdisk.BtDir))
	}},
	{"wrong label type under a pointer block", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		must(t, p.SetLabelType(l.Lookup("/active/usr/glenda/big").Leaves[100], fsdisk.BtData+1))
	}},
	{"bad entry", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		must(t, p.BreakEntry(l.Lookup("/active/usr/glenda/small").Entry))
	}},
	{"bad directory entry", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		must(t, p.BreakDirEntry(l.Lookup("/active/usr/glenda/small").DirEntryBlock, "small"))
	}},
	{"directory entry naming no entry", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		must(t, p.ChangeDirEntry(l.Lookup("/active/usr/glenda/small").DirEntryBlock, "small", func(d *vac.DirEntry) { d.Entry = 50 }))
	}},
	{"two directory entries for one file", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		must(t, p.ChangeDirEntry(l.Lookup("/active/usr/glenda/small").DirEntryBlock, "small", func(d *vac.DirEntry) { d.Entry = 0 }))
	}},
	{"leaked block", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		// Of an older epoch than the current one, so that opening the
		// file system does not sweep it.
		must(t, p.Leak(l.Next+10, fsdisk.BtData, 0x4242, 0))
	}},
	{"block from a future epoch", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		must(t, p.FutureEpoch(l.Lookup("/active/usr/glenda/lib").Leaves[0], 2))
	}},
	{"closed block still referenced", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		must(t, p.CloseBlock(l.Lookup("/active/usr/glenda/big").Leaves[5], 1))
	}},
	{"broken meta block", func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) {
		must(t, p.BreakMeta(l.Lookup("/active/usr/glenda").MetaLeaves[0]))
	}},
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheckRepairProposals breaks the file system one thing at a time,
// has the live check propose repairs, makes them with the console's
// methods and checks again, as an operator feeds flchk's proposals to
// the console, until the check is clean. The files the damage did not
// touch read back as they were written.
func TestCheckRepairProposals(t *testing.T) {
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			name, l, p := buildDamage(t)
			d.damage(t, l, p)
			fs := open(t, name, Options{})
			defer fs.Close()
			rounds := 0
			for {
				out, _ := liveCheck(t, fs, fsck.Options{Snapshots: true})
				if isClean(out) {
					break
				}
				cmds := proposed(out)
				if len(cmds) == 0 {
					if d.name != "broken meta block" || rounds > 3 {
						t.Fatalf("round %d: errors and no repair:\n%s", rounds, out)
					}
					// A meta block that does not unpack gets no
					// proposal: the operator removes the directory.
					cmds = []string{"clri /active/usr/glenda"}
				}
				rounds++
				if rounds > 4 {
					t.Fatalf("not clean after %d rounds:\n%s", rounds-1, out)
				}
				apply(t, fs, cmds)
				checkInvariants(t, fs)
			}
			t.Logf("%d rounds", rounds)
			if got := readFile(t, fs, "/active/adm/users"); !bytes.Equal(got, damageFiles()[0].Data) {
				t.Errorf("adm/users: %q", got)
			}
			fs.Close()
			if out := diskCheck(t, name); !isClean(out) {
				t.Errorf("flchk after the repairs:\n%s", out)
			}
		})
	}
}

// TestCheckFix makes the check's own repairs (check fix): a few checks
// leave the file system clean.
func TestCheckFix(t *testing.T) {
	for _, d := range damages {
		if d.name == "broken meta block" {
			continue
		}
		t.Run(d.name, func(t *testing.T) {
			name, l, p := buildDamage(t)
			d.damage(t, l, p)
			fs := open(t, name, Options{})
			defer fs.Close()
			for round := 0; ; round++ {
				out, rep := liveCheck(t, fs, fsck.Options{Snapshots: true, Fix: true, FixCounts: true})
				if rep.Errors == 0 {
					break
				}
				if strings.Contains(out, "\n# ") || strings.Contains(out, "error: clr") || strings.Contains(out, "error: bclose") {
					t.Fatalf("check fix proposed or failed repairs:\n%s", out)
				}
				if round > 3 {
					t.Fatalf("not clean after %d checks:\n%s", round, out)
				}
				checkInvariants(t, fs)
			}
			fs.Close()
			if out := diskCheck(t, name); !isClean(out) {
				t.Errorf("flchk after check fix:\n%s", out)
			}
		})
	}
}

// TestRepairMethods calls each repair by hand: what it changes, what it
// returns to undo it, and its errors, which bad addresses and indices
// give instead of panics.
func TestRepairMethods(t *testing.T) {
	name, l, _ := buildDamage(t)
	fs := open(t, name, Options{})
	defer fs.Close()
	big := l.Lookup("/active/usr/glenda/big")
	small := l.Lookup("/active/usr/glenda/small")
	glenda := l.Lookup("/active/usr/glenda")
	n := l.Header.NumData()

	// clrp: the old score comes back; the pointer reads as zero.
	old, err := fs.ClearPointer(big.Pointers[0], 2)
	if s := fsdisk.LocalScore(big.Leaves[2]); err != nil || !bytes.Equal(old, s[:]) {
		t.Fatalf("clrp: %x %v", old, err)
	}
	data, err := fs.ReadBlock(big.Pointers[0], 2*venti.ScoreSize, venti.ScoreSize)
	if err != nil || !bytes.Equal(data, venti.ZeroScore[:]) {
		t.Errorf("block after clrp: %x %v", data, err)
	}
	// The change is on the disk already.
	if out := diskCheck(t, name); !strings.Contains(out, fmt.Sprintf("# bfree %#x\n", big.Leaves[2])) {
		t.Errorf("flchk after clrp:\n%s", out)
	}
	// block puts it back.
	if _, err := fs.PatchBlock(big.Pointers[0], 2*venti.ScoreSize, old); err != nil {
		t.Fatal(err)
	}
	if out := diskCheck(t, name); !isClean(out) {
		t.Errorf("flchk after block restored the pointer:\n%s", out)
	}

	// clre.
	old, err = fs.ClearEntry(small.Entry.Addr, small.Entry.Index)
	if err != nil || len(old) != fsdisk.EntrySize {
		t.Fatalf("clre: %x %v", old, err)
	}
	if e, _ := fsdisk.UnpackEntry(old); e.Size != 4800 {
		t.Errorf("clre returned entry %+v", e)
	}
	if _, err := fs.OpenFile("/active/usr/glenda/small"); !errors.Is(err, ErrRemoved) {
		t.Errorf("open after clre: %v", err)
	}
	if _, err := fs.PatchBlock(small.Entry.Addr, small.Entry.Index*fsdisk.EntrySize, old); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, fs, "/active/usr/glenda/small"); len(got) != 4800 {
		t.Errorf("small after restoring its entry: %d bytes", len(got))
	}

	// Errors, never panics.
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"clrp of a data block", second(fs.ClearPointer(big.Leaves[0], 0)), ErrWrongType},
		{"clrp of a directory block", second(fs.ClearPointer(glenda.Leaves[0], 0)), ErrWrongType},
		{"clre of a pointer block", second(fs.ClearEntry(big.Pointers[0], 0)), ErrWrongType},
		{"clrp past the end", second(fs.ClearPointer(big.Pointers[0], 409)), ErrBadIndex},
		{"clrp of a negative index", second(fs.ClearPointer(big.Pointers[0], -1)), ErrBadIndex},
		{"clre past the end", second(fs.ClearEntry(glenda.Leaves[0], 8192/40)), ErrBadIndex},
		{"clrp of a block past the disk", second(fs.ClearPointer(n, 0)), fsdisk.ErrBadAddr},
		{"clre of block ~0", second(fs.ClearEntry(fsdisk.NilBlock, 0)), fsdisk.ErrBadAddr},
		{"bfree of block ~0", second(fs.FreeBlock(fsdisk.NilBlock)), fsdisk.ErrBadAddr},
		{"bfree of a free block", second(fs.FreeBlock(n - 1)), ErrAlreadyFree},
		{"label of block ~0", second(fs.BlockLabel(fsdisk.NilBlock)), fsdisk.ErrBadAddr},
		{"block of block ~0", second(fs.ReadBlock(fsdisk.NilBlock, 0, 10)), fsdisk.ErrBadAddr},
		{"block past the end", second(fs.ReadBlock(0, 8192, 10)), ErrBadIndex},
		{"block patch past the end", second(fs.PatchBlock(0, 8190, []byte{1, 2, 3})), ErrBadIndex},
		{"clri of the root", fs.ClearDirEntry("/"), ErrClriRoot},
		{"clri of a missing file", fs.ClearDirEntry("/active/usr/glenda/nosuch"), ErrNotFound},
		{"clri below a file", fs.ClearDirEntry("/active/usr/glenda/small/x"), ErrNotDir},
		{"clri of ..", fs.ClearDirEntry("/active/.."), ErrBadName},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.err, c.want)
		}
	}
	if out := diskCheck(t, name); !isClean(out) {
		t.Errorf("flchk after failed repairs:\n%s", out)
	}

	// label: print and edit, keeping the free count.
	lb, err := fs.BlockLabel(small.Leaves[0])
	if err != nil || lb.Type != fsdisk.BtData || lb.Tag != small.Tag || lb.State != fsdisk.BsAlloc {
		t.Fatalf("label: %v %v", &lb, err)
	}
	_, free0, _ := fs.Df()
	o, nl, err := fs.EditLabel(n-1, func(l *fsdisk.Label) {
		*l = fsdisk.Label{State: fsdisk.BsAlloc, Epoch: 1, EpochClose: fsdisk.NilBlock, Tag: 0x99}
	})
	if err != nil || o.State != fsdisk.BsFree || nl.Tag != 0x99 {
		t.Fatalf("label edit: %v %v %v", &o, &nl, err)
	}
	if _, free, _ := fs.Df(); free != free0-8192 {
		t.Errorf("free after labelling a block in use: %d, was %d", free, free0)
	}
	checkInvariants(t, fs)
	// A label that does not unpack reads back as it is, and bfree
	// frees it.
	if _, _, err := fs.EditLabel(n-1, func(l *fsdisk.Label) { l.State = 0x40 }); err != nil {
		t.Fatal(err)
	}
	if lb, err := fs.BlockLabel(n - 1); err != nil || lb.State != 0x40 || lb.Tag != 0x99 {
		t.Errorf("bad label: %v %v", &lb, err)
	}
	if o, err := fs.FreeBlock(n - 1); err != nil || o.State != 0x40 {
		t.Errorf("bfree of a bad label: %v %v", &o, err)
	}
	if _, free, _ := fs.Df(); free != free0 {
		t.Errorf("free after bfree: %d, want %d", free, free0)
	}
	checkInvariants(t, fs)

	// bfree of a leaked block closes it in its own epoch.
	leak := n - 2
	if _, _, err := fs.EditLabel(leak, func(l *fsdisk.Label) {
		*l = fsdisk.Label{State: fsdisk.BsAlloc, Epoch: 1, EpochClose: fsdisk.NilBlock, Tag: 0x77}
	}); err != nil {
		t.Fatal(err)
	}
	if out := diskCheck(t, name); !strings.Contains(out, fmt.Sprintf("# bfree %#x\n", leak)) {
		t.Errorf("flchk of a leak:\n%s", out)
	}
	if _, err := fs.FreeBlock(leak); err != nil {
		t.Fatal(err)
	}
	if lb, _ := fs.BlockLabel(leak); lb.State != fsdisk.BsAlloc|fsdisk.BsClosed || lb.EpochClose != 1 {
		t.Errorf("label after bfree: %v", &lb)
	}
	checkInvariants(t, fs)
	if out := diskCheck(t, name); !isClean(out) {
		t.Errorf("flchk after bfree:\n%s", out)
	}

	// clri of an open file: it is removed, and a commit still works.
	f, err := fs.OpenFile("/active/usr/glenda/lib/profile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := fs.ClearDirEntry("/active/usr/glenda/lib"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("x"), 0, "glenda"); !errors.Is(err, ErrRemoved) {
		t.Errorf("write to a file below a clri'd directory: %v", err)
	}
	if _, err := fs.OpenFile("/active/usr/glenda/lib"); !errors.Is(err, ErrNotFound) {
		t.Errorf("open after clri: %v", err)
	}
	checkInvariants(t, fs)
	out := diskCheck(t, name)
	lib := l.Lookup("/active/usr/glenda/lib")
	want := []string{fmt.Sprintf("bfree %#x", lib.Leaves[0]), fmt.Sprintf("bfree %#x", l.Lookup("/active/usr/glenda/lib/profile").Leaves[0]), fmt.Sprintf("bfree %#x", lib.MetaLeaves[0])}
	if got := proposed(out); strings.Count(out, "error:") != 3 || !sameSet(got, want) {
		t.Errorf("flchk after clri: proposed %q, want %q\n%s", got, want, out)
	}

	// A read-only file system is not repaired.
	fs.Close()
	ro := open(t, name, Options{ReadOnly: true})
	defer ro.Close()
	if _, err := ro.ClearPointer(big.Pointers[0], 1); !errors.Is(err, ErrReadOnly) {
		t.Errorf("clrp on a read-only file system: %v", err)
	}
	if _, err := ro.FreeBlock(lib.Leaves[0]); !errors.Is(err, ErrReadOnly) {
		t.Errorf("bfree on a read-only file system: %v", err)
	}
	out, rep := liveCheck(t, ro, fsck.Options{Fix: true})
	if rep.Bclose != 0 || !strings.Contains(out, "error: bclose") {
		t.Errorf("check fix on a read-only file system: %+v\n%s", rep, out)
	}
}

func second[T any](_ T, err error) error { return err }

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
