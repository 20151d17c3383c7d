package ninep

import (
	"bufio"
	"io"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"9fans.net/go/plan9"
)

// A request is one T-message being served.
type request struct {
	c   *conn
	tag uint16
	tx  *plan9.Fcall

	// Guarded by c.mu.
	committed bool       // no longer abandonable: a flush waits for its reply
	replying  bool       // its reply is being written; the tag is free after that
	flushed   bool       // abandoned by a flush or a hang-up: no reply may be sent
	answered  bool       // replied to or dropped
	isFlush   bool       // a Tflush waiting for the reply to another request
	flushes   []*request // flushes waiting for this reply, in arrival order

	// buf, if not nil, is a pooled buffer the reply's data is in,
	// given back once the reply is written.
	buf *[]byte
}

// abandonable reports whether a request can be dropped while it is
// being served, its reply never sent: those that change nothing outside
// the fid table until they commit (see claim). Writes, creates,
// removes, wstats, clunks and truncating opens change the file system
// as they run, so a flush waits for their replies.
func abandonable(tx *plan9.Fcall) bool {
	switch tx.Type {
	case plan9.Tauth, plan9.Tattach, plan9.Twalk, plan9.Tread, plan9.Tstat:
		return true
	case plan9.Topen:
		return tx.Mode&plan9.OTRUNC == 0
	}
	return false
}

// A conn is one client connection.
type conn struct {
	s     *Server
	rwc   io.ReadWriteCloser
	name  string
	opts  ConnOptions
	msize atomic.Uint32 // negotiated; 0 before Tversion

	wmu  sync.Mutex // one message at a time on rwc
	werr error      // the first write error, under wmu

	mu        sync.Mutex
	cond      sync.Cond // broadcast when active, nflush or tags shrink
	tags      map[uint16]*request
	active    int // admitted requests not finished, abandoned ones included
	nflush    int // flushes waiting for a reply
	fids      map[uint32]*fid
	versioned bool
	authed    bool // someone authenticated here: none may attach
}

func newConn(s *Server, rwc io.ReadWriteCloser, name string, opts ConnOptions) *conn {
	c := &conn{
		s:    s,
		rwc:  rwc,
		name: name,
		opts: opts,
		tags: map[uint16]*request{},
		fids: map[uint32]*fid{},
	}
	c.cond.L = &c.mu
	return c
}

// serve reads and dispatches messages until the connection fails, then
// winds it down. The reading may move to another goroutine (see admit);
// serve returns when the connection is done either way.
func (c *conn) serve() error {
	br := bufio.NewReaderSize(c.rwc, 16<<10)
	done := make(chan error, 1)
	c.readLoop(br, done)
	return <-done
}

// readLoop is the reader: it returns when the connection ends, sending the
// error on done, or when another goroutine has taken over the reading.
func (c *conn) readLoop(br *bufio.Reader, done chan<- error) {
	var err error
	// spare is the buffer of the last message, when nothing points
	// into it any more: a request served here and finished. Reusing
	// it spares an allocation (and the zeroing of up to msize bytes)
	// per request.
	var spare []byte
	for {
		c.waitRoom()
		max := c.msize.Load()
		if max == 0 {
			max = MaxMsize
		}
		var tx *plan9.Fcall
		var buf []byte
		if tx, buf, err = readMsg(br, max, spare); err != nil {
			break
		}
		spare = nil
		c.s.debugf("%s <- %v\n", c.name, tx)
		switch tx.Type {
		case plan9.Tversion:
			c.version(tx)
		case plan9.Tflush:
			c.flush(tx)
		default:
			// A client with nothing else in flight and nothing more
			// sent (one request at a time, as most are) is served
			// on this goroutine: handing the request to a worker
			// and back costs two wakeups, which is most of a small
			// request's time. If it takes long, another goroutine
			// goes on reading, so flushes are still seen.
			if r := c.admit(tx, br.Buffered() == 0); r != nil {
				if c.runInline(r, br, done) {
					return
				}
				spare = buf
			}
		}
	}
	if err != io.EOF {
		// A broken or malformed stream: stop writing to it too, so
		// that replies stuck in writes give up.
		c.rwc.Close()
	}
	c.shutdown()
	c.rwc.Close()
	done <- err
}

// waitRoom waits until another message may be read. Up to MaxMsgs
// requests may be outstanding; beyond that the reader reads on only
// while the flushes waiting stay under MaxMsgs too, so that a client
// can still flush what it sent, and holds any other request until one
// finishes (admit). Memory and goroutines per connection stay bounded
// whatever the client sends.
func (c *conn) waitRoom() {
	limit := c.s.msgLimit()
	c.mu.Lock()
	for c.active+c.nflush >= 2*limit {
		c.cond.Wait()
		limit = c.s.msgLimit()
	}
	c.mu.Unlock()
}

