package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plan9fossil/fossil/internal/cons"
	"github.com/plan9fossil/fossil/internal/report"
	"github.com/plan9fossil/fossil/internal/vac"
)

// registerFsysCommands adds the per-file-system commands of
// fossilcons(8) that the engine carries out.
func registerFsysCommands(c *cons.Console) {
	c.RegisterFsys("df", cmdDf)
	c.RegisterFsys("epoch", cmdEpoch)
	c.RegisterFsys("sync", cmdSync)
	c.RegisterFsys("halt", cmdHalt)
	c.RegisterFsys("unhalt", cmdUnhalt, cons.WhileHalted)
	c.RegisterFsys("snap", cmdSnap)
	c.RegisterFsys("snapclean", cmdSnapclean)
	c.RegisterFsys("snaptime", cmdSnaptime)
	c.RegisterFsys("create", cmdCreate)
	c.RegisterFsys("remove", cmdRemove)
	c.RegisterFsys("stat", cmdStat)
	c.RegisterFsys("wstat", cmdWstat)
	c.RegisterFsys("vac", cmdVac)
	registerRepairCommands(c)
}

func engine(f cons.Fsys) *fsys { return f.(*fsys) }

func cmdDf(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) != 1 {
		return fmt.Errorf("usage: df")
	}
	used, free, total := engine(f).fs.Df()
	pct := 0.0
	if total > 0 {
		pct = float64(used) * 100 / float64(total)
	}
	c.Tabf("%s: %s used + %s free = %s (%.1f%% used)", f.Name(),
		report.Commas(uint64(used)), report.Commas(uint64(free)), report.Commas(uint64(total)), pct)
	return nil
}

// cmdEpoch prints the low and high epochs, or raises the low epoch to
// n. As the C fossil, without -y it only says which snapshots are older
// than n and sets nothing if there are any; -r (with -y) removes those
// in /snapshot. Unlike the C fossil, snapshots kept hold the low epoch
// back instead of losing their blocks.
func cmdEpoch(c *cons.Ctx, f cons.Fsys, argv []string) error {
	fl := cons.NewFlags(argv, "usage: epoch [[-ry] n]")
	remove, yes := false, false
	for fl.Next() {
		switch fl.Flag() {
		case 'r':
			remove = true
		case 'y':
			yes = true
		default:
			return fl.Usage()
		}
	}
	args := fl.Args()
	if len(args) > 1 || len(args) == 0 && (remove || yes) {
		return fl.Usage()
	}
	fs := engine(f).fs
	if len(args) == 0 {
		lo, hi := fs.Epochs()
		c.Tabf("low %d hi %d", lo, hi)
		return nil
	}
	n, err := strconv.ParseUint(args[0], 0, 32)
	if err != nil {
		return fl.Usage()
	}
	r, err := fs.SetEpochLow(uint32(n), false, true)
	if err != nil {
		return err
	}
	c.Tabf("low %d hi %d", r.OldLow, r.High)
	for _, s := range r.Older {
		c.Tabf("%s epoch %d", s.Path, s.Epoch)
	}
	c.Tabf("%d snapshot%s found with epoch < %d", len(r.Older), plural(len(r.Older)), n)
	if len(r.Older) > 0 && !yes {
		c.Tabf("not setting low epoch")
		return nil
	}
	r, err = fs.SetEpochLow(uint32(n), remove, false)
	for _, p := range r.Removed {
		c.Tabf("removed %s", p)
	}
	if err != nil {
		return err
	}
	flags := ""
	if yes {
		flags = " -y"
	}
	c.Tabf("old: epoch%s %d", flags, r.OldLow)
	c.Tabf("new: epoch%s %d", flags, r.NewLow)
	if r.NewLow < uint32(n) && r.OldLow < uint32(n) {
		c.Tabf("warning: snapshots hold the low epoch at %d", r.NewLow)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func cmdSync(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) != 1 {
		return fmt.Errorf("usage: sync")
	}
	n, err := engine(f).fs.SyncStats()
	if err != nil {
		return err
	}
	c.Tabf("%s sync: wrote %d blocks", f.Name(), n)
	return nil
}

func cmdHalt(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) != 1 {
		return fmt.Errorf("usage: halt")
	}
	return engine(f).fs.Halt()
}

func cmdUnhalt(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) != 1 {
		return fmt.Errorf("usage: unhalt")
	}
	if !f.Halted() {
		return fmt.Errorf("file system %s not halted", f.Name())
	}
	engine(f).fs.Unhalt()
	return nil
}

