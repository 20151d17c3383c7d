package vtstore

import (
	"context"
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/venti"
)

// liveHeap is the heap's live bytes after a collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestMemoryBounded writes twelve times as many blocks as pending
// entries may wait for their buckets, so that index flushes run again
// and again, then reads blocks back through the index so that the index
// cache fills, and checks that the store holds no more than its
// configuration says: the lump cache, icmem (pending entries and the
// index cache together) and the bloom filter; the write-behind is idle
// after a sync. Many flushes, since Go's maps grow when deletions fill
// them with markers, however few entries they hold. Pending entries used to take
// icmem's half as a start and grow to twice icmem, beside an index cache
// of its other half, and keep that memory after a flush: under the
// server's memory limit the collector then ran without pause, and reads
// after an arena filled took four times as long.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 460,000 blocks")
	}
	cfg := formatVenti(t, t.TempDir(), 512<<20, 256<<20, 64<<20)
	before := liveHeap()
	opt := Options{LumpCache: 1 << 20, IndexCache: 8 << 20, Logf: t.Logf}
	s, err := Open(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	n := 12 * s.pendingMax
	// Small blocks: the index entries are the point, not the log.
	block := func(i int) []byte {
		b := make([]byte, 40)
		binary.BigEndian.PutUint64(b, uint64(i))
		return b
	}
	maxPending := 0
	for i := range n {
		if _, err := s.Write(ctx, venti.DataType, block(i)); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 {
			// As fossil's archiver syncs, so that the arena's
			// directory entries waiting for a flush stay few.
			if err := s.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			maxPending = max(maxPending, len(s.pending))
			s.mu.Unlock()
		}
	}
	if f := s.Stats.IndexFlushes.Load(); f < 15 {
		t.Fatalf("%d index flushes while writing %d blocks: the test does not reach its point", f, n)
	}
	if maxPending > s.pendingMax+pendingSlack {
		t.Errorf("%d entries pending, more than their share of icmem (%d)", maxPending, s.pendingMax)
	}
	if err := s.FlushIndex(); err != nil {
		t.Fatal(err)
	}
	// Reads of blocks flushed long ago go to their buckets and fill the
	// index cache.
	for i := 0; i < n; i += 2 {
		b := block(i)
		if _, err := s.Read(ctx, venti.Fingerprint(b), venti.DataType, len(b)); err != nil {
			t.Fatal(err)
		}
	}
	used := liveHeap() - before
	allowed := opt.LumpCache + opt.IndexCache + int64(len(s.bloom.Data))
	t.Logf("live heap %.1f MiB for %.1f MiB configured; %d index flushes, at most %d entries pending",
		float64(used)/(1<<20), float64(allowed)/(1<<20), s.Stats.IndexFlushes.Load(), maxPending)
	// 2 MiB of room for the rest: the arenas' directories waiting for
	// a sync, write-behind chunks kept for reuse, the store's own
	// structures.
	if used > allowed+2<<20 {
		t.Errorf("live heap %.1f MiB, more than the %.1f MiB configured and 2 MiB of room",
			float64(used)/(1<<20), float64(allowed)/(1<<20))
	}
}

// TestEntryMemory holds the costs that share icmem to what the maps
// take: a map made for n entries, filled, at the sizes where Go's
// power-of-two tables leave the most room unused and the least.
func TestEntryMemory(t *testing.T) {
	for n := 1000; n < 250000; n = n * 23 / 20 {
		before := liveHeap()
		m := newPending(n)
		for i := range n {
			var k key
			binary.BigEndian.PutUint64(k.score[:], uint64(i))
			m[k] = loc{addr: uint64(i)}
		}
		perPending := float64(liveHeap()-before) / float64(n)
		runtime.KeepAlive(m)

		before = liveHeap()
		c := newICache(n)
		for i := range n {
			var k key
			binary.BigEndian.PutUint64(k.score[:], uint64(i))
			c.put(k, loc{addr: uint64(i)})
		}
		perCached := float64(liveHeap()-before) / float64(n)
		runtime.KeepAlive(c)

		// A pending entry's share also pays for its vtdisk.IEntry copy
		// while a flush sorts it: 48 bytes.
		if perPending > pendingEntryMemory-48 {
			t.Errorf("%d pending entries take %.0f bytes each; pendingEntryMemory allows %d", n, perPending, pendingEntryMemory-48)
		}
		if perCached > cachedEntryMemory {
			t.Errorf("%d cached entries take %.0f bytes each; cachedEntryMemory allows %d", n, perCached, cachedEntryMemory)
		}
	}
}

// TestRecoveredPendingShrinks: a venti that stopped with many blocks not
// yet indexed recovers their entries into pending at open, past the
// room a smaller icmem gives them. Open starts an index flush at once,
// and the flush must give that memory back, which Go's maps never do by
// deleting.
func TestRecoveredPendingShrinks(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 150,000 blocks")
	}
	cfg := formatVenti(t, t.TempDir(), 512<<20, 256<<20, 16<<20)
	s, err := Open(cfg, Options{LumpCache: 1 << 20, IndexCache: 64 << 20, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 150000
	for i := range n {
		b := make([]byte, 40)
		binary.BigEndian.PutUint64(b, uint64(i))
		if _, err := s.Write(ctx, venti.DataType, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if f := s.Stats.IndexFlushes.Load(); f != 0 {
		t.Fatalf("%d index flushes: the blocks must be left to recovery", f)
	}
	// A crash: the partitions stay as they are, unindexed.
	s.files.closeAll()
	s = nil

	before := liveHeap()
	opt := Options{LumpCache: 1 << 20, IndexCache: 2 << 20, Logf: func(string, ...any) {}}
	s2, err := Open(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	allowed := opt.LumpCache + opt.IndexCache + s2.Resident()
	// Open starts the flush itself, pending being over its room.
	deadline := time.Now().Add(time.Minute)
	for s2.Stats.IndexFlushes.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no index flush started after recovering more entries than pending's room")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := s2.Stats.FlushedEntries.Load(); got != n {
		t.Fatalf("the first flush wrote %d entries, want the %d recovered", got, n)
	}
	used := liveHeap() - before
	t.Logf("live heap %.1f MiB after the flush of %d recovered entries, %.1f MiB configured",
		float64(used)/(1<<20), n, float64(allowed)/(1<<20))
	if used > allowed+2<<20 {
		t.Errorf("live heap %.1f MiB after the first index flush, more than the %.1f MiB configured and 2 MiB of room",
			float64(used)/(1<<20), float64(allowed)/(1<<20))
	}
	for _, i := range []int{0, n / 2, n - 1} {
		b := make([]byte, 40)
		binary.BigEndian.PutUint64(b, uint64(i))
		if _, err := s2.Read(ctx, venti.Fingerprint(b), venti.DataType, len(b)); err != nil {
			t.Errorf("block %d after the flush: %v", i, err)
		}
	}
}
