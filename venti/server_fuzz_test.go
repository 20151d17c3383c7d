package venti

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// nullHandler answers every request without storing anything.
type nullHandler struct{}

func (nullHandler) Read(ctx context.Context, s Score, t Type, n int) ([]byte, error) {
	return []byte("block"), nil
}
func (nullHandler) Write(ctx context.Context, t Type, b []byte) (Score, error) {
	return Fingerprint(b), nil
}
func (nullHandler) Sync(ctx context.Context) error { return nil }

// FuzzServeConn feeds arbitrary bytes to a live server connection after
// a proper hello: whatever comes, the server must not panic and must end
// the session when the client hangs up.
func FuzzServeConn(f *testing.F) {
	f.Add([]byte{0x00, 0x02, 0x02, 0x01})
	f.Add([]byte{0x00, 0x02, 0x10, 0x01, 0x00, 0x02, 0x06, 0x00})
	f.Add(append([]byte{0x00, 0x1a, 0x0c, 0x05}, make([]byte, 24)...))
	f.Add([]byte{0x00, 0x08, 0x0e, 0x04, 0x0d, 0, 0, 0, 'h', 'i'})
	f.Add([]byte{0xff, 0xff, 0x0e})
	f.Fuzz(func(t *testing.T, input []byte) {
		cli, srv := net.Pipe()
		s := &Server{Handler: nullHandler{}}
		done := make(chan error, 1)
		go func() { done <- s.ServeConn(context.Background(), srv) }()
		go io.Copy(io.Discard, cli) // the server's replies
		hello, _ := (&Msg{Type: Thello, Version: "02", Uid: "fuzz"}).Marshal([]byte(versionLine))
		cli.SetWriteDeadline(time.Now().Add(2 * time.Second))
		cli.Write(hello)
		cli.Write(input)
		cli.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("server did not end the session on %x", input)
		}
	})
}

// TestReadVersionLineLimit: a peer that never ends its version line is
// cut off at MaxStringSize, not buffered without bound.
func TestReadVersionLineLimit(t *testing.T) {
	r := bufio.NewReader(io.MultiReader(
		strings.NewReader("venti-"), infiniteReader('0')))
	if _, err := readVersionLine(r); err != errVersion {
		t.Errorf("err = %v", err)
	}
}

type infiniteReader byte

func (b infiniteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
