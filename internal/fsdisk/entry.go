package fsdisk

import (
	"github.com/plan9fossil/fossil/venti"
)

// EntrySize is the size of a packed Entry, that of a venti.Entry.
const EntrySize = venti.EntrySize

// An Entry is fossil's form of venti.Entry: the description of a tree
// of blocks (a file's data, a directory's entries or meta blocks) kept
// in a directory block. An entry whose tree is on venti is packed
// exactly as a venti.Entry. When the venti.EntryLocal flag is set the
// top of the tree is a local block, and the score field carries other
// things instead:
//
//	off size
//	  0    4  gen
//	  4    2  psize: size of pointer blocks
//	  6    2  dsize: size of data (or directory) blocks
//	  8    1  flags: EntryActive 0x01, dir 0x02, depth<<2 (0x1c),
//	          EntryLocal 0x20, EntryNoArchive 0x40
//	  9    5  zero
//	 14    6  size in bytes
//	 20   20  score, if not local; if local:
//	 20    7  zero
//	 27    1  archive: a snapshot to archive (only with snap)
//	 28    4  snap: the entry enters a snapshot of this epoch, or 0
//	 32    4  tag of the tree's blocks
//	 36    4  the address of the top block
//
// Entry.Score always holds the top block's score: for a local block,
// its address as LocalScore makes it.
type Entry struct {
	venti.Entry
	Archive uint8  // local only: archive the snapshot Snap enters
	Snap    uint32 // local only: epoch of the snapshot the entry enters, or 0
	Tag     uint32 // local only: the tag of the tree's blocks
}

const whereEntry = "entry"

// UnpackEntry reads an entry from the first EntrySize bytes of p. Like
// the C code it does not judge the entry; see Entry.Check.
func UnpackEntry(p []byte) (Entry, error) {
	var e Entry
	if len(p) < EntrySize {
		return e, short(whereEntry, len(p), EntrySize)
	}
	e.Gen = be.Uint32(p)
	e.PSize = be.Uint16(p[4:])
	e.DSize = be.Uint16(p[6:])
	flags := p[8]
	e.Type = venti.DataType
	if flags&entryDir != 0 {
		e.Type = venti.DirType
	}
	e.Type += venti.Type(flags&entryDepthMask) >> 2
	e.Flags = flags &^ (entryDir | entryDepthMask)
	e.Size = uint64(be.Uint16(p[14:]))<<32 | uint64(be.Uint32(p[16:]))
	if e.Flags&venti.EntryLocal != 0 {
		e.Archive = p[27]
		e.Snap = be.Uint32(p[28:])
		e.Tag = be.Uint32(p[32:])
		copy(e.Score[16:], p[36:40])
	} else {
		copy(e.Score[:], p[20:40])
	}
	return e, nil
}

const (
	entryDir       = 1 << 1
	entryDepthMask = 7 << 2
)

// Pack writes the entry into the first EntrySize bytes of p. A local
// entry's score must be a LocalScore. Archive, Snap and Tag are dropped
// from an entry that is not local, as the C code drops them.
func (e *Entry) Pack(p []byte) error {
	if len(p) < EntrySize {
		return short(whereEntry, len(p), EntrySize)
	}
	if err := e.Entry.Pack(p); err != nil {
		return errorf(whereEntry, ErrBadEntry, "%v", err)
	}
	if e.Flags&venti.EntryLocal != 0 {
		if _, ok := LocalAddr(e.Score); !ok {
			return errorf(whereEntry, ErrBadEntry, "local entry with score %v", e.Score)
		}
		clear(p[20:27])
		p[27] = e.Archive
		be.PutUint32(p[28:], e.Snap)
		be.PutUint32(p[32:], e.Tag)
		copy(p[36:40], e.Score[16:])
	}
	return nil
}

// IsLocal reports whether the entry has the local flag.
func (e *Entry) IsLocal() bool { return e.Flags&venti.EntryLocal != 0 }

// IsActive reports whether the entry is in use.
func (e *Entry) IsActive() bool { return e.Flags&venti.EntryActive != 0 }

// IsDir reports whether the entry's tree is of directory blocks.
func (e *Entry) IsDir() bool { return e.Type.Base() == venti.DirType }

