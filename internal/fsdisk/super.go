package fsdisk

import (
	"bytes"

	"github.com/plan9fossil/fossil/venti"
)

// Super block constants.
const (
	SuperMagic   = 0x2340a3b1
	SuperVersion = 1
	SuperSize    = 512 // bytes Pack clears; 182 are used

	// NilBlock is the block address that points nowhere.
	NilBlock = ^uint32(0)

	superFields   = 182
	superNameSize = 128
)

// The Super block, the block at Header.Super, holds the file system's
// epochs and roots:
//
//	off size
//	  0    4  magic SuperMagic
//	  4    2  version SuperVersion
//	  6    4  epochLow: the oldest epoch still kept
//	 10    4  epochHigh: the current epoch
//	 14    8  qid: the next qid to give out
//	 22    4  active: the root block of the active file system
//	 26    4  next: the root of the next snapshot to archive, or NilBlock
//	 30    4  current: the root of the snapshot being archived, or NilBlock
//	 34   20  last: the score of the root of the last archive (a
//	          venti.Root of type "vac"), or venti.ZeroScore
//	 54  128  name: the label flfmt -l gave, NUL-terminated
//
// The rest of the block is zero.
type Super struct {
	Version   uint16
	EpochLow  uint32
	EpochHigh uint32
	Qid       uint64
	Active    uint32
	Next      uint32
	Current   uint32
	Last      venti.Score
	Name      string
}

const whereSuper = "super block"

// Unpack reads the super block from the start of buf with the C
// fossil's checks: magic, version, a low epoch that is not zero and
// not above the high one, a qid that is not zero. Like the C code it
// reads the name up to a NUL in its first 127 bytes.
func (s *Super) Unpack(buf []byte) error {
	if len(buf) < superFields {
		return short(whereSuper, len(buf), superFields)
	}
	if m := be.Uint32(buf); m != SuperMagic {
		return badMagic(whereSuper, m, SuperMagic)
	}
	var x Super
	x.Version = be.Uint16(buf[4:])
	if x.Version != SuperVersion {
		return errorf(whereSuper, ErrVersion, "%d", x.Version)
	}
	x.EpochLow = be.Uint32(buf[6:])
	x.EpochHigh = be.Uint32(buf[10:])
	x.Qid = be.Uint64(buf[14:])
	if x.EpochLow == 0 || x.EpochLow > x.EpochHigh || x.Qid == 0 {
		return errorf(whereSuper, ErrBadSuper, "epochs %d..%d qid %d", x.EpochLow, x.EpochHigh, x.Qid)
	}
	x.Active = be.Uint32(buf[22:])
	x.Next = be.Uint32(buf[26:])
	x.Current = be.Uint32(buf[30:])
	copy(x.Last[:], buf[34:54])
	name := buf[54 : 54+superNameSize-1]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	x.Name = string(name)
	*s = x
	return nil
}

// Pack clears the first SuperSize bytes of buf and writes the super
// block there. A zero Version packs as SuperVersion. The name must
// leave room for its NUL and hold none.
func (s *Super) Pack(buf []byte) error {
	if s.Version != 0 && s.Version != SuperVersion {
		return errorf(whereSuper, ErrVersion, "%d", s.Version)
	}
	if len(s.Name) >= superNameSize || bytes.IndexByte([]byte(s.Name), 0) >= 0 {
		return errorf(whereSuper, ErrTooLarge, "name %q", s.Name)
	}
	if len(buf) < SuperSize {
		return short(whereSuper, len(buf), SuperSize)
	}
	clear(buf[:SuperSize])
	be.PutUint32(buf, SuperMagic)
	be.PutUint16(buf[4:], SuperVersion)
	be.PutUint32(buf[6:], s.EpochLow)
	be.PutUint32(buf[10:], s.EpochHigh)
	be.PutUint64(buf[14:], s.Qid)
	be.PutUint32(buf[22:], s.Active)
	be.PutUint32(buf[26:], s.Next)
	be.PutUint32(buf[30:], s.Current)
	copy(buf[34:54], s.Last[:])
	copy(buf[54:], s.Name)
	return nil
}
