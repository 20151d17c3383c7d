//go:build !plan9

package test

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/fsck/fsckdamage"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
)

// repairFiles is the tree the repair tests break: a file with a pointer
// block, a directory of several, an empty file and an empty directory.
func repairFiles() []fsckdamage.File {
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

// A repairDamage is one kind of damage fsckdamage makes, and how many
// rounds of flchk's procedure (check, feed the proposals to the
// console, check again) make the file system clean again.
type repairDamage struct {
	name   string
	rounds int
	damage func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error
}

var repairDamages = []repairDamage{
	{"pointer to a free block", 1, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		free, err := p.FirstFree(l.Next)
		if err != nil {
			return err
		}
		return p.PointToFree(l.Lookup("/active/usr/glenda/big").Pointers[0], 3, free)
	}},
	{"pointer to another file's block", 1, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.PointAt(l.Lookup("/active/usr/glenda/big").Pointers[0], 7, l.Lookup("/active/usr/glenda/small").Leaves[0])
	}},
	// clre cuts the file's entry off; the next check finds its
	// directory entry naming an entry no longer there (clri).
	{"wrong label type", 2, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.SetLabelType(l.Lookup("/active/usr/glenda/small").Leaves[0], fsdisk.BtDir)
	}},
	{"wrong label type under a pointer block", 1, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.SetLabelType(l.Lookup("/active/usr/glenda/big").Leaves[100], fsdisk.BtData+1)
	}},
	{"bad entry", 1, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.BreakEntry(l.Lookup("/active/usr/glenda/small").Entry)
	}},
	// clri abandons the file's blocks: the next check proposes bfree.
	{"bad directory entry", 2, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.BreakDirEntry(l.Lookup("/active/usr/glenda/small").DirEntryBlock, "small")
	}},
	{"directory entry naming no entry", 2, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.ChangeDirEntry(l.Lookup("/active/usr/glenda/small").DirEntryBlock, "small", func(d *vac.DirEntry) { d.Entry = 50 })
	}},
	{"two directory entries for one file", 2, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.ChangeDirEntry(l.Lookup("/active/usr/glenda/small").DirEntryBlock, "small", func(d *vac.DirEntry) { d.Entry = 0 })
	}},
	// Of epoch 1, the current one, the leak is swept when fossil
	// opens the file system: bfree finds it free already.
	{"leaked block", 1, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.Leak(l.Next+10, fsdisk.BtData, 0x4242, 1)
	}},
	{"leaked block of an old epoch", 1, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.Leak(l.Next+11, fsdisk.BtData, 0x4343, 0)
	}},
	// The directory's entries are cut off (clre); the next check
	// finds its directory entry naming nothing (clri), which abandons
	// its meta data; the third proposes bfree for that. The checker
	// does not carry the clre it proposes into its directory walk,
	// which would have found the clri in the first round.
	{"block from a future epoch", 3, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.FutureEpoch(l.Lookup("/active/usr/glenda/lib").Leaves[0], 2)
	}},
	{"closed block still referenced", 1, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.CloseBlock(l.Lookup("/active/usr/glenda/big").Leaves[5], 1)
	}},
	// A meta block that does not unpack: the C flchk proposes nothing
	// for it, ours removes the directory (clri) besides cutting off the
	// entries nothing names (clre); the next round frees the blocks.
	{"broken meta block", 2, func(t *testing.T, l *fsckdamage.Layout, p *fsckdamage.Part) error {
		return p.BreakMeta(l.Lookup("/active/usr/glenda").MetaLeaves[0])
	}},
}

// buildRepairPart writes repairFiles into a partition and breaks it.
func buildRepairPart(t *testing.T, d repairDamage) (string, *fsckdamage.Layout) {
	t.Helper()
	const size = 16 << 20
	part := newPart(t, size)
	f, err := os.OpenFile(part, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := fsckdamage.Build(f, size, repairFiles())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.damage(t, l, fsckdamage.NewPart(f, l)); err != nil {
		t.Fatal(err)
	}
	return part, l
}

// flchkClean says whether flchk's output reports nothing wrong.
func flchkClean(out string) bool {
	return !strings.Contains(out, "error") && !strings.Contains(out, "\n# ")
}

// sedRepairs is sed -n 's/^# //p': the repairs flchk proposes.
func sedRepairs(out string) []string {
	var cmds []string
	for _, line := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(line, "# "); ok {
			cmds = append(cmds, s)
		}
	}
	return cmds
}

