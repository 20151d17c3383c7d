package ninep

import (
	"encoding/binary"
	"errors"
	"io"

	"9fans.net/go/plan9"
)

// The server decodes T-messages itself rather than with
// plan9.UnmarshalFcall: that accepts R-messages too, and prints to
// standard error for every malformed message, which a client could
// use to flood the log.

// errMalformed ends the connection that sent it.
var errMalformed = errors.New("malformed 9P message")

var le = binary.LittleEndian

// hdrSize is size[4] type[1] tag[2].
const hdrSize = 7

// readMsg reads one message of at most max bytes from r and decodes
// it. The message is read into spare if it fits (the Fcall's Data and
// nothing else then points into spare), else into a new buffer; the
// buffer used is returned, for the caller to reuse once it is done with
// the Fcall.
func readMsg(r io.Reader, max uint32, spare []byte) (*plan9.Fcall, []byte, error) {
	var sz [4]byte
	if _, err := io.ReadFull(r, sz[:]); err != nil {
		return nil, spare, err
	}
	n := le.Uint32(sz[:])
	if n < hdrSize || n > max {
		return nil, spare, errMalformed
	}
	buf := spare
	if uint32(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	copy(buf, sz[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, buf, err
	}
	tx, err := decodeT(buf)
	return tx, buf, err
}

// A decoder takes fields off the front of a message, remembering the
// first shortfall.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) take(n int) []byte {
	if d.bad || n < 0 || n > len(d.b) { // n < 0: a huge count on a 32-bit machine
		d.bad = true
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if p := d.take(2); p != nil {
		return le.Uint16(p)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return le.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return le.Uint64(p)
	}
	return 0
}

func (d *decoder) str() string {
	return string(d.take(int(d.u16())))
}

// decodeT decodes a whole T-message, size field included.
func decodeT(buf []byte) (*plan9.Fcall, error) {
	d := decoder{b: buf[4:]}
	f := &plan9.Fcall{Type: d.u8(), Tag: d.u16()}
	switch f.Type {
	case plan9.Tversion:
		f.Msize = d.u32()
		f.Version = d.str()
	case plan9.Tauth:
		f.Afid = d.u32()
		f.Uname = d.str()
		f.Aname = d.str()
	case plan9.Tattach:
		f.Fid = d.u32()
		f.Afid = d.u32()
		f.Uname = d.str()
		f.Aname = d.str()
	case plan9.Tflush:
		f.Oldtag = d.u16()
	case plan9.Twalk:
		f.Fid = d.u32()
		f.Newfid = d.u32()
		n := d.u16()
		if n > plan9.MAXWELEM {
			return nil, errMalformed
		}
		f.Wname = make([]string, n)
		for i := range f.Wname {
			f.Wname[i] = d.str()
		}
	case plan9.Topen:
		f.Fid = d.u32()
		f.Mode = d.u8()
	case plan9.Tcreate:
		f.Fid = d.u32()
		f.Name = d.str()
		f.Perm = plan9.Perm(d.u32())
		f.Mode = d.u8()
	case plan9.Tread:
		f.Fid = d.u32()
		f.Offset = d.u64()
		f.Count = d.u32()
	case plan9.Twrite:
		f.Fid = d.u32()
		f.Offset = d.u64()
		f.Data = d.take(int(d.u32()))
	case plan9.Tclunk, plan9.Tremove, plan9.Tstat:
		f.Fid = d.u32()
	case plan9.Twstat:
		f.Fid = d.u32()
		f.Stat = d.take(int(d.u16()))
	default:
		return nil, errMalformed
	}
	if d.bad || len(d.b) != 0 {
		return nil, errMalformed
	}
	return f, nil
}
