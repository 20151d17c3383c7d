package vtstore

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// TestFlushIndexRuns: index flushes write buckets a run at a time. An
// index of two sections is flushed first with a few entries (runs with
// gaps of untouched buckets between them, and runs cut at gaps too wide
// to bridge), then with many (every bucket touched: runs cut at their
// size limit and at the boundary between the sections). After each,
// every block is found in its bucket, each bucket's entries are sorted
// and unique, nothing follows them in the bucket block, and the buckets
// no entry belongs to are as they were. The second section's buckets
// start out as a section formatted over an old one leaves them: another
// bucket magic, a count and entries.
func TestFlushIndexRuns(t *testing.T) {
	cfg := formatVentiSects(t, t.TempDir(), 256<<20, 128<<20, 2<<20, 3<<20)
	old := oldBucket()
	sect := openSection(t, cfg.ISects[1])
	f, err := os.OpenFile(cfg.ISects[1], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	for b := sect.Header.Start; b < sect.Header.Stop; b++ {
		if _, err := f.WriteAt(old, sect.Header.BucketOffset(b)); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	s := open(t, cfg)
	ctx := context.Background()
	var scores []venti.Score
	write := func(n int) {
		t.Helper()
		for range n {
			score, err := s.Write(ctx, venti.DataType, block(uint64(len(scores))))
			if err != nil {
				t.Fatal(err)
			}
			scores = append(scores, score)
		}
		if err := s.FlushIndex(); err != nil {
			t.Fatal(err)
		}
		if n := len(s.pending); n != 0 {
			t.Fatalf("%d entries still pending after a flush", n)
		}
		checkBuckets(t, s, cfg, scores)
	}
	write(60)
	write(3000)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	verifyDisk(t, cfg, 3060)
}

// checkBuckets reads every bucket of s's index from the partitions and
// checks that they hold exactly the entries of scores.
func checkBuckets(t *testing.T, s *Store, cfg *vtdisk.Config, scores []venti.Score) {
	t.Helper()
	ix := s.index
	want := make(map[uint32]int)
	for _, sc := range scores {
		want[ix.Bucket(sc)]++
	}
	if len(ix.Sects) < 2 {
		t.Fatalf("%d index sections, want several", len(ix.Sects))
	}
	total := 0
	for i, sect := range ix.Sects {
		h := &sect.Header
		raw, err := os.ReadFile(cfg.ISects[i])
		if err != nil {
			t.Fatal(err)
		}
		for b := h.Start; b < h.Stop; b++ {
			block := raw[h.BucketOffset(b):][:h.BlockSize]
			var bk vtdisk.Bucket
			if err := bk.Unpack(block, h.BucketMagic); err != nil {
				t.Fatalf("bucket %d: %v", b, err)
			}
			if len(bk.Entries) != want[b] {
				t.Fatalf("bucket %d holds %d entries, want %d", b, len(bk.Entries), want[b])
			}
			if want[b] == 0 {
				if !bytes.Equal(block, make([]byte, len(block))) && !bytes.Equal(block, oldBucket()) {
					t.Fatalf("bucket %d, which no entry belongs to, was written", b)
				}
				continue
			}
			for k := 1; k < len(bk.Entries); k++ {
				if bk.Entries[k-1].Compare(&bk.Entries[k]) >= 0 {
					t.Fatalf("bucket %d: entries %d and %d out of order or the same", b, k-1, k)
				}
			}
			if rest := block[bk.PackedSize():]; !bytes.Equal(rest, make([]byte, len(rest))) {
				t.Fatalf("bucket %d: bytes after its %d entries", b, len(bk.Entries))
			}
			total += len(bk.Entries)
		}
	}
	if total != len(scores) {
		t.Fatalf("%d entries in the buckets, want %d", total, len(scores))
	}
}

// oldBucket is a bucket block as an index section formatted before the
// one in use left it: its own magic, 5 entries, and bytes after them.
func oldBucket() []byte {
	b := bytes.Repeat([]byte{0xa5}, 8192)
	copy(b, []byte{0, 5, 0xde, 0xad, 0xbe, 0xef})
	return b
}

// TestMergeTornBucket: a bucket a crash left out of order (its count
// written, not all its entries) comes out of a merge sorted, holding
// what it held and the new entries, so that lookups find them all.
func TestMergeTornBucket(t *testing.T) {
	s := open(t, formatVenti(t, t.TempDir(), 64<<20, 16<<20, 4<<20))
	h := &s.index.Sects[0].Header
	entry := func(first byte) vtdisk.IEntry {
		var e vtdisk.IEntry
		e.Score[0], e.Score[19] = 0x10, first
		e.Addr, e.Size, e.Blocks = uint64(first)*8192, 8192, 17
		return e
	}
	torn := vtdisk.Bucket{Magic: h.BucketMagic, Entries: []vtdisk.IEntry{entry(9), entry(3), entry(7)}}
	block := make([]byte, h.BlockSize)
	if err := torn.Pack(block); err != nil {
		t.Fatal(err)
	}
	if err := s.mergeBucket(h, 0, block, []vtdisk.IEntry{entry(1), entry(5), entry(8)}, 1); err != nil {
		t.Fatal(err)
	}
	var got vtdisk.Bucket
	if err := got.Unpack(block, h.BucketMagic); err != nil {
		t.Fatal(err)
	}
	var firsts []byte
	for _, e := range got.Entries {
		firsts = append(firsts, e.Score[19])
	}
	if want := []byte{1, 3, 5, 7, 8, 9}; !bytes.Equal(firsts, want) {
		t.Fatalf("merged bucket holds %v, want %v", firsts, want)
	}
}
