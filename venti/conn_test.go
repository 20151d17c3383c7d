package venti_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
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

// startServer serves h on a loopback port and returns its address.
func startServer(t testing.TB, h venti.Handler) (string, *venti.Server) {
	t.Helper()
	// Through venti.Listen, as the venti command listens: on Linux the
	// server's connections take the raw calls of package rawsock.
	l, err := venti.Listen("tcp!127.0.0.1!0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &venti.Server{Handler: h, Logf: t.Logf}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "tcp!127.0.0.1!" + fmt.Sprint(l.Addr().(*net.TCPAddr).Port), srv
}

func dial(t testing.TB, addr string) *venti.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := venti.DialContext(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestReadWriteSync(t *testing.T) {
	store := &vtmem.Store{}
	addr, _ := startServer(t, store)
	c := dial(t, addr)
	ctx := context.Background()

	if c.Version != "02" || c.Sid != "anonymous" {
		t.Errorf("session: version %q sid %q", c.Version, c.Sid)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	data := []byte("hello, venti")
	score, err := c.Write(ctx, venti.DataType, data)
	if err != nil {
		t.Fatal(err)
	}
	if score != venti.Fingerprint(data) {
		t.Errorf("score %v", score)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := c.Read(ctx, score, venti.DataType, 100)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read = %q, %v", got, err)
	}
	// The same bytes as another type are another block.
	if _, err := c.Read(ctx, score, venti.DirType, 100); err == nil {
		t.Error("read with the wrong type succeeded")
	}
	// A count smaller than the block is refused by the server.
	if _, err := c.Read(ctx, score, venti.DataType, 5); err == nil {
		t.Error("read with a small count succeeded")
	}
	// Pointer types: written as DataType+1, readable as DirType+1 too,
	// since both travel as the same wire type.
	p1, err := c.Write(ctx, venti.DataType+1, score[:])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(ctx, p1, venti.DirType+1, 0); err != nil {
		t.Errorf("pointer block read as DirType+1: %v", err)
	}
	// The zero-length block is never sent.
	n := store.Len()
	z, err := c.Write(ctx, venti.DataType, nil)
	if err != nil || z != venti.ZeroScore || store.Len() != n {
		t.Errorf("empty write: %v %v, store %d -> %d blocks", z, err, n, store.Len())
	}
	if b, err := c.Read(ctx, venti.ZeroScore, venti.DataType, 0); err != nil || len(b) != 0 {
		t.Errorf("zero score read: %q %v", b, err)
	}
	// Lumps above 56 KiB are refused with the C venti's words.
	_, err = c.Write(ctx, venti.DataType, make([]byte, venti.MaxLumpSize+1))
	if err == nil || err.Error() != "lump too large" {
		t.Errorf("large write: %v", err)
	}
	if _, err := c.Write(ctx, venti.DataType, make([]byte, venti.MaxLumpSize)); err != nil {
		t.Errorf("largest write: %v", err)
	}
	if store.Syncs() != 1 {
		t.Errorf("store saw %d syncs", store.Syncs())
	}
}

// slowStore answers reads of a block after a delay that the test sets per
// block, so that replies come back in another order than the requests.
type slowStore struct {
	vtmem.Store
	delay map[venti.Score]time.Duration
}

func (s *slowStore) Read(ctx context.Context, score venti.Score, t venti.Type, n int) ([]byte, error) {
	select {
	case <-time.After(s.delay[score]):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Store.Read(ctx, score, t, n)
}

func TestConcurrentOutOfOrder(t *testing.T) {
	store := &slowStore{delay: map[venti.Score]time.Duration{}}
	addr, _ := startServer(t, store)
	c := dial(t, addr)
	ctx := context.Background()

	const n = 200
	blocks := make([][]byte, n)
	scores := make([]venti.Score, n)
	for i := range blocks {
		blocks[i] = []byte(fmt.Sprintf("block %d %s", i, strings.Repeat("x", i)))
		s, err := c.Write(ctx, venti.DataType, blocks[i])
		if err != nil {
			t.Fatal(err)
		}
		scores[i] = s
		// Earlier requests wait longest, so they are answered last.
		store.delay[s] = time.Duration(n-i) * 100 * time.Microsecond
	}
	var order []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range blocks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := c.Read(ctx, scores[i], venti.DataType, 0)
			if err != nil || !bytes.Equal(b, blocks[i]) {
				t.Errorf("read %d: %q, %v", i, b, err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}()
	}
	wg.Wait()
	inOrder := true
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			inOrder = false
		}
	}
	if inOrder {
		t.Log("replies happened to come back in request order")
	}
}

// blockingStore never answers reads until released.
type blockingStore struct {
	vtmem.Store
	release chan struct{}
	started chan struct{}
}

func (s *blockingStore) Read(ctx context.Context, score venti.Score, t venti.Type, n int) ([]byte, error) {
	s.started <- struct{}{}
	<-s.release
	return s.Store.Read(ctx, score, t, n)
}

func TestCancel(t *testing.T) {
	store := &blockingStore{release: make(chan struct{}), started: make(chan struct{}, 300)}
	addr, _ := startServer(t, store)
	c := dial(t, addr)
	bg := context.Background()
	score, _ := c.Write(bg, venti.DataType, []byte("x"))

	ctx, cancel := context.WithCancel(bg)
	errc := make(chan error)
	go func() {
		_, err := c.Read(ctx, score, venti.DataType, 0)
		errc <- err
	}()
	<-store.started
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled read: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled read did not return")
	}
	// The connection still works; the late reply is dropped.
	close(store.release)
	if b, err := c.Read(bg, score, venti.DataType, 0); err != nil || string(b) != "x" {
		t.Errorf("read after cancel: %q %v", b, err)
	}
	if err := c.Ping(bg); err != nil {
		t.Error(err)
	}
	// A context that has ended before the call sends nothing.
	if _, err := c.Read(ctx, score, venti.DataType, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("read with ended context: %v", err)
	}
}

// TestTagsRecycled runs more requests than there are tags, some of them
// abandoned, and checks every tag comes back.
func TestTagsRecycled(t *testing.T) {
	addr, _ := startServer(t, &vtmem.Store{})
	c := dial(t, addr)
	bg := context.Background()
	for i := 0; i < 1000; i++ {
		ctx, cancel := context.WithCancel(bg)
		if i%3 == 0 {
			cancel()
		}
		c.Ping(ctx)
		cancel()
	}
	ctx, cancel := context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 256; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Ping(ctx); err != nil {
				t.Errorf("ping: %v", err)
			}
		}()
	}
	wg.Wait()
}

