package cons

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/srv"
)

// attach attaches an end reading from a pipe the test writes to and
// writing to a buffer the test reads.
func attach(t *testing.T, c *Console, echo bool) (in *io.PipeWriter, out *syncBuffer, ended chan struct{}) {
	t.Helper()
	r, w := io.Pipe()
	out = &syncBuffer{}
	ended = make(chan struct{})
	c.Attach(srv.ConsoleEnd{Name: t.Name(), In: r, Out: out, Echo: echo, Ended: func() { close(ended) }})
	t.Cleanup(func() { w.Close() })
	return w, out, ended
}

func waitClosed(t *testing.T, ch chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("console end did not finish")
	}
}

// TestEnds types on two ends: each sees the prompt, the other's typed
// lines, every command's output and the prompt after it, as the C
// console shows all of its output to every console.
func TestEnds(t *testing.T) {
	stderr := &syncBuffer{}
	c := New(Config{Stderr: stderr, SrvDir: t.TempDir()})
	defer c.Close()

	aIn, aOut, aEnded := attach(t, c, false)
	waitFor(t, "a's first prompt", aOut.String, "prompt: ")
	bIn, bOut, bEnded := attach(t, c, false)
	waitFor(t, "b's first prompt", bOut.String, "prompt: ")

	io.WriteString(aIn, "echo hello\n")
	waitFor(t, "a after echo", aOut.String, "prompt: hello\nprompt: ")
	waitFor(t, "b after a's echo", bOut.String, "prompt: echo hello\nhello\nprompt: ")

	// A line may arrive in pieces.
	io.WriteString(bIn, "echo ")
	io.WriteString(bIn, "two\n\n")
	waitFor(t, "b after its echo", bOut.String, "prompt: echo hello\nhello\nprompt: two\nprompt: prompt: ")
	waitFor(t, "a after b's echo", aOut.String, "prompt: hello\nprompt: echo two\ntwo\nprompt: \nprompt: ")

	// Output from outside a command goes to both.
	c.Printf("archive vac:%s\n", strings.Repeat("0", 40))
	waitFor(t, "b after Printf", bOut.String, "prompt: echo hello\nhello\nprompt: two\nprompt: prompt: archive vac:"+strings.Repeat("0", 40)+"\n")

	// When an end's input ends it is finished, and the other goes on.
	aIn.Close()
	waitClosed(t, aEnded)
	io.WriteString(bIn, "echo three\n")
	waitFor(t, "b alone", func() string {
		s := bOut.String()
		return s[strings.LastIndex(s, "vac:")+45:]
	}, "three\nprompt: ")
	bIn.Close()
	waitClosed(t, bEnded)
	if s := stderr.String(); s != "" {
		t.Errorf("standard error got %q while consoles were attached", s)
	}

	// With no end attached, output goes to standard error.
	c.Run("echo lonely")
	if s := stderr.String(); s != "lonely\n" {
		t.Errorf("standard error got %q", s)
	}
}

// TestEcho is a raw end, like con(1) on Plan 9: what is typed is
// echoed, with the C console's editing characters.
func TestEcho(t *testing.T) {
	c := New(Config{Stderr: io.Discard, SrvDir: t.TempDir()})
	defer c.Close()
	in, out, ended := attach(t, c, true)
	waitFor(t, "prompt", out.String, "prompt: ")

	io.WriteString(in, "echo hx\bi\n")
	waitFor(t, "backspace", out.String, "prompt: echo hx\bi\nhi\nprompt: ")
	out.Reset()
	io.WriteString(in, "echo junk\x15")
	waitFor(t, "^U", out.String, "echo junk^U\nprompt: ")
	out.Reset()
	io.WriteString(in, "echo 'a b' c\x17")
	waitFor(t, "^W", out.String, "echo 'a b' c^W\necho 'a b' ")
	io.WriteString(in, "d\n")
	waitFor(t, "after ^W", out.String, "echo 'a b' c^W\necho 'a b' d\na b d\nprompt: ")
	out.Reset()
	io.WriteString(in, "echo gone\x7f")
	waitFor(t, "DEL", out.String, "echo gone\nprompt: ")
	out.Reset()
	io.WriteString(in, "\x04")
	waitFor(t, "^D", out.String, "\nprompt: ")
	out.Reset()
	io.WriteString(in, strings.Repeat("x", maxLine+10)+"\n")
	waitFor(t, "long line", out.String, strings.Repeat("x", maxLine)+"\nline too long\nprompt: ")
	in.Close()
	waitClosed(t, ended)
}

// TestStop detaches an end whose reader is blocked: its Ended is still
// called once the read returns.
func TestStop(t *testing.T) {
	c := New(Config{Stderr: io.Discard, SrvDir: t.TempDir()})
	defer c.Close()
	r, w := io.Pipe()
	out := &syncBuffer{}
	ended := make(chan struct{})
	stop := c.Attach(srv.ConsoleEnd{In: r, Out: out, Ended: func() { close(ended) }})
	waitFor(t, "prompt", out.String, "prompt: ")
	stop()
	c.Printf("after stop\n")
	w.Close()
	waitClosed(t, ended)
	if s := out.String(); s != "prompt: " {
		t.Errorf("stopped end got %q", s)
	}
}

// TestTerminal is fossil -t: standard input and output.
func TestTerminal(t *testing.T) {
	c := New(Config{Stderr: io.Discard, SrvDir: t.TempDir()})
	defer c.Close()
	out := &syncBuffer{}
	done := c.Terminal(strings.NewReader("echo from tty\nfsys\n"), out)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("terminal did not finish")
	}
	if s := out.String(); s != "prompt: from tty\nprompt: prompt: " {
		t.Errorf("terminal got %q", s)
	}
}
