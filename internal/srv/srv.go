package srv

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plan9fossil/fossil/internal/dialstr"
)

// Options are the per-connection settings given by the flags of srv
// and listen (fossilcons(8)); they override the file system's own
// open -APW settings for connections that arrive this way.
type Options struct {
	NoAuth     bool // -A: no authentication
	NoPerm     bool // -P: no permission checking
	WstatAllow bool // -W: wstat may change uid and gid arbitrarily
	NoneAllow  bool // -N: none may attach without a chaperone
	IPCheck    bool // -I: check callers against /mnt/ipok (Plan 9 only)
}

// A ServeFunc serves 9P on rwc until the conversation ends or rwc is
// closed, and then returns. name says where the connection came from:
// the posted path for srv, the caller's dial string for listen (rwc
// is then a net.Conn).
type ServeFunc func(rwc io.ReadWriteCloser, name string, opts Options)

// A ConsoleEnd is one end of a posted console. Console output goes to
// Out; commands are read from In.
type ConsoleEnd struct {
	Name string    // for messages: the path it was posted at
	In   io.Reader // commands arrive here; nil for an output-only end
	Out  io.Writer // console output goes here; nil for an input-only end

	// Echo says the other side does not show what it types (con(1)
	// in raw mode, or a log that should record the commands): the
	// console writes the typed characters back to Out.
	Echo bool
	// ZeroReadNotEOF says a read of no bytes is not the end: on Plan 9
	// a writer's zero-length write arrives that way on a pipe, and the
	// pipe stays open for the next client as long as it is posted.
	ZeroReadNotEOF bool
	// Ended, if not nil, is called once the end is finished: its input
	// ended or it was stopped, and its pending output was written.
	Ended func()
}

// A Console runs console ends (package cons implements it). Attach
// starts serving e and returns a function that detaches it at once,
// dropping output not yet written; a read already blocked on e.In
// ends only when the caller closes it. Attach must not call e.Ended
// before it returns: the callers hold locks that Ended takes.
type Console interface {
	Attach(e ConsoleEnd) (stop func())
}

// Config configures Services.
type Config struct {
	Serve   ServeFunc // serves 9P connections; required for srv and listen
	Console Console   // runs posted consoles; required for srv -p
	// Dir is the directory names are posted in on systems without
	// srv(3); empty means Dir(). Ignored on Plan 9.
	Dir string
}

// Services is the set of posted names and network listeners of one
// fossil. Its methods are safe for concurrent use.
type Services struct {
	cfg Config

	mu        sync.Mutex
	cond      *sync.Cond // signalled when a connection ends or limits change
	posts     []*post
	listeners []*listener
	conns     map[*conn]bool
	lingering []func() // ends sessions of consoles removed by srv -d
	maxConns  int
	nStarve   int
	closed    bool
	wg        sync.WaitGroup
}

// A post is one name made by srv: its teardown and what to list.
type post struct {
	name    string
	console bool
	where   string // what "srv" lists beside the name: the fd on Plan 9, the path elsewhere
	remove  func() // removes the name and stops taking new clients
	stopAll func() // also ends the console's sessions (Close)
}

type listener struct {
	addr string
	l    net.Listener
	opts Options
}

type conn struct {
	rwc  io.ReadWriteCloser
	name string
}

// DefaultMaxConns is how many connections are served at once until
// SetMaxConns says otherwise (the C fossil's default).
const DefaultMaxConns = 128

// New returns an empty set of services.
func New(cfg Config) *Services {
	s := &Services{cfg: cfg, conns: make(map[*conn]bool), maxConns: DefaultMaxConns}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// Posted describes one posted name, as "srv" with no arguments lists it.
type Posted struct {
	Name    string
	Where   string // the /srv file descriptor on Plan 9, the path elsewhere
	Console bool
}

// Listening describes one listener, as "listen" with no arguments
// lists it.
type Listening struct {
	Addr string // as given to Listen
	Dir  string // where it is listening, as a dial string
}

// validName reports whether name can be a file in /srv.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("srv: bad service name '%s'", name)
	}
	return nil
}

// Post makes name a 9P service (srv [-APW] name).
func (s *Services) Post(name string, opts Options) error {
	if err := validName(name); err != nil {
		return err
	}
	if s.cfg.Serve == nil {
		return errors.New("srv: no 9P server")
	}
	return s.add(name, false, func() (*post, error) { return s.postNine(name, opts) })
}

// PostConsole makes name a console (srv -p name).
func (s *Services) PostConsole(name string) error {
	if err := validName(name); err != nil {
		return err
	}
	if s.cfg.Console == nil {
		return errors.New("srv: no console")
	}
	return s.add(name, true, func() (*post, error) { return s.postConsole(name) })
}

// add posts a name unless this fossil already serves it. The lock is
// held while posting so that two posts of one name cannot race.
func (s *Services) add(name string, console bool, mk func() (*post, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("srv: shut down")
	}
	for _, p := range s.posts {
		if p.name == name {
			return fmt.Errorf("srv: already serving '%s'", name)
		}
	}
	p, err := mk()
	if err != nil {
		return err
	}
	p.name = name
	p.console = console
	s.posts = append(s.posts, p)
	return nil
}

