// Package memlimit holds a server near the memory its operator gave
// it. Go's collector lets the heap grow to twice what is live, so a
// server whose caches are full and turning over (a fossil being
// written, a venti taking new blocks) would use about twice its caches.
// Go's soft memory limit makes the collector work harder instead; the
// room above the caches is what the program itself needs (the runtime,
// stacks, connections' buffers) and the garbage made between two
// collections: too little and the collector runs without pause.
package memlimit

import (
	"os"
	"runtime/debug"
)

// limit is the limit Hold sets for configured bytes and at least room
// bytes above them: a quarter of configured if that is more, since
// large caches take longer to collect.
func limit(configured, room int64) int64 {
	return configured + max(room, configured/4)
}

// Hold sets the process's memory limit to limit(configured, room),
// unless GOMEMLIMIT in the environment has set one, and returns the
// limit set (0 if none).
func Hold(configured, room int64) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	l := limit(configured, room)
	debug.SetMemoryLimit(l)
	return l
}
