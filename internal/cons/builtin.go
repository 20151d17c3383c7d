package cons

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/plan9fossil/fossil/internal/srv"
)

// UserTable is the user table (the users package), for the users and
// uname commands.
type UserTable interface {
	// Uname runs the uname command; argv is as typed, argv[0] being
	// "uname". Creating a home directory is running
	// "fsys main create /active/usr/NAME NAME NAME d775" with c.Exec.
	Uname(c *Ctx, argv []string) error
	// Reset replaces the table by the default one (users -d).
	Reset() error
	// Read replaces the table by the one in file, a path in file
	// system main (users -r file).
	Read(file string) error
	// Write writes the table to /active/adm/users on main (users -w).
	Write() error
	// Stats returns the number of users and the length of the table
	// in its text form (users prints "nuser 6 len 96").
	Stats() (nuser, length int)
}

// Server is the 9P server, for who and msg.
type Server interface {
	// Who lists the connections and who is attached on each.
	Who() []Conn
	// Msg sets the message queue size and the number of processes
	// serving it, where maxmsg and maxproc are not 0, and returns
	// the settings and counters after the change.
	Msg(maxmsg, maxproc int) MsgStats
}

// Conn is one 9P connection, as who lists it.
type Conn struct {
	Name   string   // where it came from: /srv/fossil, tcp!...
	Remote string   // the caller's address, if known
	Users  []string // the users attached on it, in any order
}

// MsgStats are msg's settings and counters.
type MsgStats struct {
	MaxMsg, MaxProc    int // settings: msg -m, msg -p
	NMsg, NMsgStarve   int // messages allocated; waits for one
	NProc, NProcStarve int // processes running; waits for one
}

func (c *Console) registerBuiltins() {
	c.Register(".", c.cmdDot)
	c.Register("bind", cmdBind)
	c.Register("con", c.cmdCon)
	c.Register("dflag", c.cmdDflag)
	c.Register("echo", cmdEcho)
	c.Register("fsys", c.cmdFsys)
	c.Register("listen", c.cmdListen)
	c.Register("msg", c.cmdMsg)
	c.Register("printconfig", c.cmdPrintconfig)
	c.Register("srv", c.cmdSrv)
	c.Register("uname", c.cmdUname)
	c.Register("users", c.cmdUsers)
	c.Register("who", c.cmdWho)
	c.Register("9p", c.cmd9p)
	// venti and close act on the current file system when typed
	// bare; config, open and unconfig need the fsys prefix.
	c.Register("venti", c.bareFsysCmd)
	c.Register("close", c.bareFsysCmd)
}

// noArgs checks that a command that takes neither flags nor
// arguments got none.
func noArgs(argv []string, usage string) error {
	f := NewFlags(argv, usage)
	for f.Next() {
		return f.Usage()
	}
	if len(f.Args()) != 0 {
		return f.Usage()
	}
	return nil
}

// parsePositive reads a count as strtol(s, 0, 0) does (decimal, 0x
// hexadecimal, 0 octal), demanding all of s and a value above zero.
func parsePositive(s string) (int, bool) {
	base := 10
	t := s
	switch {
	case strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X"):
		base, t = 16, t[2:]
	case len(t) > 1 && t[0] == '0':
		base, t = 8, t[1:]
	}
	n, err := strconv.ParseInt(t, base, 32)
	if err != nil || n <= 0 {
		return 0, false
	}
	return int(n), true
}

