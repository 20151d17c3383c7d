package cons

import (
	"errors"
	"fmt"
)

// FsysInfo describes a configured file system, for fsys and
// printconfig.
type FsysInfo struct {
	Name  string
	Dev   string // the partition given to config
	Venti string // the venti host given to venti; "" for the default
}

// An Fsys is an open file system, the target of the per-file-system
// commands. The main program's implementation carries whatever its
// commands need (the engine's file system); an FsysFunc type-asserts
// to it.
type Fsys interface {
	Name() string
	// Halted reports whether halt has suspended the file system;
	// then only the commands registered with WhileHalted may run.
	Halted() bool
}

// FsysTable is fossil's table of file systems, which the main program
// implements on the engine. The console parses the commands' words,
// checks their usage, and prints their errors.
type FsysTable interface {
	// List returns the configured file systems in the order they
	// were configured.
	List() []FsysInfo
	// Get returns the named file system if it is configured and
	// open, else nil.
	Get(name string) Fsys
	// Config adds a file system on the partition dev, or changes the
	// partition of one not open ("fsys name config [dev]"). An empty
	// dev means the partition named by fossil's -f option.
	Config(name, dev string) error
	// Venti records the venti server of a file system and dials it,
	// or redials it if the file system is open ("fsys name venti
	// [host]"). set is false when no host was given: dial the one
	// recorded, or the default ($venti). An empty host given (typed
	// as a pair of quotes) clears the recorded one.
	Venti(name, host string, set bool) error
	// Open opens a file system. argv is the command as typed after
	// the name, argv[0] being "open": its flags (-APVWar, -c ncache)
	// are the implementation's to parse, NewFlags helping, with the
	// usage "usage: fsys name open [-APVWar] [-c ncache]".
	Open(name string, argv []string) error
	// Close flushes and closes an open file system.
	Close(name string) error
	// Unconfig removes a closed file system from the table.
	Unconfig(name string) error
}

// noFsys is the table of a console given none.
type noFsys struct{}

var errNoTable = errors.New("fsys: no file system table")

func (noFsys) List() []FsysInfo                 { return nil }
func (noFsys) Get(string) Fsys                  { return nil }
func (noFsys) Config(string, string) error      { return errNoTable }
func (noFsys) Venti(string, string, bool) error { return errNoTable }
func (noFsys) Open(string, []string) error      { return errNoTable }
func (noFsys) Close(string) error               { return errNoTable }
func (noFsys) Unconfig(string) error            { return errNoTable }

// An FsysFunc runs a per-file-system command on fsys. argv[0] is the
// command's name; "fsys NAME" has been taken off the front.
type FsysFunc func(c *Ctx, fsys Fsys, argv []string) error

// FsysFlag modifies how a per-file-system command is run.
type FsysFlag int

const (
	// WhileHalted lets the command run on a halted file system, as
	// check and unhalt do.
	WhileHalted FsysFlag = 1 << iota
)

type fsysCmd struct {
	fn    FsysFunc
	flags FsysFlag
}

// The special file system name that applies a command to each file
// system in turn.
const fsysAll = "all"

// RegisterFsys adds a per-file-system command: "fsys NAME cmd ..."
// runs it on the named file system (or on each with "fsys all"), and
// "cmd ..." typed bare runs it on the current one. The file system
// must be open, and not halted unless flags include WhileHalted.
func (c *Console) RegisterFsys(name string, fn FsysFunc, flags ...FsysFlag) {
	var f FsysFlag
	for _, x := range flags {
		f |= x
	}
	c.mu.Lock()
	c.fsysCmds[name] = fsysCmd{fn: fn, flags: f}
	c.mu.Unlock()
	c.Register(name, c.bareFsysCmd)
}

func (c *Console) lookupFsys(name string) (fsysCmd, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cmd, ok := c.fsysCmds[name]
	return cmd, ok
}

// bareFsysCmd runs a per-file-system command typed without the fsys
// prefix on the current file system.
func (c *Console) bareFsysCmd(x *Ctx, argv []string) error {
	cur := c.CurrentFsys()
	if cur == "" {
		return errors.New("fsys: no current fsys")
	}
	return c.fsysDo(x, cur, argv)
}

// The commands on the table itself. config, open and unconfig work on
// file systems not open and need the fsys prefix; venti and close may
// be typed bare for the current file system.
var tableCmds = map[string]bool{"config": true, "open": true, "unconfig": true, "venti": true, "close": true}

// cmdFsys is "fsys", "fsys name" and "fsys name cmd ...".
func (c *Console) cmdFsys(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: fsys [name ...]")
	for f.Next() {
		return f.Usage()
	}
	args := f.Args()
	switch len(args) {
	case 0:
		for _, fi := range c.cfg.Fsys.List() {
			x.Tabf("%s", fi.Name)
		}
		return nil
	case 1:
		name := args[0]
		if name == "" {
			name = "main"
		}
		if name != fsysAll {
			if _, err := c.openFsys(name); err != nil {
				return err
			}
		}
		c.setCurrent(name)
		return nil
	}
	return c.fsysDo(x, args[0], args[1:])
}

