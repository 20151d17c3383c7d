package venti

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A MsgType is the type byte of a protocol message (venti(6)).
type MsgType uint8

const (
	Rerror    MsgType = 1
	Tping     MsgType = 2
	Rping     MsgType = 3
	Thello    MsgType = 4
	Rhello    MsgType = 5
	Tgoodbye  MsgType = 6
	Rgoodbye  MsgType = 7 // never sent: the server hangs up instead
	Tauth0    MsgType = 8 // reserved, unused by Plan 9
	Rauth0    MsgType = 9
	Tauth1    MsgType = 10
	Rauth1    MsgType = 11
	Tread     MsgType = 12
	Rread     MsgType = 13
	Twrite    MsgType = 14
	Rwrite    MsgType = 15
	Tsync     MsgType = 16
	Rsync     MsgType = 17
	maxMsg    MsgType = 18
	msgHeader         = 2 + 1 + 1 // size[2] type[1] tag[1]
)

var msgNames = [...]string{
	Rerror: "Rerror", Tping: "Tping", Rping: "Rping", Thello: "Thello",
	Rhello: "Rhello", Tgoodbye: "Tgoodbye", Rgoodbye: "Rgoodbye",
	Tauth0: "Tauth0", Rauth0: "Rauth0", Tauth1: "Tauth1", Rauth1: "Rauth1",
	Tread: "Tread", Rread: "Rread", Twrite: "Twrite", Rwrite: "Rwrite",
	Tsync: "Tsync", Rsync: "Rsync",
}

func (t MsgType) String() string {
	if t < maxMsg && msgNames[t] != "" {
		return msgNames[t]
	}
	return fmt.Sprintf("msg%d", uint8(t))
}

const (
	// MaxStringSize is the longest string the protocol carries.
	MaxStringSize = 1024
	// MaxMsgSize is the largest message body the 16-bit size field of
	// protocol version 02 can frame.
	MaxMsgSize = 1<<16 - 1
)

// A Msg is one protocol message, T (request) or R (reply). Like
// 9fans.net/go/plan9's Fcall, it has a field for every parameter and each
// message type uses the ones venti(6) lists for it:
//
//	Thello    Tag Version Uid Strength Crypto Codec
//	Rhello    Tag Sid RCrypto RCodec
//	Tping     Tag            Rping  Tag
//	Tread     Tag Score BlockType Count
//	Rread     Tag Data
//	Twrite    Tag BlockType Data
//	Rwrite    Tag Score
//	Tsync     Tag            Rsync  Tag
//	Rerror    Tag Error
//	Tgoodbye  Tag
//
// BlockType is in the numbering of venti(6); on the wire it travels in
// the older disk numbering (see DiskType), converted by Marshal and
// UnmarshalMsg.
type Msg struct {
	Type MsgType
	Tag  uint8

	Version  string // Thello
	Uid      string // Thello
	Strength uint8  // Thello
	Crypto   []byte // Thello
	Codec    []byte // Thello

	Sid     string // Rhello
	RCrypto uint8  // Rhello
	RCodec  uint8  // Rhello

	Score     Score  // Tread, Rwrite
	BlockType Type   // Tread, Twrite
	Count     uint16 // Tread: the largest block the client will take
	Data      []byte // Rread, Twrite

	Error string // Rerror
}

// ProtocolError reports a malformed message from a peer. A connection that
// produced one cannot be trusted to stay in step and is closed.
type ProtocolError string

func (e ProtocolError) Error() string { return "venti: protocol: " + string(e) }

// Marshal appends the framed message (size[2] first) to b.
func (m *Msg) Marshal(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, byte(m.Type), m.Tag)
	var err error
	switch m.Type {
	default:
		return b[:start], fmt.Errorf("venti: marshal: unknown message type %d", m.Type)
	case Tping, Rping, Tgoodbye, Tsync, Rsync:
	case Rerror:
		b, err = appendString(b, m.Error)
	case Thello:
		if b, err = appendString(b, m.Version); err == nil {
			b, err = appendString(b, m.Uid)
		}
		if err == nil && (len(m.Crypto) > 255 || len(m.Codec) > 255) {
			err = errors.New("venti: marshal: crypto or codec list too long")
		}
		b = append(b, m.Strength, byte(len(m.Crypto)))
		b = append(b, m.Crypto...)
		b = append(b, byte(len(m.Codec)))
		b = append(b, m.Codec...)
	case Rhello:
		b, err = appendString(b, m.Sid)
		b = append(b, m.RCrypto, m.RCodec)
	case Tread:
		d, ok := m.BlockType.Disk()
		if !ok {
			err = fmt.Errorf("venti: marshal: bad block type %d", m.BlockType)
		}
		b = append(b, m.Score[:]...)
		b = append(b, byte(d), 0, byte(m.Count>>8), byte(m.Count))
	case Rread:
		b = append(b, m.Data...)
	case Twrite:
		d, ok := m.BlockType.Disk()
		if !ok {
			err = fmt.Errorf("venti: marshal: bad block type %d", m.BlockType)
		}
		b = append(b, byte(d), 0, 0, 0)
		b = append(b, m.Data...)
	case Rwrite:
		b = append(b, m.Score[:]...)
	}
	if err != nil {
		return b[:start], err
	}
	n := len(b) - start - 2
	if n > MaxMsgSize {
		return b[:start], fmt.Errorf("venti: marshal: %v of %d bytes is too large", m.Type, n)
	}
	binary.BigEndian.PutUint16(b[start:], uint16(n))
	return b, nil
}