// TestFossilRepair follows flchk(8)'s procedure on each kind of damage:
// flchk the partition, start fossil on it, feed the repairs flchk
// proposes to the console, sync, stop fossil, and flchk again, until it
// is clean, in the number of rounds expected.
func TestFossilRepair(t *testing.T) {
	bin(t, "fossil/fossil")
	for _, d := range repairDamages {
		t.Run(d.name, func(t *testing.T) {
			part, _ := buildRepairPart(t, d)
			rounds := 0
			for {
				r := run(t, nil, nil, "fossil/flchk", "-f", part)
				if !r.ok || r.stderr != "" {
					t.Fatalf("flchk: %+v", r)
				}
				if flchkClean(r.stdout) {
					break
				}
				if rounds >= d.rounds {
					t.Fatalf("not clean after %d rounds:\n%s", rounds, r.stdout)
				}
				rounds++
				cmds := sedRepairs(r.stdout)
				if len(cmds) == 0 {
					t.Fatalf("round %d: errors but no repairs:\n%s", rounds, r.stdout)
				}
				f := startFossil(t, part, "-c", "fsys main open -A")
				for _, cmd := range cmds {
					out := consoleOutput(t, f, cmd)
					if !repairOK(cmd, out) {
						t.Errorf("round %d: %s: %q", rounds, cmd, out)
					}
				}
				if out := consoleOutput(t, f, "sync"); !strings.Contains(out, "\tmain sync: wrote ") {
					t.Errorf("sync: %q", out)
				}
				f.stop(t)
			}
			if rounds != d.rounds {
				t.Errorf("clean after %d rounds, want %d", rounds, d.rounds)
			}

			// What the damage did not touch is still there.
			f := startFossil(t, part, "-c", "fsys main open -A")
			fsys := mount(t, f.tcp, "glenda")
			for _, name := range []string{"/adm/users", "/usr/glenda/big"} {
				file, err := fsys.Open(name, 0)
				if err != nil {
					if d.name == "broken meta block" && name == "/usr/glenda/big" {
						continue // went with its directory
					}
					t.Errorf("%s: %v", name, err)
					continue
				}
				data, err := readAll(file)
				file.Close()
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
				var want []byte
				for _, rf := range repairFiles() {
					if "/"+rf.Path == name {
						want = rf.Data
					}
				}
				if name == "/usr/glenda/big" && len(data) == len(want) {
					// A block cut off reads as zeros.
					for i := 0; i < len(want); i += 8192 {
						if data[i] != want[i] && data[i] != 0 {
							t.Errorf("%s: block %d: %d", name, i/8192, data[i])
						}
					}
				} else if !bytes.Equal(data, want) {
					t.Errorf("%s: read %d bytes, want %d", name, len(data), len(want))
				}
			}
			f.stop(t)
		})
	}
}

// consoleOutput runs a console command and returns what it printed:
// without the line typed, which the log shows first, and the prompt
// printed after it (with the start of the next line typed, console's
// mark).
func consoleOutput(t *testing.T, f *fossilServer, line string) string {
	t.Helper()
	// The prompt after the previous command may land on either side
	// of the snapshot console takes.
	out := strings.TrimPrefix(f.console(t, line), "main: ")
	out = strings.TrimPrefix(out, line+"\n")
	if i := strings.LastIndex(out, "main: "); i >= 0 && (i == 0 || out[i-1] == '\n') {
		out = out[:i]
	}
	return out
}

var (
	blockRestore = regexp.MustCompile(`^\tblock 0x[0-9a-f]+ [0-9]+ (20|40) [0-9A-F]+\n$`)
	labelRestore = regexp.MustCompile(`^label 0x[0-9a-f]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+ 0x[0-9a-f]+\n$`)
)

// repairOK says whether the console printed what a repair prints: clre
// and clrp the block command that undoes them, bfree the label command
// that does, clri nothing.
func repairOK(cmd, out string) bool {
	switch strings.Fields(cmd)[0] {
	case "clre", "clrp":
		return blockRestore.MatchString(out)
	case "bfree":
		return labelRestore.MatchString(out) || strings.HasSuffix(out, " is already free\n")
	case "clri":
		return out == ""
	}
	return false
}

