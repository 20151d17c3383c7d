package vtdisk

import (
	"fmt"

	"github.com/plan9fossil/fossil/internal/whack"
	"github.com/plan9fossil/fossil/venti"
)

// ClumpInfo is what the arena directory records about a clump; the
// clump's header repeats it.
//
//	off size
//	  0    1  type, in the disk numbering (venti.DiskType)
//	  1    2  size of the stored bytes
//	  3    2  size of the data uncompressed
//	  5   20  score of the uncompressed data
type ClumpInfo struct {
	Type    venti.DiskType
	Size    uint16
	UncSize uint16
	Score   venti.Score
}

// Unpack reads the entry from the first ClumpInfoSize bytes of buf,
// which must hold them. Any bytes are a ClumpInfo.
func (ci *ClumpInfo) Unpack(buf []byte) {
	_ = buf[ClumpInfoSize-1]
	ci.Type = venti.DiskType(buf[0])
	ci.Size = be.Uint16(buf[1:])
	ci.UncSize = be.Uint16(buf[3:])
	copy(ci.Score[:], buf[5:ClumpInfoSize])
}

// Pack writes the entry into the first ClumpInfoSize bytes of buf,
// which must have room for them.
func (ci *ClumpInfo) Pack(buf []byte) {
	_ = buf[ClumpInfoSize-1]
	buf[0] = byte(ci.Type)
	be.PutUint16(buf[1:], ci.Size)
	be.PutUint16(buf[3:], ci.UncSize)
	copy(buf[5:], ci.Score[:])
}

// Blocks is the length of the clump, header included, in the
// 512-byte units an index entry records.
func (ci *ClumpInfo) Blocks() uint8 {
	return uint8((uint32(ci.Size) + ClumpSize + 1<<ClumpBlockShift - 1) >> ClumpBlockShift)
}

// Clump is the header in front of a clump's stored bytes in the log.
//
//	off size
//	  0    4  the arena's clump magic
//	  4   25  ClumpInfo (type, size, uncompressed size, score)
//	 29    1  encoding: 1 none, 2 whack
//	 30    4  creator (unused, zero)
//	 34    4  time written, seconds since 1970
//	 38       the Size stored bytes
//
// The log is the clumps back to back; four zero bytes (ClumpFreeMagic)
// follow the last one.
type Clump struct {
	ClumpInfo
	Encoding Encoding
	Creator  uint32
	Time     uint32
}

const whereClump = "clump"

// Unpack reads a clump header from the first ClumpSize bytes of buf and
// checks it: the magic must be the arena's, the encoding known, and the
// sizes must agree with it (equal for EncodingNone, smaller stored size
// for EncodingWhack).
func (c *Clump) Unpack(buf []byte, magic uint32) error {
	if len(buf) < ClumpSize {
		return short(whereClump, len(buf), ClumpSize)
	}
	if m := be.Uint32(buf); m != magic {
		return badMagic(whereClump, m, magic)
	}
	var x Clump
	x.ClumpInfo.Unpack(buf[4:])
	x.Encoding = Encoding(buf[29])
	x.Creator = be.Uint32(buf[30:])
	x.Time = be.Uint32(buf[34:])
	if err := x.check(); err != nil {
		return err
	}
	*c = x
	return nil
}

func (c *Clump) check() error {
	switch c.Encoding {
	case EncodingNone:
		if c.Size != c.UncSize {
			return errorf(whereClump, ErrCorrupt, "uncompressed clump has size %d, uncompressed size %d", c.Size, c.UncSize)
		}
	case EncodingWhack:
		if c.Size >= c.UncSize {
			return errorf(whereClump, ErrCorrupt, "compressed clump has size %d, uncompressed size %d", c.Size, c.UncSize)
		}
	default:
		return errorf(whereClump, ErrCorrupt, "bad encoding %d", c.Encoding)
	}
	return nil
}

// Pack writes the header with the given magic into the first ClumpSize
// bytes of buf. It refuses the headers Unpack refuses.
func (c *Clump) Pack(buf []byte, magic uint32) error {
	if len(buf) < ClumpSize {
		return short(whereClump, len(buf), ClumpSize)
	}
	if err := c.check(); err != nil {
		return err
	}
	be.PutUint32(buf, magic)
	c.ClumpInfo.Pack(buf[4:])
	buf[29] = byte(c.Encoding)
	be.PutUint32(buf[30:], c.Creator)
	be.PutUint32(buf[34:], c.Time)
	return nil
}

// Decode returns the clump's data from its stored bytes, decompressing
// them if need be. It does not check the score; see Verify.
func (c *Clump) Decode(stored []byte) ([]byte, error) {
	if len(stored) != int(c.Size) {
		return nil, errorf(whereClump, ErrShort, "%d stored bytes, header says %d", len(stored), c.Size)
	}
	switch c.Encoding {
	case EncodingNone:
		return stored, nil
	case EncodingWhack:
		data := make([]byte, c.UncSize)
		if err := whack.Decompress(data, stored); err != nil {
			return nil, errorf(whereClump, ErrCorrupt, "decompressing %d bytes to %d: %v", c.Size, c.UncSize, err)
		}
		return data, nil
	}
	return nil, errorf(whereClump, ErrCorrupt, "bad encoding %d", c.Encoding)
}

// Verify checks that data, the clump's decoded data, has the clump's
// score, and that the type is a valid one (clumps marked CorruptType
// are refused).
func (c *Clump) Verify(data []byte) error {
	if _, ok := c.Type.Type(); !ok {
		return errorf(whereClump, ErrCorrupt, "bad type %d", c.Type)
	}
	if len(data) != int(c.UncSize) {
		return errorf(whereClump, ErrShort, "%d bytes of data, header says %d", len(data), c.UncSize)
	}
	if s := venti.Fingerprint(data); s != c.Score {
		return errorf(whereClump, ErrScore, "data has score %v, header %v", s, c.Score)
	}
	return nil
}

// ReadData reads the clump at arena address aa (clump number n of the
// log) and returns its header and decoded data, checked against its
// score.
func (a *Arena) ReadData(aa uint64, n uint32) (*Clump, []byte, error) {
	c, stored, err := a.ReadClump(aa, n)
	if err != nil {
		return nil, nil, err
	}
	where := fmt.Sprintf("arena %s: clump at %#x", a.Name(), aa)
	data, err := c.Decode(stored)
	if err == nil {
		err = c.Verify(data)
	}
	if err != nil {
		return nil, nil, relocate(err, where)
	}
	return c, data, nil
}

// Encode makes a clump of data with the given type and time: whack
// compressed when that makes it smaller, stored as is otherwise. It
// returns the header and the bytes to store after it.
func Encode(data []byte, t venti.DiskType, time uint32) (*Clump, []byte, error) {
	if len(data) > 0xffff {
		return nil, nil, errorf(whereClump, ErrTooLarge, "%d bytes of data", len(data))
	}
	c := &Clump{
		ClumpInfo: ClumpInfo{Type: t, UncSize: uint16(len(data)), Score: venti.Fingerprint(data)},
		Time:      time,
	}
	buf := make([]byte, len(data))
	if n, ok := whack.Compress(buf, data); ok && n > 0 && n < len(data) {
		c.Encoding, c.Size = EncodingWhack, uint16(n)
		return c, buf[:n], nil
	}
	c.Encoding, c.Size = EncodingNone, uint16(len(data))
	return c, data, nil
}