func appendString(b []byte, s string) ([]byte, error) {
	if len(s) > MaxStringSize {
		return b, errors.New("venti: marshal: string too long")
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...), nil
}

// UnmarshalMsg decodes one message body (without its size[2] prefix).
// Data in the result aliases b.
func UnmarshalMsg(b []byte) (*Msg, error) {
	m := new(Msg)
	if err := m.unmarshal(b); err != nil {
		return nil, err
	}
	return m, nil
}

// unmarshal is UnmarshalMsg into m, all of whose fields it sets.
func (m *Msg) unmarshal(b []byte) error {
	if len(b) < 2 {
		return ProtocolError("short message")
	}
	*m = Msg{Type: MsgType(b[0]), Tag: b[1]}
	d := decoder{b: b[2:]}
	switch m.Type {
	default:
		return ProtocolError(fmt.Sprintf("unknown message type %d", b[0]))
	case Tping, Rping, Tgoodbye, Tsync, Rsync:
	case Rerror:
		m.Error = d.string()
	case Thello:
		m.Version = d.string()
		m.Uid = d.string()
		m.Strength = d.byte()
		m.Crypto = d.bytes(int(d.byte()))
		m.Codec = d.bytes(int(d.byte()))
	case Rhello:
		m.Sid = d.string()
		m.RCrypto = d.byte()
		m.RCodec = d.byte()
	case Tread:
		copy(m.Score[:], d.bytes(ScoreSize))
		m.BlockType = d.blockType()
		d.byte() // pad
		m.Count = uint16(d.byte())<<8 | uint16(d.byte())
	case Rread:
		m.Data = d.rest()
	case Twrite:
		m.BlockType = d.blockType()
		d.bytes(3) // pad
		m.Data = d.rest()
	case Rwrite:
		copy(m.Score[:], d.bytes(ScoreSize))
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return ProtocolError(fmt.Sprintf("%v: %d bytes left over", m.Type, len(d.b)))
	}
	return nil
}

// decoder consumes a message body, remembering the first error so that
// the cases above read as the layouts in venti(6).
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.err = ProtocolError("short message")
		return nil
	}
	if n == 0 {
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) byte() byte {
	if p := d.bytes(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) rest() []byte { return d.bytes(len(d.b)) }

func (d *decoder) string() string {
	p := d.bytes(2)
	if p == nil {
		return ""
	}
	n := int(binary.BigEndian.Uint16(p))
	if n > MaxStringSize {
		d.err = ProtocolError("string too long")
		return ""
	}
	return string(d.bytes(n))
}

func (d *decoder) blockType() Type {
	b := d.byte()
	if d.err != nil {
		return 0
	}
	t, ok := DiskType(b).Type()
	if !ok {
		d.err = ProtocolError(fmt.Sprintf("bad block type %d", b))
	}
	return t
}

// ReadMsg reads one framed message from r. It returns io.EOF only when r
// ends cleanly between messages.
func ReadMsg(r io.Reader) (*Msg, error) {
	b, err := readFrame(r, nil)
	if err != nil {
		return nil, err
	}
	return UnmarshalMsg(b)
}

// readFrame reads one framed message and returns its body, in buf's
// storage when it is large enough, else in new memory. It returns io.EOF
// only when r ends cleanly between messages.
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	if cap(buf) < 2 {
		buf = make([]byte, 2)
	}
	size := buf[:2] // not a local array, which would escape to the heap
	if _, err := io.ReadFull(r, size); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(size))
	if cap(buf) >= n {
		buf = buf[:n]
	} else {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// WriteMsg writes one framed message to w.
func WriteMsg(w io.Writer, m *Msg) error {
	b, err := m.Marshal(nil)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func (m *Msg) String() string {
	s := fmt.Sprintf("%v tag %d", m.Type, m.Tag)
	switch m.Type {
	case Rerror:
		s += fmt.Sprintf(" error %q", m.Error)
	case Thello:
		s += fmt.Sprintf(" version %q uid %q strength %d crypto %x codec %x", m.Version, m.Uid, m.Strength, m.Crypto, m.Codec)
	case Rhello:
		s += fmt.Sprintf(" sid %q rcrypto %d rcodec %d", m.Sid, m.RCrypto, m.RCodec)
	case Tread:
		s += fmt.Sprintf(" score %v type %d count %d", m.Score, m.BlockType, m.Count)
	case Rread:
		s += fmt.Sprintf(" count %d", len(m.Data))
	case Twrite:
		s += fmt.Sprintf(" type %d count %d", m.BlockType, len(m.Data))
	case Rwrite:
		s += fmt.Sprintf(" score %v", m.Score)
	}
	return s
}
