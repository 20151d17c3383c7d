package venti

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// RootVersion is the version number of the Root structure.
const RootVersion = 2

// A Root is the block that programs pass around as "the" score of a tree
// (vac:SCORE). venti(6) and vac(1) lay it out in 300 bytes:
//
//	version[2] name[128] type[128] score[20] blocksize[2] prev[20]
//
// Name and Type are NUL-padded strings; Score names a DirType block
// holding the tree's top entries; Prev is the previous root of an
// archive chain (fossil's archives) or the zero value.
type Root struct {
	Name      string // e.g. the file name given to vac
	Type      string // "vac", "fossil", ...
	Score     Score  // a DirType block
	BlockSize uint16 // largest block size in the tree
	Prev      Score  // previous root, or all zeros
}

const rootStringSize = 128

// Pack writes r into p, which must hold RootSize bytes.
func (r *Root) Pack(p []byte) error {
	if len(p) < RootSize {
		return errors.New("venti: root: short buffer")
	}
	if len(r.Name) >= rootStringSize || len(r.Type) >= rootStringSize {
		return errors.New("venti: root: name or type too long")
	}
	binary.BigEndian.PutUint16(p[0:], RootVersion)
	putFixedString(p[2:2+rootStringSize], r.Name)
	putFixedString(p[130:130+rootStringSize], r.Type)
	copy(p[258:278], r.Score[:])
	binary.BigEndian.PutUint16(p[278:], r.BlockSize)
	copy(p[280:300], r.Prev[:])
	return nil
}

// UnpackRoot reads a Root from p, which must hold RootSize bytes.
func UnpackRoot(p []byte) (Root, error) {
	var r Root
	if len(p) < RootSize {
		return r, fmt.Errorf("venti: root: short block (%d bytes)", len(p))
	}
	if v := binary.BigEndian.Uint16(p[0:]); v != RootVersion {
		return r, fmt.Errorf("venti: root: unknown version %d", v)
	}
	r.Name = fixedString(p[2 : 2+rootStringSize])
	r.Type = fixedString(p[130 : 130+rootStringSize])
	copy(r.Score[:], p[258:278])
	r.BlockSize = binary.BigEndian.Uint16(p[278:])
	if !goodBlockSize(int(r.BlockSize)) {
		return r, fmt.Errorf("venti: root: bad block size %d", r.BlockSize)
	}
	copy(r.Prev[:], p[280:300])
	return r, nil
}

func putFixedString(p []byte, s string) {
	n := copy(p, s)
	clear(p[n:])
}

// fixedString returns the text of a NUL-padded field; like the C code it
// stops at the first NUL and never reads the field's last byte.
func fixedString(p []byte) string {
	p = p[:len(p)-1]
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return string(p)
}
