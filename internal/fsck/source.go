package fsck

import (
	"fmt"
	"io"

	"github.com/plan9fossil/fossil/internal/diskerr"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/venti"
)

// A BlockSource is what the checker reads: the super block, and the
// label and bytes of each local block, by address, and blocks archived
// on venti. flchk's is a partition (NewDiskSource); the file server's
// console will give its block cache, so that a check sees the blocks
// the server has not written back yet.
//
// The checker never writes through a BlockSource, and calls it from
// one goroutine at a time.
type BlockSource interface {
	// BlockSize is the size of every local block.
	BlockSize() int
	// NumBlocks is the number of data blocks: addresses 0 to
	// NumBlocks()-1.
	NumBlocks() uint32
	// ReadSuper returns the super block.
	ReadSuper() (*fsdisk.Super, error)
	// ReadLabel returns the label of block addr. A label that does not
	// unpack is an error wrapping fsdisk.ErrBadLabel.
	ReadLabel(addr uint32) (fsdisk.Label, error)
	// ReadData returns the BlockSize bytes of block addr, whatever its
	// label says: bytes of its own, which the checker keeps in its
	// cache and does not change.
	ReadData(addr uint32) ([]byte, error)
	// ReadVenti returns the venti block with the given score and type
	// as venti stores it (zero-truncated); the checker verifies the
	// score. A block venti does not have is an error that is or wraps
	// a venti.ServerError (what a server answers) or ErrNotStored,
	// which makes the checker propose cutting off the pointer to it;
	// any other error (no venti: fsdisk.ErrNoVenti, a broken
	// connection) makes it go on without venti.
	ReadVenti(score venti.Score, t venti.Type) ([]byte, error)
}

// DiskSource is the BlockSource of a partition, as flchk reads it:
// straight from the disk, with venti blocks through an optional
// fsdisk.BlockReader. It keeps the last few label blocks it read, so
// that a check reads each label block once rather than each label; for
// the same reason it is for one goroutine at a time.
type DiskSource struct {
	r      io.ReaderAt
	disk   *fsdisk.Disk
	venti  fsdisk.BlockReader
	labels *lru // label blocks, by block number
}

// labelBlocks is how many label blocks a DiskSource keeps: few, so
// that a check beside a running fossil sees its labels change.
const labelBlocks = 8

// OpenDisk opens the partition r of size bytes (negative if unknown)
// as fsdisk.Open does, reading venti blocks through v, which may be
// nil.
func OpenDisk(r io.ReaderAt, size int64, v fsdisk.BlockReader) (*DiskSource, error) {
	d, err := fsdisk.Open(r, size)
	if err != nil {
		return nil, err
	}
	return &DiskSource{r: r, disk: d, venti: v, labels: newLRU(labelBlocks)}, nil
}

// Disk is the partition.
func (s *DiskSource) Disk() *fsdisk.Disk { return s.disk }

// BlockSize is the partition's block size.
func (s *DiskSource) BlockSize() int { return s.disk.BlockSize() }

// NumBlocks is the number of data blocks of the partition.
func (s *DiskSource) NumBlocks() uint32 { return s.disk.NumData() }

// ReadSuper reads the super block.
func (s *DiskSource) ReadSuper() (*fsdisk.Super, error) { return s.disk.ReadSuper() }

// ReadLabel reads the label of block addr, from its label block.
func (s *DiskSource) ReadLabel(addr uint32) (fsdisk.Label, error) {
	var l fsdisk.Label
	if addr >= s.disk.NumData() {
		return s.disk.ReadLabel(addr) // the range error
	}
	bs := int64(s.disk.BlockSize())
	off := s.disk.LabelOffset(addr)
	bn := off / bs
	k := fsdisk.LocalScore(uint32(bn))
	b, ok := s.labels.get(k)
	if !ok {
		b = make([]byte, bs)
		if n, err := s.r.ReadAt(b, bn*bs); n < len(b) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return l, &fsdisk.Error{Pkg: "fsck", Where: fmt.Sprintf("block %#x: label", addr), Err: err}
		}
		s.labels.put(k, b)
	}
	if err := l.Unpack(b[off%bs:]); err != nil {
		return l, diskerr.Within("fsck", fmt.Sprintf("block %#x", addr), err)
	}
	return l, nil
}

// ReadData reads block addr.
func (s *DiskSource) ReadData(addr uint32) ([]byte, error) { return s.disk.ReadData(addr) }

// ReadVenti reads a block from venti, if there is one.
func (s *DiskSource) ReadVenti(score venti.Score, t venti.Type) ([]byte, error) {
	if s.venti == nil {
		return nil, &fsdisk.Error{Pkg: "fsck", Where: fmt.Sprintf("venti block %v", score), Err: fsdisk.ErrNoVenti}
	}
	return s.venti.ReadVenti(score, t)
}
