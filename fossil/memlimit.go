package main

import "github.com/plan9fossil/fossil/internal/memlimit"

// memRoom is fossil's room above its caches (see package memlimit):
// its garbage is mostly the 8 KiB blocks a write turns over.
const memRoom = 24 << 20

// setMemoryLimit holds the process near the block caches of the open
// file systems, as the C fossil's memory is its cache.
func (t *fsysTable) setMemoryLimit() {
	t.mu.Lock()
	var caches int64
	for _, f := range t.list {
		if f.fs != nil {
			caches += f.fs.CacheBytes()
		}
	}
	t.mu.Unlock()
	memlimit.Hold(caches, memRoom)
}
