package cons

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/plan9fossil/fossil/internal/srv"
)

// A Func runs one console command. argv[0] is the command's name.
// It prints with c and returns an error to have the console print it
// (the whole message, on a line of its own, as the C console prints
// its error string: "usage: echo [-n] ...", "file system main is
// halted").
type Func func(c *Ctx, argv []string) error

// Config is what the main program gives the console. Every field may
// be left zero; the commands that need a missing one say so.
type Config struct {
	Fsys   FsysTable // the file systems: fsys, printconfig and the per-fsys commands
	Users  UserTable // users and uname
	Server Server    // who and msg: the 9P server
	// Dflag toggles the debug flag (dflag) and returns its new value.
	Dflag func() bool
	// Serve serves the 9P connections made by srv and listen.
	Serve srv.ServeFunc
	// SrvDir is where srv posts names on systems without srv(3);
	// empty means srv.Dir() ($SRVDIR unless /srv is writable).
	SrvDir string
	// Stderr receives the console's output while no console is
	// attached (as the C fossil writes to fd 2 until a console
	// opens); nil means os.Stderr.
	Stderr io.Writer
}

// A Console is fossil's console: a table of commands, the current file
// system, and the ends (terminal, posted consoles) that type commands
// and see the output. Everything printed goes to every attached end.
// Commands run one at a time, as in the C fossil's single console
// process. Methods are safe for concurrent use.
type Console struct {
	cfg      Config
	stderr   io.Writer
	services *srv.Services

	execMu sync.Mutex // held while a command line runs

	mu       sync.Mutex // guards cmds, fsysCmds, cur
	cmds     map[string]Func
	fsysCmds map[string]fsysCmd
	cur      string // the current file system; "" before fsys name

	outMu  sync.Mutex // guards ends, closed
	ends   []*end
	closed bool

	nineMu sync.Mutex // guards nine: the 9p command's connection
	nine   nineState
}

// New returns a console with the built-in commands registered: the
// file server configuration commands of fossilcons(8) (., 9p, bind,
// dflag, echo, listen, msg, printconfig, srv, uname, users, who, and
// the C fossil's con), and fsys with its subcommands config, venti,
// open, close and unconfig. The per-file-system maintenance commands
// (df, snap, check, ...) are the main program's to add with
// RegisterFsys.
func New(cfg Config) *Console {
	c := &Console{
		cfg:      cfg,
		stderr:   cfg.Stderr,
		cmds:     make(map[string]Func),
		fsysCmds: make(map[string]fsysCmd),
	}
	if c.stderr == nil {
		c.stderr = os.Stderr
	}
	if c.cfg.Fsys == nil {
		c.cfg.Fsys = noFsys{}
	}
	c.services = srv.New(srv.Config{Serve: cfg.Serve, Console: c, Dir: cfg.SrvDir})
	c.registerBuiltins()
	return c
}

// Services returns the posted names and listeners of srv and listen.
func (c *Console) Services() *srv.Services { return c.services }

// Register adds a command, replacing any command of that name (so the
// main program may supply its own version of a built-in one).
func (c *Console) Register(name string, fn Func) {
	c.mu.Lock()
	c.cmds[name] = fn
	c.mu.Unlock()
}

func (c *Console) lookup(name string) Func {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmds[name]
}

// Prompt is what the console prints before reading a command: the
// current file system's name and ": ", or "prompt: " before fsys has
// chosen one.
func (c *Console) Prompt() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == "" {
		return "prompt: "
	}
	return c.cur + ": "
}

// CurrentFsys returns the current file system's name, "" if none.
func (c *Console) CurrentFsys() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

func (c *Console) setCurrent(name string) {
	c.mu.Lock()
	c.cur = name
	c.mu.Unlock()
}

// Run runs one command line, as the main program does for each -c
// and for the commands of fossil's -f configuration block. An error
// is printed on the console as the command's output is, and returned
// too. Run must not be called from inside a command (use Ctx.Exec).
//
// A blank line, and a line whose first word starts with #, do nothing.
func (c *Console) Run(line string) error {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	return c.exec(line)
}

