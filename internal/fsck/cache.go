package fsck

import (
	"container/list"

	"github.com/plan9fossil/fossil/venti"
)

// The checker's memory is a bitmap of the local blocks it has visited
// (a bit a block: 16 KiB for a 1 GiB partition of 8 KiB blocks) and the
// bounded structures of this file, so that checking a large file system
// takes no more memory than flchk -c allows.

// bitmap is a set of block addresses.
type bitmap []uint64

func newBitmap(n uint32) bitmap { return make(bitmap, (uint64(n)+63)/64) }

func (b bitmap) has(a uint32) bool { return b[a/64]&(1<<(a%64)) != 0 }

func (b bitmap) set(a uint32) { b[a/64] |= 1 << (a % 64) }

// blockKey names a block in the cache: a local address or a venti
// score (a local address is kept as its LocalScore, which no venti
// block can have).
type blockKey = venti.Score

type cached struct {
	key  blockKey
	data []byte
}

// lru is a cache of at most max blocks, least recently used out first.
// It keeps the directory and pointer blocks that the directory walk
// reads again after the epoch walk, and venti blocks shared between
// trees.
type lru struct {
	max   int
	order *list.List // front: most recent
	index map[blockKey]*list.Element
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), index: make(map[blockKey]*list.Element)}
}

func (c *lru) get(k blockKey) ([]byte, bool) {
	e, ok := c.index[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cached).data, true
}

func (c *lru) put(k blockKey, data []byte) {
	if c.max <= 0 {
		return
	}
	if e, ok := c.index[k]; ok {
		e.Value.(*cached).data = data
		c.order.MoveToFront(e)
		return
	}
	for c.order.Len() >= c.max {
		last := c.order.Back()
		delete(c.index, last.Value.(*cached).key)
		c.order.Remove(last)
	}
	c.index[k] = c.order.PushFront(&cached{key: k, data: data})
}

// scoreSet remembers up to max scores, forgetting the oldest half when
// full. The checker uses it to walk a tree shared by many archives or
// snapshots once; forgetting only costs walking it again.
type scoreSet struct {
	max      int
	old, new map[venti.Score]struct{}
}

func newScoreSet(max int) *scoreSet {
	return &scoreSet{max: max, new: make(map[venti.Score]struct{})}
}

func (s *scoreSet) has(k venti.Score) bool {
	if _, ok := s.new[k]; ok {
		return true
	}
	_, ok := s.old[k]
	return ok
}

func (s *scoreSet) add(k venti.Score) {
	if len(s.new) >= s.max/2 {
		s.old, s.new = s.new, make(map[venti.Score]struct{})
	}
	s.new[k] = struct{}{}
}
