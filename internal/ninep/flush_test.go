//go:build !plan9

package ninep

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"9fans.net/go/plan9"
)

// slowEnv is a session with fid 1 open ORDWR on a file whose reads and
// writes wait for its block channel, and fid 2 open on a quick one.
func slowEnv(t *testing.T, cfg Config) (*testEnv, *raw9p, *memNode) {
	e := newEnv(t, cfg)
	slow := e.fs.mk("active/tmp/slow", "glenda", "sys", 0666, "slow data")
	slow.block = make(chan struct{})
	e.fs.mk("active/tmp/fast", "glenda", "sys", 0666, "fast data")
	r := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	r.session("glenda", "")
	r.walkOpen(1, "tmp/slow", plan9.ORDWR)
	r.walkOpen(2, "tmp/fast", plan9.ORDWR)
	return e, r, slow
}

// waitRunning waits until the server has n requests running (none
// queued).
func waitRunning(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := s.Stats()
		if st.Requests == n && st.Queued == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server: %+v, want %d running", st, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// quiet checks that nothing arrives for a moment.
func (r *raw9p) quiet() {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if f, err := plan9.ReadFcall(r.c); err == nil {
		r.t.Fatalf("unexpected %v", f)
	}
}

// TestFlushRead: a read in progress is abandoned: Rflush at once, and
// no Rread ever.
func TestFlushRead(t *testing.T) {
	e, r, slow := slowEnv(t, Config{})
	r.send(&plan9.Fcall{Type: plan9.Tread, Tag: 5, Fid: 1, Count: 100})
	waitRunning(t, e.srv, 1)
	if rx := r.rpc(&plan9.Fcall{Type: plan9.Tflush, Tag: 6, Oldtag: 5}); rx.Type != plan9.Rflush {
		t.Fatalf("flush: %v", rx)
	}
	// The tag is free again at once, although the read still runs.
	r.send(&plan9.Fcall{Type: plan9.Tstat, Tag: 5, Fid: 2})
	if rx := r.recv(); rx.Type != plan9.Rstat || rx.Tag != 5 {
		t.Fatalf("reused tag: %v", rx)
	}
	slow.block <- struct{}{}
	waitRunning(t, e.srv, 0)
	r.quiet()
	// Flushing a tag not in use is answered at once.
	if rx := r.rpc(&plan9.Fcall{Type: plan9.Tflush, Tag: 7, Oldtag: 99}); rx.Type != plan9.Rflush {
		t.Fatalf("flush of nothing: %v", rx)
	}
}

// TestFlushWrite: a write changes the file as it runs, so its flushes
// wait for its reply and follow it, in order.
func TestFlushWrite(t *testing.T) {
	e, r, slow := slowEnv(t, Config{})
	r.send(&plan9.Fcall{Type: plan9.Twrite, Tag: 5, Fid: 1, Data: []byte("SLOW")})
	waitRunning(t, e.srv, 1)
	r.send(&plan9.Fcall{Type: plan9.Tflush, Tag: 6, Oldtag: 5})
	r.send(&plan9.Fcall{Type: plan9.Tflush, Tag: 7, Oldtag: 5})
	r.quiet()
	slow.block <- struct{}{}
	for _, want := range []string{"Rwrite tag 5 count 4", "Rflush tag 6", "Rflush tag 7"} {
		if rx := r.recv(); rx.String() != want {
			t.Fatalf("got %v, want %s", rx, want)
		}
	}
	if n := e.fs.node("active/tmp/slow"); string(n.data) != "SLOW data" {
		t.Errorf("file holds %q", n.data)
	}
}

// TestFlushQueued: a request flushed before a worker takes it never
// runs.
func TestFlushQueued(t *testing.T) {
	e, r, slow := slowEnv(t, Config{MaxProcs: 1})
	r.send(&plan9.Fcall{Type: plan9.Tread, Tag: 5, Fid: 1, Count: 100})
	waitRunning(t, e.srv, 1)
	r.send(&plan9.Fcall{Type: plan9.Twrite, Tag: 8, Fid: 2, Data: []byte("FAST")})
	r.rpc(&plan9.Fcall{Type: plan9.Tflush, Tag: 9, Oldtag: 8})
	slow.block <- struct{}{}
	if rx := r.recv(); rx.Tag != 5 || rx.Type != plan9.Rread {
		t.Fatalf("got %v", rx)
	}
	waitRunning(t, e.srv, 0)
	r.quiet()
	if n := e.fs.node("active/tmp/fast"); string(n.data) != "fast data" {
		t.Errorf("flushed write ran: %q", n.data)
	}
}

// TestFlushStress sends thousands of concurrent requests, reads and
// writes that wait for a random release and quick ones, and flushes of
// random tags, and checks flush(5)'s promises from what comes back: no
// reply to a request after the Rflush of a flush of it, flushes of one
// request answered in order, every flush answered, every request
// answered or flushed, and nothing left behind.
func TestFlushStress(t *testing.T) {
	e := newEnv(t, Config{MaxMsgs: 48, MaxProcs: 12})
	slow := e.fs.mk("active/tmp/slow", "glenda", "sys", 0666, "slow data")
	slow.block = make(chan struct{})
	e.fs.mk("active/tmp/fast", "glenda", "sys", 0666, "fast data")
	r := newRaw(t, e.dial(e.listen(ConnOptions{NoAuth: true})))
	r.session("glenda", "")
	r.walkOpen(1, "tmp/slow", plan9.ORDWR)
	r.walkOpen(2, "tmp/fast", plan9.ORDWR)

	// Release the slow file's waiters at random.
	stop := make(chan struct{})
	released := make(chan struct{})
	go func() {
		defer close(released)
		rng := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			case slow.block <- struct{}{}:
			}
			if rng.IntN(4) == 0 {
				time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond)
			}
		}
	}()

	type tagState struct {
		flush     bool
		old       uint16 // flushes: the tag flushed
		answered  bool   // requests: reply or flush received; flushes: Rflush
		closedBy  uint16 // requests: the flush whose Rflush came first
		byReply   bool
		flushedBy []uint16 // flushes of this tag, in the order sent
	}
	var (
		mu         sync.Mutex
		tags       = map[uint16]*tagState{}
		violations []string
		replied    = 0 // requests flushed but answered first
		abandoned  = 0 // requests flushed with no answer
		pending    = 0 // tags sent and not answered
		done       = make(chan struct{})
	)
	bad := func(format string, args ...any) {
		if len(violations) < 20 {
			violations = append(violations, fmt.Sprintf(format, args...))
		}
	}
	go func() {
		defer close(done)
		for {
			r.c.SetReadDeadline(time.Now().Add(timeout))
			rx, err := plan9.ReadFcall(r.c)
			if err != nil {
				return
			}
			mu.Lock()
			st := tags[rx.Tag]
			switch {
			case st == nil:
				bad("reply to unknown tag: %v", rx)
			case st.answered:
				bad("second answer for tag %d: %v", rx.Tag, rx)
			case st.flush:
				st.answered = true
				pending--
				if rx.Type != plan9.Rflush {
					bad("flush answered with %v", rx)
				}
				old := tags[st.old]
				for _, f := range old.flushedBy {
					if f == rx.Tag {
						break
					}
					if !tags[f].answered {
						bad("Rflush %d before Rflush %d of the same tag %d", rx.Tag, f, st.old)
					}
				}
				if !old.answered {
					old.answered = true
					old.closedBy = rx.Tag
					pending--
					abandoned++
				}
			default:
				st.answered = true
				st.byReply = true
				pending--
				if len(st.flushedBy) > 0 {
					replied++
				}
				if rx.Type == plan9.Rerror {
					bad("request %d failed: %v", rx.Tag, rx)
				}
			}
			mu.Unlock()
		}
	}()

	rng := rand.New(rand.NewPCG(3, 4))
	const n = 6000
	next := uint16(100)
	var sent []uint16
	for range n {
		tag := next
		next++
		var tx *plan9.Fcall
		st := &tagState{}
		switch p := rng.IntN(100); {
		case p < 30:
			tx = &plan9.Fcall{Type: plan9.Tread, Fid: 1, Count: 64}
		case p < 42:
			tx = &plan9.Fcall{Type: plan9.Twrite, Fid: 1, Offset: 100, Data: []byte("w")}
		case p < 55:
			tx = &plan9.Fcall{Type: plan9.Tread, Fid: 2, Count: 64}
		case p < 62:
			tx = &plan9.Fcall{Type: plan9.Tstat, Fid: 2}
		case len(sent) > 0:
			// Mostly recent tags, sometimes a flush, sometimes one
			// long answered.
			i := len(sent) - 1 - rng.IntN(min(len(sent), 40))
			if rng.IntN(10) == 0 {
				i = rng.IntN(len(sent))
			}
			st.flush, st.old = true, sent[i]
			tx = &plan9.Fcall{Type: plan9.Tflush, Oldtag: st.old}
		default:
			tx = &plan9.Fcall{Type: plan9.Tstat, Fid: 2}
		}
		tx.Tag = tag
		mu.Lock()
		tags[tag] = st
		pending++
		if st.flush {
			old := tags[st.old]
			old.flushedBy = append(old.flushedBy, tag)
		}
		mu.Unlock()
		sent = append(sent, tag)
		r.send(tx)
		if rng.IntN(50) == 0 {
			time.Sleep(time.Duration(rng.IntN(100)) * time.Microsecond)
		}
	}

	deadline := time.Now().Add(timeout)
	for {
		mu.Lock()
		p := pending
		mu.Unlock()
		if p == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tags unanswered; server %+v", p, e.srv.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	close(stop)
	<-released
	r.c.Close()
	<-done

	mu.Lock()
	defer mu.Unlock()
	for _, v := range violations {
		t.Error(v)
	}
	for tag, st := range tags {
		if !st.answered {
			t.Errorf("tag %d never answered", tag)
		}
	}
	t.Logf("%d requests abandoned by flushes, %d answered before their flushes", abandoned, replied)
	if abandoned == 0 || replied == 0 {
		t.Errorf("the race was not run: %d abandoned, %d answered first", abandoned, replied)
	}
}