// TestServerDies has the server vanish with requests outstanding: every
// request fails, none hangs.
func TestServerDies(t *testing.T) {
	store := &blockingStore{release: make(chan struct{}), started: make(chan struct{}, 300)}
	addr, srv := startServer(t, store)
	c := dial(t, addr)
	bg := context.Background()
	score, _ := c.Write(bg, venti.DataType, []byte("x"))
	errc := make(chan error, 10)
	for i := 0; i < 10; i++ {
		go func() {
			_, err := c.Read(bg, score, venti.DataType, 0)
			errc <- err
		}()
	}
	for i := 0; i < 10; i++ {
		<-store.started
	}
	go srv.Close()
	for i := 0; i < 10; i++ {
		select {
		case err := <-errc:
			if err == nil {
				t.Error("read succeeded on a dead server")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("request hung after the server died")
		}
	}
	close(store.release)
	if err := c.Ping(bg); err == nil {
		t.Error("ping succeeded on a dead connection")
	}
}

// rawSession connects without the client, exchanges versions and hello,
// so a test can send whatever bytes it likes.
func rawSession(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", strings.Replace(strings.TrimPrefix(addr, "tcp!"), "!", ":", 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(nc, "venti-02-libventi\n")
	br := bufio.NewReader(nc)
	line, err := br.ReadString('\n')
	if err != nil || line != "venti-02-libventi\n" {
		t.Fatalf("server version line %q, %v", line, err)
	}
	venti.WriteMsg(nc, &venti.Msg{Type: venti.Thello, Version: "02", Uid: "test"})
	if m, err := venti.ReadMsg(br); err != nil || m.Type != venti.Rhello {
		t.Fatalf("hello: %v %v", m, err)
	}
	return nc, br
}

// TestMalformedEndsConnection: a bad message from a client ends that
// connection (a ping sent after it gets no answer), and the server goes
// on serving others.
func TestMalformedEndsConnection(t *testing.T) {
	addr, _ := startServer(t, &vtmem.Store{})
	ping := []byte{0x00, 0x02, 0x02, 0x09}
	for _, bad := range [][]byte{
		{0x00, 0x02, 0x63, 0x01},                                    // unknown type
		{0x00, 0x03, 0x02, 0x01, 0x00},                              // Tping with a stray byte
		{0x00, 0x02, 0x05, 0x01},                                    // an R-message from the client
		{0x00, 0x02, 0x04, 0x01},                                    // a second Thello, cut short
		append([]byte{0x00, 0x1a, 0x0c, 0x01}, make([]byte, 24)...), // Tread of type 0, illegal
		{0x00, 0x1a, 0x0c, 0x01},                                    // Tread cut short by the end of the stream
	} {
		nc, br := rawSession(t, addr)
		nc.Write(append(bad, ping...))
		nc.(*net.TCPConn).CloseWrite()
		if m, err := venti.ReadMsg(br); err == nil {
			t.Errorf("after %x the server answered %v", bad, m)
		}
	}
	c := dial(t, addr)
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("server unusable after bad clients: %v", err)
	}
}

