package venti_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/venti"
)

// FuzzRedialReplies: whatever a server sends after the handshake, a
// redialing Conn's requests end (with an error or an answer) and
// nothing panics; the redialer parses the replies to match them with
// the requests it may have to send again.
func FuzzRedialReplies(f *testing.F) {
	sync, _ := (&venti.Msg{Type: venti.Rsync, Tag: 0}).Marshal(nil)
	f.Add(sync)
	f.Add([]byte{0, 2, byte(venti.Rread), 1})
	f.Add([]byte{0xff, 0xff, 0})
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, replies []byte) {
		served := make(chan struct{})
		dials := 0
		dial := func(ctx context.Context) (io.ReadWriteCloser, error) {
			dials++
			if dials > 1 {
				return nil, io.ErrUnexpectedEOF // the server is gone for good
			}
			cli, srv := net.Pipe()
			go fakeServer(srv, replies, served)
			return cli, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := venti.NewRedialConn(ctx, dial)
		if err != nil {
			t.Fatalf("handshake with the fake server: %v", err)
		}
		defer c.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Sync(ctx)
			c.Read(ctx, venti.ZeroScore, venti.DataType, 100)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("requests hang after the replies")
		}
		<-served
	})
}

// fakeServer shakes hands as a venti server, then, once the first
// request comes, sends replies raw and hangs up.
func fakeServer(nc net.Conn, replies []byte, served chan<- struct{}) {
	defer close(served)
	defer nc.Close()
	br := bufio.NewReader(nc)
	go io.WriteString(nc, "venti-02-fuzz\n")
	if _, err := br.ReadString('\n'); err != nil {
		return
	}
	if _, err := venti.ReadMsg(br); err != nil { // Thello
		return
	}
	if err := venti.WriteMsg(nc, &venti.Msg{Type: venti.Rhello, Sid: "fuzz"}); err != nil {
		return
	}
	// After the Conn's first request, so that its own hello (which
	// the redialer answers) is over.
	if _, err := venti.ReadMsg(br); err != nil {
		return
	}
	go io.Copy(io.Discard, br)
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	nc.Write(replies)
}
