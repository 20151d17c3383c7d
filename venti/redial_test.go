package venti_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/vtmem"
	"github.com/plan9fossil/fossil/venti"
)

// serveAt serves h on a listener at addr (host:port, port 0 for any)
// and returns the listener's address.
func serveAt(t *testing.T, h venti.Handler, addr string) (string, *venti.Server) {
	t.Helper()
	var l net.Listener
	var err error
	for range 50 { // the port may linger a moment after a close
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := &venti.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), srv
}

// cutter dials addr and can break every connection it made, as a
// network failure would, while the server goes on.
type cutter struct {
	addr  string
	mu    sync.Mutex
	conns []net.Conn
	dials int
}

func (c *cutter) dial(ctx context.Context) (io.ReadWriteCloser, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dials++
	if err == nil {
		c.conns = append(c.conns, nc)
	}
	return nc, err
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, nc := range c.conns {
		nc.Close()
	}
	c.conns = nil
}

// TestRedialServerRestarts stops the server under a redialing Conn and
// starts it again on the same address: while it is away requests fail
// at once, saying so; once it is back they work, on a new connection;
// the first Sync after the break fails, since the writes the old server
// acknowledged may not have reached its disk, and the next succeeds.
func TestRedialServerRestarts(t *testing.T) {
	store := &vtmem.Store{}
	addr, srv := serveAt(t, store, "127.0.0.1:0")
	ctx := context.Background()
	c, err := venti.DialRedial(ctx, "tcp!"+strings.Replace(addr, ":", "!", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Sid != "anonymous" || c.Version != "02" {
		t.Errorf("session: sid %q version %q", c.Sid, c.Version)
	}
	data := []byte("before the restart")
	score, err := c.Write(ctx, venti.DataType, data)
	if err != nil {
		t.Fatal(err)
	}

	srv.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		start := time.Now()
		err := c.Ping(ctx)
		if venti.IsUnavailable(err) {
			if d := time.Since(start); d > time.Second {
				t.Errorf("a request to an absent server took %v", d)
			}
			break
		}
		if err != nil {
			t.Fatalf("ping while the server is away: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("requests still succeed with the server gone")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := c.Read(ctx, score, venti.DataType, 0); !venti.IsUnavailable(err) {
		t.Errorf("read while the server is away: %v", err)
	}

	serveAt(t, store, addr)
	deadline = time.Now().Add(5 * time.Second)
	for c.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the server came back but requests still fail")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b, err := c.Read(ctx, score, venti.DataType, 0); err != nil || !bytes.Equal(b, data) {
		t.Errorf("read after the restart: %q %v", b, err)
	}
	if err := c.Sync(ctx); err == nil || !strings.Contains(err.Error(), "must be written again") {
		t.Errorf("first sync after losing acknowledged writes: %v", err)
	}
	if _, err := c.Write(ctx, venti.DataType, data); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(ctx); err != nil {
		t.Errorf("second sync: %v", err)
	}
	if c.Err() != nil {
		t.Errorf("the Conn failed: %v", c.Err())
	}
}

// TestRedialReplays breaks the connection while requests wait for
// their replies, with the server still there: the redialer connects
// again at once and sends them again, and they succeed. A Sync after
// writes all synced before the break is not refused.
func TestRedialReplays(t *testing.T) {
	store := &blockingStore{release: make(chan struct{}), started: make(chan struct{}, 300)}
	addr, _ := serveAt(t, store, "127.0.0.1:0")
	cu := &cutter{addr: addr}
	ctx := context.Background()
	c, err := venti.NewRedialConn(ctx, cu.dial)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 20
	var scores []venti.Score
	for i := range n {
		s, err := c.Write(ctx, venti.DataType, []byte{byte(i), 'x'})
		if err != nil {
			t.Fatal(err)
		}
		scores = append(scores, s)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, n)
	for i := range n {
		go func() {
			b, err := c.Read(ctx, scores[i], venti.DataType, 0)
			if err == nil && !bytes.Equal(b, []byte{byte(i), 'x'}) {
				err = io.ErrUnexpectedEOF
			}
			errc <- err
		}()
	}
	for range n {
		<-store.started
	}
	cu.cut()
	// The requests are sent again on a new connection.
	for range n {
		select {
		case <-store.started:
		case <-time.After(5 * time.Second):
			t.Fatal("the requests were not sent again")
		}
	}
	close(store.release)
	for range n {
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("read across the break: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a read hung across the break")
		}
	}
	if err := c.Sync(ctx); err != nil {
		t.Errorf("sync after a break with nothing unsynced: %v", err)
	}
	cu.mu.Lock()
	dials := cu.dials
	cu.mu.Unlock()
	if dials != 2 {
		t.Errorf("%d dials, want 2", dials)
	}
}

// TestRedialNoLeak: a Conn closed while its server is away leaves no
// goroutine redialing.
func TestRedialNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	store := &vtmem.Store{}
	addr, srv := serveAt(t, store, "127.0.0.1:0")
	cu := &cutter{addr: addr}
	for range 10 {
		c, err := venti.NewRedialConn(context.Background(), cu.dial)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(context.Background(), venti.DataType, []byte("x"))
		c.Close()
	}
	c, err := venti.NewRedialConn(context.Background(), cu.dial)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	c.Ping(context.Background())
	time.Sleep(300 * time.Millisecond) // a redial or two
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("%d goroutines before, %d after", before, n)
	}
}
