package ninep

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"9fans.net/go/plan9"

	"github.com/plan9fossil/fossil/internal/users"
)

// Default limits, for a Config that leaves them zero.
const (
	DefaultMaxMsgs  = 32 // outstanding requests per connection
	DefaultMaxProcs = 16 // worker goroutines in all
)

// MaxMsize is the largest message the server negotiates: 128 KiB of
// data and a header. A client asking for less gets what it asks for.
const MaxMsize = 128<<10 + plan9.IOHDRSZ

// minMsize is the smallest msize accepted: room for a header and a
// directory entry of ordinary names.
const minMsize = 256

// Config is what a Server serves and how.
type Config struct {
	// Fsys returns the file system an attach names ("main"); its
	// error goes to the client.
	Fsys func(name string) (Fsys, error)
	// Users returns the users table, asked afresh for each request so
	// that the console may swap it. Nil means the built-in table.
	Users func() *users.Table
	// Log receives every message in and out when not nil (-D);
	// SetDebug changes it.
	Log io.Writer
	// Errors receives reports of trouble the client is not told in
	// full, such as a panic in a File method. Nil means standard
	// error.
	Errors io.Writer
	// MaxMsgs bounds the requests outstanding on each connection (msg
	// -m); input is not read while a connection has that many.
	MaxMsgs int
	// MaxProcs bounds the goroutines serving requests, on all
	// connections together (msg -p).
	MaxProcs int
	// Auth starts the server's side of authentication conversations;
	// nil means authentication is unavailable, so only connections or
	// file systems without authentication (-A) can be attached to.
	Auth AuthFunc
}

// ConnOptions are the per-connection options of srv and listen.
type ConnOptions struct {
	NoAuth     bool // -A: attach without authentication
	NoPerm     bool // -P: no permission checks
	WstatAllow bool // -W: wstat may change owner and group at will
	NoneOK     bool // listen -N: none may attach without a chaperone
}

// ConnInfo describes a connection for the console's who.
type ConnInfo struct {
	Name  string   // as given to ServeConn
	Users []string // the users with fids attached on it, sorted
}

// Stats are counts of what the server holds, for the console and for
// tests that check nothing leaks.
type Stats struct {
	Conns    int // connections being served
	Fids     int // fids in use, on all connections
	Requests int // requests admitted and not finished
	Queued   int // requests waiting for a worker
	Workers  int // worker goroutines
}

// A Server serves 9P2000 on any number of connections.
type Server struct {
	cfg      Config
	defUsers *users.Table // when Config.Users is nil or returns nil

	debug atomic.Pointer[logger]
	errs  logger

	mu       sync.Mutex
	queue    []*request // admitted requests waiting for a worker, oldest first
	workers  int
	maxMsgs  int
	maxProcs int
	conns    map[*conn]uint64 // with the order they came in
	seq      uint64

	nfids atomic.Int64
	nreqs atomic.Int64

	inline   inlineWatch // requests served by their connection's reader
	excl     exclTable
	appendMu [64]sync.Mutex // appends to one file go one at a time
	authPath atomic.Uint64  // qid paths of auth fids
}

// A logger serializes lines written to w.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logger) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

// NewServer returns a server for cfg.
func NewServer(cfg Config) *Server {
	s := &Server{cfg: cfg, conns: map[*conn]uint64{}}
	s.excl.m = map[exclKey]*fid{}
	s.maxMsgs, s.maxProcs = DefaultMaxMsgs, DefaultMaxProcs
	s.setLimits(cfg.MaxMsgs, cfg.MaxProcs)
	s.defUsers = users.Default()
	s.errs.w = cfg.Errors
	if s.errs.w == nil {
		s.errs.w = os.Stderr
	}
	s.SetDebug(cfg.Log)
	return s
}

// SetDebug sends every message in and out to w, or stops when w is nil
// (the console's dflag).
func (s *Server) SetDebug(w io.Writer) {
	if w == nil {
		s.debug.Store(nil)
		return
	}
	s.debug.Store(&logger{w: w})
}

// debugf logs to the debug writer, if any.
func (s *Server) debugf(format string, args ...any) {
	if l := s.debug.Load(); l != nil {
		l.printf(format, args...)
	}
}

