//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A proc is a server the campaign started: venti/venti or fossil/fossil.
type proc struct {
	name  string // "venti" or "fossil"
	cmd   *exec.Cmd
	fault string // the FAULT it was started with, if any
	exit  chan struct{}
	// set once exit is closed
	state *os.ProcessState

	mu       sync.Mutex
	out      capBuf // standard error (and, for venti, its log)
	killedAt time.Time
	termed   bool // we asked it to stop with SIGTERM
	killed   bool // we killed it with SIGKILL
}

// capBuf keeps the last bytes written to it.
type capBuf struct {
	mu sync.Mutex
	b  []byte
}

const capBufMax = 64 << 10

func (c *capBuf) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b = append(c.b, p...)
	if len(c.b) > capBufMax {
		c.b = append([]byte(nil), c.b[len(c.b)-capBufMax/2:]...)
	}
	return len(p), nil
}

func (c *capBuf) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.b)
}

// startProc starts a server; its standard error goes to p.out unless
// stderr is set. The files given are the child's ends of pipes, closed
// here once it has started.
func startProc(name, fault string, stdin, stdout, stderr *os.File, path string, args ...string) (*proc, error) {
	p := &proc{name: name, fault: fault, exit: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "FAULT=") && !strings.HasPrefix(e, "venti=") {
			env = append(env, e)
		}
	}
	if fault != "" {
		env = append(env, "FAULT="+fault)
	}
	p.cmd.Env = append(env, "FOSSIL_FOREGROUND=1")
	if stdin != nil {
		p.cmd.Stdin = stdin
	}
	if stdout != nil {
		p.cmd.Stdout = stdout
	}
	if stderr != nil {
		p.cmd.Stderr = stderr
	} else {
		p.cmd.Stderr = &p.out
	}
	// Should the campaign die, its servers go with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := p.cmd.Start()
	for _, f := range []*os.File{stdin, stdout, stderr} {
		if f != nil {
			f.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	go func() {
		p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.exit)
	}()
	return p, nil
}

func (p *proc) alive() bool {
	select {
	case <-p.exit:
		return false
	default:
		return true
	}
}

// stillUp reports, after an error talking to the process, whether it
// is still running a moment later: an error from a process on its way
// out (a fault point reached, a kill) is no failure.
func (p *proc) stillUp() bool { return !p.wait(2 * time.Second) }

// kill sends SIGKILL (once) if the process still runs.
func (p *proc) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.alive() && !p.killed {
		p.killed = true
		p.killedAt = time.Now()
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
}

// stop asks the process to exit cleanly and waits up to limit for it; a
// process still running then is killed, and stop reports it.
func (p *proc) stop(limit time.Duration) error {
	p.mu.Lock()
	if p.alive() {
		p.termed = true
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	p.mu.Unlock()
	select {
	case <-p.exit:
	case <-time.After(limit):
		p.kill()
		<-p.exit
		return fmt.Errorf("%s did not exit within %v of SIGTERM", p.name, limit)
	}
	return nil
}

// wait waits for the process to exit.
func (p *proc) wait(limit time.Duration) bool {
	select {
	case <-p.exit:
		return true
	case <-time.After(limit):
		return false
	}
}

// How a process ended.
const (
	endClean  = "clean"  // exited with status 0 after SIGTERM
	endKilled = "killed" // killed by the campaign
	endFault  = "fault"  // killed itself at its fault point
	endOther  = "other"  // anything else: a failure
)

// end says how the process ended; it must have exited.
func (p *proc) end() string {
	<-p.exit
	ws, _ := p.state.Sys().(syscall.WaitStatus)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case ws.Signaled() && ws.Signal() == syscall.SIGKILL && p.killed:
		return endKilled
	case ws.Signaled() && ws.Signal() == syscall.SIGKILL && p.fault != "":
		return endFault
	case p.termed && ws.Exited() && ws.ExitStatus() == 0:
		return endClean
	}
	return endOther
}

// A fossilProc is fossil/fossil with its console on standard input and
// output (-t).
type fossilProc struct {
	*proc
	addr string   // 9P host:port
	in   *os.File // the console's input

	mu       sync.Mutex
	lines    []string      // console output lines, prompts removed
	newLine  chan struct{} // closed and replaced at each new line
	archives []string      // scores of "archive vac:" lines
	marks    int
	consMu   sync.Mutex // one console command at a time
}

var archiveRE = regexp.MustCompile(`archive vac:([0-9a-f]{40})`)

