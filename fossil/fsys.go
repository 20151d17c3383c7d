package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/plan9fossil/fossil/internal/cons"
	"github.com/plan9fossil/fossil/internal/fs"
	"github.com/plan9fossil/fossil/internal/ninep"
	"github.com/plan9fossil/fossil/internal/osys"
	"github.com/plan9fossil/fossil/venti"
)

// fsysTable is the console's table of file systems on the engine.
type fsysTable struct {
	mu      sync.Mutex
	list    []*fsys
	defDev  string // -f
	memPct  int    // -m
	console *cons.Console
	logf    func(string, ...any)
	// onOpen is called after a file system opens: main reads its users
	// file then, as the C fossil does.
	onOpen func(name string)
}

// An fsys is one configured file system.
type fsys struct {
	name     string
	dev      string
	venti    string
	ventiSet bool
	conn     *venti.Conn
	fs       *fs.Fs
	flags    ninep.FsysFlags
	noArch   bool

	snapMu      sync.Mutex
	snapPeriod  time.Duration // snaptime -s; 0: none
	archTime    int           // snaptime -a hhmm in minutes of the day; -1: none
	snapTimeout time.Duration // snaptime -t; 0: none
	snapStop    chan struct{}
}

func (f *fsys) Name() string { return f.name }
func (f *fsys) Halted() bool { return f.fs != nil && f.fs.Halted() }

// Open implements ninep.Fsys.
func (f *fsys) Open(path string) (ninep.File, error) {
	if f.fs == nil {
		return nil, fmt.Errorf("file system %s is not open", f.name)
	}
	return f.fs.Open(path)
}

// Flags implements ninep.Fsys.
func (f *fsys) Flags() ninep.FsysFlags { return f.flags }

func (t *fsysTable) find(name string) *fsys {
	for _, f := range t.list {
		if f.name == name {
			return f
		}
	}
	return nil
}

func (t *fsysTable) List() []cons.FsysInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []cons.FsysInfo
	for _, f := range t.list {
		out = append(out, cons.FsysInfo{Name: f.name, Dev: f.dev, Venti: f.venti})
	}
	return out
}

func (t *fsysTable) Get(name string) cons.Fsys {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.find(name); f != nil && f.fs != nil {
		return f
	}
	return nil
}

// lookup is the 9P server's view: an open file system.
func (t *fsysTable) lookup(name string) (ninep.Fsys, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.find(name)
	if f == nil || f.fs == nil {
		return nil, fmt.Errorf("unknown file system %s", strconv.Quote(name))
	}
	return f, nil
}

func (t *fsysTable) Config(name, dev string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if dev == "" {
		dev = t.defDev
	}
	if dev == "" {
		return fmt.Errorf("usage: fsys name config partition")
	}
	if f := t.find(name); f != nil {
		if f.fs != nil {
			return fmt.Errorf("fsys %s is open", name)
		}
		f.dev = dev
		return nil
	}
	t.list = append(t.list, &fsys{name: name, dev: dev, archTime: -1})
	return nil
}

