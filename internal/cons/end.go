package cons

import (
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/plan9fossil/fossil/internal/srv"
)

const (
	// maxLine bounds a typed command line. The C console silently
	// drops characters after 255; a command cut short could name a
	// different file than the one typed, so an overlong line is
	// refused whole instead.
	maxLine = 8192
	// maxPending bounds the output waiting for one slow end. Like
	// the C console's output ring, a reader that does not keep up
	// loses the oldest output rather than stopping the file server.
	maxPending = 64 << 10
)

// An end is one attached console end: a reader goroutine that edits
// and runs the lines typed on In, and a writer goroutine that copies
// the console's output to Out.
type end struct {
	c *Console
	e srv.ConsoleEnd

	mu      sync.Mutex
	cond    *sync.Cond
	pending []byte
	closing bool // input ended: write what is pending, then stop
	stopped bool // detached: drop what is pending and stop
	outDead bool // Out failed; nothing more is written

	// line editing, used by the reader goroutine only
	line    []byte
	tooLong bool

	wg       sync.WaitGroup
	stopOnce sync.Once
}

// Attach starts serving e as a console end (srv.Console): it prints
// the prompt on e.Out and runs each line typed on e.In. It returns a
// function that detaches e at once. e.Ended is called from another
// goroutine once e is finished.
func (c *Console) Attach(e srv.ConsoleEnd) (stop func()) {
	x := &end{c: c, e: e}
	x.cond = sync.NewCond(&x.mu)
	c.outMu.Lock()
	if c.closed {
		c.outMu.Unlock()
		if e.Ended != nil {
			go e.Ended()
		}
		return func() {}
	}
	c.ends = append(c.ends, x)
	if e.Out != nil {
		x.enqueue([]byte(c.Prompt()))
	}
	c.outMu.Unlock()

	if e.Out != nil {
		x.wg.Add(1)
		go x.writer()
	}
	if e.In != nil {
		x.wg.Add(1)
		go x.reader()
	}
	go func() {
		x.wg.Wait()
		if e.Ended != nil {
			e.Ended()
		}
	}()
	return x.stop
}

// detach takes x off the console's list of ends.
func (x *end) detach() {
	c := x.c
	c.outMu.Lock()
	for i, y := range c.ends {
		if y == x {
			c.ends = append(c.ends[:i:i], c.ends[i+1:]...)
			break
		}
	}
	c.outMu.Unlock()
}

// stop detaches x now, dropping its pending output. The reader may be
// blocked in a Read that only the owner of In can end (by closing it);
// whatever it reads after this is ignored.
func (x *end) stop() {
	x.stopOnce.Do(func() {
		x.detach()
		x.mu.Lock()
		x.stopped = true
		x.pending = nil
		x.cond.Broadcast()
		x.mu.Unlock()
	})
}

func (x *end) isStopped() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.stopped
}

// enqueue adds p to the output waiting for x, dropping the oldest
// output beyond maxPending.
func (x *end) enqueue(p []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stopped || x.closing || x.outDead {
		return
	}
	x.pending = append(x.pending, p...)
	if n := len(x.pending); n > maxPending {
		x.pending = append(x.pending[:0], x.pending[n-maxPending:]...)
	}
	x.cond.Broadcast()
}

func (x *end) writer() {
	defer x.wg.Done()
	for {
		x.mu.Lock()
		for len(x.pending) == 0 && !x.closing && !x.stopped {
			x.cond.Wait()
		}
		if x.stopped || len(x.pending) == 0 {
			x.mu.Unlock()
			return
		}
		p := x.pending
		x.pending = nil
		x.mu.Unlock()
		if _, err := x.e.Out.Write(p); err != nil {
			x.mu.Lock()
			x.outDead = true
			x.pending = nil
			x.mu.Unlock()
			if x.e.In == nil {
				// An output-only end that cannot be written
				// is of no more use.
				x.stop()
			} else {
				x.detach()
			}
			return
		}
	}
}

func (x *end) reader() {
	defer x.wg.Done()
	buf := make([]byte, 4096)
	idle := time.Duration(0)
	for {
		n, err := x.e.In.Read(buf)
		if x.isStopped() {
			return
		}
		if n > 0 {
			idle = 0
			x.input(buf[:n])
		}
		if err == nil && n > 0 {
			continue
		}
		if err != nil && (err != io.EOF || !x.e.ZeroReadNotEOF) {
			break
		}
		// A zero-length read on a posted Plan 9 pipe: a client
		// wrote nothing, or every client has gone and the pipe reads
		// as empty until the next one comes. Keep reading, backing
		// off so that an abandoned pipe does not spin.
		if n == 0 {
			idle = min(max(2*idle, 10*time.Millisecond), time.Second)
			time.Sleep(idle)
		}
	}
	// The input ended: no more output is queued for x, and the
	// writer stops once it has written what is pending.
	x.detach()
	x.mu.Lock()
	x.closing = true
	x.cond.Broadcast()
	x.mu.Unlock()
}

// echo writes s back to x's own output if its other side does not
// show what it types.
func (x *end) echo(s string) {
	if x.e.Echo && x.e.Out != nil {
		x.enqueue([]byte(s))
	}
}

// input edits and runs what was typed, with the control characters
// of the C console (and of Plan 9's cooked /dev/cons): backspace
// erases a character, ^U the line, ^W a word, DEL abandons the line,
// ^D on an empty line gives a fresh prompt. A newline runs the line.
func (x *end) input(p []byte) {
	for _, b := range p {
		switch b {
		case '\n':
			x.runLine()
		case '\b':
			if len(x.line) > 0 {
				_, n := utf8.DecodeLastRune(x.line)
				x.line = x.line[:len(x.line)-n]
				x.echo("\b")
			}
		case 0x15: // ^U
			x.line, x.tooLong = x.line[:0], false
			x.echo("^U\n")
			x.reprompt()
		case 0x17: // ^W
			words := Tokenize(string(x.line))
			if len(words) > 0 {
				words = words[:len(words)-1]
			}
			var b strings.Builder
			for _, w := range words {
				b.WriteString(Quote(w))
				b.WriteByte(' ')
			}
			x.line = append(x.line[:0], b.String()...)
			x.echo("^W\n")
			if len(x.line) == 0 {
				x.reprompt()
			} else {
				x.echo(string(x.line))
			}
		case 0x7f: // DEL
			x.line, x.tooLong = x.line[:0], false
			x.echo("\n")
			x.reprompt()
		case 0x04: // ^D
			if len(x.line) == 0 {
				x.echo("\n")
				x.reprompt()
				continue
			}
			x.add(b)
		default:
			x.add(b)
		}
	}
}

func (x *end) add(b byte) {
	if len(x.line) >= maxLine {
		x.tooLong = true
		return
	}
	x.line = append(x.line, b)
	x.echo(string([]byte{b}))
}

func (x *end) reprompt() {
	if x.e.Out != nil {
		x.enqueue([]byte(x.c.Prompt()))
	}
}

// runLine runs the line typed on x. The other ends see the line as if
// they had typed it, then its output, then the prompt, all in one
// piece.
func (x *end) runLine() {
	line := string(x.line)
	tooLong := x.tooLong
	x.line, x.tooLong = x.line[:0], false
	x.echo("\n")

	c := x.c
	c.execMu.Lock()
	defer c.execMu.Unlock()
	c.output([]byte(line+"\n"), x)
	if tooLong {
		c.output([]byte("line too long\n"), nil)
	} else {
		c.exec(line)
	}
	c.output([]byte(c.Prompt()), nil)
}
