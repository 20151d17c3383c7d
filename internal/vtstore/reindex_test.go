package vtstore

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// TestReindexNoDuplicates: entries already in their buckets come again
// when a crash fell between the bucket writes and the trailers that
// record them (recovery queues them anew); flushing them again must not
// put them in twice, however the bucket's entries sort. The crash
// campaign found a bucket searched by halves with new entries appended
// unsorted, which let copies in.
func TestReindexNoDuplicates(t *testing.T) {
	cfg := ventiA(t)
	s := open(t, cfg)
	ctx := context.Background()
	for i := 0; i < 400; i++ {
		data := make([]byte, 64)
		rand.Read(data)
		if _, err := s.Write(ctx, venti.DataType, data); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	again := make([]vtdisk.IEntry, 0, len(s.pending))
	for k, l := range s.pending {
		again = append(again, k.entry(l))
	}
	s.mu.Unlock()
	if err := s.FlushIndex(); err != nil {
		t.Fatal(err)
	}
	// More new entries for the same buckets, with the old ones again.
	for i := 0; i < 400; i++ {
		data := make([]byte, 64)
		rand.Read(data)
		if _, err := s.Write(ctx, venti.DataType, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	for k, l := range s.pending {
		again = append(again, k.entry(l))
	}
	s.mu.Unlock()
	s.indexMu.Lock()
	err := s.writeBuckets(again)
	s.indexMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	sect := openSection(t, cfg.ISects[0])
	seen := map[ientryKey]int{}
	for b := uint32(0); b < sect.Header.Blocks; b++ {
		bk, err := sect.ReadBucket(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range bk.Entries {
			seen[ientryKey{e.Score, e.Type}]++
		}
	}
	n := 0
	for k, c := range seen {
		if c > 1 {
			t.Errorf("%v/%d is in the index %d times", k.score, k.t, c)
		}
		n++
	}
	if n < 800 {
		t.Errorf("%d entries in the index, want 800 or more", n)
	}
}

// ientryKey names an index entry: a score and a type.
type ientryKey struct {
	score venti.Score
	t     venti.DiskType
}