// configured reports whether name is in the table.
func (c *Console) configured(name string) bool {
	for _, fi := range c.cfg.Fsys.List() {
		if fi.Name == name {
			return true
		}
	}
	return false
}

// openFsys returns the named file system, with the C fossil's errors
// for one that is not configured or not open. An empty name is main.
func (c *Console) openFsys(name string) (Fsys, error) {
	if name == "" {
		name = "main"
	}
	if !c.configured(name) {
		return nil, fmt.Errorf("fsys: '%s' not found", name)
	}
	fs := c.cfg.Fsys.Get(name)
	if fs == nil {
		return nil, fmt.Errorf("fsys: '%s' not open", name)
	}
	return fs, nil
}

// fsysDo runs argv on the named file system (or on all of them).
func (c *Console) fsysDo(x *Ctx, name string, argv []string) error {
	if tableCmds[argv[0]] {
		if name == fsysAll {
			return fmt.Errorf("cannot use fsys %s with %s command", QuoteAlways(fsysAll), QuoteAlways(argv[0]))
		}
		return c.tableCmd(x, name, argv)
	}
	cmd, ok := c.lookupFsys(argv[0])
	if !ok {
		return fmt.Errorf("unknown command - '%s'", argv[0])
	}
	if name != fsysAll {
		return c.fsysRun(x, name, cmd, argv)
	}
	// As in the C fossil, a failure on one file system does not stop
	// the others, and the last error is the one reported.
	var last error
	for _, fi := range c.cfg.Fsys.List() {
		if err := c.fsysRun(x, fi.Name, cmd, argv); err != nil {
			last = err
		}
	}
	return last
}

func (c *Console) fsysRun(x *Ctx, name string, cmd fsysCmd, argv []string) error {
	fs, err := c.openFsys(name)
	if err != nil {
		return err
	}
	if fs.Halted() && cmd.flags&WhileHalted == 0 {
		return fmt.Errorf("file system %s is halted", fs.Name())
	}
	return cmd.fn(x, fs, argv)
}

// tableCmd runs config, venti, open, close and unconfig.
func (c *Console) tableCmd(x *Ctx, name string, argv []string) error {
	t := c.cfg.Fsys
	switch argv[0] {
	case "config":
		f := NewFlags(argv, "usage: fsys name config [dev]")
		for f.Next() {
			return f.Usage()
		}
		args := f.Args()
		if len(args) > 1 {
			return f.Usage()
		}
		dev := ""
		if len(args) == 1 {
			dev = args[0]
		}
		return t.Config(name, dev)
	case "venti":
		f := NewFlags(argv, "usage: [fsys name] venti [address]")
		for f.Next() {
			return f.Usage()
		}
		args := f.Args()
		switch len(args) {
		case 0:
			return t.Venti(name, "", false)
		case 1:
			return t.Venti(name, args[0], true)
		}
		return f.Usage()
	case "open":
		if err := t.Open(name, argv); err != nil {
			return err
		}
		// The first file system opened becomes the current one, as
		// the C console's prompt shows ("main: " once the config
		// block has opened main).
		c.mu.Lock()
		if c.cur == "" {
			c.cur = name
		}
		c.mu.Unlock()
		return nil
	case "close":
		f := NewFlags(argv, "usage: [fsys name] close")
		for f.Next() {
			return f.Usage()
		}
		if len(f.Args()) != 0 {
			return f.Usage()
		}
		fs, err := c.openFsys(name)
		if err != nil {
			return err
		}
		if fs.Halted() {
			return fmt.Errorf("file system %s is halted", fs.Name())
		}
		if err := t.Close(name); err != nil {
			return err
		}
		c.forget(name)
		return nil
	case "unconfig":
		f := NewFlags(argv, "usage: fsys name unconfig")
		for f.Next() {
			return f.Usage()
		}
		if len(f.Args()) != 0 {
			return f.Usage()
		}
		if !c.configured(name) {
			return fmt.Errorf("fsys: '%s' not found", name)
		}
		if err := t.Unconfig(name); err != nil {
			return err
		}
		c.forget(name)
		return nil
	}
	return fmt.Errorf("unknown command - '%s'", argv[0])
}

// forget stops name being the current file system once it is closed
// or gone: the prompt goes back to "prompt: ".
func (c *Console) forget(name string) {
	c.mu.Lock()
	if c.cur == name {
		c.cur = ""
	}
	c.mu.Unlock()
}

// cmdPrintconfig prints the commands that configure the file systems
// as the C fossil does: a config line for each, and a venti line for
// each with a venti host set.
func (c *Console) cmdPrintconfig(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: printconfig")
	for f.Next() {
		return f.Usage()
	}
	if len(f.Args()) != 0 {
		return f.Usage()
	}
	for _, fi := range c.cfg.Fsys.List() {
		x.Tabf("fsys %s config %s", fi.Name, fi.Dev)
		if fi.Venti != "" {
			x.Tabf("fsys %s venti %s", fi.Name, Quote(fi.Venti))
		}
	}
	return nil
}
