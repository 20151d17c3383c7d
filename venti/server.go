package venti

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
)

// A Handler stores and retrieves blocks for a Server. Its methods are
// called concurrently, for up to MaxRequests outstanding requests of a
// connection at once.
type Handler interface {
	// Read returns the block with the given score and type. count is the
	// largest block the client accepts.
	Read(ctx context.Context, score Score, t Type, count int) ([]byte, error)
	// Write stores a block and returns its score. The server has already
	// checked that the block is no larger than MaxLumpSize. data is only
	// valid during the call: the server reuses its memory.
	Write(ctx context.Context, t Type, data []byte) (Score, error)
	// Sync returns when every block acknowledged by Write is on
	// permanent storage.
	Sync(ctx context.Context) error
}

// A Server answers venti clients on behalf of a Handler.
type Server struct {
	Handler Handler

	// Sid is the identity sent in Rhello; "anonymous" if empty.
	Sid string
	// MaxRequests bounds the requests handled at once on one
	// connection (and so the memory a client can pin); 0 means 64.
	// Tags make 256 the most a client can have outstanding.
	MaxRequests int
	// Logf, if set, receives one line per connection error, and with
	// Debug one line per message.
	Logf  func(format string, args ...any)
	Debug bool

	mu     sync.Mutex
	closed bool
	lns    map[net.Listener]bool
	conns  map[io.Closer]bool
	wg     sync.WaitGroup
}

// ErrLumpTooLarge is the error for a block larger than MaxLumpSize; the C
// venti's clients print it as "lump too large".
var ErrLumpTooLarge = errors.New("lump too large")

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("venti: server closed")

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Server) track(c io.Closer, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add && s.closed {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[io.Closer]bool)
	}
	if add {
		s.conns[c] = true
	} else {
		delete(s.conns, c)
	}
	return true
}

// Serve accepts connections on l and serves each in its own goroutine
// until l fails or Close is called.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.lns == nil {
		s.lns = make(map[net.Listener]bool)
	}
	s.lns[l] = true
	s.mu.Unlock()
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.ServeConn(context.Background(), nc); err != nil {
				s.logf("venti: %v: %v", nc.RemoteAddr(), err)
			}
		}()
	}
}

// Close stops the listeners, hangs up every connection and waits for
// their handlers to return.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for l := range s.lns {
		l.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// ServeConn runs one session over rwc until the client says goodbye, hangs
// up or sends a malformed message; it closes rwc before returning. A
// clean end (goodbye or hang-up between messages) returns nil.
func (s *Server) ServeConn(ctx context.Context, rwc io.ReadWriteCloser) error {
	if !s.track(rwc, true) {
		rwc.Close()
		return ErrServerClosed
	}
	defer s.track(rwc, false)
	defer rwc.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	context.AfterFunc(ctx, func() { rwc.Close() })

	br := bufio.NewReaderSize(rwc, 64<<10)
	if _, err := exchangeVersion(rwc, br); err != nil {
		return err
	}
	sc := &serverConn{
		srv:     s,
		replies: make(chan *[]byte, 64),
		bw:      bufio.NewWriterSize(rwc, 64<<10),
		work:    make(chan *request),
		quit:    make(chan struct{}),
		writes:  make(map[uint64]struct{}),
	}
	sc.cond.L = &sc.mu
	// A sync waiting for earlier writes gives up when the session ends.
	context.AfterFunc(ctx, func() {
		sc.mu.Lock()
		sc.cond.Broadcast()
		sc.mu.Unlock()
	})
	writerDone := make(chan error, 1)
	go func() { writerDone <- sc.writer(ctx) }()

	err := sc.readLoop(ctx, br)
	// Let the requests in flight finish and their replies go out, unless
	// the connection is already broken.
	sc.inflight.Wait()
	close(sc.quit)
	close(sc.replies)
	if werr := <-writerDone; err == nil {
		err = werr
	}
	return err
}

type serverConn struct {
	srv      *Server
	replies  chan *[]byte
	bw       *bufio.Writer
	inflight sync.WaitGroup

	// Requests are handled by workers, started as needed up to
	// MaxRequests and kept for the session: a goroutine started for each
	// request would grow its stack anew every time.
	work    chan *request // to an idle worker
	quit    chan struct{} // closed when the session ends: workers return
	workers int           // started; only readLoop counts them

	// A Tsync answers for the Twrites that came before it: writes are
	// numbered in order of arrival, and a sync waits until none numbered
	// below the next number at its arrival is still being handled.
	mu      sync.Mutex
	cond    sync.Cond           // broadcast when a write ends while syncs wait
	nextSeq uint64              // the number of the next Twrite
	writes  map[uint64]struct{} // the numbers of the Twrites being handled
	syncs   int                 // Tsyncs waiting for writes
}

// A request is a Tread, Twrite or Tsync being handled. Requests are
// recycled, as are the buffers their data arrive in.
type request struct {
	m   Msg
	buf *[]byte // holds m.Data
	seq uint64  // Twrite: its number; Tsync: the number of the next Twrite
}

var requestPool = sync.Pool{New: func() any { return new(request) }}

// writesBefore reports whether a Twrite numbered below seq is being
// handled; sc.mu is held.
func (sc *serverConn) writesBefore(seq uint64) bool {
	for n := range sc.writes {
		if n < seq {
			return true
		}
	}
	return false
}

func (sc *serverConn) writer(ctx context.Context) error {
	var err error
	for b := range sc.replies {
		if err != nil {
			putBuf(b)
			continue // drain so that handlers never block
		}
		_, err = sc.bw.Write(*b)
		putBuf(b)
		if err == nil && len(sc.replies) == 0 {
			runtime.Gosched() // gather replies about to be queued
		}
		if err == nil && len(sc.replies) == 0 {
			err = sc.bw.Flush()
		}
	}
	return err
}