func (t *fsysTable) Venti(name, host string, set bool) error {
	t.mu.Lock()
	f := t.find(name)
	t.mu.Unlock()
	if f == nil {
		return fmt.Errorf("unknown fsys %s", name)
	}
	if set {
		f.venti, f.ventiSet = host, host != ""
	}
	addr := f.venti
	if addr == "" {
		addr = os.Getenv("venti")
	}
	if addr == "" {
		addr = "$venti"
	}
	t.logf("%s: dialing venti at %s", addr, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A redialing connection: when venti restarts, the archiver's
	// retries and the reads of archived blocks find it again instead
	// of failing until fossil restarts (venti.DialRedial).
	c, err := venti.DialRedial(ctx, addr)
	if err != nil {
		return fmt.Errorf("could not connect to venti: %v", err)
	}
	if f.conn != nil {
		f.conn.Close()
	}
	f.conn = c
	return nil
}

func (t *fsysTable) Open(name string, argv []string) error {
	t.mu.Lock()
	f := t.find(name)
	t.mu.Unlock()
	if f == nil {
		return fmt.Errorf("unknown fsys %s", name)
	}
	if f.fs != nil {
		return fmt.Errorf("fsys %s already open", name)
	}
	fl := cons.NewFlags(argv, "usage: fsys name open [-APVWar] [-c ncache]")
	var opt fs.Options
	var flags ninep.FsysFlags
	noVenti, noArch := false, false
	for fl.Next() {
		switch fl.Flag() {
		case 'A':
			flags.NoAuth = true
		case 'P':
			flags.NoPerm = true
		case 'W':
			flags.WstatAllow = true
		case 'V':
			noVenti = true
		case 'a':
			noArch = true
		case 'r':
			opt.ReadOnly = true
		case 'c':
			v, err := fl.Value()
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fl.Usage()
			}
			opt.CacheBlocks = n
		default:
			return fl.Usage()
		}
	}
	if len(fl.Args()) != 0 {
		return fl.Usage()
	}
	if opt.CacheBlocks == 0 && t.memPct > 0 {
		opt.CacheBlocks = int(osys.PhysicalMemory() * uint64(t.memPct) / 100 / 8192)
	}
	// As the C fossil: dial the configured venti, else $venti, unless
	// -V; without one the file system works, but cannot archive.
	if f.conn == nil && !noVenti {
		if err := t.Venti(name, f.venti, false); err != nil {
			t.logf("%v", err)
		}
	}
	if !noVenti {
		opt.Venti = f.conn
	}
	opt.Logf = t.logf
	e, err := fs.OpenFile(f.dev, opt)
	if err != nil {
		return fmt.Errorf("fsysOpen: %v", err)
	}
	f.fs, f.flags, f.noArch = e, flags, noArch
	t.setMemoryLimit()
	if opt.Venti != nil && !opt.ReadOnly {
		e.StartArchiver(func(s venti.Score) {
			t.console.Printf("archive vac:%v\n", s)
		})
	}
	f.startSnapTimer(t)
	if t.onOpen != nil {
		t.onOpen(name)
	}
	return nil
}

func (t *fsysTable) Close(name string) error {
	t.mu.Lock()
	f := t.find(name)
	t.mu.Unlock()
	if f == nil || f.fs == nil {
		return fmt.Errorf("fsys %s not open", name)
	}
	f.stopSnapTimer()
	err := f.fs.Close()
	f.fs = nil
	t.setMemoryLimit()
	return err
}

func (t *fsysTable) Unconfig(name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, f := range t.list {
		if f.name == name {
			if f.fs != nil {
				return fmt.Errorf("fsys %s is open", name)
			}
			t.list = append(t.list[:i], t.list[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("unknown fsys %s", name)
}

// closeAll closes every open file system, at exit.
func (t *fsysTable) closeAll() {
	t.mu.Lock()
	list := append([]*fsys(nil), t.list...)
	t.mu.Unlock()
	for _, f := range list {
		if f.fs != nil {
			f.stopSnapTimer()
			if err := f.fs.Close(); err != nil {
				t.logf("fsys %s: close: %v", f.name, err)
			}
			f.fs = nil
		}
	}
}

// startSnapTimer runs the snaptime schedule: a snapshot every period,
// an archival snapshot daily at the archive time, and a cleanup of old
// snapshots.
func (f *fsys) startSnapTimer(t *fsysTable) {
	f.snapStop = make(chan struct{})
	stop := f.snapStop
	e := f.fs
	go func() {
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		var lastSnap, lastArch, lastClean time.Time
		start := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				f.snapMu.Lock()
				period, arch, timeout := f.snapPeriod, f.archTime, f.snapTimeout
				f.snapMu.Unlock()
				if period > 0 && now.Truncate(period) != lastSnap.Truncate(period) && now.Sub(start) >= time.Minute {
					lastSnap = now
					if _, err := e.Snapshot("", "", false); err != nil {
						t.logf("snap: %v", err)
					}
				}
				mins := now.Hour()*60 + now.Minute()
				if arch >= 0 && mins == arch && now.Sub(lastArch) > 2*time.Minute && !f.noArch {
					lastArch = now
					if _, err := e.Snapshot("", "", true); err != nil {
						t.logf("snap -a: %v", err)
					}
				}
				// Clean up once an hour, never in the first minute
				// (the C fossil's first cleanup could discard a
				// fresh snapshot).
				if timeout > 0 && now.Sub(start) > time.Minute && now.Sub(lastClean) > time.Hour {
					lastClean = now
					if err := e.Snapclean(timeout); err != nil {
						t.logf("snapclean: %v", err)
					}
				}
			}
		}
	}()
}

func (f *fsys) stopSnapTimer() {
	if f.snapStop != nil {
		close(f.snapStop)
		f.snapStop = nil
	}
}
