package vtstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// benchServer serves a fresh store over loopback and returns a client
// connection; 16 goroutines share it in the benchmarks, as an archiving
// fossil would. The arenas are large enough (2 GiB, sparse) that no
// arena fills and is sealed during a run: sealing reads and hashes a
// whole arena, a cost paid once per arena, not per block.
func benchServer(b *testing.B) (*Store, *venti.Conn) {
	s := open(b, formatVenti(b, b.TempDir(), 2<<30, 2<<30-1<<20, 64<<20))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &venti.Server{Handler: s, MaxRequests: 64}
	go srv.Serve(l)
	c, err := venti.Dial("tcp!127.0.0.1!" + itoa(l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(); srv.Close(); s.Close() })
	return s, c
}

func itoa(n int) string {
	var b [8]byte
	i := len(b)
	for n > 0 || i == len(b) {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// block returns 8 KiB of incompressible data made unique by n.
func block(n uint64) []byte {
	b := make([]byte, 8192)
	rand.Read(b)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func parallel(b *testing.B, fn func(i uint64)) {
	var next atomic.Uint64
	var wg sync.WaitGroup
	per := (b.N + 15) / 16
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < per; k++ {
				i := next.Add(1)
				if i > uint64(b.N) {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// The arenas hold 2 GiB: run with -benchtime=200000x or fewer.
func BenchmarkUniqueWrite8K(b *testing.B) {
	_, c := benchServer(b)
	ctx := context.Background()
	blocks := make([][]byte, b.N+1)
	for i := range blocks {
		blocks[i] = block(uint64(i))
	}
	b.SetBytes(8192)
	b.ResetTimer()
	parallel(b, func(i uint64) {
		if _, err := c.Write(ctx, venti.DataType, blocks[i]); err != nil {
			b.Error(err)
		}
	})
	if err := c.Sync(ctx); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkDuplicateWrite8K(b *testing.B) {
	_, c := benchServer(b)
	ctx := context.Background()
	blocks := make([][]byte, 256)
	for i := range blocks {
		blocks[i] = block(uint64(i))
		c.Write(ctx, venti.DataType, blocks[i])
	}
	c.Sync(ctx)
	b.SetBytes(8192)
	b.ResetTimer()
	parallel(b, func(i uint64) {
		if _, err := c.Write(ctx, venti.DataType, blocks[i%256]); err != nil {
			b.Error(err)
		}
	})
}

func BenchmarkRead8K(b *testing.B) {
	s, c := benchServer(b)
	ctx := context.Background()
	const n = 4000
	scores := make([]venti.Score, n)
	for i := range scores {
		scores[i], _ = c.Write(ctx, venti.DataType, block(uint64(i)))
	}
	c.Sync(ctx)
	s.FlushIndex()
	s.cache = newLumpCache(1 << 20) // read from the arena, not the cache
	b.SetBytes(8192)
	b.ResetTimer()
	parallel(b, func(i uint64) {
		if _, err := c.Read(ctx, scores[i%n], venti.DataType, 8192); err != nil {
			b.Error(err)
		}
	})
}

// BenchmarkStoreWrite8K measures the engine alone, without the protocol:
// 2 goroutines writing unique blocks straight into the store.
func BenchmarkStoreWrite8K(b *testing.B) {
	s := open(b, formatVenti(b, b.TempDir(), 1<<30, 256<<20, 64<<20))
	defer s.Close()
	ctx := context.Background()
	blocks := make([][]byte, b.N+1)
	for i := range blocks {
		blocks[i] = block(uint64(i))
	}
	b.SetBytes(8192)
	b.ResetTimer()
	var next atomic.Uint64
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			if _, err := s.Write(ctx, venti.DataType, blocks[i%uint64(len(blocks))]); err != nil {
				b.Error(err)
			}
		}
	})
	if err := s.Sync(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFlushIndex measures index flushes as a busy store makes
// them: 20,000 new entries into an index of 8,192 buckets, so that most
// buckets take two or three entries. Writing the blocks is not timed.
// ns/op is per flush; the entries/s figure is the rate of the flush.
func BenchmarkFlushIndex(b *testing.B) {
	s := open(b, formatVenti(b, b.TempDir(), 2<<30, 2<<30-1<<20, 64<<20))
	defer s.Close()
	ctx := context.Background()
	const per = 20000
	data := block(0)
	var n uint64
	var flushed int
	for b.Loop() {
		b.StopTimer()
		for range per {
			n++
			binary.BigEndian.PutUint64(data, n)
			if _, err := s.Write(ctx, venti.DataType, data); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := s.FlushIndex(); err != nil {
			b.Fatal(err)
		}
		flushed += per
	}
	b.ReportMetric(float64(flushed)/b.Elapsed().Seconds(), "entries/s")
}
