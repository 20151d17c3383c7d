// Fossil is the archival file server of fossil(4): the engine (package
// fs) on a partition in the C fossil's format, served over 9P (package
// ninep) and driven by its console (package cons), as Plan 9 boots it:
//
//	fossil [-Dt] [-c cmd]... [-f partition] [-m percent]
//
// -f runs the commands of the partition's config block (fossil/conf),
// with * standing for the partition; -c runs one command; -t makes
// standard input and output a console and keeps fossil in the
// foreground; -m sizes the block cache as a percentage of memory; -D
// logs every 9P message to standard error. Without -t fossil puts
// itself in the background once its configuration has run.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sync"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/cons"
	"github.com/plan9fossil/fossil/internal/fs"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/ninep"
	"github.com/plan9fossil/fossil/internal/osys"
	"github.com/plan9fossil/fossil/internal/srv"
	"github.com/plan9fossil/fossil/internal/users"
)

func main() {
	cmd := arg.New("fossil", "[-Dt] [-c cmd]... [-f partition] [-m %]")
	var cmds []string
	var part string
	var debug, term bool
	mem := 0
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'D':
			debug = !debug
		case 't':
			term = true
		case 'c':
			cmds = append(cmds, cmd.Arg())
		case 'f':
			part = cmd.Arg()
		case 'm':
			mem = int(cmd.Int())
			if mem <= 0 || mem > 100 {
				cmd.UsageExit()
			}
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 0 {
		cmd.UsageExit()
	}
	if !term && os.Getenv(readyEnv) == "" && os.Getenv("FOSSIL_FOREGROUND") == "" {
		if err := background(); err != nil {
			cmd.Fatalf("%v", err)
		}
		return
	}

	// FOSSIL_CPUPROFILE names a file for a CPU profile of the whole
	// run, written at exit: the way to see where a slow server spends
	// its time.
	if p := os.Getenv("FOSSIL_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}

	sig := osys.StopSignals()
	table := &fsysTable{defDev: part, memPct: mem}
	var dbg io.Writer
	if debug {
		dbg = os.Stderr
	}
	ut := &userTable{t: users.Default(), fsys: table}
	server := ninep.NewServer(ninep.Config{
		Fsys:  table.lookup,
		Users: ut.table,
		Log:   dbg,
		Auth:  authFunc(),
	})
	console := cons.New(cons.Config{
		Fsys:   table,
		Users:  ut,
		Server: whoServer{server},
		Dflag: func() bool {
			debug = !debug
			if debug {
				server.SetDebug(os.Stderr)
			} else {
				server.SetDebug(nil)
			}
			return debug
		},
		Serve: func(rwc io.ReadWriteCloser, name string, o srv.Options) {
			server.ServeConn(rwc, name, ninep.ConnOptions{NoAuth: o.NoAuth, NoPerm: o.NoPerm, WstatAllow: o.WstatAllow, NoneOK: o.NoneAllow})
		},
	})
	table.console = console
	table.logf = func(format string, args ...any) {
		console.Printf(format+"\n", args...)
	}
	ut.console = console
	table.onOpen = func(name string) {
		if name != "main" {
			return
		}
		// A missing users file is normal on a new file system; a
		// bad one is reported and the built-in table stays.
		if err := ut.Read(usersFile); err != nil && !errors.Is(err, fs.ErrNotFound) {
			console.Printf("users: %s: %v\n", usersFile, err)
		}
	}
	registerFsysCommands(console)
	if !haveFactotum() {
		console.Printf("fossil: no factotum: only file systems or services with authentication off (-A) can be attached to\n")
	}

	if part != "" {
		f, err := os.Open(part)
		if err != nil {
			cmd.Fatalf("%v", err)
		}
		text, err := fsdisk.ReadConfig(f)
		f.Close()
		if err != nil {
			cmd.Fatalf("%s: %v", part, err)
		}
		for _, line := range fsdisk.ConfigCommands(text, part) {
			console.Run(line)
		}
	}
	for _, line := range cmds {
		console.Run(line)
	}
	ready()

	var done <-chan struct{}
	if term {
		done = console.Terminal(os.Stdin, os.Stdout)
	}
	select {
	case <-sig:
	case <-done:
		<-sig
	}
	console.Close()
	table.closeAll()
}

// whoServer adapts the 9P server to the console's who and msg.
type whoServer struct{ s *ninep.Server }

func (w whoServer) Who() []cons.Conn {
	var out []cons.Conn
	for _, c := range w.s.Who() {
		out = append(out, cons.Conn{Name: c.Name, Users: c.Users})
	}
	return out
}

func (w whoServer) Msg(maxmsg, maxproc int) cons.MsgStats {
	m, p := w.s.Limits()
	if maxmsg > 0 {
		m = maxmsg
	}
	if maxproc > 0 {
		p = maxproc
	}
	w.s.SetLimits(m, p)
	m, p = w.s.Limits()
	return cons.MsgStats{MaxMsg: m, MaxProc: p}
}

// userTable is the console's users and uname on the users package and
// file system main's /active/adm/users.
type userTable struct {
	mu      sync.Mutex
	t       *users.Table
	fsys    *fsysTable
	console *cons.Console
}

func (u *userTable) table() *users.Table {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.t
}

const usersFile = "/active/adm/users"

func (u *userTable) Uname(c *cons.Ctx, argv []string) error {
	ch, err := u.table().Uname(argv[1:])
	if err != nil {
		return err
	}
	if ch.Entry != "" {
		c.Tabf("%s", ch.Entry)
	}
	if ch.Home != "" {
		c.Exec(fmt.Sprintf("fsys main create /active/usr/%s %s %s d775", ch.Home, ch.Home, ch.Home))
	}
	if ch.Changed {
		return u.Write()
	}
	return nil
}

func (u *userTable) Reset() error {
	u.table().Replace(users.Default())
	return nil
}

func (u *userTable) main() (*fsys, error) {
	f, err := u.fsys.lookup("main")
	if err != nil {
		return nil, err
	}
	return f.(*fsys), nil
}

func (u *userTable) Read(file string) error {
	m, err := u.main()
	if err != nil {
		return err
	}
	f, err := m.fs.OpenFile(file)
	if err != nil {
		return err
	}
	defer f.Close()
	de, err := f.Stat()
	if err != nil {
		return err
	}
	buf := make([]byte, de.Size)
	n, err := f.ReadAt(buf, 0)
	if err != nil {
		return err
	}
	t, err := users.Parse(string(buf[:n]))
	if err != nil {
		return err
	}
	u.table().Replace(t)
	return nil
}

func (u *userTable) Write() error {
	m, err := u.main()
	if err != nil {
		return err
	}
	f, err := m.fs.OpenFile(usersFile)
	if err != nil {
		return fmt.Errorf("%s: %v", usersFile, err)
	}
	defer f.Close()
	if err := f.Truncate("adm"); err != nil {
		return err
	}
	_, err = f.WriteAt(u.table().Bytes(), 0, "adm")
	return err
}

func (u *userTable) Stats() (int, int) {
	t := u.table()
	return t.Len(), len(t.Bytes())
}
