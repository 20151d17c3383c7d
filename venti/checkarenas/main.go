// Checkarenas checks the arenas of an arena partition; see venti-fmt(8).
//
//	venti/checkarenas [-afv] file [arenaname...]
//
// For each arena (or each one named) it reads the clump log from where
// the trailer says it ends (with -a, or when the clump directory does
// not add up to the trailer's statistics, from its start): every clump's
// header, its data checked against its score (whack-compressed clumps
// are decompressed), and its entry in the arena directory. The
// statistics the log implies are compared with the trailer's. With -a
// a sealed arena's seal score is checked too. With -f the directory,
// the headers of corrupt clumps (marked corrupt) and the trailer are
// rewritten; without it the partition is opened read-only.
//
// The messages are the C program's; unlike it, checkarenas exits with
// a non-zero status when it finds a problem it did not fix.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// chunk is how many clumps the C syncarena looks at in one call; each
// call that changes the statistics prints a line of its own.
const chunk = 1000

type checker struct {
	cmd     *arg.Cmd
	w       *bufio.Writer // standard error, where everything goes
	part    *vtdisk.Partition
	scan    bool
	fix     int
	verbose int

	problems int // problems found
	unfixed  int // problems left as they were
}

func main() {
	cmd := arg.New("venti/checkarenas", "[-afv] file [arenaname...]")
	c := &checker{cmd: cmd, w: bufio.NewWriter(os.Stderr)}
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'a':
			c.scan = true
		case 'f':
			c.fix++
		case 'v':
			c.verbose++
		default:
			cmd.UsageExit()
		}
	})
	if len(args) < 1 {
		cmd.UsageExit()
	}
	file, names := args[0], args[1:]

	part, err := vtdisk.OpenPartition(file, c.fix > 0)
	if err != nil {
		cmd.Fatalf("can't open partition %s: %v", file, err)
	}
	defer part.Close()
	c.part = part
	ap, err := vtdisk.OpenArenaPartition(part, part.Size)
	if err != nil {
		cmd.Fatalf("can't initialize arena partition in %s: %v", file, err)
	}
	if c.verbose > 1 {
		printArenaPart(c.w, file, ap)
		fmt.Fprintf(c.w, "\n")
	}
	for i, m := range ap.Map {
		if !wanted(m.Name, names) {
			continue
		}
		a, err := ap.Arena(i)
		if err != nil {
			fmt.Fprintf(c.w, "%s: %v\n", m.Name, err)
			c.problem(false)
			continue
		}
		c.checkArena(a)
	}
	if c.fix > 0 {
		if err := part.Sync(); err != nil {
			c.w.Flush()
			cmd.Fatalf("sync %s: %v", file, err)
		}
	}
	c.w.Flush()
	if c.unfixed > 0 {
		cmd.Fatalf("errors found")
	}
}