func startFossil(bin, part, ventiAddr, ip string, port int, fault string) (*fossilProc, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	in, inw, err := os.Pipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	f := &fossilProc{addr: fmt.Sprintf("%s:%d", ip, port), in: inw, newLine: make(chan struct{})}
	args := []string{"-t",
		"-c", "fsys main config " + part,
		"-c", "fsys main venti " + ventiAddr,
		"-c", "fsys main open -A -c 400",
		"-c", fmt.Sprintf("listen tcp!%s!%d", ip, port),
	}
	p, err := startProc("fossil", fault, in, pw, nil, bin, args...)
	if err != nil {
		pr.Close()
		inw.Close()
		return nil, err
	}
	f.proc = p
	go func() {
		<-p.exit
		inw.Close()
	}()
	go f.read(pr)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", f.addr, time.Second)
		if err == nil {
			c.Close()
			return f, nil
		}
		if !p.alive() {
			return f, errDied
		}
		if time.Now().After(deadline) {
			p.kill()
			return f, fmt.Errorf("fossil did not start listening in 30s: %s", p.out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// errDied is a server's death while starting: its fault point may be on
// the way (fossil sweeps and commits when it opens).
var errDied = errors.New("died while starting")

func (f *fossilProc) read(r *os.File) {
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		l, err := br.ReadString('\n')
		if l != "" {
			l = strings.TrimRight(l, "\n")
			for strings.HasPrefix(l, "main: ") {
				l = l[len("main: "):]
			}
			f.mu.Lock()
			f.lines = append(f.lines, l)
			if m := archiveRE.FindStringSubmatch(l); m != nil {
				f.archives = append(f.archives, m[1])
			}
			f.out.Write([]byte("cons: " + l + "\n"))
			close(f.newLine)
			f.newLine = make(chan struct{})
			f.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// console runs a console command and returns the lines it printed
// (and any archive lines that came meanwhile). It fails if fossil dies
// or does not answer within limit.
func (f *fossilProc) console(cmd string, limit time.Duration) ([]string, error) {
	f.consMu.Lock()
	defer f.consMu.Unlock()
	f.mu.Lock()
	f.marks++
	mark := fmt.Sprintf("crashcampaign-mark-%d", f.marks)
	start := len(f.lines)
	f.mu.Unlock()
	if _, err := fmt.Fprintf(f.in, "%s\necho %s\n", cmd, mark); err != nil {
		return nil, err
	}
	timeout := time.After(limit)
	for {
		f.mu.Lock()
		for i := start; i < len(f.lines); i++ {
			if f.lines[i] == mark {
				out := append([]string(nil), f.lines[start:i]...)
				f.mu.Unlock()
				return out, nil
			}
		}
		ch := f.newLine
		f.mu.Unlock()
		select {
		case <-ch:
		case <-f.exit:
			return nil, errDied
		case <-timeout:
			return nil, fmt.Errorf("console %q: no answer in %v", cmd, limit)
		}
	}
}

// archiveScores returns the scores of the archives fossil reported.
func (f *fossilProc) archiveScores() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.archives...)
}

// startVenti starts venti/venti in the foreground and waits until it
// serves.
func startVenti(bin, conf, addr, fault string) (*proc, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p, err := startProc("venti", fault, nil, nil, pw, bin, "-s", "-c", conf, "-a", addr)
	if err != nil {
		pr.Close()
		return nil, err
	}
	ready := make(chan bool, 1)
	go func() {
		br := bufio.NewReader(pr)
		signalled := false
		for {
			l, err := br.ReadString('\n')
			p.out.Write([]byte(l))
			if !signalled && strings.Contains(l, "serving.") {
				ready <- true
				signalled = true
			}
			if err != nil {
				if !signalled {
					ready <- false
				}
				pr.Close()
				return
			}
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			return p, errDied
		}
	case <-time.After(30 * time.Second):
		p.kill()
		return p, fmt.Errorf("venti did not start in 30s: %s", p.out.String())
	}
	return p, nil
}

// runTool runs a checking command with a time limit and returns its
// standard output, standard error and whether it exited with status 0.
func runTool(limit time.Duration, path string, args ...string) (stdout, stderr string, ok bool, err error) {
	cmd := exec.Command(path, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		return "", "", false, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case werr := <-done:
		var ee *exec.ExitError
		if werr != nil && !errors.As(werr, &ee) {
			return o.String(), e.String(), false, werr
		}
		return o.String(), e.String(), werr == nil, nil
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		return o.String(), e.String(), false, fmt.Errorf("%s did not finish in %v", path, limit)
	}
}