// exec runs line with execMu held.
func (c *Console) exec(line string) (err error) {
	argv := Tokenize(line)
	if len(argv) == 0 || strings.HasPrefix(argv[0], "#") {
		return nil
	}
	fn := c.lookup(argv[0])
	if fn == nil {
		err = fmt.Errorf("%s: - eh?", argv[0])
		c.printErr(err)
		return err
	}
	defer func() {
		// A bug in one command must not take the file server down
		// with it: report it, with the stack for the programmer.
		if r := recover(); r != nil {
			fmt.Fprintf(c.stderr, "console: %s: panic: %v\n%s", argv[0], r, debug.Stack())
			err = fmt.Errorf("%s: internal error: %v", argv[0], r)
			c.printErr(err)
		}
	}()
	if err = fn(&Ctx{c: c}, argv); err != nil {
		c.printErr(err)
	}
	return err
}

func (c *Console) printErr(err error) {
	msg := err.Error()
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	c.output([]byte(msg), nil)
}

// Printf prints on the console, to every attached end. It is for
// messages that come from outside a command, such as the archiver's
// "archive vac:..." when a snapshot reaches venti; commands print
// with their Ctx.
func (c *Console) Printf(format string, args ...any) {
	c.output([]byte(fmt.Sprintf(format, args...)), nil)
}

// Terminal makes in and out a console, as fossil -t does with standard
// input and output: it prints the prompt, and runs each line read from
// in. The returned channel is closed when in ends. The terminal is
// assumed to echo what is typed (a cooked terminal, or /dev/cons
// without rawon), so lines typed here are shown on the other ends only.
//
// On Plan 9 a ^D typed on /dev/cons reads as nothing, not as the end:
// it is ignored and the console stays, as the C fossil's -t console
// stays. Elsewhere the end of standard input ends the terminal (a
// script piped into fossil -t).
func (c *Console) Terminal(in io.Reader, out io.Writer) <-chan struct{} {
	done := make(chan struct{})
	c.Attach(srv.ConsoleEnd{
		Name:           "tty",
		In:             in,
		Out:            out,
		ZeroReadNotEOF: runtime.GOOS == "plan9",
		Ended:          func() { close(done) },
	})
	return done
}

// Close detaches every console end and takes down what srv and listen
// posted: the clean exit.
func (c *Console) Close() error {
	err := c.services.Close()
	c.outMu.Lock()
	c.closed = true
	ends := c.ends
	c.ends = nil
	c.outMu.Unlock()
	for _, x := range ends {
		x.stop()
	}
	c.nineMu.Lock()
	c.drop9p()
	c.nineMu.Unlock()
	return err
}

// output writes p to every attached end but except, or to the
// fallback (standard error) when no end takes output at all.
func (c *Console) output(p []byte, except *end) {
	if len(p) == 0 {
		return
	}
	c.outMu.Lock()
	defer c.outMu.Unlock()
	taken := false
	for _, x := range c.ends {
		if x.e.Out == nil {
			continue
		}
		taken = true
		if x != except {
			x.enqueue(p)
		}
	}
	if !taken {
		c.stderr.Write(p)
	}
}

// A Ctx is what a command prints with and runs further commands with.
// Output goes to every console end, as all of the C console's output
// does.
//
// The C commands follow a convention that scripts and operators rely
// on, and the transcript of a C fossil shows: a command's result lines
// start with a tab ("\tmain: 40,960 used + ...", "\tlow 1 hi 4",
// "\tfsys main config /dev/sdC0/fossil"), and the tab is the
// command's to print, not the console's. Tabf prints such a line.
// Progress and diagnostics (check's "checking epoch 4...", vac's
// "vac:SCORE", echo, errors) have no tab: use Printf.
type Ctx struct {
	c *Console
}

// Printf prints exactly what it is given.
func (x *Ctx) Printf(format string, args ...any) {
	x.c.output([]byte(fmt.Sprintf(format, args...)), nil)
}

// Tabf prints a result line: a tab, the text and a newline.
func (x *Ctx) Tabf(format string, args ...any) {
	s := "\t" + fmt.Sprintf(format, args...)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	x.c.output([]byte(s), nil)
}

// Write prints p; a Ctx is an io.Writer for code that prints through
// one (the checker).
func (x *Ctx) Write(p []byte) (int, error) {
	x.c.output(p, nil)
	return len(p), nil
}

// Exec runs a console command from inside another, as the C uname
// runs "fsys main create /active/usr/NAME ...". Its output and error
// are printed as for any command; the error is also returned.
func (x *Ctx) Exec(line string) error { return x.c.exec(line) }

// Console returns the console the command runs on.
func (x *Ctx) Console() *Console { return x.c }