// cmdDot runs the commands in a file, one a line. As in the C
// console, a failing line does not stop the rest: its error is printed
// by the command, then again after the line, and the dot command
// fails at the end.
func (c *Console) cmdDot(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: . file")
	for f.Next() {
		return f.Usage()
	}
	args := f.Args()
	if len(args) != 1 {
		return f.Usage()
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return fmt.Errorf(". %v", err)
	}
	failed := false
	lines := strings.Split(string(b), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, line := range lines {
		if err := c.exec(line); err != nil {
			failed = true
			x.Printf("%s: %v\n", line, err)
		}
	}
	if failed {
		return fmt.Errorf("errors in . %s", QuoteAlways(args[0]))
	}
	return nil
}

func cmdEcho(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: echo [-n] ...")
	nflag := false
	for f.Next() {
		if f.Flag() != 'n' {
			return f.Usage()
		}
		nflag = true
	}
	s := strings.Join(f.Args(), " ")
	if !nflag {
		s += "\n"
	}
	x.Printf("%s", s)
	return nil
}

func (c *Console) cmdDflag(x *Ctx, argv []string) error {
	if err := noArgs(argv, "usage: dflag"); err != nil {
		return err
	}
	if c.cfg.Dflag == nil {
		return errors.New("dflag: no debug flag")
	}
	on := 0
	if c.cfg.Dflag() {
		on = 1
	}
	x.Printf("dflag %d\n", on)
	return nil
}

// cmdWho lists each connection, its name and remote address padded
// to line up, then the distinct users attached on it in order.
func (c *Console) cmdWho(x *Ctx, argv []string) error {
	if err := noArgs(argv, "usage: who"); err != nil {
		return err
	}
	if c.cfg.Server == nil {
		return errors.New("who: no 9P server")
	}
	conns := c.cfg.Server.Who()
	w1, w2 := 0, 0
	for _, cn := range conns {
		w1 = max(w1, len(cn.Name))
		w2 = max(w2, len(cn.Remote))
	}
	for _, cn := range conns {
		var b strings.Builder
		fmt.Fprintf(&b, "%-*s %-*s", w1, cn.Name, w2, cn.Remote)
		users := slices.Clone(cn.Users)
		slices.Sort(users)
		for _, u := range slices.Compact(users) {
			b.WriteString(" " + Quote(u))
		}
		x.Tabf("%s", b.String())
	}
	return nil
}

func (c *Console) cmdMsg(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: msg [-m nmsg] [-p nproc]")
	maxmsg, maxproc := 0, 0
	for f.Next() {
		var p *int
		switch f.Flag() {
		case 'm':
			p = &maxmsg
		case 'p':
			p = &maxproc
		default:
			return f.Usage()
		}
		v, err := f.Value()
		if err != nil {
			return err
		}
		n, ok := parsePositive(v)
		if !ok {
			return f.Usage()
		}
		*p = n
	}
	if len(f.Args()) != 0 {
		return f.Usage()
	}
	if c.cfg.Server == nil {
		return errors.New("msg: no 9P server")
	}
	st := c.cfg.Server.Msg(maxmsg, maxproc)
	x.Tabf("msg -m %d -p %d", st.MaxMsg, st.MaxProc)
	x.Tabf("nmsg %d nmsgstarve %d nproc %d nprocstarve %d", st.NMsg, st.NMsgStarve, st.NProc, st.NProcStarve)
	return nil
}

// cmdCon shows and sets how many 9P connections are served at once;
// the C fossil has it though fossilcons(8) does not say so.
func (c *Console) cmdCon(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: con [-m ncon]")
	maxcon := 0
	for f.Next() {
		if f.Flag() != 'm' {
			return f.Usage()
		}
		v, err := f.Value()
		if err != nil {
			return err
		}
		n, ok := parsePositive(v)
		if !ok {
			return f.Usage()
		}
		maxcon = n
	}
	if len(f.Args()) != 0 {
		return f.Usage()
	}
	if maxcon > 0 {
		c.services.SetMaxConns(maxcon)
	}
	st := c.services.Conns()
	x.Tabf("con -m %d", st.Max)
	x.Tabf("ncon %d nconstarve %d", st.N, st.Starve)
	for _, n := range st.Names {
		x.Tabf("%s", n)
	}
	return nil
}

func (c *Console) cmdUsers(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: users [-d | -r file] [-w]")
	dflag, wflag, file := false, false, ""
	for f.Next() {
		switch f.Flag() {
		case 'd':
			dflag = true
		case 'r':
			v, err := f.Value()
			if err != nil {
				return err
			}
			file = v
		case 'w':
			wflag = true
		default:
			return f.Usage()
		}
	}
	if len(f.Args()) != 0 {
		return f.Usage()
	}
	if dflag && file != "" {
		return errors.New("cannot use -d and -r together")
	}
	u := c.cfg.Users
	if u == nil {
		return errors.New("users: no user table")
	}
	switch {
	case dflag:
		if err := u.Reset(); err != nil {
			return err
		}
	case file != "":
		if err := u.Read(file); err != nil {
			return err
		}
	}
	n, l := u.Stats()
	x.Tabf("nuser %d len %d", n, l)
	if wflag {
		return u.Write()
	}
	return nil
}

func (c *Console) cmdUname(x *Ctx, argv []string) error {
	if c.cfg.Users == nil {
		return errors.New("uname: no user table")
	}
	return c.cfg.Users.Uname(x, argv)
}

func (c *Console) cmdSrv(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: srv [-APWdp] [service]")
	var opts srv.Options
	dflag, pflag := false, false
	for f.Next() {
		switch f.Flag() {
		case 'A':
			opts.NoAuth = true
		case 'I':
			opts.IPCheck = true
		case 'N':
			opts.NoneAllow = true
		case 'P':
			opts.NoPerm = true
		case 'W':
			opts.WstatAllow = true
		case 'd':
			dflag = true
		case 'p':
			pflag = true
		default:
			return f.Usage()
		}
	}
	if pflag && opts.NoPerm {
		return errors.New("srv: cannot use -P with -p")
	}
	args := f.Args()
	switch {
	case len(args) == 0:
		for _, p := range c.services.Posted() {
			x.Tabf("%s\t%s", p.Name, p.Where)
		}
		return nil
	case len(args) != 1:
		return f.Usage()
	case dflag:
		return c.services.Remove(args[0])
	case pflag:
		return c.services.PostConsole(args[0])
	}
	return c.services.Post(args[0], opts)
}

func (c *Console) cmdListen(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: listen [-dIN] [address]")
	var opts srv.Options
	dflag := false
	for f.Next() {
		switch f.Flag() {
		case 'd':
			dflag = true
		case 'I':
			opts.IPCheck = true
		case 'N':
			opts.NoneAllow = true
		default:
			return f.Usage()
		}
	}
	args := f.Args()
	switch {
	case len(args) == 0:
		for _, l := range c.services.Listening() {
			x.Tabf("%s\t%s", l.Addr, l.Dir)
		}
		return nil
	case len(args) != 1:
		return f.Usage()
	case dflag:
		return c.services.Unlisten(args[0])
	}
	return c.services.Listen(args[0], opts)
}

// Bind flags, as bind(2) numbers them.
const (
	bindBefore = 1
	bindAfter  = 2
	bindCreate = 4
)

func cmdBind(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: bind [-b|-a|-c|-bc|-ac] new old")
	flag := 0
	for f.Next() {
		switch f.Flag() {
		case 'a':
			flag |= bindAfter
		case 'b':
			flag |= bindBefore
		case 'c':
			flag |= bindCreate
		default:
			return f.Usage()
		}
	}
	args := f.Args()
	if len(args) != 2 || flag&bindAfter != 0 && flag&bindBefore != 0 {
		return f.Usage()
	}
	return bind(args[0], args[1], flag)
}
