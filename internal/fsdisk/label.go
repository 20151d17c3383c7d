package fsdisk

import (
	"fmt"
	"strings"

	"github.com/plan9fossil/fossil/venti"
)

// LabelSize is the size of a packed Label.
const LabelSize = 14

// A BlockState is the state byte of a label: BsFree, BsBad, or BsAlloc
// with any of BsCopied, BsVenti and BsClosed.
type BlockState uint8

// Block states.
const (
	BsFree   BlockState = 0    // available for allocation
	BsBad    BlockState = 0xff // something is wrong with the block
	BsAlloc  BlockState = 1 << 0
	BsCopied BlockState = 1 << 1 // copied, usually before being unlinked
	BsVenti  BlockState = 1 << 2 // stored on venti
	BsClosed BlockState = 1 << 3 // unlinked from the active file system
	BsMask              = BsAlloc | BsCopied | BsVenti | BsClosed
)

// String formats s as the C fossil does: "Free", "Bad", or the state in
// hexadecimal with the names of its bits, "d,Venti,Closed".
func (s BlockState) String() string {
	switch s {
	case BsFree:
		return "Free"
	case BsBad:
		return "Bad"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%x", uint8(s))
	if s&BsAlloc == 0 {
		b.WriteString(",Free")
	}
	if s&BsCopied != 0 {
		b.WriteString(",Copied")
	}
	if s&BsVenti != 0 {
		b.WriteString(",Venti")
	}
	if s&BsClosed != 0 {
		b.WriteString(",Closed")
	}
	return b.String()
}

// A BlockType is the type of a local block: bit 3 tells a directory
// block (of Entry structures) from a data block, the low three bits are
// the pointer level. The numbers are those of venti.Type.
type BlockType uint8

// Block types.
const (
	BtData      BlockType = 0
	BtDir       BlockType = 1 << 3
	BtLevelMask BlockType = 7
	// BtMax is one more than the largest type; the C fossil also writes
	// it in the label of a block it failed to copy.
	BtMax BlockType = 1 << 4
)

// Level is the pointer level of t: 0 for data and directory blocks.
func (t BlockType) Level() int { return int(t & BtLevelMask) }

// Venti is the venti block type of t (the same number).
func (t BlockType) Venti() venti.Type { return venti.Type(t) }

func (t BlockType) String() string {
	switch {
	case t >= BtMax:
		return "unknown"
	case t&BtDir != 0 && t.Level() == 0:
		return "BtDir"
	case t&BtDir != 0:
		return fmt.Sprintf("BtDir+%d", t.Level())
	case t.Level() == 0:
		return "BtData"
	}
	return fmt.Sprintf("BtData+%d", t.Level())
}

// Well-known tags. Every block of a tree carries the tag of its tree's
// entry; the root block has RootTag and others have random tags of at
// least UserTag.
const (
	BadTag  = 0 // never used
	RootTag = 1 // the root block (Super.Active)
	EnumTag = 2 // root of a directory listing
	UserTag = 32
)

// A Label describes a data block. Labels are kept apart from the data,
// LabelSize bytes each, LabelsPerBlock to a label block: the label of
// data block a is label a%LabelsPerBlock of label block
// Header.Label + a/LabelsPerBlock.
//
//	off size
//	  0    1  state
//	  1    1  type
//	  2    4  epoch: the epoch the block was allocated in
//	  6    4  epochClose: the epoch it was unlinked in, or ~0 while open
//	 10    4  tag
type Label struct {
	State      BlockState
	Type       BlockType
	Epoch      uint32
	EpochClose uint32
	Tag        uint32
}

const whereLabel = "label"

// Unpack reads a label from the start of buf with the C fossil's
// checks: a known type (at most BtMax), and unless the state is BsFree
// or BsBad, an allocated state with known bits only and a close epoch
// set exactly when the block is closed.
func (l *Label) Unpack(buf []byte) error {
	if len(buf) < LabelSize {
		return short(whereLabel, len(buf), LabelSize)
	}
	x := Label{
		State:      BlockState(buf[0]),
		Type:       BlockType(buf[1]),
		Epoch:      be.Uint32(buf[2:]),
		EpochClose: be.Uint32(buf[6:]),
		Tag:        be.Uint32(buf[10:]),
	}
	if err := x.check(); err != nil {
		return err
	}
	*l = x
	return nil
}

func (l *Label) check() error {
	bad := func() error { return errorf(whereLabel, ErrBadLabel, "%s", l) }
	if l.Type > BtMax {
		return bad()
	}
	if l.State != BsBad && l.State != BsFree {
		if l.State&BsAlloc == 0 || l.State&^BsMask != 0 {
			return bad()
		}
		if (l.State&BsClosed != 0) == (l.EpochClose == ^uint32(0)) {
			return bad()
		}
	}
	return nil
}

// Pack writes the label into the first LabelSize bytes of buf. It
// writes any label, even one Unpack would refuse, as the C code does
// when it marks a block it failed to copy.
func (l *Label) Pack(buf []byte) error {
	if len(buf) < LabelSize {
		return short(whereLabel, len(buf), LabelSize)
	}
	buf[0] = byte(l.State)
	buf[1] = byte(l.Type)
	be.PutUint32(buf[2:], l.Epoch)
	be.PutUint32(buf[6:], l.EpochClose)
	be.PutUint32(buf[10:], l.Tag)
	return nil
}

// String formats the label as the C fossil's %L does:
// "BtData,1,e=4,-1,tag=0x7dac1a86".
func (l *Label) String() string {
	return fmt.Sprintf("%s,%s,e=%d,%d,tag=%#x", l.Type, l.State, l.Epoch, int32(l.EpochClose), l.Tag)
}