// admit registers a request and queues it for a worker; or, if inline
// and it is the connection's only request and a worker slot is free,
// returns it for the reader to serve.
func (c *conn) admit(tx *plan9.Fcall, inline bool) *request {
	limit := c.s.msgLimit()
	c.mu.Lock()
	for c.active >= limit || c.replyingLocked(tx.Tag) {
		c.cond.Wait()
		limit = c.s.msgLimit()
	}
	var err error
	switch {
	case !c.versioned:
		err = errNoVersion
	case c.tags[tx.Tag] != nil:
		err = errTagInUse
	}
	if err != nil {
		c.mu.Unlock()
		c.sendError(tx.Tag, err)
		return nil
	}
	r := &request{c: c, tag: tx.Tag, tx: tx}
	c.tags[tx.Tag] = r
	inline = inline && c.active == 0
	c.active++
	c.s.nreqs.Add(1)
	c.mu.Unlock()
	if inline && c.s.takeWorker() {
		return r
	}
	c.s.enqueue(r)
	return nil
}

// replyingLocked reports whether tag belongs to a request whose reply
// is being written. The client may send the tag again as soon as it has
// the reply, perhaps before the writer has let go of the tag, so a new
// request waits for that instead of being refused.
func (c *conn) replyingLocked(tag uint16) bool {
	r := c.tags[tag]
	return r != nil && r.replying
}

// flush answers a Tflush. A request not yet committed is abandoned and
// the Rflush sent at once; otherwise the flush waits for the request's
// reply and is answered right after it (respond). Either way no reply
// to the old tag can follow the Rflush.
func (c *conn) flush(tx *plan9.Fcall) {
	c.mu.Lock()
	for c.replyingLocked(tx.Tag) {
		c.cond.Wait()
	}
	if c.tags[tx.Tag] != nil {
		c.mu.Unlock()
		c.sendError(tx.Tag, errTagInUse)
		return
	}
	old := c.tags[tx.Oldtag]
	if old != nil && old.committed {
		f := &request{c: c, tag: tx.Tag, tx: tx, isFlush: true, committed: true}
		c.tags[tx.Tag] = f
		c.nflush++
		old.flushes = append(old.flushes, f)
		c.mu.Unlock()
		return
	}
	if old != nil {
		old.flushed = true
		delete(c.tags, old.tag)
		c.cond.Broadcast()
	}
	c.mu.Unlock()
	c.send(&plan9.Fcall{Type: plan9.Rflush, Tag: tx.Tag})
}

// abandonLocked abandons every request not committed, as a Tversion or
// a hang-up does.
func (c *conn) abandonLocked() {
	for tag, r := range c.tags {
		if !r.committed {
			r.flushed = true
			delete(c.tags, tag)
		}
	}
	c.cond.Broadcast()
}

// version answers a Tversion: it ends every request and fid of the
// session and negotiates a new one (version(5)).
func (c *conn) version(tx *plan9.Fcall) {
	c.mu.Lock()
	c.abandonLocked()
	for len(c.tags) > 0 {
		c.cond.Wait()
	}
	fids := c.fids
	c.fids = map[uint32]*fid{}
	c.authed = false
	c.versioned = false
	c.mu.Unlock()
	c.clunkAll(fids)

	if tx.Msize < minMsize {
		c.sendError(tx.Tag, errMsizeSmall)
		return
	}
	msize := min(tx.Msize, MaxMsize)
	rx := &plan9.Fcall{Type: plan9.Rversion, Tag: tx.Tag, Msize: msize, Version: plan9.VERSION9P}
	// "9P2000.anything" is 9P2000 to a server that knows no
	// extensions; anything else is unknown.
	v, _, _ := strings.Cut(tx.Version, ".")
	if v != plan9.VERSION9P {
		rx.Version = "unknown"
		c.send(rx)
		return
	}
	c.msize.Store(msize)
	c.mu.Lock()
	c.versioned = true
	c.mu.Unlock()
	c.send(rx)
}

// shutdown abandons what it can, waits for the rest of the requests to
// finish and clunks every fid.
func (c *conn) shutdown() {
	c.mu.Lock()
	c.abandonLocked()
	for c.active > 0 || c.nflush > 0 {
		c.cond.Wait()
	}
	fids := c.fids
	c.fids = map[uint32]*fid{}
	c.mu.Unlock()
	c.clunkAll(fids)
}

