package venti

import "fmt"

// A Type is a block type, in the numbering of venti(6): data and
// directory blocks, the pointer blocks above each (DataType+n holds the
// scores of DataType+n-1 blocks), and root blocks.
type Type uint8

const (
	DataType Type = 0 << 3 // file data
	DirType  Type = 1 << 3 // Entry structures
	RootType Type = 2 << 3 // a Root structure
	MaxType  Type = RootType + 1

	// PointerDepth is the deepest pointer level: DataType+7, DirType+7.
	PointerDepth = 7

	typeDepthMask = 7
)

// Depth is the pointer level of t: 0 for data, directory and root blocks.
func (t Type) Depth() int { return int(t & typeDepthMask) }

// Base is t without its pointer level: DataType, DirType or RootType.
func (t Type) Base() Type { return t &^ typeDepthMask }

// IsPointer reports whether t is a pointer block type.
func (t Type) IsPointer() bool { return t < RootType && t.Depth() > 0 }

// Valid reports whether t is one of the types venti(6) defines.
func (t Type) Valid() bool { return t < MaxType }

func (t Type) String() string {
	switch {
	case t == RootType:
		return "root"
	case t == DataType:
		return "data"
	case t == DirType:
		return "dir"
	case t < DirType:
		return fmt.Sprintf("data+%d", t.Depth())
	case t < RootType:
		return fmt.Sprintf("dir+%d", t.Depth())
	}
	return fmt.Sprintf("type%d", uint8(t))
}

// DiskType is the numbering of block types used on disk (in arena clumps
// and the index) and on the wire (in Tread and Twrite). It is older than
// Type and does not tell DataType+n from DirType+n: both are stored as the
// same pointer type, which reads back as DirType+n.
type DiskType uint8

const (
	diskErrType      DiskType = 0 // illegal
	diskRootType     DiskType = 1
	diskDirType      DiskType = 2
	diskPointerType0 DiskType = 3 // ... through diskPointerType0+6
	diskDataType     DiskType = 13
	// DiskMaxType is one more than the largest disk type.
	DiskMaxType DiskType = 14
)

// Disk returns the disk (and wire) number of t; ok is false when t is not
// a valid type.
func (t Type) Disk() (DiskType, bool) {
	switch {
	case t == DataType:
		return diskDataType, true
	case t == DirType:
		return diskDirType, true
	case t == RootType:
		return diskRootType, true
	case t < RootType:
		return diskPointerType0 + DiskType(t.Depth()-1), true
	}
	return diskErrType, false
}

// Type returns the Type that disk type d stands for; ok is false for the
// illegal and unused disk types. Pointer types come back as DirType+n.
func (d DiskType) Type() (Type, bool) {
	switch {
	case d == diskDataType:
		return DataType, true
	case d == diskDirType:
		return DirType, true
	case d == diskRootType:
		return RootType, true
	case d >= diskPointerType0 && d < diskPointerType0+PointerDepth:
		return DirType + 1 + Type(d-diskPointerType0), true
	}
	return 0, false
}
