package vtstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// TestWriteBehind writes more than several chunks of the log and more
// than a background sync's worth, reading blocks back while they are in
// memory, being written out or on disk, then checks the partitions as
// the C tools would read them: every clump in the log, a directory entry
// for each (the first directory block was half full before), and the
// index.
func TestWriteBehind(t *testing.T) {
	cfg := formatVenti(t, t.TempDir(), 256<<20, 128<<20, 16<<20)
	s := open(t, cfg)
	ctx := context.Background()
	var written []fixtureBlock
	write := func(data []byte) {
		t.Helper()
		score, err := s.Write(ctx, venti.DataType, data)
		if err != nil {
			t.Fatal(err)
		}
		written = append(written, fixtureBlock{score, venti.DataType, data})
	}
	check := func(b fixtureBlock, when string) {
		t.Helper()
		got, err := s.Read(ctx, b.score, b.typ, venti.MaxLumpSize)
		if err != nil || !bytes.Equal(got, b.data) {
			t.Fatalf("%s: %v: %d bytes, %v", when, b.score, len(got), err)
		}
	}
	for i := 0; i < 50; i++ {
		write([]byte(strings.Repeat("small and compressible ", i+1)))
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 1500 // 12 MiB
	for i := 0; i < n; i++ {
		write(block(uint64(i)))
		if i%7 == 0 {
			s.cache = newLumpCache(1 << 20)
			check(written[len(written)/2], "while writing")
			check(written[len(written)-1], "while writing")
		}
	}
	for _, b := range written {
		check(b, "before sync")
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	s.cache = newLumpCache(1 << 20)
	for _, b := range written {
		check(b, "after sync")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	verifyDisk(t, cfg, uint32(len(written)))
	verifyDir(t, cfg)
}

// verifyDir checks that the directory of each arena describes the clumps
// of its log.
func verifyDir(t *testing.T, cfg *vtdisk.Config) {
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
	for i := range ap.Map {
		a, err := ap.Arena(i)
		if err != nil {
			t.Fatal(err)
		}
		var clumps []vtdisk.ClumpInfo
		if _, _, err := a.Walk(func(aa uint64, c *vtdisk.Clump, stored []byte) error {
			clumps = append(clumps, c.ClumpInfo)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		dir, err := a.ReadClumpInfos(0, len(clumps))
		if err != nil {
			t.Fatal(err)
		}
		for j := range clumps {
			if dir[j] != clumps[j] {
				t.Fatalf("arena %s: directory entry %d is %+v, the clump %+v", a.Name(), j, dir[j], clumps[j])
			}
		}
	}
}

// TestWriteBehindSyncFails makes the background sync of the log fail:
// the chunks it covered are gone from memory, so every later sync must
// fail too, and no trailer may claim them (rule 1); after a crash the
// synced blocks are all there and the partitions are consistent.
func TestWriteBehindSyncFails(t *testing.T) {
	cfg := formatVenti(t, t.TempDir(), 256<<20, 128<<20, 16<<20)
	s := open(t, cfg)
	ctx := context.Background()
	var synced []fixtureBlock
	for i := 0; i < 20; i++ {
		data := block(uint64(1000 + i))
		score, err := s.Write(ctx, venti.DataType, data)
		if err != nil {
			t.Fatal(err)
		}
		synced = append(synced, fixtureBlock{score, venti.DataType, data})
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	eio := errors.New("input/output error")
	var failing atomic.Bool
	failing.Store(true)
	for _, f := range s.files.m {
		f.fault = func(op string) error {
			if op == "sync" && failing.Load() {
				return eio
			}
			return nil
		}
	}
	// More than syncBehind bytes: writeOut starts a background sync.
	for i := 0; i < syncBehind/8192+300; i++ {
		if _, err := s.Write(ctx, venti.DataType, block(uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	a := s.arenas[0]
	idle := func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.syncErr != nil && !a.syncing && !a.writing
	}
	for deadline := time.Now().Add(10 * time.Second); !idle(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no background sync failed")
		}
	}
	// The disk works again, but what the failed sync covered may be
	// lost: syncs go on failing.
	failing.Store(false)
	for i := 0; i < 2; i++ {
		if err := s.Sync(ctx); err == nil || !strings.Contains(err.Error(), "input/output error") {
			t.Fatalf("sync after a failed background sync: %v", err)
		}
	}
	a.mu.Lock()
	claimed := a.written.Mem.Clumps
	a.mu.Unlock()
	if claimed != 20 {
		t.Errorf("the trailer written claims %d clumps, want 20", claimed)
	}
	// Crash: drop the store without closing it.
	s.files.closeAll()
	s2 := open(t, cfg)
	for _, b := range synced {
		got, err := s2.Read(ctx, b.score, b.typ, venti.MaxLumpSize)
		if err != nil || !bytes.Equal(got, b.data) {
			t.Fatalf("after crash: %v: %d bytes, %v", b.score, len(got), err)
		}
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	verifyDisk(t, cfg, uint32(len(synced)))
}
