package vtdisk

import (
	"encoding/binary"
	"io"

	"github.com/plan9fossil/fossil/venti"
)

// BloomHead is the header of a bloom filter partition, at offset 0.
//
//	off size
//	  0    4  magic BloomMagic
//	  4    4  version (1)
//	  8    4  nhash: bits set per score (at most 32)
//	 12    4  size of the filter in bytes (a power of two, at most 512 MiB)
//
// The filter is the first Size bytes of the partition, header included:
// its bits are numbered from bit 0 of byte 0, little-endian within
// 32-bit words, which on the little-endian machines the C venti runs
// on (386, amd64, arm) is bit n&7 of byte n>>3. Hashes are kept out of
// the first 128 bits, though masking a large hash to the filter size
// may still land there.
type BloomHead struct {
	NHash uint32
	Size  uint32
}

const whereBloom = "bloom header"

// Unpack reads the header from the start of buf.
func (h *BloomHead) Unpack(buf []byte) error {
	if len(buf) < BloomHeadSize {
		return short(whereBloom, len(buf), BloomHeadSize)
	}
	if m := be.Uint32(buf); m != BloomMagic {
		return badMagic(whereBloom, m, BloomMagic)
	}
	if v := be.Uint32(buf[4:]); v != BloomVersion {
		return errorf(whereBloom, ErrVersion, "%d", v)
	}
	x := BloomHead{NHash: be.Uint32(buf[8:]), Size: be.Uint32(buf[12:])}
	if err := x.check(); err != nil {
		return err
	}
	*h = x
	return nil
}

func (h *BloomHead) check() error {
	if h.Size < BloomHeadSize || h.Size > MaxBloomSize || !isPow2(uint64(h.Size)) {
		return errorf(whereBloom, ErrCorrupt, "bad size %#x", h.Size)
	}
	if h.NHash == 0 || h.NHash > MaxBloomHash {
		return errorf(whereBloom, ErrCorrupt, "bad hash count %d", h.NHash)
	}
	return nil
}

// Pack writes the header into the first BloomHeadSize bytes of buf.
func (h *BloomHead) Pack(buf []byte) error {
	if len(buf) < BloomHeadSize {
		return short(whereBloom, len(buf), BloomHeadSize)
	}
	if err := h.check(); err != nil {
		return err
	}
	be.PutUint32(buf, BloomMagic)
	be.PutUint32(buf[4:], BloomVersion)
	be.PutUint32(buf[8:], h.NHash)
	be.PutUint32(buf[12:], h.Size)
	return nil
}

// Bloom is a bloom filter held in memory.
type Bloom struct {
	BloomHead
	// Data is the whole filter, Size bytes, header included.
	Data []byte
}

// ReadBloom reads the bloom filter partition r.
func ReadBloom(r io.ReaderAt) (*Bloom, error) {
	b := &Bloom{}
	head := make([]byte, BloomHeadSize)
	if err := readAt(r, head, 0, whereBloom); err != nil {
		return nil, err
	}
	if err := b.BloomHead.Unpack(head); err != nil {
		return nil, err
	}
	b.Data = make([]byte, b.Size)
	adviseHugePages(b.Data) // only faster if granted
	if err := readAt(r, b.Data, 0, "bloom filter"); err != nil {
		return nil, err
	}
	collapseHugePages(b.Data) // only faster if granted
	return b, nil
}

// BloomBits returns the nhash bit numbers that score sets in a filter
// of size bytes. The first four bytes of the score choose the bucket;
// two 32-bit values a and b are taken from the rest, little-endian:
// a = s[4:8] ^ s[12:16], b = s[8:12] ^ s[16:20], and the i'th bit is
// (a + i*b) mod 2^32 (raised to 128 if smaller) masked to the filter.
func BloomBits(score venti.Score, nhash, size uint32) []uint32 {
	h := newBloomHash(score, size)
	bits := make([]uint32, nhash)
	for i := range bits {
		bits[i] = h.next()
	}
	return bits
}

// A bloomHash yields the bit numbers of BloomBits one at a time, so
// that testing and adding a score, once for every block written,
// allocate nothing.
type bloomHash struct{ a, b, mask uint32 }

func newBloomHash(score venti.Score, size uint32) bloomHash {
	le := binary.LittleEndian
	return bloomHash{
		a:    le.Uint32(score[4:]) ^ le.Uint32(score[12:]),
		b:    le.Uint32(score[8:]) ^ le.Uint32(score[16:]),
		mask: uint32(uint64(size)*8 - 1),
	}
}

func (h *bloomHash) next() uint32 {
	x := max(h.a, BloomHeadSize*8)
	h.a += h.b
	return x & h.mask
}

// Test reports whether score may be in the filter: false means it is
// certainly not stored.
//
// The C venti raises a bit number to 128 before masking it to the
// filter, so a few land in the first 16 bytes, which hold the header:
// writing the filter packs the header over them and loses them, and the
// C venti then misses blocks whose bits fell there. Test counts those
// bits as set, so it never gives that false negative.
func (f *Bloom) Test(score venti.Score) bool {
	h := newBloomHash(score, f.Size)
	for range f.NHash {
		x := h.next()
		if x < BloomHeadSize*8 {
			continue
		}
		if f.Data[x>>3]&(1<<(x&7)) == 0 {
			return false
		}
	}
	return true
}

// Add sets the bits of score.
func (f *Bloom) Add(score venti.Score) {
	h := newBloomHash(score, f.Size)
	for range f.NHash {
		x := h.next()
		f.Data[x>>3] |= 1 << (x & 7)
	}
}
