package venti

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// unhex decodes a hex string written with spaces between fields.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var b02 = MustParseScore("6f2b89bb618db8de945d1b5304307895643ad340")

// The vectors are laid out field by field from venti(6):
// size[2] type[1] tag[1] parameters.
var msgVectors = []struct {
	name string
	m    Msg
	wire string
}{
	{"Thello", Msg{Type: Thello, Tag: 1, Version: "02", Uid: "anonymous"},
		"0014 04 01 0002 3032 0009 616e6f6e796d6f7573 00 00 00"},
	{"Thello crypto codec", Msg{Type: Thello, Tag: 0, Version: "02", Uid: "glenda", Strength: 1, Crypto: []byte{1, 2}, Codec: []byte{3}},
		"0014 04 00 0002 3032 0006 676c656e6461 01 02 0102 01 03"},
	{"Rhello", Msg{Type: Rhello, Tag: 1, Sid: "anonymous", RCrypto: 0, RCodec: 0},
		"000f 05 01 0009 616e6f6e796d6f7573 00 00"},
	{"Tping", Msg{Type: Tping, Tag: 7}, "0002 02 07"},
	{"Rping", Msg{Type: Rping, Tag: 7}, "0002 03 07"},
	{"Tgoodbye", Msg{Type: Tgoodbye, Tag: 255}, "0002 06 ff"},
	{"Tsync", Msg{Type: Tsync, Tag: 3}, "0002 10 03"},
	{"Rsync", Msg{Type: Rsync, Tag: 3}, "0002 11 03"},
	// A data read: type 0 travels as disk type 13; count 8192.
	{"Tread data", Msg{Type: Tread, Tag: 9, Score: b02, BlockType: DataType, Count: 8192},
		"001a 0c 09 6f2b89bb618db8de945d1b5304307895643ad340 0d 00 2000"},
	// A pointer read: DataType+1 travels as the first pointer type, 3.
	{"Tread pointer", Msg{Type: Tread, Tag: 9, Score: b02, BlockType: DirType + 1, Count: 0xffff},
		"001a 0c 09 6f2b89bb618db8de945d1b5304307895643ad340 03 00 ffff"},
	{"Tread root", Msg{Type: Tread, Tag: 2, Score: b02, BlockType: RootType, Count: 300},
		"001a 0c 02 6f2b89bb618db8de945d1b5304307895643ad340 01 00 012c"},
	{"Rread", Msg{Type: Rread, Tag: 9, Data: []byte("hello")}, "0007 0d 09 68656c6c6f"},
	{"Rread empty", Msg{Type: Rread, Tag: 9}, "0002 0d 09"},
	{"Twrite dir", Msg{Type: Twrite, Tag: 4, BlockType: DirType, Data: []byte{0xaa, 0xbb}},
		"0008 0e 04 02 000000 aabb"},
	{"Rwrite", Msg{Type: Rwrite, Tag: 4, Score: b02},
		"0016 0f 04 6f2b89bb618db8de945d1b5304307895643ad340"},
	{"Rerror", Msg{Type: Rerror, Tag: 5, Error: "lump too large"},
		"0012 01 05 000e 6c756d7020746f6f206c61726765"},
}

func TestMsgBytes(t *testing.T) {
	for _, v := range msgVectors {
		want := unhex(t, v.wire)
		got, err := v.m.Marshal(nil)
		if err != nil {
			t.Errorf("%s: marshal: %v", v.name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: marshal\n got %x\nwant %x", v.name, got, want)
		}
		m, err := ReadMsg(bytes.NewReader(want))
		if err != nil {
			t.Errorf("%s: unmarshal: %v", v.name, err)
			continue
		}
		norm := v.m
		if norm.Type == Tread && norm.BlockType.IsPointer() {
			norm.BlockType = DirType + Type(norm.BlockType.Depth())
		}
		if !reflect.DeepEqual(*m, norm) {
			t.Errorf("%s: unmarshal\n got %+v\nwant %+v", v.name, *m, norm)
		}
	}
}

// TestMsgWireTypes pins the block type numbers that cross the wire,
// which are not the ones venti(6) lists (see DiskType).
func TestMsgWireTypes(t *testing.T) {
	want := map[Type]byte{DataType: 13, DirType: 2, RootType: 1}
	for d := 1; d <= PointerDepth; d++ {
		want[DataType+Type(d)] = byte(2 + d)
		want[DirType+Type(d)] = byte(2 + d)
	}
	for ty, w := range want {
		b, err := (&Msg{Type: Twrite, BlockType: ty}).Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		if b[4] != w {
			t.Errorf("type %v: wire %d, want %d", ty, b[4], w)
		}
	}
}

func TestMsgMalformed(t *testing.T) {
	bad := []struct{ name, body string }{
		{"empty", ""},
		{"type only", "02"},
		{"unknown type", "63 01"},
		{"Tauth0", "08 01"},
		{"Tping with extra", "02 01 00"},
		{"Tread short", "0c 01 6f2b89bb"},
		{"Tread bad type", "0c 01 6f2b89bb618db8de945d1b5304307895643ad340 00 00 2000"},
		{"Tread unused type", "0c 01 6f2b89bb618db8de945d1b5304307895643ad340 0a 00 2000"},
		{"Twrite bad type", "0e 01 0e 000000 aa"},
		{"Twrite short pad", "0e 01 0d 00"},
		{"Thello short string", "04 01 0005 3032"},
		{"Thello long string", "04 01 0401" + strings.Repeat("41", 1025) + "0000 00 00 00"},
		{"Thello short crypto", "04 01 0002 3032 0000 00 05 01"},
		{"Rerror short", "01 01 00"},
		{"Rwrite short", "0f 01 6f2b"},
	}
	for _, b := range bad {
		_, err := UnmarshalMsg(unhex(t, b.body))
		var pe ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want a ProtocolError", b.name, err)
		}
	}
	// A frame cut short is an unexpected EOF, not a clean end.
	if _, err := ReadMsg(bytes.NewReader(unhex(t, "0010 02 01"))); err == nil || err.Error() != "unexpected EOF" {
		t.Errorf("short frame: %v", err)
	}
}

func TestMsgMarshalErrors(t *testing.T) {
	bad := []Msg{
		{Type: 99},
		{Type: Rerror, Error: strings.Repeat("x", MaxStringSize+1)},
		{Type: Twrite, BlockType: MaxType},
		{Type: Tread, BlockType: 200},
		{Type: Rread, Data: make([]byte, MaxMsgSize)},
		{Type: Thello, Crypto: make([]byte, 256)},
	}
	for _, m := range bad {
		if b, err := m.Marshal([]byte("keep")); err == nil || string(b) != "keep" {
			t.Errorf("%v: marshal = %q, %v; want error and buffer untouched", m.Type, b, err)
		}
	}
}

func FuzzUnmarshalMsg(f *testing.F) {
	for _, v := range msgVectors {
		f.Add(unhex(f, v.wire)[2:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := UnmarshalMsg(b)
		if err != nil {
			return
		}
		// What decodes must encode back to the same bytes, but for
		// the types that only decode to the DirType+n form.
		out, err := m.Marshal(nil)
		if err != nil {
			t.Fatalf("decoded %v but cannot encode it: %v", m, err)
		}
		if len(b) < MaxMsgSize && !bytes.Equal(out[2:], b) && m.Type != Tread && m.Type != Twrite {
			t.Fatalf("round trip of %x gave %x", b, out[2:])
		}
	})
}