func cmdSnap(c *cons.Ctx, f cons.Fsys, argv []string) error {
	fl := cons.NewFlags(argv, "usage: snap [-a] [-s /active] [-d /archive/yyyy/mmmm]")
	archive := false
	var src, dst string
	var err error
	for fl.Next() {
		switch fl.Flag() {
		case 'a':
			archive = true
		case 's':
			if src, err = fl.Value(); err != nil {
				return err
			}
		case 'd':
			if dst, err = fl.Value(); err != nil {
				return err
			}
		default:
			return fl.Usage()
		}
	}
	if len(fl.Args()) != 0 {
		return fl.Usage()
	}
	_, err = engine(f).fs.Snapshot(src, dst, archive)
	return err
}

func cmdSnapclean(c *cons.Ctx, f cons.Fsys, argv []string) error {
	e := engine(f)
	timeout := e.snapTimeout
	switch len(argv) {
	case 1:
	case 2:
		m, err := strconv.Atoi(argv[1])
		if err != nil || m < 0 {
			return fmt.Errorf("usage: snapclean [maxminutes]")
		}
		timeout = time.Duration(m) * time.Minute
	default:
		return fmt.Errorf("usage: snapclean [maxminutes]")
	}
	return e.fs.Snapclean(timeout)
}

func cmdSnaptime(c *cons.Ctx, f cons.Fsys, argv []string) error {
	e := engine(f)
	fl := cons.NewFlags(argv, "usage: snaptime [-a hhmm] [-s snapminutes] [-t maxminutes]")
	e.snapMu.Lock()
	defer e.snapMu.Unlock()
	changed := false
	for fl.Next() {
		v, err := fl.Value()
		if err != nil {
			return err
		}
		changed = true
		switch fl.Flag() {
		case 'a':
			if v == "none" {
				e.archTime = -1
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil || len(v) != 4 || n/100 > 23 || n%100 > 59 {
				return fl.Usage()
			}
			e.archTime = n/100*60 + n%100
		case 's', 't':
			var d time.Duration
			if v != "none" {
				n, err := strconv.Atoi(v)
				if err != nil || n <= 0 {
					return fl.Usage()
				}
				d = time.Duration(n) * time.Minute
			}
			if fl.Flag() == 's' {
				e.snapPeriod = d
			} else {
				e.snapTimeout = d
			}
		default:
			return fl.Usage()
		}
	}
	if len(fl.Args()) != 0 {
		return fl.Usage()
	}
	if changed {
		return nil
	}
	a, s, t := "none", "none", "none"
	if e.archTime >= 0 {
		a = fmt.Sprintf("%02d%02d", e.archTime/60, e.archTime%60)
	}
	if e.snapPeriod > 0 {
		s = strconv.Itoa(int(e.snapPeriod / time.Minute))
	}
	if e.snapTimeout > 0 {
		t = strconv.Itoa(int(e.snapTimeout / time.Minute))
	}
	c.Tabf("snaptime -a %s -s %s -t %s", a, s, t)
	return nil
}

// parsePerm reads a console permission: octal digits after any of d
// (directory), a (append only) and l (exclusive use).
// permLetters are the mode bits the console writes as letters before
// the octal permissions, in the C fossil's order: sticky, set-uid,
// set-gid, append, exclusive, link, directory, hidden, system, archive,
// temporary, snapshot.
var permLetters = []struct {
	c   byte
	bit uint32
}{
	{'Y', vac.ModeSticky}, {'U', vac.ModeSetUID}, {'G', vac.ModeSetGID},
	{'a', vac.ModeAppend}, {'l', vac.ModeExclusive}, {'L', vac.ModeLink},
	{'d', vac.ModeDir}, {'H', vac.ModeHidden}, {'S', vac.ModeSystem},
	{'A', vac.ModeArchive}, {'T', vac.ModeTemporary}, {'s', vac.ModeSnapshot},
}

// parsePerm reads a console mode: letters (permLetters) then octal
// permissions, e.g. d775 or al664.
func parsePerm(s string) (uint32, error) {
	var mode uint32
	i := 0
letters:
	for ; i < len(s); i++ {
		for _, l := range permLetters {
			if s[i] == l.c {
				mode |= l.bit
				continue letters
			}
		}
		break
	}
	n, err := strconv.ParseUint(s[i:], 8, 32)
	if err != nil || n > 0o777 {
		return 0, fmt.Errorf("bad mode %s", s)
	}
	return mode | uint32(n), nil
}

func formatPerm(mode uint32) string {
	var b []byte
	for _, l := range permLetters {
		if mode&l.bit != 0 {
			b = append(b, l.c)
		}
	}
	return string(b) + strconv.FormatUint(uint64(mode&0o777), 8)
}

func splitPath(p string) (string, string) {
	p = strings.TrimRight(p, "/")
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

func cmdCreate(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) != 5 {
		return fmt.Errorf("usage: create path uid gid perm")
	}
	mode, err := parsePerm(argv[4])
	if err != nil {
		return err
	}
	dir, elem := splitPath(argv[1])
	e := engine(f).fs
	p, err := e.OpenFile(dir)
	if err != nil {
		return fmt.Errorf("%s: %v", dir, err)
	}
	defer p.Close()
	nf, err := p.Create(elem, mode, argv[2])
	if err != nil {
		return fmt.Errorf("create %s: %v", argv[1], err)
	}
	defer nf.Close()
	de, err := nf.Stat()
	if err != nil {
		return err
	}
	de.GID = argv[3]
	return nf.SetStat(de, argv[2])
}

func cmdRemove(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) < 2 {
		return usage("remove path ...")
	}
	for _, p := range argv[1:] {
		file, err := engine(f).fs.OpenFile(p)
		if err != nil {
			c.Printf("%s: %v\n", p, err)
			continue
		}
		if err := file.Remove("adm"); err != nil {
			c.Printf("%s: %v\n", p, err)
		}
		file.Close()
	}
	return nil
}

