package vtstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// ventiA unpacks fixture venti-a (made by the C venti) into a fresh
// directory and returns its configuration, with the partitions renamed
// to the unpacked files.
func ventiA(t testing.TB) *vtdisk.Config {
	t.Helper()
	dir := t.TempDir()
	cfg := &vtdisk.Config{
		Index:  "main",
		Arenas: []string{fixture.Gunzip(t, "venti-a/arenas.gz", dir)},
		ISects: []string{fixture.Gunzip(t, "venti-a/isect.gz", dir)},
		Bloom:  fixture.Gunzip(t, "venti-a/bloom.gz", dir),
	}
	return cfg
}

type fixtureBlock struct {
	score venti.Score
	typ   venti.Type
	data  []byte
}

// storedBlocks are the blocks of venti-a that the C venti stored.
func storedBlocks(t testing.TB) []fixtureBlock {
	f, err := os.Open(fixture.Path(t, "venti-a/blocks/scores.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixtureBlock
	sc := bufio.NewScanner(f)
	sc.Scan()
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		score, _, err := venti.ParseScore(fs[4])
		if err != nil || fs[1] == "0" || fs[3] == "-z" {
			continue // refused, empty or zero-truncated: not stored
		}
		var ty int
		fmt.Sscan(fs[2], &ty)
		data, err := os.ReadFile(fixture.Path(t, "venti-a/blocks/"+fs[0]+".dat"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fixtureBlock{score, venti.Type(ty), data})
	}
	return out
}

func open(t testing.TB, cfg *vtdisk.Config) *Store {
	t.Helper()
	s, err := Open(cfg, Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReadFixture serves every block the C venti stored, byte for byte,
// including the whack-compressed ones, and refuses wrong types.
func TestReadFixture(t *testing.T) {
	s := open(t, ventiA(t))
	defer s.Close()
	ctx := context.Background()
	blocks := storedBlocks(t)
	if len(blocks) != 13 {
		t.Fatalf("%d stored fixture blocks", len(blocks))
	}
	for _, b := range blocks {
		got, err := s.Read(ctx, b.score, b.typ, venti.MaxLumpSize)
		if err != nil || !bytes.Equal(got, b.data) {
			t.Errorf("%v/%d: %d bytes, %v", b.score, b.typ, len(got), err)
		}
	}
	b03 := venti.MustParseScore("ddb3ee1c8accac9ab7cba52123441f131078d258")
	if _, err := s.Read(ctx, b03, venti.DirType, venti.MaxLumpSize); err == nil {
		t.Error("read with the wrong type succeeded")
	}
	if _, err := s.Read(ctx, venti.Fingerprint([]byte("nope")), venti.DataType, 100); err == nil {
		t.Error("read of a missing block succeeded")
	}
}

// TestWriteReopen writes new blocks into the C venti's partitions, syncs,
// closes, reopens: everything is there, duplicates cost nothing, and the
// on-disk index and trailer agree with what was written.
func TestWriteReopen(t *testing.T) {
	cfg := ventiA(t)
	s := open(t, cfg)
	ctx := context.Background()
	var written []fixtureBlock
	for i := 0; i < 300; i++ {
		data := make([]byte, 100+i*37)
		if i%2 == 0 {
			rand.Read(data)
		} else {
			copy(data, strings.Repeat(fmt.Sprintf("block %d compresses well. ", i), 1000))
		}
		ty := venti.Type(i % 17)
		score, err := s.Write(ctx, ty, data)
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, fixtureBlock{score, ty, data})
	}
	// A duplicate adds no clump.
	before := s.arenas[0].memStats().Clumps
	if _, err := s.Write(ctx, written[5].typ, written[5].data); err != nil {
		t.Fatal(err)
	}
	if after := s.arenas[0].memStats().Clumps; after != before {
		t.Errorf("duplicate write added %d clumps", after-before)
	}
	// Read back before and after sync, from memory and from disk.
	check := func(s *Store, when string) {
		for _, b := range append(written, storedBlocks(t)...) {
			got, err := s.Read(ctx, b.score, b.typ, venti.MaxLumpSize)
			if err != nil || !bytes.Equal(got, b.data) {
				t.Fatalf("%s: %v/%d: %d bytes, %v", when, b.score, b.typ, len(got), err)
			}
		}
	}
	check(s, "before sync")
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	s.cache = newLumpCache(1 << 20) // force reads from disk
	check(s, "after sync")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, cfg)
	check(s, "after reopen")
	if n := len(s.pending); n != 0 {
		t.Errorf("%d entries pending after a clean close", n)
	}
	s.Close()

	// The partitions as the C tools would read them: every clump in the
	// log verifies, the trailer counts them, the index finds them all.
	verifyDisk(t, cfg, 11+300)
}

// openSection opens the index section in file name for reading, until
// the test ends.
func openSection(t *testing.T, name string) *vtdisk.IndexSection {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	sect, err := vtdisk.OpenIndexSection(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	return sect
}

// verifyDisk checks the partitions with the vtdisk readers alone.
func verifyDisk(t *testing.T, cfg *vtdisk.Config, wantClumps uint32) {
	t.Helper()
	f, err := os.Open(cfg.Arenas[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	ap, err := vtdisk.OpenArenaPartition(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	var sects []*vtdisk.IndexSection
	for _, name := range cfg.ISects {
		sects = append(sects, openSection(t, name))
	}
	ix, err := vtdisk.OpenIndex(sects...)
	if err != nil {
		t.Fatal(err)
	}
	var total uint32
	for i := range ap.Map {
		a, err := ap.Arena(i)
		if err != nil {
			t.Fatal(err)
		}
		end, n, err := a.Walk(func(aa uint64, c *vtdisk.Clump, stored []byte) error {
			data, err := c.Decode(stored)
			if err == nil {
				err = c.Verify(data)
			}
			if err != nil {
				return err
			}
			e, found, err := ix.Lookup(c.Score, c.Type, false)
			if err != nil || !found {
				return fmt.Errorf("clump %v/%d at %#x not in the index (%v)", c.Score, c.Type, aa, err)
			}
			if e.Addr != ix.Map.Arenas[i].Start+aa {
				return fmt.Errorf("index has %v at %#x, log at %#x", c.Score, e.Addr, ix.Map.Arenas[i].Start+aa)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("arena %s: %v", a.Name(), err)
		}
		tl := a.Tail
		if tl.Mem.Clumps != n || tl.Mem.Used != end || tl.Disk != tl.Mem {
			t.Errorf("arena %s: log has %d clumps ending at %d; trailer disk %+v mem %+v", a.Name(), n, end, tl.Disk, tl.Mem)
		}
		total += n
	}
	if total != wantClumps {
		t.Errorf("%d clumps on disk, want %d", total, wantClumps)
	}
}

// TestCrashAfterSync drops a store without closing it (as kill -9 would)
// after a sync: the synced blocks are all there on reopen, and the index
// catches up from the arena.
func TestCrashAfterSync(t *testing.T) {
	cfg := ventiA(t)
	s := open(t, cfg)
	ctx := context.Background()
	var synced []fixtureBlock
	for i := 0; i < 100; i++ {
		data := []byte(fmt.Sprintf("synced block %d", i))
		score, err := s.Write(ctx, venti.DataType, data)
		if err != nil {
			t.Fatal(err)
		}
		synced = append(synced, fixtureBlock{score, venti.DataType, data})
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// Unsynced writes may be lost but must not corrupt anything.
	for i := 0; i < 50; i++ {
		s.Write(ctx, venti.DataType, []byte(fmt.Sprintf("unsynced %d", i)))
	}
	// No Close: the partitions stay as the crash left them.

	s2 := open(t, cfg)
	if n := len(s2.pending); n < 100 {
		t.Errorf("%d entries recovered from the log, want at least 100", n)
	}
	for _, b := range synced {
		got, err := s2.Read(ctx, b.score, b.typ, 100)
		if err != nil || !bytes.Equal(got, b.data) {
			t.Fatalf("after crash: %v: %q, %v", b.score, got, err)
		}
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s.files.closeAll()
	verifyDisk(t, cfg, 11+100)
}

// TestArenasFull fills every arena of a small venti: writes then fail with
// a clear error, full arenas are sealed with the right score, and every
// block written before stays readable.
func TestArenasFull(t *testing.T) {
	cfg := ventiA(t)
	s := open(t, cfg)
	ctx := context.Background()
	var written []fixtureBlock
	var err error
	for i := 0; ; i++ {
		data := make([]byte, venti.MaxLumpSize)
		rand.Read(data)
		var score venti.Score
		score, err = s.Write(ctx, venti.DataType, data)
		if err != nil {
			break
		}
		if i%50 == 0 {
			written = append(written, fixtureBlock{score, venti.DataType, data})
		}
		if i > 3000 {
			t.Fatal("96 MiB of arenas took more than 3000 56 KiB blocks")
		}
	}
	if !strings.Contains(err.Error(), "arenas full") {
		t.Fatalf("write into full arenas: %v", err)
	}
	s.sealWG.Wait()
	for _, b := range written {
		got, err := s.Read(ctx, b.score, b.typ, venti.MaxLumpSize)
		if err != nil || !bytes.Equal(got, b.data) {
			t.Fatalf("%v: %v", b.score, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(cfg.Arenas[0])
	defer f.Close()
	fi, _ := f.Stat()
	ap, _ := vtdisk.OpenArenaPartition(f, fi.Size())
	for i := 0; i < len(ap.Map)-1; i++ {
		a, err := ap.Arena(i)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := a.SealScore()
		if !a.Tail.Mem.Sealed || a.Tail.Score != want || a.Tail.Score == (venti.Score{}) {
			t.Errorf("arena %s: sealed=%v score %v, want %v", a.Name(), a.Tail.Mem.Sealed, a.Tail.Score, want)
		}
	}
	// Reads still work after reopening a full venti.
	s = open(t, cfg)
	defer s.Close()
	if _, err := s.Read(ctx, written[0].score, venti.DataType, venti.MaxLumpSize); err != nil {
		t.Error(err)
	}
	if _, err := s.Write(ctx, venti.DataType, []byte("more")); err == nil {
		t.Error("write into a full venti succeeded after reopening")
	}
}

func TestOpenErrors(t *testing.T) {
	cfg := ventiA(t)
	bad := *cfg
	bad.Index = "other"
	if _, err := Open(&bad, Options{}); err == nil || !strings.Contains(err.Error(), "index") {
		t.Errorf("wrong index name: %v", err)
	}
	bad = *cfg
	bad.ISects = []string{filepath.Join(t.TempDir(), "missing")}
	if _, err := Open(&bad, Options{}); err == nil {
		t.Error("missing isect accepted")
	}
	// A corrupted arena trailer names the arena.
	f, _ := os.OpenFile(cfg.Arenas[0], os.O_RDWR, 0)
	f.WriteAt([]byte{0xde, 0xad}, 794624+16<<20-8192)
	f.Close()
	if _, err := Open(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "arenas0.0") {
		t.Errorf("corrupt trailer: %v", err)
	}
}

// TestTruncatedPartition: an arena partition cut short (a copy that did
// not finish) is refused with an error naming it, not read past its end.
func TestTruncatedPartition(t *testing.T) {
	cfg := ventiA(t)
	if err := os.Truncate(cfg.Arenas[0], 40<<20); err != nil {
		t.Fatal(err)
	}
	_, err := Open(cfg, Options{})
	if err == nil || !strings.Contains(err.Error(), "arenas") {
		t.Fatalf("truncated arena partition: %v", err)
	}
	t.Log(err)
}

// TestDiskFull: when the disk refuses writes, sync reports it and
// acknowledges nothing; blocks synced before stay readable; once the
// disk has room again, the same sync succeeds and nothing is lost.
func TestDiskFull(t *testing.T) {
	cfg := ventiA(t)
	s := open(t, cfg)
	ctx := context.Background()
	var before, during []fixtureBlock
	for i := 0; i < 20; i++ {
		data := []byte(fmt.Sprintf("before the disk filled %d", i))
		sc, err := s.Write(ctx, venti.DataType, data)
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, fixtureBlock{sc, venti.DataType, data})
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var full atomic.Bool
	full.Store(true)
	enospc := fmt.Errorf("no space left on device")
	for _, f := range s.files.m {
		f.fault = func(string) error {
			if full.Load() {
				return enospc
			}
			return nil
		}
	}
	for i := 0; i < 20; i++ {
		data := []byte(fmt.Sprintf("while the disk was full %d", i))
		sc, err := s.Write(ctx, venti.DataType, data)
		if err != nil {
			t.Fatal(err)
		}
		during = append(during, fixtureBlock{sc, venti.DataType, data})
	}
	if err := s.Sync(ctx); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("sync on a full disk: %v", err)
	}
	if err := s.FlushIndex(); err == nil {
		t.Fatal("index flush on a full disk succeeded")
	}
	s.cache = newLumpCache(1 << 10)
	for _, b := range append(before, during...) {
		if got, err := s.Read(ctx, b.score, b.typ, 100); err != nil || !bytes.Equal(got, b.data) {
			t.Fatalf("read %q while full: %q %v", b.data, got, err)
		}
	}
	full.Store(false)
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("sync after room was made: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, cfg)
	defer s.Close()
	for _, b := range append(before, during...) {
		if got, err := s.Read(ctx, b.score, b.typ, 100); err != nil || !bytes.Equal(got, b.data) {
			t.Fatalf("after reopen %q: %q %v", b.data, got, err)
		}
	}
}

// TestConcurrentSameBlock: writers storing the same new block at once,
// all told by the bloom filter that it is new, append it once; the rest
// count as duplicates. Index flushes run alongside; the narrower race
// with one of them is staged by TestWriteRaceWithIndexFlush.
func TestConcurrentSameBlock(t *testing.T) {
	s := open(t, formatVenti(t, t.TempDir(), 64<<20, 16<<20, 8<<20))
	defer s.Close()
	ctx := context.Background()
	const blocks, writers = 100, 8
	before := s.arenas[0].memStats().Clumps
	for i := range blocks {
		data := make([]byte, 8192)
		rand.Read(data)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := s.Write(ctx, venti.DataType, data); err != nil {
					t.Error(err)
				}
			}()
		}
		if i%10 == 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := s.FlushIndex(); err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
	}
	if got := s.arenas[0].memStats().Clumps - before; got != blocks {
		t.Errorf("%d clumps appended for %d blocks", got, blocks)
	}
	if got := s.Stats.DupWrites.Load(); got != blocks*(writers-1) {
		t.Errorf("%d duplicate writes counted, want %d", got, blocks*(writers-1))
	}
}

// TestWriteRaceWithIndexFlush: a block found new, then stored by another
// writer and moved by an index flush from pending to the index cache
// before the first writer appends it, is appended once.
func TestWriteRaceWithIndexFlush(t *testing.T) {
	s := open(t, formatVenti(t, t.TempDir(), 64<<20, 16<<20, 8<<20))
	defer s.Close()
	ctx := context.Background()
	data := make([]byte, 8192)
	rand.Read(data)
	raced := false
	afterLookupHook = func() {
		if raced {
			return // the other writer's own Write
		}
		raced = true
		if _, err := s.Write(ctx, venti.DataType, data); err != nil {
			t.Error(err)
		}
		if err := s.FlushIndex(); err != nil {
			t.Error(err)
		}
	}
	defer func() { afterLookupHook = nil }()
	before := s.arenas[0].memStats().Clumps
	if _, err := s.Write(ctx, venti.DataType, data); err != nil {
		t.Fatal(err)
	}
	if got := s.arenas[0].memStats().Clumps - before; got != 1 {
		t.Errorf("%d clumps appended for one block", got)
	}
	if got := s.Stats.DupWrites.Load(); got != 1 {
		t.Errorf("%d duplicate writes counted, want 1", got)
	}
}

// TestWriteRaceWithIndexFlushPastCache is the race above when the flush
// moves more entries than the index cache holds: the other writer's
// entry is pushed out of the cache by those flushed after it, and only
// its bucket has it. The writer that compressed meanwhile must look
// there too.
func TestWriteRaceWithIndexFlushPastCache(t *testing.T) {
	cfg := formatVenti(t, t.TempDir(), 64<<20, 32<<20, 4<<20)
	s, err := Open(cfg, Options{LumpCache: 1 << 20, IndexCache: 64 << 10, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// Pending entries, fewer than start a flush but more than the
	// index cache holds, so that the flush pushes out the last ones
	// it moves first (in bucket order, wherever the block falls).
	if s.pendingMax*2/3 <= s.icache.size() {
		t.Fatalf("pending room %d and index cache %d: the test does not reach its point", s.pendingMax, s.icache.size())
	}
	for i := range s.pendingMax * 2 / 3 {
		if _, err := s.Write(ctx, venti.DataType, []byte(fmt.Sprintf("pending block %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	dups := s.Stats.DupWrites.Load()
	// Several blocks, since whether one's entry is pushed out depends on
	// where its bucket falls in the flush's order.
	for i := range 20 {
		data := []byte(fmt.Sprintf("the block both write, %d", i))
		raced := false
		afterLookupHook = func() {
			if raced {
				return
			}
			raced = true
			if _, err := s.Write(ctx, venti.DataType, data); err != nil {
				t.Error(err)
			}
			if err := s.FlushIndex(); err != nil {
				t.Error(err)
			}
		}
		if _, err := s.Write(ctx, venti.DataType, data); err != nil {
			t.Fatal(err)
		}
		afterLookupHook = nil
		// Refill pending for the next block's flush.
		for j := range s.pendingMax * 2 / 3 {
			if _, err := s.Write(ctx, venti.DataType, []byte(fmt.Sprintf("pending block %d.%d", i, j))); err != nil {
				t.Fatal(err)
			}
		}
	}
	afterLookupHook = nil
	if got := s.Stats.DupWrites.Load() - dups; got != 20 {
		t.Errorf("%d of 20 blocks written twice at once found stored by the second writer; the others were appended twice", got)
	}
}
