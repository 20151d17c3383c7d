//go:build !plan9

package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A server is a program the bench started and stops: venti/venti or
// fossil/fossil.
type server struct {
	name string
	cmd  *exec.Cmd
	log  *logBuf // its standard error
	done chan struct{}
}

// logBuf collects a process's output for one goroutine while another
// reads it.
type logBuf struct {
	mu   sync.Mutex
	b    bytes.Buffer
	wake chan struct{} // has a value after each write
}

func newLogBuf() *logBuf { return &logBuf{wake: make(chan struct{}, 1)} }

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startServer(name string, cmd *exec.Cmd) (*server, error) {
	s := &server{name: name, cmd: cmd, log: newLogBuf(), done: make(chan struct{})}
	if cmd.Stderr == nil {
		cmd.Stderr = s.log
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { cmd.Wait(); close(s.done) }()
	return s, nil
}

// waitFor waits until ok is true, the process exits or the time is up.
// It looks again when out is written to, or every 10 ms.
func (s *server) waitFor(what string, d time.Duration, out *logBuf, ok func() bool) error {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no %s in %v: %s", s.name, what, d, s.log)
		}
		select {
		case <-s.done:
			if ok() {
				return nil
			}
			return fmt.Errorf("%s exited before %s: %s", s.name, what, s.why())
		case <-out.wake:
		case <-tick.C:
		}
	}
	return nil
}

// why picks out of the log of a process that died what says why: a
// Go runtime's fatal error or panic and the first frame of this module
// below it, else the log's last lines.
func (s *server) why() string {
	lines := strings.Split(strings.TrimSpace(s.log.String()), "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "panic:") {
			msg := line
			for j := i + 1; j < len(lines)-1; j++ {
				if strings.Contains(lines[j], "github.com/plan9fossil/fossil/") {
					msg += " in " + strings.TrimSpace(lines[j]) + " at " + strings.TrimSpace(lines[j+1])
					break
				}
			}
			return msg
		}
	}
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}

// peakRSS is the process's high-water resident set (VmHWM) in bytes,
// 0 if /proc does not say.
func (s *server) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// stop asks the server to stop with SIGTERM, which lets it write its
// CPU profile and flush its caches, and kills it if it takes longer
// than a minute.
func (s *server) stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("%s did not stop on SIGTERM; killed", s.name)
	}
}

// freePort returns a TCP port free on ip just now.
func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// loopbackIP is 127.0.0.2 if this system answers there (Linux does for
// all of 127/8), else 127.0.0.1.
func loopbackIP() string {
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		return "127.0.0.1"
	}
	l.Close()
	return "127.0.0.2"
}
