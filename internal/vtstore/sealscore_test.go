package vtstore

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// TestSealScoreAtOpen: an arena sealed by a venti that died before it
// wrote the seal's score (fault point vtstore.seal.flushed) gets its
// score when the store is next opened, in the background, as the C
// venti does; the crash campaign left such arenas without one.
func TestSealScoreAtOpen(t *testing.T) {
	cfg := formatVenti(t, t.TempDir(), 8<<20, 2<<20, 4<<20)
	s := open(t, cfg)
	ctx := context.Background()
	for s.cur == 0 {
		data := make([]byte, 8192)
		rand.Read(data)
		if _, err := s.Write(ctx, venti.DataType, data); err != nil {
			t.Fatal(err)
		}
	}
	s.sealWG.Wait()
	a := s.arenas[0]
	a.mu.Lock()
	want := a.tail.Score
	sealed := a.tail.Disk.Sealed
	a.mu.Unlock()
	if !sealed || want == (venti.Score{}) {
		t.Fatalf("first arena after filling it: sealed %v, score %v", sealed, want)
	}
	// As a death between the sealed trailer and its score leaves it.
	a.mu.Lock()
	a.tail.Score = venti.Score{}
	tl := a.tail
	a.mu.Unlock()
	if err := a.writeTail(&tl); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, cfg)
	s.sealWG.Wait()
	a = s.arenas[0]
	a.mu.Lock()
	got := a.tail.Score
	a.mu.Unlock()
	if got != want {
		t.Errorf("seal score after reopening: %v, want %v", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// And it is on disk.
	s = open(t, cfg)
	defer s.Close()
	if got := s.arenas[0].tail.Score; got != want {
		t.Errorf("seal score on disk: %v, want %v", got, want)
	}
}