func TestVersionNegotiation(t *testing.T) {
	addr, _ := startServer(t, &vtmem.Store{})
	hp := strings.Replace(strings.TrimPrefix(addr, "tcp!"), "!", ":", 1)
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{"venti-02-libventi\n", true},
		{"venti-04:02-plan9port\n", true},
		{"venti-01-old\n", false},
		{"vent1-02-x\n", false},
		{"venti-02-\x01\n", false},
	} {
		nc, err := net.Dial("tcp", hp)
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(nc, tc.line)
		br := bufio.NewReader(nc)
		br.ReadString('\n')
		venti.WriteMsg(nc, &venti.Msg{Type: venti.Thello, Version: "02", Uid: "u"})
		m, err := venti.ReadMsg(br)
		if ok := err == nil && m.Type == venti.Rhello; ok != tc.ok {
			t.Errorf("%q: hello answered %v, %v", tc.line, m, err)
		}
		nc.Close()
	}
}

// TestSyncAfterWrites: a sync is answered only after the writes sent
// before it on the connection have been handled.
func TestSyncAfterWrites(t *testing.T) {
	store := &countingStore{}
	addr, _ := startServer(t, store)
	c := dial(t, addr)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Write(ctx, venti.DataType, []byte(fmt.Sprint("w", i)))
		}()
	}
	wg.Wait()
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := store.syncedWrites(); got != 50 {
		t.Errorf("sync saw %d writes done, want 50", got)
	}
}

type countingStore struct {
	vtmem.Store
	mu         sync.Mutex
	done       int
	atLastSync int
}

func (s *countingStore) Write(ctx context.Context, t venti.Type, b []byte) (venti.Score, error) {
	time.Sleep(time.Millisecond)
	sc, err := s.Store.Write(ctx, t, b)
	s.mu.Lock()
	s.done++
	s.mu.Unlock()
	return sc, err
}

func (s *countingStore) Sync(ctx context.Context) error {
	s.mu.Lock()
	s.atLastSync = s.done
	s.mu.Unlock()
	return nil
}

func (s *countingStore) syncedWrites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.atLastSync
}

// TestNoGoroutineLeak opens and closes sessions and checks the goroutine
// count settles back.
func TestNoGoroutineLeak(t *testing.T) {
	addr, _ := startServer(t, &vtmem.Store{})
	before := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		c, err := venti.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(context.Background(), venti.DataType, []byte{byte(i)})
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("%d goroutines before, %d after", before, n)
	}
}

func BenchmarkWrite8K(b *testing.B) {
	addr, _ := startServer(b, &vtmem.Store{})
	c := dial(b, addr)
	ctx := context.Background()
	b.SetBytes(8192)
	b.SetParallelism(16) // many goroutines sharing one connection
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 8192)
		for pb.Next() {
			rand.Read(buf[:16])
			if _, err := c.Write(ctx, venti.DataType, buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRead8K(b *testing.B) {
	addr, _ := startServer(b, &vtmem.Store{})
	c := dial(b, addr)
	ctx := context.Background()
	var scores []venti.Score
	for i := 0; i < 1024; i++ {
		buf := make([]byte, 8192)
		rand.Read(buf)
		s, err := c.Write(ctx, venti.DataType, buf)
		if err != nil {
			b.Fatal(err)
		}
		scores = append(scores, s)
	}
	b.SetBytes(8192)
	b.SetParallelism(16)
	b.ResetTimer()
	var mu sync.Mutex
	next := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			s := scores[next%len(scores)]
			next++
			mu.Unlock()
			if _, err := c.Read(ctx, s, venti.DataType, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// lyingStore answers every read with the same bytes, whatever the score.
type lyingStore struct{ vtmem.Store }

func (l *lyingStore) Read(ctx context.Context, s venti.Score, t venti.Type, count int) ([]byte, error) {
	return []byte("not the block you asked for"), nil
}

// TestReadChecksScore: a read returns only data that hashes to the
// score asked for; fossil relies on it and does not hash again.
func TestReadChecksScore(t *testing.T) {
	c := dial(t, func() string { a, _ := startServer(t, &lyingStore{}); return a }())
	score := venti.Fingerprint([]byte("the block"))
	got, err := c.Read(context.Background(), score, venti.DataType, 100)
	if err == nil || !strings.Contains(err.Error(), score.String()) {
		t.Fatalf("read of a block the server lies about = %q, %v; want an error naming the score", got, err)
	}
}
