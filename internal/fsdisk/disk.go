package fsdisk

import (
	"errors"
	"fmt"
	"io"

	"github.com/plan9fossil/fossil/venti"
)

// A Disk reads the blocks of a fossil partition. It keeps no cache and
// no state beyond the header, so it may be used from several
// goroutines if its io.ReaderAt may.
type Disk struct {
	r      io.ReaderAt
	size   int64
	Header Header
}

// Open reads and checks the header of the partition r, of size bytes
// (negative if unknown).
func Open(r io.ReaderAt, size int64) (*Disk, error) {
	buf := make([]byte, HeaderSize)
	if err := readAt(r, buf, HeaderOffset, whereHeader); err != nil {
		return nil, err
	}
	d := &Disk{r: r, size: size}
	if err := d.Header.Unpack(buf); err != nil {
		return nil, err
	}
	if err := d.Header.Check(size); err != nil {
		return nil, err
	}
	return d, nil
}

// readAt fills buf from offset off, treating a short read as an error.
func readAt(r io.ReaderAt, buf []byte, off int64, where string) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return errorf(where, ErrShort, "read %d of %d bytes at %d", n, len(buf), off)
	}
	return within(where, err)
}

// BlockSize is the partition's block size.
func (d *Disk) BlockSize() int { return int(d.Header.BlockSize) }

// NumData is the number of data blocks.
func (d *Disk) NumData() uint32 { return d.Header.NumData() }

// DataOffset is the byte offset of data block addr in the partition.
func (d *Disk) DataOffset(addr uint32) int64 {
	return (int64(d.Header.Data) + int64(addr)) * int64(d.Header.BlockSize)
}

// LabelOffset is the byte offset of the label of data block addr.
func (d *Disk) LabelOffset(addr uint32) int64 {
	lpb := uint32(d.Header.LabelsPerBlock())
	return (int64(d.Header.Label)+int64(addr/lpb))*int64(d.Header.BlockSize) + int64(addr%lpb)*LabelSize
}

func whereBlock(addr uint32) string { return fmt.Sprintf("block %#x", addr) }

// ReadSuper reads the super block.
func (d *Disk) ReadSuper() (*Super, error) {
	buf := make([]byte, d.BlockSize())
	if err := readAt(d.r, buf, int64(d.Header.Super)*int64(d.Header.BlockSize), whereSuper); err != nil {
		return nil, err
	}
	s := new(Super)
	if err := s.Unpack(buf); err != nil {
		return nil, err
	}
	return s, nil
}

// ReadLabel reads the label of data block addr.
func (d *Disk) ReadLabel(addr uint32) (Label, error) {
	var l Label
	if addr >= d.NumData() {
		return l, errorf(whereBlock(addr), ErrBadAddr, "%d data blocks", d.NumData())
	}
	var buf [LabelSize]byte
	if err := readAt(d.r, buf[:], d.LabelOffset(addr), whereBlock(addr)+": label"); err != nil {
		return l, err
	}
	if err := l.Unpack(buf[:]); err != nil {
		return l, within(whereBlock(addr), err)
	}
	return l, nil
}

// ReadData reads data block addr, whatever its label says.
func (d *Disk) ReadData(addr uint32) ([]byte, error) {
	if addr >= d.NumData() {
		return nil, errorf(whereBlock(addr), ErrBadAddr, "%d data blocks", d.NumData())
	}
	buf := make([]byte, d.BlockSize())
	if err := readAt(d.r, buf, d.DataOffset(addr), whereBlock(addr)); err != nil {
		return nil, err
	}
	return buf, nil
}

// ReadLocal reads data block addr and checks, as the C fossil does,
// that its label has type t and tag tag; a block whose label says
// otherwise is an ErrLabelMismatch error naming the block.
func (d *Disk) ReadLocal(addr uint32, t BlockType, tag uint32) ([]byte, Label, error) {
	l, err := d.ReadLabel(addr)
	if err != nil {
		return nil, l, err
	}
	if l.Type != t || l.Tag != tag {
		return nil, l, errorf(whereBlock(addr), ErrLabelMismatch, "label %s, want type %s tag %#x", &l, t, tag)
	}
	b, err := d.ReadData(addr)
	return b, l, err
}

// Last returns the score of the last archive recorded in the super
// block, reading only what fossil/last reads: the header's magic, block
// size and super block number, and the 20 bytes of the super block's
// last field. It does not check the super block.
func Last(r io.ReaderAt) (venti.Score, error) {
	var s venti.Score
	var h [12]byte
	if err := readAt(r, h[:], HeaderOffset, whereHeader); err != nil {
		return s, err
	}
	if m := be.Uint32(h[:]); m != HeaderMagic {
		return s, badMagic(whereHeader, m, HeaderMagic)
	}
	bs := int64(be.Uint16(h[6:]))
	addr := int64(be.Uint32(h[8:]))
	if err := readAt(r, s[:], bs*addr+34, whereSuper); err != nil {
		return s, err
	}
	return s, nil
}

// WriteLast prints what fossil/last prints for the partition r:
// "vac:" and the score of the last archive, or of the zero-length
// block if there is none yet.
func WriteLast(w io.Writer, r io.ReaderAt) error {
	s, err := Last(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "vac:%v\n", s)
	return err
}
