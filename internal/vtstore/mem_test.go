package vtstore

import (
	"context"
	"runtime"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// TestMemoryBounded writes far more than the caches hold and checks that
// the heap stays near what the configuration allows: the lump cache,
// the index cache and pending entries (icmem), the write-behind chunks
// and the bloom filter.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MiB")
	}
	cfg := formatVenti(t, t.TempDir(), 512<<20, 256<<20, 16<<20)
	s, err := Open(cfg, Options{LumpCache: 2 << 20, IndexCache: 1 << 20, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	buf := make([]byte, 8192)
	for i := 0; i < 25000; i++ {
		copy(buf, block(uint64(i))[:64])
		if _, err := s.Write(ctx, venti.DataType, buf); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 0 {
			if _, err := s.Read(ctx, venti.Fingerprint(buf), venti.DataType, 8192); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// 2 MiB + 1 MiB of caches, up to 7 MiB of write-behind, 1 MiB of bloom,
	// and the runtime's own: 32 MiB is generous; 200 MiB were written.
	if ms.HeapInuse > 32<<20 {
		t.Errorf("heap in use %d MiB after writing 200 MiB with 3 MiB of caches", ms.HeapInuse>>20)
	}
	limit := int(2 * s.opt.IndexCache / entryMemory)
	if n := len(s.pending); n > limit {
		t.Errorf("%d pending index entries, more than icmem allows (%d)", n, limit)
	}
	t.Logf("heap in use: %.1f MiB, pending entries %d", float64(ms.HeapInuse)/(1<<20), len(s.pending))
}