// run serves r on a worker, and calls done once the work is done,
// before the reply is written: a client that does not read its replies
// holds up only its own goroutines, never a worker slot that other
// connections need. The goroutines waiting to write are bounded by the
// requests each connection may have outstanding (msg -m), since a
// request is outstanding until its reply is written.
func (c *conn) run(r *request, done func()) {
	c.mu.Lock()
	if r.flushed {
		c.releaseLocked(r)
		c.mu.Unlock()
		done()
		return
	}
	if !abandonable(r.tx) {
		r.committed = true
	}
	c.mu.Unlock()
	rx, err := c.handleSafely(r)
	done()
	switch {
	case err == errAbandoned:
		c.drop(r)
	case err != nil:
		c.respond(r, c.errorReply(err))
	default:
		c.respond(r, rx)
	}
	putBuf(r.buf)
	r.buf = nil
}

// handleSafely contains a panic in a File method (or in the server) to
// the request that ran into it.
func (c *conn) handleSafely(r *request) (rx *plan9.Fcall, err error) {
	defer func() {
		if e := recover(); e != nil {
			c.s.errs.printf("ninep: %s: panic serving %v: %v\n%s", c.name, r.tx, e, debug.Stack())
			rx, err = nil, errInternal
		}
	}()
	return c.handle(r)
}

// claim commits r if it has not been abandoned: from then on a flush
// waits for its reply. Abandonable requests claim before changing the
// fid table, and undo their work if the claim fails.
func (c *conn) claim(r *request) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.flushed {
		return false
	}
	r.committed = true
	return true
}

// respond sends r's reply, unless r was abandoned, then the replies to
// the flushes waiting for it.
func (c *conn) respond(r *request, rx *plan9.Fcall) {
	c.mu.Lock()
	if r.answered {
		c.mu.Unlock()
		return
	}
	r.answered = true
	if r.flushed {
		c.releaseLocked(r)
		c.mu.Unlock()
		return
	}
	r.committed = true
	r.replying = true
	c.mu.Unlock()

	rx.Tag = r.tag
	c.sendIn(rx, r.buf)

	// Answer the flushes waiting for this reply, and any that come
	// while doing so, before letting go of the tag: a flush that finds
	// the tag free is answered at once, and must not overtake these.
	for {
		c.mu.Lock()
		flushes := r.flushes
		r.flushes = nil
		if len(flushes) == 0 {
			if c.tags[r.tag] == r {
				delete(c.tags, r.tag)
			}
			c.releaseLocked(r)
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		for _, f := range flushes {
			c.respond(f, &plan9.Fcall{Type: plan9.Rflush})
		}
	}
}

// drop finishes an abandoned request without a reply.
func (c *conn) drop(r *request) {
	c.mu.Lock()
	r.answered = true
	c.releaseLocked(r)
	c.mu.Unlock()
}

func (c *conn) releaseLocked(r *request) {
	if r.isFlush {
		c.nflush--
	} else {
		c.active--
		c.s.nreqs.Add(-1)
	}
	c.cond.Broadcast()
}

// errorReply makes an Rerror that fits in a message.
func (c *conn) errorReply(err error) *plan9.Fcall {
	e := err.Error()
	if max := int(c.msize.Load()) - hdrSize - 2; max > 0 && len(e) > max {
		e = e[:max]
	}
	return &plan9.Fcall{Type: plan9.Rerror, Ename: e}
}

func (c *conn) sendError(tag uint16, err error) {
	rx := c.errorReply(err)
	rx.Tag = tag
	c.send(rx)
}

// send writes one message. After a write fails the connection is
// closed, which ends the reader too, and nothing more is written.
func (c *conn) send(rx *plan9.Fcall) { c.sendIn(rx, nil) }

// sendIn is send of a reply whose data may lie in buf, the request's
// pooled buffer: an Rread that getReadBuf left room for is packed there
// without copying its data.
func (c *conn) sendIn(rx *plan9.Fcall, buf *[]byte) {
	var b []byte
	if rx.Type == plan9.Rread {
		if b = packRreadIn(rx, buf); b == nil {
			p := packRread(rx)
			defer putBuf(p)
			b = *p
		}
	} else {
		var err error
		if b, err = rx.Bytes(); err != nil {
			c.s.errs.printf("ninep: %s: cannot pack %v: %v\n", c.name, rx, err)
			return
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.s.debugf("%s -> %v\n", c.name, rx)
	if c.werr != nil {
		return
	}
	if _, err := c.rwc.Write(b); err != nil {
		c.werr = err
		c.rwc.Close()
	}
}

// users lists who has fids attached on the connection.
func (c *conn) users() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var us []string
	for _, f := range c.fids {
		if f.auth == nil && !slices.Contains(us, f.uname) {
			us = append(us, f.uname)
		}
	}
	slices.Sort(us)
	return us
}
