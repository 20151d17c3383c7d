package fsdisk

import (
	"encoding/binary"

	"github.com/plan9fossil/fossil/venti"
)

var be = binary.BigEndian

// Header constants.
const (
	HeaderMagic   = 0x3776ae89
	HeaderVersion = 1
	HeaderOffset  = 128 << 10 // byte offset of the header in the partition
	HeaderSize    = 512       // bytes Pack clears; 24 are used

	headerFields = 24
)

// The Header at HeaderOffset divides the partition into blocks of
// BlockSize bytes and says where each part starts, in block numbers
// from the start of the partition:
//
//	off size
//	  0    4  magic HeaderMagic
//	  4    2  version HeaderVersion
//	  6    2  block size
//	  8    4  super: the super block
//	 12    4  label: the first label block
//	 16    4  data: the first data block (the end of the labels)
//	 20    4  end: the end of the data blocks
//
// The rest of the HeaderSize bytes is zero.
type Header struct {
	Version   uint16
	BlockSize uint16
	Super     uint32
	Label     uint32
	Data      uint32
	End       uint32
}

const whereHeader = "header"

// Unpack reads the header from the start of buf, checking its magic and
// version as the C fossil does.
func (h *Header) Unpack(buf []byte) error {
	if len(buf) < headerFields {
		return short(whereHeader, len(buf), headerFields)
	}
	if m := be.Uint32(buf); m != HeaderMagic {
		return badMagic(whereHeader, m, HeaderMagic)
	}
	var x Header
	x.Version = be.Uint16(buf[4:])
	if x.Version != HeaderVersion {
		return errorf(whereHeader, ErrVersion, "%d", x.Version)
	}
	x.BlockSize = be.Uint16(buf[6:])
	x.Super = be.Uint32(buf[8:])
	x.Label = be.Uint32(buf[12:])
	x.Data = be.Uint32(buf[16:])
	x.End = be.Uint32(buf[20:])
	*h = x
	return nil
}

// Pack clears the first HeaderSize bytes of buf and writes the header
// there. A zero Version packs as HeaderVersion.
func (h *Header) Pack(buf []byte) error {
	if h.Version != 0 && h.Version != HeaderVersion {
		return errorf(whereHeader, ErrVersion, "%d", h.Version)
	}
	if len(buf) < HeaderSize {
		return short(whereHeader, len(buf), HeaderSize)
	}
	clear(buf[:HeaderSize])
	be.PutUint32(buf, HeaderMagic)
	be.PutUint16(buf[4:], HeaderVersion)
	be.PutUint16(buf[6:], h.BlockSize)
	be.PutUint32(buf[8:], h.Super)
	be.PutUint32(buf[12:], h.Label)
	be.PutUint32(buf[16:], h.Data)
	be.PutUint32(buf[20:], h.End)
	return nil
}

// LabelsPerBlock is the number of labels in a label block.
func (h *Header) LabelsPerBlock() int { return int(h.BlockSize) / LabelSize }

// NumData is the number of data blocks.
func (h *Header) NumData() uint32 { return h.End - h.Data }

// Check checks the header's geometry: a block size flfmt accepts, the
// parts in order (super, labels, data), enough label blocks for the
// data blocks, and, if partSize is not negative, the data blocks
// within a partition of partSize bytes. Readers call it before
// trusting the numbers.
func (h *Header) Check(partSize int64) error {
	bs := int64(h.BlockSize)
	switch {
	case bs == 0 || bs%512 != 0 || bs > venti.MaxLumpSize:
		return errorf(whereHeader, ErrCorrupt, "bad block size %d", bs)
	case int64(h.Super)*bs < HeaderOffset+HeaderSize:
		return errorf(whereHeader, ErrCorrupt, "super block %d overlaps the header", h.Super)
	case h.Label <= h.Super || h.Data < h.Label || h.End < h.Data:
		return errorf(whereHeader, ErrCorrupt, "parts out of order: super=%d label=%d data=%d end=%d", h.Super, h.Label, h.Data, h.End)
	case uint64(h.Data-h.Label)*uint64(h.LabelsPerBlock()) < uint64(h.NumData()):
		return errorf(whereHeader, ErrCorrupt, "%d label blocks for %d data blocks", h.Data-h.Label, h.NumData())
	case partSize >= 0 && int64(h.End)*bs > partSize:
		return errorf(whereHeader, ErrCorrupt, "data end %d beyond the partition (%d blocks)", h.End, partSize/bs)
	}
	return nil
}

// NewHeader lays out a partition of partSize bytes with the given block
// size as flfmt does: the super block in the second block after the
// header, then as many label blocks as the data blocks after them need.
func NewHeader(partSize int64, blockSize int) (Header, error) {
	var h Header
	if blockSize <= 0 || blockSize%512 != 0 || blockSize > venti.MaxLumpSize {
		return h, errorf(whereHeader, ErrCorrupt, "bad block size %d (a multiple of 512, at most %d)", blockSize, venti.MaxLumpSize)
	}
	nblock := partSize / int64(blockSize)
	if nblock < HeaderOffset*10/int64(blockSize) {
		return h, errorf(whereHeader, ErrShort, "partition of %d bytes too small", partSize)
	}
	if nblock > 1<<32-1 {
		return h, errorf(whereHeader, ErrTooLarge, "%d blocks", nblock)
	}
	lpb := int64(blockSize / LabelSize)
	h.Version = HeaderVersion
	h.BlockSize = uint16(blockSize)
	h.Super = uint32((HeaderOffset + 2*int64(blockSize)) / int64(blockSize))
	h.Label = h.Super + 1
	ndata := lpb * (nblock - int64(h.Label)) / (lpb + 1)
	nlabel := (ndata + lpb - 1) / lpb
	h.Data = h.Label + uint32(nlabel)
	h.End = h.Data + uint32(ndata)
	return h, nil
}
