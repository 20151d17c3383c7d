// Package vtmem is a venti block store in memory: a venti.Handler for
// tests and for tools that need a scratch venti.
package vtmem

import (
	"context"
	"fmt"
	"sync"

	"github.com/plan9fossil/fossil/venti"
)

// key is how venti indexes a block: its score and its disk type, so that
// DataType+n and DirType+n blocks with the same bytes are one block, as
// on a real venti.
type key struct {
	score venti.Score
	dtype venti.DiskType
}

// Store holds blocks in a map. The zero value is ready to use.
type Store struct {
	mu     sync.RWMutex
	blocks map[key][]byte
	syncs  int
}

func diskType(t venti.Type) (venti.DiskType, error) {
	d, ok := t.Disk()
	if !ok {
		return 0, fmt.Errorf("bad block type %d", t)
	}
	return d, nil
}

// Read implements venti.Handler.
func (s *Store) Read(ctx context.Context, score venti.Score, t venti.Type, count int) ([]byte, error) {
	d, err := diskType(t)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	b, ok := s.blocks[key{score, d}]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("no block with score %v/%d exists", score, t)
	}
	return b, nil
}

// Write implements venti.Handler.
func (s *Store) Write(ctx context.Context, t venti.Type, data []byte) (venti.Score, error) {
	d, err := diskType(t)
	if err != nil {
		return venti.Score{}, err
	}
	score := venti.Fingerprint(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blocks == nil {
		s.blocks = make(map[key][]byte)
	}
	k := key{score, d}
	if _, ok := s.blocks[k]; !ok {
		s.blocks[k] = append([]byte(nil), data...)
	}
	return score, nil
}

// Sync implements venti.Handler; memory is as permanent as it gets.
func (s *Store) Sync(ctx context.Context) error {
	s.mu.Lock()
	s.syncs++
	s.mu.Unlock()
	return nil
}

// Syncs returns how many syncs the store has answered.
func (s *Store) Syncs() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.syncs
}

// Len returns the number of distinct blocks stored.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.blocks)
}
