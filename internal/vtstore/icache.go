package vtstore

import (
	"sync"
)

// icache keeps index entries found in buckets or just flushed to them,
// so that reading a block again, or writing it again, costs no bucket
// read. It holds at most max entries and forgets the oldest first: a
// ring of keys in insertion order.
type icache struct {
	mu   sync.Mutex
	m    map[key]loc
	ring []key
	next int
}

func newICache(max int) *icache {
	if max < 1 {
		max = 1
	}
	return &icache{m: make(map[key]loc, max), ring: make([]key, 0, max)}
}

func (c *icache) get(k key) (loc, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	return e, ok
}

func (c *icache) put(k key, e loc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		c.m[k] = e
		return
	}
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, k)
	} else {
		delete(c.m, c.ring[c.next])
		c.ring[c.next] = k
		c.next = (c.next + 1) % len(c.ring)
	}
	c.m[k] = e
}
