//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package srv

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/plan9fossil/fossil/internal/rawsock"
)

// Dir returns the directory names are posted in: /srv if it is a
// writable directory, else $SRVDIR, made if missing.
func Dir() (string, error) {
	return dirFrom("/srv", os.Getenv("SRVDIR"))
}

// dirFrom is Dir with its inputs given, for tests.
func dirFrom(srv, env string) (string, error) {
	if fi, err := os.Stat(srv); err == nil && fi.IsDir() && syscall.Access(srv, 2|1) == nil {
		return srv, nil
	}
	if env == "" {
		return "", fmt.Errorf("srv: %s is not a writable directory and $SRVDIR is not set", srv)
	}
	if err := os.MkdirAll(env, 0700); err != nil {
		return "", fmt.Errorf("srv: $SRVDIR: %v", err)
	}
	return env, nil
}

func (s *Services) dir() (string, error) {
	if s.cfg.Dir != "" {
		if err := os.MkdirAll(s.cfg.Dir, 0700); err != nil {
			return "", fmt.Errorf("srv: %v", err)
		}
		return s.cfg.Dir, nil
	}
	return Dir()
}

// mode is the permission of a posted 9P name: the C fossil makes it
// 0600 when the connection bypasses permissions or wstat rules.
func (o Options) mode() os.FileMode {
	if o.NoPerm || o.WstatAllow {
		return 0600
	}
	return 0666
}

// postNine makes a Unix-domain socket; each connection is one 9P
// conversation.
func (s *Services) postNine(name string, opts Options) (*post, error) {
	dir, err := s.dir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	l, err := listenUnix(path, opts.mode())
	if err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.serve(rawsock.Wrap(c), path, opts)
		}
	}()
	return &post{where: path, remove: func() { l.Close() }}, nil
}

// listenUnix makes a socket at path, taking the place of a stale one.
// Closing the listener removes the name.
func listenUnix(path string, mode os.FileMode) (*net.UnixListener, error) {
	if err := clearStale(path); err != nil {
		return nil, err
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("srv: %v", err)
	}
	// The umask applied at bind time; set the mode the C fossil uses.
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, fmt.Errorf("srv: %v", err)
	}
	return l, nil
}

// clearStale removes a socket or FIFO at path that nobody serves any
// more, so that a fossil that died does not block its successor. A
// name in use, or a file of another kind, is an error.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("srv: %v", err)
	}
	switch fi.Mode().Type() {
	case fs.ModeSocket:
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			c.Close()
			return fmt.Errorf("srv: %s is in use by another process", path)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("srv: %s: %v", path, err)
		}
	case fs.ModeNamedPipe:
		// Opening for writing without blocking fails with ENXIO
		// exactly when no process has it open for reading.
		fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err == nil {
			syscall.Close(fd)
			return fmt.Errorf("srv: %s is in use by another process", path)
		}
		if !errors.Is(err, syscall.ENXIO) {
			return fmt.Errorf("srv: %s: %v", path, err)
		}
	default:
		return fmt.Errorf("srv: %s exists and is not a socket or fifo", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("srv: %v", err)
	}
	return nil
}

// postConsole makes the three names of a console: the FIFO name for
// commands, name.log for what the console prints, and the socket
// name.sock for interactive sessions.
func (s *Services) postConsole(name string) (*post, error) {
	dir, err := s.dir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	if err := clearStale(path); err != nil {
		return nil, err
	}
	if err := clearStale(path + ".sock"); err != nil {
		return nil, err
	}
	if err := syscall.Mkfifo(path, 0600); err != nil {
		return nil, fmt.Errorf("srv: mkfifo %s: %v", path, err)
	}
	if err := os.Chmod(path, 0600); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("srv: %v", err)
	}
	// Read-write, so that the console itself counts as a writer: a
	// reader then never sees end of file between one "echo >>" and the
	// next, and writers never block waiting for a reader.
	fifo, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("srv: %v", err)
	}
	logf, err := os.OpenFile(path+".log", os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0600)
	if err != nil {
		fifo.Close()
		os.Remove(path)
		return nil, fmt.Errorf("srv: %v", err)
	}
	l, err := listenUnix(path+".sock", 0600)
	if err != nil {
		logf.Close()
		fifo.Close()
		os.Remove(path)
		return nil, err
	}

	// The FIFO and the log are one console end: commands come in from
	// the FIFO and are echoed, with their output, into the log.
	var closeFifo sync.Once
	stopFifo := s.cfg.Console.Attach(ConsoleEnd{
		Name: path,
		In:   fifo,
		Out:  logf,
		Echo: true,
		Ended: func() {
			closeFifo.Do(func() { fifo.Close(); logf.Close() })
		},
	})

	sess := &sessions{m: make(map[net.Conn]func())}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			sess.start(s.cfg.Console, c, path+".sock")
		}
	}()

	p := &post{where: path}
	p.remove = func() {
		// Unlink first, so that no new writer finds the FIFO, then
		// stop reading it.
		os.Remove(path)
		l.Close()
		stopFifo()
		closeFifo.Do(func() { fifo.Close(); logf.Close() })
	}
	p.stopAll = sess.stopAll
	return p, nil
}

// sessions are the live connections to a console's socket. They
// outlive srv -d, as a con(1) session outlives the /srv name on Plan 9,
// but not Close.
type sessions struct {
	mu sync.Mutex
	m  map[net.Conn]func()
}

func (ss *sessions) start(cons Console, c net.Conn, name string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.m[c] = cons.Attach(ConsoleEnd{
		Name: name,
		In:   c,
		Out:  c,
		Ended: func() {
			c.Close()
			ss.mu.Lock()
			delete(ss.m, c)
			ss.mu.Unlock()
		},
	})
}

func (ss *sessions) stopAll() {
	ss.mu.Lock()
	m := ss.m
	ss.m = make(map[net.Conn]func())
	ss.mu.Unlock()
	for c, stop := range m {
		stop()
		c.Close()
	}
}

// DialConsole connects to the console posted as name (srv -p name):
// its interactive socket name.sock, in Dir() unless name is a path.
// What is written is run as console commands; what is read is the
// console's output. The connection is a *net.UnixConn, whose
// CloseWrite tells the console that no more commands follow.
func DialConsole(name string) (io.ReadWriteCloser, error) {
	path := name
	if !strings.Contains(name, "/") {
		dir, err := Dir()
		if err != nil {
			return nil, err
		}
		path = filepath.Join(dir, name)
	}
	c, err := net.Dial("unix", path+".sock")
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return c, nil
}

// noteProof is the identity: Unix reads are restarted after signals
// by the Go runtime.
func noteProof(rwc io.ReadWriteCloser) io.ReadWriteCloser { return rwc }
