package venti

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes of the packed structures.
const (
	EntrySize = 40  // a packed Entry
	RootSize  = 300 // a packed Root

	// MaxLumpSize is the largest block a venti server accepts.
	MaxLumpSize = 56 * 1024
	// MaxFileSize is the largest size an Entry can record (48 bits).
	MaxFileSize = 1<<48 - 1
)

// Entry flags, as they appear in the flags byte of a packed Entry. The
// directory bit and the depth are not kept in Flags: they make up Type.
const (
	EntryActive    = 1 << 0 // the entry is in use
	entryDir       = 1 << 1 // the tree is of DirType blocks
	entryDepthMask = 7 << 2 // the depth of the tree
	EntryLocal     = 1 << 5 // fossil: blocks are on the local disk, not venti
	EntryNoArchive = 1 << 6 // fossil: the tree is not archived
)

// An Entry describes a hash tree of blocks: a file, or a directory of
// further entries. venti(6) lays it out in 40 bytes:
//
//	gen[4] psize[2] dsize[2] flags[1] zero[5] size[6] score[20]
//
// Type holds the base type (DataType or DirType) plus the depth of the
// tree, which the flags byte encodes as a directory bit and three bits of
// depth.
type Entry struct {
	Gen   uint32 // generation, bumped when the entry is reused
	PSize uint16 // pointer block size
	DSize uint16 // data block size
	Type  Type   // DataType+depth or DirType+depth
	Flags uint8  // EntryActive, EntryLocal, EntryNoArchive, ...
	Size  uint64 // file size in bytes
	Score Score  // top of the tree
}

var errEntrySize = errors.New("venti: entry: short buffer")

// Pack writes e into p, which must hold EntrySize bytes.
func (e *Entry) Pack(p []byte) error {
	if len(p) < EntrySize {
		return errEntrySize
	}
	if e.Type.Base() == RootType || !e.Type.Valid() {
		return fmt.Errorf("venti: entry: bad type %d", e.Type)
	}
	if e.Size > MaxFileSize {
		return fmt.Errorf("venti: entry: size %d too large", e.Size)
	}
	binary.BigEndian.PutUint32(p[0:], e.Gen)
	binary.BigEndian.PutUint16(p[4:], e.PSize)
	binary.BigEndian.PutUint16(p[6:], e.DSize)
	flags := e.Flags &^ (entryDir | entryDepthMask)
	flags |= uint8(e.Type.Depth()) << 2
	if e.Type.Base() == DirType {
		flags |= entryDir
	}
	p[8] = flags
	clear(p[9:14])
	putUint48(p[14:], e.Size)
	copy(p[20:40], e.Score[:])
	return nil
}

// UnpackEntry reads an Entry from the first EntrySize bytes of p. An
// active entry must have block sizes venti can store (256 bytes to
// MaxLumpSize); an inactive one is returned as it is.
func UnpackEntry(p []byte) (Entry, error) {
	var e Entry
	if len(p) < EntrySize {
		return e, errEntrySize
	}
	e.Gen = binary.BigEndian.Uint32(p[0:])
	e.PSize = binary.BigEndian.Uint16(p[4:])
	e.DSize = binary.BigEndian.Uint16(p[6:])
	flags := p[8]
	e.Type = DataType
	if flags&entryDir != 0 {
		e.Type = DirType
	}
	e.Type += Type(flags&entryDepthMask) >> 2
	e.Flags = flags &^ (entryDir | entryDepthMask)
	e.Size = uint64At48(p[14:])
	copy(e.Score[:], p[20:40])
	if e.Flags&EntryActive != 0 {
		if !goodBlockSize(int(e.PSize)) || !goodBlockSize(int(e.DSize)) {
			return e, fmt.Errorf("venti: entry: bad block size psize=%d dsize=%d", e.PSize, e.DSize)
		}
	}
	return e, nil
}

// goodBlockSize reports whether n is a block size a tree may use.
func goodBlockSize(n int) bool { return n >= 256 && n <= MaxLumpSize }

func putUint48(p []byte, v uint64) {
	binary.BigEndian.PutUint16(p[0:], uint16(v>>32))
	binary.BigEndian.PutUint32(p[2:], uint32(v))
}

func uint64At48(p []byte) uint64 {
	return uint64(binary.BigEndian.Uint16(p[0:]))<<32 | uint64(binary.BigEndian.Uint32(p[2:]))
}