// TestSlowReader: a client that sends requests and never reads the
// replies holds up no other connection, even with one worker in all;
// once it hangs up, everything it had outstanding finishes.
func TestSlowReader(t *testing.T) {
	e := newEnv(t, Config{MaxProcs: 1, MaxMsgs: 8})
	e.fs.mk("active/tmp/fast", "glenda", "sys", 0666, "fast data")
	slow := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	slow.session("glenda", "")
	slow.walkOpen(1, "tmp/fast", plan9.OREAD)
	// net.Pipe has no buffer: every reply's write waits for a read
	// that never comes. Send more requests than there are workers
	// and than the connection may have outstanding.
	slow.c.SetWriteDeadline(time.Time{})
	go func() {
		for tag := uint16(1); tag <= 20; tag++ {
			if plan9.WriteFcall(slow.c, &plan9.Fcall{Type: plan9.Tstat, Tag: tag, Fid: 1}) != nil {
				return // hung up, below
			}
		}
	}()
	waitRunning(t, e.srv, 8)
	other := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	other.session("glenda", "")
	other.walkOpen(2, "tmp/fast", plan9.OREAD)
	if rx := other.ok(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 2, Count: 100}); string(rx.Data) != "fast data" {
		t.Errorf("read beside a client that does not read: %q", rx.Data)
	}
	slow.c.Close()
	waitRunning(t, e.srv, 0)
}
