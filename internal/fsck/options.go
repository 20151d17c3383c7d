package fsck

import (
	"fmt"
	"io"
	"time"
)

// A Fixer repairs what the checker finds, with the console's drastic
// commands (fossilcons(8)): each chops the offending piece off. The
// file server implements it on its live block cache; the checker calls
// it, when the Options allow that kind of repair, as soon as it finds
// a problem, and goes on as if the repair were made. An error is
// printed and the check goes on.
type Fixer interface {
	// ClearPointer replaces score index of the local pointer block
	// addr by the zero score (console clrp).
	ClearPointer(addr uint32, index int) error
	// ClearEntry zeroes entry index of the local directory block addr
	// (console clre).
	ClearEntry(addr uint32, index int) error
	// ClearDirEntry removes the directory entry path, "/active/adm",
	// from its directory's meta data without touching its blocks
	// (console clri).
	ClearDirEntry(path string) error
	// CloseBlock marks block addr, which nothing references, closed so
	// that it can be reused (the console's bclose, which bfree's
	// proposal does by hand).
	CloseBlock(addr uint32) error
}

// PrintFixer is the Fixer of flchk, which does not change the file
// system: it prints each repair as the console command that would make
// it, prefixed by "# ", for an operator to vet and feed to the console
// (sed -n 's/^# //p').
type PrintFixer struct{ W io.Writer }

// ClearPointer prints "# clrp 0xADDR INDEX".
func (p PrintFixer) ClearPointer(addr uint32, index int) error {
	_, err := fmt.Fprintf(p.W, "# clrp %#x %d\n", addr, index)
	return err
}

// ClearEntry prints "# clre 0xADDR INDEX".
func (p PrintFixer) ClearEntry(addr uint32, index int) error {
	_, err := fmt.Fprintf(p.W, "# clre %#x %d\n", addr, index)
	return err
}

// ClearDirEntry prints "# clri PATH".
func (p PrintFixer) ClearDirEntry(path string) error {
	_, err := fmt.Fprintf(p.W, "# clri %s\n", path)
	return err
}

// CloseBlock prints "# bfree 0xADDR": freeing by hand a block nothing
// references is what closing it lets fossil do.
func (p PrintFixer) CloseBlock(addr uint32) error {
	_, err := fmt.Fprintf(p.W, "# bfree %#x\n", addr)
	return err
}

// Options select what a check walks, prints and repairs. They mirror
// the words of the console's
//
//	check [pblock] [pbad] [killbad] [pdir] [pfile] [bclose] [clri] [clre] [clrp] [fix] [venti] [snapshot]
//
// (ParseOptions). The zero value is the console's plain check: every
// epoch's tree, no venti, no snapshot trees entered from directories,
// repairs only proposed.
type Options struct {
	PrintBlocks bool // pblock: print each local block as it is visited
	PrintBad    bool // pbad: print each block labelled bad (BsBad)
	KillBad     bool // killbad: treat blocks labelled bad as unreachable (bfree them)
	PrintDirs   bool // pdir: print each directory as it is checked
	PrintFiles  bool // pfile: print each file as it is checked

	// Repairs made through Fixer; a problem whose repair is not
	// enabled (or with no Fixer) is printed as a "# " proposal.
	CloseBlocks     bool // bclose: close unreachable blocks
	ClearDirEntries bool // clri: remove bad directory entries
	ClearEntries    bool // clre: clear bad entries
	ClearPointers   bool // clrp: clear bad pointers
	Fix             bool // fix: all four
	Fixer           Fixer

	// Venti walks the trees archived on venti too: every archive, and
	// whatever of the active tree is on venti. It can take a very long
	// time; without it (flchk -f) venti blocks are not read at all.
	Venti bool
	// Snapshots enters the snapshots (/snapshot/..., /archive/... not
	// yet archived) from the directories that hold them, checking
	// their directories too. Their blocks are walked either way, as
	// part of the tree of their epoch.
	Snapshots bool

	// CacheBlocks is the number of blocks the checker keeps in memory
	// (flchk -c); 1000 if zero.
	CacheBlocks int

	// Progress, if not nil, receives a line now and then during a long
	// check (flchk: standard error), every ProgressInterval (10
	// seconds if zero).
	Progress         io.Writer
	ProgressInterval time.Duration

	// FixCounts prints, last, the console's summary of the repairs
	// made: "fsck: N clri, N clre, N clrp, N bclose".
	FixCounts bool
}

// DefaultCacheBlocks is flchk's cache size.
const DefaultCacheBlocks = 1000

// Usage is the console command's synopsis.
const Usage = "check [pblock] [pbad] [killbad] [pdir] [pfile] [bclose] [clri] [clre] [clrp] [fix] [venti] [snapshot]"

// ParseOptions reads the words of the console's check command (after
// "check"). It sets FixCounts, which the console prints.
func ParseOptions(words []string) (Options, error) {
	o := Options{FixCounts: true}
	for _, w := range words {
		switch w {
		case "pblock":
			o.PrintBlocks = true
		case "pbad":
			o.PrintBad = true
		case "killbad":
			o.KillBad = true
		case "pdir":
			o.PrintDirs = true
		case "pfile":
			o.PrintFiles = true
		case "bclose":
			o.CloseBlocks = true
		case "clri":
			o.ClearDirEntries = true
		case "clre":
			o.ClearEntries = true
		case "clrp":
			o.ClearPointers = true
		case "fix":
			o.Fix = true
		case "venti":
			o.Venti = true
		case "snapshot":
			o.Snapshots = true
		default:
			return o, fmt.Errorf("unknown option %q; usage: %s", w, Usage)
		}
	}
	return o, nil
}

func (o *Options) fixer(enabled bool) Fixer {
	if o.Fixer == nil || !(enabled || o.Fix) {
		return nil
	}
	return o.Fixer
}
