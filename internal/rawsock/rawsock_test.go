//go:build linux

package rawsock

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pair returns the two ends of a connection of the given network over a
// loopback address or a socket in a temporary directory, both wrapped.
func pair(t testing.TB, network string) (client, server net.Conn) {
	t.Helper()
	addr := "127.0.0.2:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "sock")
	}
	nl, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	l := Listener(nl)
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	c, err := net.Dial(network, nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client = Wrap(c)
	server = <-accepted
	if server == nil {
		t.FailNow()
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestWrapsSockets(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		c, s := pair(t, network)
		for _, x := range []net.Conn{c, s} {
			w, ok := x.(*conn)
			if !ok {
				t.Fatalf("%s: not wrapped: %T", network, x)
			}
			if w.NetConn() != w.socket {
				t.Errorf("%s: NetConn is not the wrapped connection", network)
			}
		}
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if Wrap(a) != a {
		t.Errorf("a pipe, which has no socket, was wrapped")
	}
	// Datagrams keep the net package's rules (an empty datagram is not
	// the end of a stream).
	g, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "g"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if Wrap(g) != net.Conn(g) {
		t.Errorf("a datagram socket was wrapped")
	}
}

// TestStream sends 16 MiB each way at once in writes of random sizes up
// to 1 MiB, far more than a socket buffer holds, so that writes wait for
// room and reads find partial data; both ends must get every byte in
// order.
func TestStream(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			c, s := pair(t, network)
			// A broken stream fails the test instead of hanging it.
			c.SetDeadline(time.Now().Add(20 * time.Second))
			s.SetDeadline(time.Now().Add(20 * time.Second))
			const size = 16 << 20
			r := rand.New(rand.NewPCG(1, 2))
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			send := func(w net.Conn, seed uint64) error {
				r := rand.New(rand.NewPCG(seed, 0))
				for off := 0; off < size; {
					n := min(1+r.IntN(1<<20), size-off)
					m, err := w.Write(data[off : off+n])
					if err != nil || m != n {
						return errors.Join(err, io.ErrShortWrite)
					}
					off += n
				}
				return nil
			}
			errs := make(chan error, 2)
			go func() { errs <- send(c, 3) }()
			go func() { errs <- send(s, 4) }()
			for _, x := range []net.Conn{s, c} {
				got := make([]byte, size)
				if _, err := io.ReadFull(x, got); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("%s: the bytes read differ from those written", network)
				}
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestEOFAndHalfClose(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		c, s := pair(t, network)
		c.SetDeadline(time.Now().Add(20 * time.Second))
		s.SetDeadline(time.Now().Add(20 * time.Second))
		c.Write([]byte("last"))
		if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(s)
		if err != nil || string(b) != "last" {
			t.Errorf("%s: read %q, %v; want \"last\" then EOF", network, b, err)
		}
		// The other direction still works.
		s.Write([]byte("reply"))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "reply" {
			t.Errorf("%s: after CloseWrite read %q, %v", network, buf, err)
		}
	}
}

func TestDeadline(t *testing.T) {
	c, _ := pair(t, "tcp")
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	start := time.Now()
	_, err := c.Read(make([]byte, 10))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the read waited %v past a deadline 20ms away", d)
	}
	// A writer blocked on a full buffer gives up at its deadline too.
	c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	big := make([]byte, 64<<20)
	n, err := c.Write(big)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n >= len(big) {
		t.Fatalf("write to a peer that never reads: %d bytes, %v; want a timeout", n, err)
	}
}

func TestCloseWakesReader(t *testing.T) {
	c, _ := pair(t, "tcp")
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("read on a closed connection: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a waiting Read")
	}
}

func TestPeerReset(t *testing.T) {
	c, s := pair(t, "tcp")
	// Unread data at close makes the kernel send a reset.
	s.Write([]byte("unread"))
	time.Sleep(10 * time.Millisecond)
	c.(*conn).socket.(*net.TCPConn).SetLinger(0)
	c.Close()
	var err error
	for range 100 {
		if _, err = s.Write(make([]byte, 1024)); err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "write" || oe.Net != "tcp" {
		t.Fatalf("write to a reset connection: %v, want a write error", err)
	}
}

func TestEmptyAndClosed(t *testing.T) {
	c, s := pair(t, "tcp")
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Errorf("empty read: %d, %v", n, err)
	}
	if n, err := c.Write(nil); n != 0 || err != nil {
		t.Errorf("empty write: %d, %v", n, err)
	}
	s.Close()
	for what, op := range map[string]func([]byte) (int, error){"read": s.Read, "write": s.Write} {
		for _, p := range [][]byte{nil, make([]byte, 10)} {
			if n, err := op(p); n != 0 || !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s of %d bytes after Close: %d, %v; want net.ErrClosed", what, len(p), n, err)
			}
		}
	}
}

// TestConcurrentWrites has 8 goroutines write 1 MiB messages at once,
// each several raw calls long: like the net package's, a Write must not
// interleave with another.
func TestConcurrentWrites(t *testing.T) {
	c, s := pair(t, "tcp")
	c.SetDeadline(time.Now().Add(20 * time.Second))
	s.SetDeadline(time.Now().Add(20 * time.Second))
	const writers, each, size = 8, 4, 1 << 20
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			msg := bytes.Repeat([]byte{byte(w)}, size)
			for range each {
				if _, err := c.Write(msg); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	msg := make([]byte, size)
	for range writers * each {
		if _, err := io.ReadFull(s, msg); err != nil {
			t.Fatal(err)
		}
		for i, b := range msg {
			if b != msg[0] {
				t.Fatalf("a message from writer %d has writer %d's byte at %d", msg[0], b, i)
			}
		}
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