// TestFossilCheckConsole runs the console's check on damaged file
// systems: it prints what flchk prints of the same partition, proposals
// included, and the console's count of repairs; check fix makes them.
func TestFossilCheckConsole(t *testing.T) {
	bin(t, "fossil/fossil")
	for _, d := range repairDamages {
		t.Run(d.name, func(t *testing.T) {
			part, _ := buildRepairPart(t, d)
			f := startFossil(t, part, "-c", "fsys main open -A")
			// fossil has opened the file system (and swept the leaks
			// of the current epoch): flchk reads the same disk.
			r := run(t, nil, nil, "fossil/flchk", "-f", part)
			out := consoleOutput(t, f, "check snapshot")
			want := r.stdout + "fsck: 0 clri, 0 clre, 0 clrp, 0 bclose\n"
			if out != want {
				t.Errorf("console check:\n%s\nflchk:\n%s", out, want)
			}
			// All but the leak of the current epoch, which opening the
			// file system swept, are still there to be found.
			if clean := flchkClean(out); clean != (d.name == "leaked block") {
				t.Errorf("console check of %s:\n%s", d.name, out)
			}
			if strings.Join(sedRepairs(out), "\n") != strings.Join(sedRepairs(r.stdout), "\n") {
				t.Errorf("console check proposed %q, flchk %q", sedRepairs(out), sedRepairs(r.stdout))
			}
			// The plain check, without snapshot, says the same here:
			// there are no snapshots.
			if plain := consoleOutput(t, f, "check"); plain != out {
				t.Errorf("check:\n%s\ncheck snapshot:\n%s", plain, out)
			}

			// check fix makes the repairs it finds, and counts them.
			if d.name == "broken meta block" {
				f.stop(t)
				return
			}
			var last string
			for i := 0; i < d.rounds+1; i++ {
				last = consoleOutput(t, f, "check fix")
				if strings.Contains(last, "\n# ") {
					t.Fatalf("check fix proposed repairs:\n%s", last)
				}
			}
			if !strings.HasSuffix(last, "fsck: 0 clri, 0 clre, 0 clrp, 0 bclose\n") || strings.Contains(last, "error") {
				t.Errorf("check fix did not converge:\n%s", last)
			}
			f.stop(t)
			if r := run(t, nil, nil, "fossil/flchk", "-f", part); !flchkClean(r.stdout) {
				t.Errorf("flchk after check fix:\n%s", r.stdout)
			}
		})
	}
}

