package vtstore

import (
	"container/list"
	"sync"
)

// lumpCache keeps recently read and written blocks, up to a number of
// bytes, least recently used out first.
type lumpCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List
	items map[key]*list.Element
}

type lump struct {
	k    key
	data []byte
}

func newLumpCache(max int64) *lumpCache {
	return &lumpCache{max: max, ll: list.New(), items: make(map[key]*list.Element)}
}

func (c *lumpCache) get(k key) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*lump).data, true
	}
	return nil, false
}

// put adds data, which the cache then owns and callers must not change.
func (c *lumpCache) put(k key, data []byte) {
	cost := int64(len(data)) + 64
	if cost > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	c.items[k] = c.ll.PushFront(&lump{k, data})
	c.size += cost
	for c.size > c.max {
		e := c.ll.Back()
		l := e.Value.(*lump)
		c.ll.Remove(e)
		delete(c.items, l.k)
		c.size -= int64(len(l.data)) + 64
	}
}
