package ninep

import (
	"bufio"
	"sync"
	"sync/atomic"
	"time"
)

// inlineLimit is how long a request served by the reader may keep the
// connection from being read before a new reader is started.
const inlineLimit = 2 * time.Millisecond

// States of an inline run.
const (
	inlineRunning = iota
	inlineFinished
	inlineHandedOff
)

// An inlineRun is a request being served on its connection's reader
// goroutine.
type inlineRun struct {
	state atomic.Int32
	start time.Time
	// What a new reader needs.
	c    *conn
	br   *bufio.Reader
	done chan<- error
}

// An inlineWatch hands the reading on for inline runs that take longer
// than inlineLimit. One goroutine watches all of a server's runs, and
// only while there are some: a timer per request would cost more than
// many small requests take (each arms the runtime's poller).
type inlineWatch struct {
	mu       sync.Mutex
	runs     map[*inlineRun]struct{}
	watching bool
}

// idleTicks is how many empty looks the watcher takes before it stops.
const idleTicks = 50

func (w *inlineWatch) add(r *inlineRun) {
	w.mu.Lock()
	if w.runs == nil {
		w.runs = map[*inlineRun]struct{}{}
	}
	w.runs[r] = struct{}{}
	if !w.watching {
		w.watching = true
		go w.watch()
	}
	w.mu.Unlock()
}

func (w *inlineWatch) remove(r *inlineRun) {
	w.mu.Lock()
	delete(w.runs, r)
	w.mu.Unlock()
}

// watch looks at the runs twice per inlineLimit, and stops after
// idleTicks looks that found none.
func (w *inlineWatch) watch() {
	idle := 0
	for {
		time.Sleep(inlineLimit / 2)
		now := time.Now()
		w.mu.Lock()
		if len(w.runs) == 0 {
			idle++
			if idle >= idleTicks {
				w.watching = false
				w.mu.Unlock()
				return
			}
		} else {
			idle = 0
		}
		for r := range w.runs {
			if now.Sub(r.start) >= inlineLimit {
				delete(w.runs, r)
				if r.state.CompareAndSwap(inlineRunning, inlineHandedOff) {
					go r.c.readLoop(r.br, r.done)
				}
			}
		}
		w.mu.Unlock()
	}
}

// runInline serves r on the reader's goroutine. It reports whether the
// reading moved to a new goroutine meanwhile, in which case the caller
// must stop reading.
func (c *conn) runInline(r *request, br *bufio.Reader, done chan<- error) bool {
	run := &inlineRun{start: time.Now(), c: c, br: br, done: done}
	c.s.inline.add(run)
	c.run(r, c.s.putWorker)
	c.s.inline.remove(run)
	return !run.state.CompareAndSwap(inlineRunning, inlineFinished)
}
