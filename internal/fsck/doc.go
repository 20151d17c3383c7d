// Package fsck checks a fossil(4) file system: it is fossil/flchk and
// the console's check command (fossilcons(8)). It reads through a
// BlockSource (a partition for flchk, the server's block cache for the
// console), never writes, and repairs only through a Fixer, which flchk's
// prints as console commands.
//
// # What is checked
//
// First the trees of the epochs still kept, newest first ("checking
// epoch N..."): the active root (the super block's active, in epoch
// high), then the root each root names in its entry 1 as the root of
// the epoch before, down to epoch low. Every block reached is checked
// against what its parent expects of it: a local block's label must
// have the type (data or directory, and pointer level) and the tag of
// its tree, be allocated, not be from an epoch after the tree's, and
// not have been closed (unlinked) in or before the tree's epoch; it is
// marked in a bitmap of the blocks reached, and walked once. Entries in
// directory blocks must pass fsdisk's Entry.Check; an entry entering a
// snapshot (a local entry with a snap epoch) enters a tree of that
// epoch, or a deleted one when it is older than epoch low, whose blocks
// may have been reused and are not walked. Blocks archived on venti
// are read and their scores checked only with Options.Venti (flchk
// without -f); a venti tree shared by many archives is walked once.
//
// A block that fails is reported as
//
//	error: could not load block 0x000000fa type 0 tag 7dac1a86: block label mismatch
//
// and the pointer to it is cut: "# clrp 0xADDR INDEX" when it is score
// INDEX of the pointer block ADDR, "# clre 0xADDR INDEX" when it is the
// top of the tree of entry INDEX of the directory block ADDR (a bad
// entry gets the same). Pointers kept on venti, or in the root block,
// get no repair.
//
// Then the blocks in use that nothing reached: blocks whose label is
// allocated and not free by fossil's rule (closed in an epoch not after
// epoch low, or in the epoch it was written in), or that cannot be read.
// Each is "error: unreachable block ..." and "# bfree 0xADDR". The
// summary line counts them:
//
//	fsys blocks: total=4070 used=34(0.8%) free=4036(99.2%) lost=0(0.0%)
//
// Last the directories, from the root of the active tree, and of the
// snapshots inside it with Options.Snapshots: each meta block must
// unpack ("could not unpack meta block: PATH[N]: ..."), each directory
// entry must name entries of its directory of the right generation and
// kind ("PATH -> ENTRY: ...", "# clri PATH"), and every active entry of
// a directory must be named by some directory entry ("non referenced
// entry in source PATH[ENTRY]", "# clre 0xADDR INDEX"). The root
// directory's path is empty, as in the C flchk's messages.
//
// The output is the C flchk's, line for line, where the C flchk said
// something (fixture fossil-b), without the "previously reported error"
// lines its use of freed memory printed on every check. The console
// adds, last, "fsck: N clri, N clre, N clrp, N bclose" (Options.FixCounts).
//
// # Memory
//
// A check holds a bit per block of the partition, the set of entries
// used of each directory on the path being checked, and bounded caches
// of Options.CacheBlocks blocks and of some scores, whatever the size
// of the file system.
//
// # Fixtures
//
// Package fsckdamage builds file systems and breaks them, one thing at a
// time, for the tests.
package fsck
