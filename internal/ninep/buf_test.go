package ninep

import (
	"bytes"
	"testing"

	"9fans.net/go/plan9"
)

// TestPackRread: the pooled Rread is the message 9fans.net/go packs.
func TestPackRread(t *testing.T) {
	for _, n := range []int{0, 1, 100, 8192, 65536} {
		data := bytes.Repeat([]byte{byte(n), 7}, n/2+1)[:n]
		rx := &plan9.Fcall{Type: plan9.Rread, Tag: uint16(n + 3), Data: data}
		want, err := rx.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		p := packRread(rx)
		if !bytes.Equal(*p, want) {
			t.Errorf("%d bytes: packed %x..., want %x...", n, (*p)[:rreadHeader], want[:rreadHeader])
		}
		putBuf(p)
		back, err := plan9.UnmarshalFcall(want)
		if err != nil || !bytes.Equal(back.Data, data) || back.Tag != rx.Tag {
			t.Errorf("%d bytes: unpacked %v, %v", n, back, err)
		}
	}
}

// TestPackRreadIn: data read where getReadBuf put it is packed in place,
// as packRread packs it; data anywhere else is left to packRread.
func TestPackRreadIn(t *testing.T) {
	for _, n := range []int{1, 100, 8192} {
		p, buf := getReadBuf(n + 10)
		for i := range buf[:n] {
			buf[i] = byte(i*7 + n)
		}
		rx := &plan9.Fcall{Type: plan9.Rread, Tag: uint16(n), Data: buf[:n]}
		want, err := rx.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		b := packRreadIn(rx, p)
		if !bytes.Equal(b, want) {
			t.Errorf("%d bytes: packed in place %x..., want %x...", n, b[:min(len(b), rreadHeader)], want[:rreadHeader])
		}
		if len(b) > 0 && &b[rreadHeader] != &buf[0] {
			t.Errorf("%d bytes: data copied, not packed in place", n)
		}
		elsewhere := &plan9.Fcall{Type: plan9.Rread, Data: append([]byte(nil), buf[:n]...)}
		if b := packRreadIn(elsewhere, p); b != nil {
			t.Errorf("%d bytes: data outside the buffer packed in it", n)
		}
		if b := packRreadIn(&plan9.Fcall{Type: plan9.Rread, Data: buf[1 : n+1]}, p); b != nil {
			t.Errorf("%d bytes: data not after the header's room packed in place", n)
		}
		putBuf(p)
	}
	if b := packRreadIn(&plan9.Fcall{Type: plan9.Rread, Data: []byte("x")}, nil); b != nil {
		t.Error("packed into no buffer")
	}
}

// TestGetBufReuse: a buffer given back is handed out again, resized, and
// a request for more than it holds gets a new one.
func TestGetBufReuse(t *testing.T) {
	p := getBuf(100)
	if len(*p) != 100 {
		t.Fatalf("getBuf(100): %d bytes", len(*p))
	}
	putBuf(p)
	q := getBuf(1 << 20)
	if len(*q) != 1<<20 {
		t.Fatalf("getBuf(1M): %d bytes", len(*q))
	}
	putBuf(nil)
}
