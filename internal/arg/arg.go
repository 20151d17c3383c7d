// Package arg parses command lines the way Plan 9's ARGBEGIN does (see
// arg(2)), and reports errors the way sysfatal(2) does, so that our
// commands accept what scripts written for the C programs pass them:
// flags clustered (-fr), values attached or separate (-hhost, -h host),
// "--" ending the flags, and usage lines in Plan 9's form.
package arg

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"
)

// A Cmd holds the state of one command: its name, its usage text and the
// arguments still to parse.
type Cmd struct {
	Name  string // argv0 as the C program prints it: "venti/read"
	Usage string // the synopsis after the name: "[-h host] [-t type] score"

	// Stderr and Exit are os.Stderr and os.Exit, replaceable by tests.
	Stderr io.Writer
	Exit   func(int)

	args []string
	flag rune   // the flag being handled
	rest string // what follows the flag letter in its argument
}

// New returns a Cmd for the named command.
func New(name, usage string) *Cmd {
	return &Cmd{Name: name, Usage: usage, Stderr: os.Stderr, Exit: os.Exit}
}

// Parse calls fn for each flag letter in args, in order, and returns the
// arguments after the flags. fn uses Arg or Int to take a flag's value
// and calls UsageExit for a letter it does not know.
func (c *Cmd) Parse(args []string, fn func(flag rune)) []string {
	c.args = args
	for len(c.args) > 0 {
		a := c.args[0]
		if a == "--" {
			c.args = c.args[1:]
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		c.args = c.args[1:]
		c.rest = a[1:]
		for c.rest != "" {
			r, n := utf8.DecodeRuneInString(c.rest)
			c.rest = c.rest[n:]
			c.flag = r
			fn(r)
		}
	}
	return c.args
}

// Arg returns the value of the current flag: the rest of its argument,
// or else the next argument. A missing value is a usage error.
func (c *Cmd) Arg() string {
	if c.rest != "" {
		v := c.rest
		c.rest = ""
		return v
	}
	if len(c.args) == 0 {
		c.UsageExit()
		return ""
	}
	v := c.args[0]
	c.args = c.args[1:]
	return v
}

// Int returns the value of the current flag as a number, which may be
// written in decimal, 0x hexadecimal or 0 octal, as atoi/strtol take it.
func (c *Cmd) Int() int64 {
	v := c.Arg()
	n, err := strconv.ParseInt(v, 0, 64)
	if err != nil {
		c.Fatalf("bad number for -%c: %s", c.flag, v)
	}
	return n
}

// UsageExit prints "usage: NAME USAGE" on standard error and exits.
func (c *Cmd) UsageExit() {
	fmt.Fprintf(c.Stderr, "usage: %s %s\n", c.Name, c.Usage)
	c.Exit(1)
	panic(exited{}) // Exit replaced by a test that returns
}

// Fatalf prints "NAME: message" on standard error and exits, like
// sysfatal(2).
func (c *Cmd) Fatalf(format string, args ...any) {
	fmt.Fprintf(c.Stderr, "%s: %s\n", c.Name, fmt.Sprintf(format, args...))
	c.Exit(1)
	panic(exited{})
}

// Warnf prints "NAME: message" on standard error and goes on.
func (c *Cmd) Warnf(format string, args ...any) {
	fmt.Fprintf(c.Stderr, "%s: %s\n", c.Name, fmt.Sprintf(format, args...))
}

// Printf prints to w, reporting a failed write the way Fatalf does.
func (c *Cmd) Printf(w io.Writer, format string, args ...any) {
	if _, err := fmt.Fprintf(w, format, args...); err != nil {
		c.Fatalf("write: %v", err)
	}
}

// exited is the panic that stops a command whose Exit returned.
type exited struct{}

// Run calls main and turns a returned-from Exit (in tests) back into a
// normal return, so a test can run a command's main in process.
func Run(main func()) (exitedEarly bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(exited); !ok {
				panic(r)
			}
			exitedEarly = true
		}
	}()
	main()
	return false
}