// Remove takes name out of service (srv -d name). Connections already
// made through it go on, as mounts of a removed /srv name do.
func (s *Services) Remove(name string) error {
	s.mu.Lock()
	var p *post
	for i, q := range s.posts {
		if q.name == name {
			p = q
			s.posts = append(s.posts[:i:i], s.posts[i+1:]...)
			break
		}
	}
	if p != nil && p.stopAll != nil {
		s.lingering = append(s.lingering, p.stopAll)
	}
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("srv: '%s' not found", name)
	}
	p.remove()
	return nil
}

// Posted lists the posted names in the order they were made.
func (s *Services) Posted() []Posted {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Posted
	for _, p := range s.posts {
		out = append(out, Posted{Name: p.name, Where: p.where, Console: p.console})
	}
	return out
}

// Listen announces 9P at the Plan 9 dial string addr (listen [-IN]
// addr), for example tcp!*!564 or tcp!127.0.0.1!15640.
func (s *Services) Listen(addr string, opts Options) error {
	if s.cfg.Serve == nil {
		return errors.New("listen: no 9P server")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("listen: shut down")
	}
	for _, l := range s.listeners {
		if l.addr == addr {
			return fmt.Errorf("listen: already serving '%s'", addr)
		}
	}
	nl, err := dialstr.Listen(addr, "9fs")
	if err != nil {
		return fmt.Errorf("listen: announce '%s': %v", addr, err)
	}
	l := &listener{addr: addr, l: nl, opts: opts}
	s.listeners = append(s.listeners, l)
	s.wg.Add(1)
	go s.acceptNet(l)
	return nil
}

// acceptNet hands each caller of l to the 9P server until l is closed.
func (s *Services) acceptNet(l *listener) {
	defer s.wg.Done()
	for {
		c, err := l.l.Accept()
		if err != nil {
			break
		}
		s.serve(c, dialstr.FromGo(c.RemoteAddr()), l.opts)
	}
	// The listener is gone (listen -d, Close, or a failed network):
	// forget it unless it was already forgotten.
	s.mu.Lock()
	for i, x := range s.listeners {
		if x == l {
			s.listeners = append(s.listeners[:i:i], s.listeners[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
}

// Unlisten stops listening at addr (listen -d addr). Connections
// already made go on.
func (s *Services) Unlisten(addr string) error {
	s.mu.Lock()
	var l *listener
	for i, x := range s.listeners {
		if x.addr == addr {
			l = x
			s.listeners = append(s.listeners[:i:i], s.listeners[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	if l == nil {
		return fmt.Errorf("listen: '%s' not found", addr)
	}
	return l.l.Close()
}

// Listening lists the listeners in the order they were made.
func (s *Services) Listening() []Listening {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Listening
	for _, l := range s.listeners {
		out = append(out, Listening{Addr: l.addr, Dir: dialstr.FromGo(l.l.Addr())})
	}
	return out
}

// serve hands rwc to the 9P server in a goroutine of its own, first
// waiting while MaxConns connections are being served. The caller is
// an accept loop, so the wait holds back the next accept too, which is
// how the C fossil throttles callers.
func (s *Services) serve(rwc io.ReadWriteCloser, name string, opts Options) {
	rwc = noteProof(rwc)
	s.mu.Lock()
	waited := false
	for !s.closed && len(s.conns) >= s.maxConns {
		if !waited {
			s.nStarve++
			waited = true
		}
		s.cond.Wait()
	}
	if s.closed {
		s.mu.Unlock()
		rwc.Close()
		return
	}
	c := &conn{rwc: rwc, name: name}
	s.conns[c] = true
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		s.cfg.Serve(rwc, name, opts)
		rwc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
}

// ConnStats is what the console command con reports.
type ConnStats struct {
	Max    int      // connections served at once
	N      int      // connections being served
	Starve int      // times a connection had to wait for a slot
	Names  []string // the connections' names
}

// Conns reports the connections being served.
func (s *Services) Conns() ConnStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := ConnStats{Max: s.maxConns, N: len(s.conns), Starve: s.nStarve}
	for c := range s.conns {
		st.Names = append(st.Names, c.name)
	}
	slices.Sort(st.Names)
	return st
}

// SetMaxConns sets how many connections are served at once (con -m).
func (s *Services) SetMaxConns(n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.maxConns = n
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Close removes every posted name, stops every listener, closes every
// connection and console session, and waits for their goroutines.
// It is what a clean exit does.
func (s *Services) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	posts, listeners, lingering := s.posts, s.listeners, s.lingering
	s.posts, s.listeners, s.lingering = nil, nil, nil
	var conns []*conn
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.cond.Broadcast()
	s.mu.Unlock()

	for _, p := range posts {
		p.remove()
		if p.stopAll != nil {
			p.stopAll()
		}
	}
	for _, stop := range lingering {
		stop()
	}
	for _, l := range listeners {
		l.l.Close()
	}
	for _, c := range conns {
		c.rwc.Close()
	}
	// On Plan 9 closing a pipe does not interrupt a read already
	// blocked on it, so a connection may outlive its Close; a clean
	// exit should not hang on it.
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
	}
	return nil
}

// closeWait bounds how long Close waits for connections to end.
const closeWait = 5 * time.Second