// Depth is the number of pointer levels above the data blocks.
func (e *Entry) Depth() int { return e.Type.Depth() }

// BlockType is the type of the top block of the tree.
func (e *Entry) BlockType() BlockType { return BlockType(e.Type) }

// LocalAddr returns the block address held in a score, as fossil keeps
// the addresses of local blocks: 16 zero bytes and the address. It
// returns false for any other score.
func LocalAddr(s venti.Score) (uint32, bool) {
	for _, b := range s[:venti.ScoreSize-4] {
		if b != 0 {
			return NilBlock, false
		}
	}
	return be.Uint32(s[venti.ScoreSize-4:]), true
}

// LocalScore returns the score that holds block address addr.
func LocalScore(addr uint32) venti.Score {
	var s venti.Score
	be.PutUint32(s[venti.ScoreSize-4:], addr)
	return s
}

// SizeToDepth is the depth of pointer blocks a tree needs to hold size
// bytes in blocks of dsize bytes, with psize-byte pointer blocks.
func SizeToDepth(size uint64, psize, dsize int) int {
	np := uint64(psize / venti.ScoreSize)
	if dsize <= 0 || np == 0 {
		return 0
	}
	s := (size + uint64(dsize) - 1) / uint64(dsize)
	d := 0
	for ; s > 1; d++ {
		s = (s + np - 1) / np
	}
	return d
}

// Check judges an entry read from a directory block of a file system
// with blocks of blockSize bytes, as fossil does before it opens the
// tree: it must be active, with block sizes of at least 256 bytes and
// at most blockSize, a depth that covers its size, and a tag if local.
func (e *Entry) Check(blockSize int) error {
	switch {
	case !e.IsActive():
		return errorf(whereEntry, ErrBadEntry, "not active")
	case e.PSize < 256 || e.DSize < 256:
		return errorf(whereEntry, ErrBadEntry, "psize %d or dsize %d < 256", e.PSize, e.DSize)
	case int(e.PSize) > blockSize || int(e.DSize) > blockSize:
		return errorf(whereEntry, ErrBadEntry, "psize %d or dsize %d > blocksize %d", e.PSize, e.DSize, blockSize)
	case e.Depth() < SizeToDepth(e.Size, int(e.PSize), int(e.DSize)):
		return errorf(whereEntry, ErrBadEntry, "depth %d size %d psize %d dsize %d", e.Depth(), e.Size, e.PSize, e.DSize)
	case e.IsLocal() && e.Tag == 0:
		return errorf(whereEntry, ErrBadEntry, "flags %#x tag %#x", e.Flags, e.Tag)
	}
	return nil
}

// Pointer returns score i of a pointer block.
func Pointer(block []byte, i int) (venti.Score, error) {
	var s venti.Score
	if i < 0 || (i+1)*venti.ScoreSize > len(block) {
		return s, errorf("pointer block", ErrBadAddr, "score %d of %d", i, len(block)/venti.ScoreSize)
	}
	copy(s[:], block[i*venti.ScoreSize:])
	return s, nil
}

// SetPointer writes score i of a pointer block.
func SetPointer(block []byte, i int, s venti.Score) error {
	if i < 0 || (i+1)*venti.ScoreSize > len(block) {
		return errorf("pointer block", ErrBadAddr, "score %d of %d", i, len(block)/venti.ScoreSize)
	}
	copy(block[i*venti.ScoreSize:], s[:])
	return nil
}

// NumEntries is the number of entries in a directory's tree of
// entries, as fossil counts them from the tree's size: a block holds
// DSize/EntrySize entries and the bytes left over at its end count for
// nothing, so the size is DSize per full block plus EntrySize per entry
// of the last one.
func (e *Entry) NumEntries() uint64 {
	epb := uint64(e.DSize) / EntrySize
	if epb == 0 {
		return 0
	}
	d := uint64(e.DSize)
	return epb*(e.Size/d) + (e.Size%d)/EntrySize
}

// DirSize is the size of a tree of n entries in blocks of dsize bytes:
// the inverse of NumEntries.
func DirSize(n uint64, dsize uint16) uint64 {
	epb := uint64(dsize) / EntrySize
	if epb == 0 {
		return 0
	}
	return n/epb*uint64(dsize) + n%epb*EntrySize
}