func wanted(name string, names []string) bool {
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// printArenaPart prints the arena partition as the C printarenapart
// function does (and venti/rdarena -v).
func printArenaPart(w io.Writer, name string, ap *vtdisk.ArenaPartition) {
	h := &ap.Header
	fmt.Fprintf(w, "arena partition=%s\n\tversion=%d blocksize=%d arenas=%d\n\tsetbase=%d setsize=%d\n",
		name, h.Version, h.BlockSize, len(ap.Map), h.TableBase(), h.TableSize())
	for _, m := range ap.Map {
		fmt.Fprintf(w, "\tarena=%s at [%d,%d)\n", m.Name, m.Start, m.Stop)
	}
}

// problem counts a problem, which fixed says was repaired.
func (c *checker) problem(fixed bool) {
	c.problems++
	if !fixed {
		c.unfixed++
	}
}

// sameStats compares what the log determines, not the sealed flag.
func sameStats(a, b vtdisk.TailStats) bool {
	return a.Used == b.Used && a.Clumps == b.Clumps && a.CClumps == b.CClumps && a.UncSize == b.UncSize
}

// arenaCheck is the state of one arena's check.
type arenaCheck struct {
	*checker
	a     *vtdisk.Arena
	old   vtdisk.TailStats // the trailer's statistics
	st    vtdisk.TailStats // the log's, as far as read
	end   bool             // the end of the log was found
	flush bool             // a directory entry was rewritten
	fixed bool             // one was in the last sync call
	bad   bool             // a problem with this arena's clumps or directory
}

func (c *checker) checkArena(a *vtdisk.Arena) {
	ac := &arenaCheck{checker: c, a: a, old: a.Tail.Mem}
	if c.verbose > 0 && ac.old.Clumps > 0 {
		a.PrintSummary(c.w)
	}
	scan := c.scan
	if scan {
		ac.checkSeal()
	} else if !ac.directoryAgrees() {
		fmt.Fprintf(c.w, "%s: trailer and clump directory disagree; reading the whole log\n", a.Name())
		scan = true
	}
	ac.st = ac.old
	if scan {
		ac.st = vtdisk.TailStats{Sealed: ac.old.Sealed}
	}
	for !ac.end {
		before := ac.st
		ac.sync(chunk)
		if sameStats(before, ac.st) {
			break
		}
		fmt.Fprintf(c.w, "arena %s: fix=%d flush=%d %d->%d %d->%d %d->%d %d->%d\n",
			a.Name(), c.fix, b2i(ac.fixed),
			before.Used, ac.st.Used, before.Clumps, ac.st.Clumps,
			before.CClumps, ac.st.CClumps, before.UncSize, ac.st.UncSize)
		if c.verbose > 0 && ac.st.Clumps > 0 {
			fmt.Fprintf(c.w, ".")
		}
	}
	if c.verbose > 0 && ac.st.Clumps > 0 {
		fmt.Fprintf(c.w, "\n")
	}

	header := !sameStats(ac.st, ac.old)
	if header {
		fmt.Fprintf(c.w, "%s: incorrect arena header fields\n", a.Name())
	}
	t := &a.Tail
	if ac.flush {
		t.WTime = uint32(time.Now().Unix())
		if t.CTime == 0 && ac.st.Clumps > 0 {
			t.CTime = t.WTime
		}
	}
	t.Mem = ac.st
	if header {
		a.PrintSummary(c.w)
	}
	if !header && !ac.bad {
		return
	}
	fixed := false
	if c.fix > 0 {
		fmt.Fprintf(c.w, "%s: writing fixed arena header fields\n", a.Name())
		t.Disk, t.MemStored = t.Mem, false
		if err := a.WriteTail(c.part); err != nil {
			fmt.Fprintf(c.w, "arena header write failed: %v\n", err)
			c.problem(false)
		} else {
			fixed = true
		}
	}
	if header {
		c.problem(fixed)
	}
}

// directoryAgrees reports whether the clump directory describes the
// log the trailer's statistics describe. Reading the directory is cheap
// (25 bytes a clump), so this catches a wrong trailer without -a; the
// C program only looks at the log past the trailer's end.
func (ac *arenaCheck) directoryAgrees() bool {
	n := ac.old.Clumps
	if n == 0 {
		return true
	}
	if ac.a.DirSize(n) > ac.a.DataSize() {
		return false
	}
	var st vtdisk.TailStats
	const batch = 32 * 1024
	for i := uint32(0); i < n; i += batch {
		cis, err := ac.a.ReadClumpInfos(i, int(min(batch, n-i)))
		if err != nil {
			return false
		}
		for _, ci := range cis {
			st.Clumps++
			st.Used += vtdisk.ClumpSize + uint64(ci.Size)
			st.UncSize += uint64(ci.UncSize)
			if ci.Size < ci.UncSize {
				st.CClumps++
			}
		}
	}
	return sameStats(st, ac.old)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sync reads at most n clumps of the log from where ac.st says it ends,
// checking each, and adds them to ac.st; it sets ac.end when it finds
// the end of the log (the C syncarena).
func (ac *arenaCheck) sync(n int) {
	a, w := ac.a, ac.w
	ac.fixed = false
	for ; n > 0; n-- {
		aa, clump := ac.st.Used, ac.st.Clumps
		if limit := a.DataSize() - min(a.DataSize(), a.DirSize(clump)); aa >= limit || limit-aa < 4 {
			ac.end = true // the log has reached the directory
			return
		}
		magic, err := a.ReadClumpMagic(aa)
		if err != nil {
			fmt.Fprintf(w, "%s: clump=%d failed to read correctly: %v\n", a.Name(), clump, err)
			ac.end = true
			return
		}
		if magic == vtdisk.ClumpFreeMagic {
			ac.end = true
			return
		}
		if magic != a.ClumpMagic() {
			fmt.Fprintf(w, "%s: illegal clump magic number=0x%08x at clump=%d\n", a.Name(), magic, clump)
			if ac.fix > 0 {
				if err := a.WriteClumpMagic(ac.part, aa, vtdisk.ClumpFreeMagic); err != nil {
					fmt.Fprintf(w, "can't write corrected clump free magic: %v\n", err)
					ac.problem(false)
				}
			}
			ac.end = true
			return
		}
		cl, stored, err := a.ReadClump(aa, clump)
		if err != nil {
			fmt.Fprintf(w, "%s: clump=%d failed to read correctly: %v\n", a.Name(), clump, err)
			ac.end = true
			return
		}
		broken := false
		if cl.Type != vtdisk.CorruptType {
			data, err := cl.Decode(stored)
			if err == nil {
				err = cl.Verify(data)
			}
			if err != nil {
				scoreErr := errors.Is(err, vtdisk.ErrScore)
				if aa >= ac.old.Used && (scoreErr || cl.Encoding == vtdisk.EncodingWhack) {
					// A clump past the trailer's end of the log
					// whose data does not match, or compressed
					// data that does not decode: a write that was
					// cut short (the crash campaign leaves such).
					// The log ends before it; nothing claims it.
					ac.end = true
					return
				}
				switch {
				case scoreErr:
					fmt.Fprintf(w, "%s: clump=%d at %#x has mismatched score\n", a.Name(), clump, aa)
				case !validType(cl.Type):
					fmt.Fprintf(w, "%s: clump=%d at %#x has invalid type %d\n", a.Name(), clump, aa, cl.Type)
				default:
					fmt.Fprintf(w, "%s: clump=%d at %#x: %v\n", a.Name(), clump, aa, err)
				}
				broken = true
				ac.bad = true
				fixed := false
				if ac.fix > 0 {
					cl.Type = vtdisk.CorruptType
					if err := a.WriteClumpHeader(ac.part, aa, clump, cl); err != nil {
						fmt.Fprintf(w, "%s: can't write corrected clump header: %v\n", a.Name(), err)
					} else {
						fixed = true
					}
				}
				ac.problem(fixed)
			}
		}
		ac.st.Used += vtdisk.ClumpSize + uint64(cl.Size)
		ac.st.Clumps++
		if !broken {
			ci, err := a.ReadClumpInfo(clump)
			switch {
			case err != nil:
				fmt.Fprintf(w, "%s: arena directory read failed: %v\n", a.Name(), err)
				broken = true
			case ci != cl.ClumpInfo:
				if ci == (vtdisk.ClumpInfo{}) || ci == (vtdisk.ClumpInfo{Type: vtdisk.CorruptType}) {
					fmt.Fprintf(w, "%s: unwritten clump info for clump=%d\n", a.Name(), clump)
				} else {
					fmt.Fprintf(w, "%s: bad clump info for clump=%d\n", a.Name(), clump)
					fmt.Fprintf(w, "\texpected score=%v type=%d size=%d uncsize=%d\n",
						cl.Score, cl.Type, cl.Size, cl.UncSize)
					fmt.Fprintf(w, "\tfound score=%v type=%d size=%d uncsize=%d\n",
						ci.Score, ci.Type, ci.Size, ci.UncSize)
				}
				broken = true
			}
			if broken {
				ac.bad = true
				fixed := false
				if ac.fix > 0 {
					ac.flush, ac.fixed = true, true
					if err := a.WriteClumpInfo(ac.part, clump, &cl.ClumpInfo); err != nil {
						fmt.Fprintf(w, "%s: can't write correct clump directory: %v\n", a.Name(), err)
					} else {
						fixed = true
					}
				}
				ac.problem(fixed)
			}
		} else if ac.fix > 0 {
			ac.flush, ac.fixed = true, true
			if err := a.WriteClumpInfo(ac.part, clump, &cl.ClumpInfo); err != nil {
				fmt.Fprintf(w, "%s: can't write correct clump directory: %v\n", a.Name(), err)
				ac.problem(false)
			}
		}
		ac.st.UncSize += uint64(cl.UncSize)
		if cl.Size < cl.UncSize {
			ac.st.CClumps++
		}
	}
}

func validType(t venti.DiskType) bool {
	_, ok := t.Type()
	return ok
}

// checkSeal checks the seal score of a sealed arena that has one. (An
// arena sealed without a score yet gets one from the venti server.)
func (ac *arenaCheck) checkSeal() {
	t := &ac.a.Tail
	if !t.Mem.Sealed && !t.Disk.Sealed || t.Score == (venti.Score{}) {
		return
	}
	s, err := ac.a.SealScore()
	if err != nil {
		fmt.Fprintf(ac.w, "%s: can't compute seal score: %v\n", ac.a.Name(), err)
		ac.problem(false)
		return
	}
	if s != t.Score {
		fmt.Fprintf(ac.w, "%s: seal score mismatch: trailer has %v, arena sums to %v\n", ac.a.Name(), t.Score, s)
		ac.problem(false)
	}
}