// SetLimits changes the limits of msg -m and -p; a value not above zero
// leaves its limit alone.
func (s *Server) SetLimits(msgs, procs int) {
	s.mu.Lock()
	s.setLimits(msgs, procs)
	// More workers may run now.
	for s.workers < s.maxProcs && s.workers < len(s.queue) {
		s.workers++
		go s.work()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	// Readers waiting for room look at the new limit.
	for _, c := range conns {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

func (s *Server) setLimits(msgs, procs int) {
	if msgs > 0 {
		s.maxMsgs = msgs
	}
	if procs > 0 {
		s.maxProcs = procs
	}
}

// Limits returns the limits of msg -m and -p.
func (s *Server) Limits() (msgs, procs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxMsgs, s.maxProcs
}

func (s *Server) msgLimit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxMsgs
}

// users returns the table to use now.
func (s *Server) users() *users.Table {
	if s.cfg.Users != nil {
		if t := s.cfg.Users(); t != nil {
			return t
		}
	}
	return s.defUsers
}

// Who lists the connections and who is attached on each, oldest
// connection first.
func (s *Server) Who() []ConnInfo {
	s.mu.Lock()
	type seqConn struct {
		seq uint64
		c   *conn
	}
	var cs []seqConn
	for c, seq := range s.conns {
		cs = append(cs, seqConn{seq, c})
	}
	s.mu.Unlock()
	slices.SortFunc(cs, func(a, b seqConn) int { return cmp.Compare(a.seq, b.seq) })
	var out []ConnInfo
	for _, sc := range cs {
		out = append(out, ConnInfo{Name: sc.c.name, Users: sc.c.users()})
	}
	return out
}

// Stats returns the server's counts.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Conns:    len(s.conns),
		Fids:     int(s.nfids.Load()),
		Requests: int(s.nreqs.Load()),
		Queued:   len(s.queue),
		Workers:  s.workers,
	}
}

// enqueue hands r to the workers, starting one if the limit allows.
func (s *Server) enqueue(r *request) {
	s.mu.Lock()
	s.queue = append(s.queue, r)
	if s.workers < s.maxProcs {
		s.workers++
		go s.work()
	}
	s.mu.Unlock()
}

// takeWorker claims a worker slot for a request served by its
// connection's reader, if the limit allows.
func (s *Server) takeWorker() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.workers >= s.maxProcs {
		return false
	}
	s.workers++
	return true
}

// putWorker gives the slot back, to a worker for what queued meanwhile
// if anything did.
func (s *Server) putWorker() {
	s.mu.Lock()
	s.workers--
	if len(s.queue) > 0 && s.workers < s.maxProcs {
		s.workers++
		go s.work()
	}
	s.mu.Unlock()
}

// work serves queued requests until there are none, or until there are
// more workers than the limit allows. Workers are started on demand, so
// an idle server has none. A worker leaves its slot while it writes a
// reply (run), and takes one again after, if there is work and room.
func (s *Server) work() {
	s.mu.Lock()
	for len(s.queue) > 0 && s.workers <= s.maxProcs {
		r := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if len(s.queue) == 0 {
			s.queue = nil // let the backing array go
		}
		s.mu.Unlock()
		r.c.run(r, s.putWorker)
		s.mu.Lock()
		if len(s.queue) == 0 || s.workers >= s.maxProcs {
			s.mu.Unlock()
			return
		}
		s.workers++
	}
	s.workers--
	s.mu.Unlock()
}

func (s *Server) addConn(c *conn) {
	s.mu.Lock()
	s.seq++
	s.conns[c] = s.seq
	s.mu.Unlock()
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// ServeConn serves 9P on rwc until the client hangs up or sends a
// malformed message, then clunks the connection's fids (removing files
// opened ORCLOSE), closes rwc and returns. A hang-up returns nil. name
// identifies the connection for who and the debug log.
func (s *Server) ServeConn(rwc io.ReadWriteCloser, name string, opts ConnOptions) error {
	c := newConn(s, rwc, name, opts)
	s.addConn(c)
	defer s.removeConn(c)
	err := c.serve()
	if err == io.EOF {
		err = nil
	}
	return err
}