func (sc *serverConn) reply(m *Msg) {
	b := getBuf()
	out, err := m.Marshal(*b)
	if err != nil {
		out, _ = (&Msg{Type: Rerror, Tag: m.Tag, Error: err.Error()}).Marshal(out[:0])
	}
	*b = out
	if sc.srv.Debug {
		sc.srv.logf("venti: -> %s", m.String())
	}
	sc.replies <- b
}

func (sc *serverConn) readLoop(ctx context.Context, br *bufio.Reader) error {
	max := sc.srv.MaxRequests
	if max <= 0 {
		max = 64
	}
	sem := make(chan struct{}, max)
	hello := false
	for {
		req := requestPool.Get().(*request)
		m := &req.m
		buf, err := readMsgBuf(br, m)
		if err != nil {
			if err == io.EOF || ctx.Err() != nil {
				return nil
			}
			return err
		}
		if sc.srv.Debug {
			sc.srv.logf("venti: <- %s", m.String())
		}
		if m.Type != Tread && m.Type != Twrite && m.Type != Tsync {
			// Handled here, without its buffer: what is used of it
			// (strings) has been copied out.
			putBuf(buf)
			buf = nil
		}
		if !hello {
			if m.Type != Thello {
				return ProtocolError(fmt.Sprintf("%v before Thello", m.Type))
			}
			if m.Version != ProtocolVersion {
				sc.reply(&Msg{Type: Rerror, Tag: m.Tag, Error: "unsupported version " + m.Version})
				return fmt.Errorf("venti: client asked for version %q", m.Version)
			}
			hello = true
			sid := sc.srv.Sid
			if sid == "" {
				sid = "anonymous"
			}
			sc.reply(&Msg{Type: Rhello, Tag: m.Tag, Sid: sid})
			continue
		}
		switch m.Type {
		case Tping:
			sc.reply(&Msg{Type: Rping, Tag: m.Tag})
			continue
		case Tgoodbye:
			return nil
		case Tread, Twrite, Tsync:
		default:
			return ProtocolError(fmt.Sprintf("unexpected %v", m.Type))
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			putBuf(buf)
			return nil
		}
		req.buf = buf
		switch m.Type {
		case Twrite:
			sc.mu.Lock()
			req.seq = sc.nextSeq
			sc.nextSeq++
			sc.writes[req.seq] = struct{}{}
			sc.mu.Unlock()
		case Tsync:
			sc.mu.Lock()
			req.seq = sc.nextSeq
			sc.mu.Unlock()
		}
		sc.inflight.Add(1)
		if sc.workers < max {
			select {
			case sc.work <- req:
			default:
				sc.workers++
				go sc.worker(ctx, req, sem)
			}
			continue
		}
		// With every worker started, the one whose request freed the
		// semaphore slot is about to be idle.
		sc.work <- req
	}
}

// worker handles req and then whatever readLoop hands it, until the
// session ends.
func (sc *serverConn) worker(ctx context.Context, req *request, sem chan struct{}) {
	for {
		sc.serve(ctx, req, sem)
		select {
		case req = <-sc.work:
		case <-sc.quit:
			return
		}
	}
}

// serve handles one request and queues its reply.
func (sc *serverConn) serve(ctx context.Context, req *request, sem chan struct{}) {
	var r Msg
	sc.handle(ctx, req, &r)
	putBuf(req.buf) // the handler is done with m.Data
	sc.reply(&r)
	if req.m.Type == Twrite {
		sc.mu.Lock()
		delete(sc.writes, req.seq)
		if sc.syncs > 0 {
			sc.cond.Broadcast()
		}
		sc.mu.Unlock()
	}
	*req = request{}
	requestPool.Put(req)
	<-sem
	sc.inflight.Done()
}

// handle runs one request through the Handler and sets r to the reply.
func (sc *serverConn) handle(ctx context.Context, req *request, r *Msg) {
	m := &req.m
	h := sc.srv.Handler
	defer func() {
		// A handler bug must not take the whole server down with it.
		if p := recover(); p != nil {
			sc.srv.logf("venti: panic handling %s: %v", m.String(), p)
			*r = Msg{Type: Rerror, Tag: m.Tag, Error: "internal error"}
		}
	}()
	fail := func(err error) { *r = Msg{Type: Rerror, Tag: m.Tag, Error: err.Error()} }
	switch m.Type {
	case Tread:
		data, err := h.Read(ctx, m.Score, m.BlockType, int(m.Count))
		if err != nil {
			fail(err)
			return
		}
		if len(data) > int(m.Count) {
			fail(fmt.Errorf("block %v is %d bytes, more than the %d asked for", m.Score, len(data), m.Count))
			return
		}
		*r = Msg{Type: Rread, Tag: m.Tag, Data: data}
	case Twrite:
		if len(m.Data) > MaxLumpSize {
			fail(ErrLumpTooLarge)
			return
		}
		score, err := h.Write(ctx, m.BlockType, m.Data)
		if err != nil {
			fail(err)
			return
		}
		*r = Msg{Type: Rwrite, Tag: m.Tag, Score: score}
	default: // Tsync
		sc.mu.Lock()
		sc.syncs++
		for sc.writesBefore(req.seq) && ctx.Err() == nil {
			sc.cond.Wait()
		}
		sc.syncs--
		sc.mu.Unlock()
		if err := ctx.Err(); err != nil {
			fail(err)
			return
		}
		if err := h.Sync(ctx); err != nil {
			fail(err)
			return
		}
		*r = Msg{Type: Rsync, Tag: m.Tag}
	}
}
