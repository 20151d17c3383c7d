package vtstore

import (
	"sync"
)

// icache keeps index entries found in buckets or just flushed to them,
// so that reading a block again, or writing it again, costs no bucket
// read. It holds at most about max entries, in two generations: new
// entries go into the younger, and when it is full the older is emptied
// and becomes the younger, so the oldest are forgotten half at a time.
// Nothing is deleted one by one: in Go's maps deletions leave markers
// that make a map grow past what it holds.
type icache struct {
	mu         sync.Mutex
	young, old map[key]loc
	half       int // entries a generation holds
}

func newICache(max int) *icache {
	half := max / 2
	if half < 1 {
		half = 1
	}
	return &icache{young: make(map[key]loc, half), old: make(map[key]loc, half), half: half}
}

// size is the most entries the cache holds.
func (c *icache) size() int { return 2 * c.half }

func (c *icache) get(k key) (loc, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.young[k]; ok {
		return e, true
	}
	e, ok := c.old[k]
	return e, ok
}

func (c *icache) put(k key, e loc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.young[k]; !ok && len(c.young) >= c.half {
		// clear keeps the map's memory and drops its markers.
		clear(c.old)
		c.young, c.old = c.old, c.young
	}
	c.young[k] = e
}