func cmdStat(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) < 2 {
		return usage("stat path ...")
	}
	for _, p := range argv[1:] {
		file, err := engine(f).fs.OpenFile(p)
		if err != nil {
			c.Printf("%s: %v\n", p, err)
			continue
		}
		de, err := file.Stat()
		file.Close()
		if err != nil {
			c.Printf("%s: %v\n", p, err)
			continue
		}
		c.Tabf("stat %s", statLine(p, de))
	}
	return nil
}

// statLine is the console's form of a directory entry, as stat and wstat
// print it: path elem uid gid perm length.
func statLine(path string, de vac.DirEntry) string {
	return fmt.Sprintf("%s %s %s %s %s %d", cons.Quote(path), cons.Quote(de.Elem), cons.Quote(de.UID), cons.Quote(de.GID), formatPerm(de.Mode), de.Size)
}

func cmdWstat(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) != 7 {
		return fmt.Errorf("usage: wstat path elem uid gid mode length\n\tuse - for any field to mean don't change")
	}
	file, err := engine(f).fs.OpenFile(argv[1])
	if err != nil {
		return fmt.Errorf("%s: %v", argv[1], err)
	}
	defer file.Close()
	de, err := file.Stat()
	if err != nil {
		return err
	}
	old := de
	if v := argv[2]; v != "-" {
		de.Elem = v
	}
	if v := argv[3]; v != "-" {
		de.UID = v
	}
	if v := argv[4]; v != "-" {
		de.GID = v
	}
	if v := argv[5]; v != "-" {
		m, err := parsePerm(v)
		if err != nil {
			return err
		}
		// What a file is (directory, link, snapshot root) stays; a
		// directory's mode may leave its d out.
		const fixed = vac.ModeDir | vac.ModeLink | vac.ModeSnapshot
		if m&vac.ModeDir != 0 && de.Mode&vac.ModeDir == 0 {
			return fmt.Errorf("wstat %s: cannot change the directory bit", argv[1])
		}
		de.Mode = de.Mode&fixed | m&^fixed
	}
	if v := argv[6]; v != "-" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fmt.Errorf("bad length %s", v)
		}
		de.Size = n
	}
	c.Tabf("old: w %s", statLine(argv[1], old))
	if err := file.SetStat(de, "adm"); err != nil {
		return err
	}
	if de, err = file.Stat(); err != nil {
		return err
	}
	c.Tabf("new: w %s", statLine(argv[1], de))
	return nil
}

func cmdVac(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) != 2 {
		return fmt.Errorf("usage: vac path")
	}
	s, err := engine(f).fs.Vac(argv[1])
	if err != nil {
		return fmt.Errorf("vac %s: %v", argv[1], err)
	}
	c.Printf("vac:%v\n", s)
	return nil
}

// usage is a command's usage error.
func usage(synopsis string) error { return errors.New("usage: " + synopsis) }
