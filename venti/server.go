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
// called concurrently, from one goroutine per outstanding request.
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
		replies: make(chan []byte, 64),
		bw:      bufio.NewWriterSize(rwc, 64<<10),
	}
	writerDone := make(chan error, 1)
	go func() { writerDone <- sc.writer(ctx) }()

	err := sc.readLoop(ctx, br)
	// Let the requests in flight finish and their replies go out, unless
	// the connection is already broken.
	sc.inflight.Wait()
	close(sc.replies)
	if werr := <-writerDone; err == nil {
		err = werr
	}
	return err
}

type serverConn struct {
	srv      *Server
	replies  chan []byte
	bw       *bufio.Writer
	inflight sync.WaitGroup

	mu     sync.Mutex
	writes map[*pendingWrite]bool // Twrites being handled, for Tsync
}

type pendingWrite struct{ done chan struct{} }

func (sc *serverConn) writer(ctx context.Context) error {
	var err error
	for b := range sc.replies {
		if err != nil {
			putBuf(b)
			continue // drain so that handlers never block
		}
		_, err = sc.bw.Write(b)
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
	b, err := m.Marshal(getBuf())
	if err != nil {
		b, _ = (&Msg{Type: Rerror, Tag: m.Tag, Error: err.Error()}).Marshal(b[:0])
	}
	if sc.srv.Debug {
		sc.srv.logf("venti: -> %v", m)
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
		m, buf, err := readMsgBuf(br)
		if err != nil {
			if err == io.EOF || ctx.Err() != nil {
				return nil
			}
			return err
		}
		if sc.srv.Debug {
			sc.srv.logf("venti: <- %v", m)
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
			return nil
		}
		var pw *pendingWrite
		var earlier []*pendingWrite
		switch m.Type {
		case Twrite:
			pw = &pendingWrite{done: make(chan struct{})}
			sc.mu.Lock()
			if sc.writes == nil {
				sc.writes = make(map[*pendingWrite]bool)
			}
			sc.writes[pw] = true
			sc.mu.Unlock()
		case Tsync:
			// A sync answers for the writes that came before it.
			sc.mu.Lock()
			for w := range sc.writes {
				earlier = append(earlier, w)
			}
			sc.mu.Unlock()
		}
		sc.inflight.Add(1)
		go func() {
			defer sc.inflight.Done()
			defer func() { <-sem }()
			r := sc.handle(ctx, m, earlier)
			putBuf(buf) // the handler is done with m.Data
			sc.reply(r)
			if pw != nil {
				sc.mu.Lock()
				delete(sc.writes, pw)
				sc.mu.Unlock()
				close(pw.done)
			}
		}()
	}
}

// handle runs one request through the Handler and returns the reply.
func (sc *serverConn) handle(ctx context.Context, m *Msg, earlier []*pendingWrite) (r *Msg) {
	h := sc.srv.Handler
	defer func() {
		// A handler bug must not take the whole server down with it.
		if p := recover(); p != nil {
			sc.srv.logf("venti: panic handling %v: %v", m, p)
			r = &Msg{Type: Rerror, Tag: m.Tag, Error: "internal error"}
		}
	}()
	fail := func(err error) *Msg { return &Msg{Type: Rerror, Tag: m.Tag, Error: err.Error()} }
	switch m.Type {
	case Tread:
		data, err := h.Read(ctx, m.Score, m.BlockType, int(m.Count))
		if err != nil {
			return fail(err)
		}
		if len(data) > int(m.Count) {
			return fail(fmt.Errorf("block %v is %d bytes, more than the %d asked for", m.Score, len(data), m.Count))
		}
		return &Msg{Type: Rread, Tag: m.Tag, Data: data}
	case Twrite:
		if len(m.Data) > MaxLumpSize {
			return fail(ErrLumpTooLarge)
		}
		score, err := h.Write(ctx, m.BlockType, m.Data)
		if err != nil {
			return fail(err)
		}
		return &Msg{Type: Rwrite, Tag: m.Tag, Score: score}
	default: // Tsync
		for _, w := range earlier {
			select {
			case <-w.done:
			case <-ctx.Done():
				return fail(ctx.Err())
			}
		}
		if err := h.Sync(ctx); err != nil {
			return fail(err)
		}
		return &Msg{Type: Rsync, Tag: m.Tag}
	}
}