// TestFossilRepairCommands drives the console's repair commands by
// hand: their output, the commands they print to undo them, and their
// errors.
func TestFossilRepairCommands(t *testing.T) {
	bin(t, "fossil/fossil")
	part, l := buildRepairPart(t, repairDamage{damage: func(*testing.T, *fsckdamage.Layout, *fsckdamage.Part) error { return nil }})
	big := l.Lookup("/active/usr/glenda/big")
	small := l.Lookup("/active/usr/glenda/small")
	f := startFossil(t, part, "-c", "fsys main open -A")
	cmd := func(line string) string {
		t.Helper()
		return consoleOutput(t, f, line)
	}
	ptr := fmt.Sprintf("%#x", big.Pointers[0])

	// clrp prints the block command that puts the pointer back.
	out := cmd("clrp " + ptr + " 4")
	want := fmt.Sprintf("\tblock %s 80 20 %032X%08X\n", ptr, 0, big.Leaves[4])
	if out != want {
		t.Errorf("clrp: %q, want %q", out, want)
	}
	if out := cmd(fmt.Sprintf("block %s 80 20", ptr)); out != fmt.Sprintf("\tblock %s 80 20 DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\n", ptr) {
		t.Errorf("block after clrp: %q", out)
	}
	r := run(t, nil, nil, "fossil/flchk", "-f", part)
	if got := sedRepairs(r.stdout); len(got) != 1 || got[0] != fmt.Sprintf("bfree %#x", big.Leaves[4]) {
		t.Errorf("flchk after clrp: %q", got)
	}
	// Its output, typed back, undoes it.
	restore := strings.TrimSpace(want)
	if out := cmd(restore); out != fmt.Sprintf("\told: block %s 80 20 DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\n\tnew: %s\n", ptr, restore) {
		t.Errorf("%s: %q", restore, out)
	}
	if r := run(t, nil, nil, "fossil/flchk", "-f", part); !flchkClean(r.stdout) {
		t.Errorf("flchk after undoing clrp:\n%s", r.stdout)
	}

	// clre, with the entry's bytes.
	out = cmd(fmt.Sprintf("clre %#x %d", small.Entry.Addr, small.Entry.Index))
	if !regexp.MustCompile(fmt.Sprintf(`^\tblock %#x %d 40 [0-9A-F]{80}\n$`, small.Entry.Addr, small.Entry.Index*40)).MatchString(out) {
		t.Errorf("clre: %q", out)
	}
	if out := cmd(strings.TrimSpace(out)); !strings.HasPrefix(out, "\told: block ") {
		t.Errorf("undoing clre: %q", out)
	}

	// label prints a label command; bfree prints it before freeing.
	leaf := small.Leaves[0]
	wantLabel := fmt.Sprintf("label %#x 0 1 1 4294967295 %#x\n", leaf, small.Tag)
	if out := cmd(fmt.Sprintf("label %#x", leaf)); out != wantLabel {
		t.Errorf("label: %q, want %q", out, wantLabel)
	}
	free := l.Header.NumData() - 1
	if out := cmd(fmt.Sprintf("label %#x - 1 1 - 0x55", free)); out != fmt.Sprintf("old: label %#x 0 0 0 0 0x0\nnew: label %#x 0 1 1 0 0x55\n", free, free) {
		t.Errorf("label edit: %q", out)
	}
	if out := cmd(fmt.Sprintf("label %#x - - - 4294967295 -", free)); !strings.HasSuffix(out, fmt.Sprintf("new: label %#x 0 1 1 4294967295 0x55\n", free)) {
		t.Errorf("label edit: %q", out)
	}
	if out := cmd(fmt.Sprintf("bfree %#x", free)); out != fmt.Sprintf("label %#x 0 1 1 4294967295 0x55\n", free) {
		t.Errorf("bfree: %q", out)
	}
	if out := cmd(fmt.Sprintf("bfree %#x", free)); out != fmt.Sprintf("%#x is already free\n", free) {
		t.Errorf("bfree of a free block: %q", out)
	}

	// Errors.
	for _, c := range []struct{ line, want string }{
		{"clrp", "usage: clrp addr index [index ...]\n"},
		{"clre 0x10", "usage: clre addr index [index ...]\n"},
		{"clri", "usage: clri path [path ...]\n"},
		{"bfree", "usage: bfree addr [addr ...]\n"},
		{"label", "usage: label addr [type state epoch epochclose tag]\n"},
		{"label 1 2 3", "usage: label addr [type state epoch epochclose tag]\n"},
		{"block 1", "usage: block addr offset [count [data]]\n"},
		{"bfree zork", "bad address zork\n"},
		{"clrp 0xffffffff 0", "fs: label of block 0xffffffff: illegal block address\n"},
		{"clrp " + ptr + " 1000", fmt.Sprintf("fs: block %s: bad offset 1000\n", ptr)},
		{"clrp " + ptr + " -1", "bad offset -1\n"},
		{fmt.Sprintf("clre %#x 0", big.Leaves[0]), fmt.Sprintf("fs: block %#x: wrong block type: label BtData,1,e=1,-1,tag=%#x\n", big.Leaves[0], big.Tag)},
		{"clri /active/nosuch", "clri /active/nosuch: file does not exist\n"},
		{"clri /", "clri /: cannot clri the root\n"},
		{"block 0 8192", "bad offset 8192\n"},
		{"block 0 0 2 zz", "bad data count\n"},
		{"block 0 0 2 00", "bad data count\n"},
		{"label 0 300 - - - -", "bad type 300\n"},
		{"check nosuch", "unknown option \"nosuch\"; usage: check [pblock] [pbad] [killbad] [pdir] [pfile] [bclose] [clri] [clre] [clrp] [fix] [venti] [snapshot]\n"},
	} {
		if out := cmd(c.line); out != c.want {
			t.Errorf("%s: %q, want %q", c.line, out, c.want)
		}
	}

	// check runs on a halted file system; the repairs do not.
	cmd("halt")
	if out := cmd("check"); !strings.HasSuffix(out, "fsck: 0 clri, 0 clre, 0 clrp, 0 bclose\n") || strings.Contains(out, "error") {
		t.Errorf("check while halted: %q", out)
	}
	if out := cmd("bfree 0x1"); out != "file system main is halted\n" {
		t.Errorf("bfree while halted: %q", out)
	}
	cmd("unhalt")
	f.stop(t)
	if r := run(t, nil, nil, "fossil/flchk", "-f", part); !flchkClean(r.stdout) {
		t.Errorf("flchk at the end:\n%s", r.stdout)
	}
}
