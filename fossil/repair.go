package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/plan9fossil/fossil/internal/cons"
	"github.com/plan9fossil/fossil/internal/fs"
	"github.com/plan9fossil/fossil/internal/fsck"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/venti"
)

// The console's check and its drastic repairs (fossilcons(8)). The
// repairs print, before they change anything, the command that undoes
// them: bfree a label command, clre and clrp a block command, block and
// label the old and new contents.

// registerRepairCommands adds check, bfree, block, clre, clri, clrp and
// label.
func registerRepairCommands(c *cons.Console) {
	c.RegisterFsys("check", cmdCheck, cons.WhileHalted)
	c.RegisterFsys("bfree", cmdBfree)
	c.RegisterFsys("block", cmdBlock)
	c.RegisterFsys("clre", cmdClre)
	c.RegisterFsys("clri", cmdClri)
	c.RegisterFsys("clrp", cmdClrp)
	c.RegisterFsys("label", cmdLabel)
}

// cmdCheck runs the checker of flchk(8) on the live file system, which
// it holds still meanwhile, printing what it finds and the repairs it
// proposes ("# clrp ..."), or making those its options allow.
func cmdCheck(c *cons.Ctx, f cons.Fsys, argv []string) error {
	opts, err := fsck.ParseOptions(argv[1:])
	if err != nil {
		return err
	}
	return engine(f).fs.Check(func(src fsck.BlockSource, fix fsck.Fixer) error {
		opts.Fixer = fix
		_, err := fsck.Check(src, opts, c)
		return err
	})
}

func parseAddr(s string) (uint32, error) {
	a, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("bad address %s", s)
	}
	return uint32(a), nil
}

// labelLine is a label command that sets the label l.
func labelLine(addr uint32, l fsdisk.Label) string {
	return fmt.Sprintf("label %#x %d %d %d %d %#x", addr, l.Type, l.State, l.Epoch, l.EpochClose, l.Tag)
}

// blockLine is a block command that writes data at off.
func blockLine(addr uint32, off int, data []byte) string {
	return fmt.Sprintf("block %#x %d %d %X", addr, off, len(data), data)
}

func cmdBfree(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) < 2 {
		return errors.New("usage: bfree addr [addr ...]")
	}
	for _, s := range argv[1:] {
		addr, err := parseAddr(s)
		if err != nil {
			return err
		}
		old, err := engine(f).fs.FreeBlock(addr)
		switch {
		case errors.Is(err, fs.ErrAlreadyFree):
			c.Printf("%#x is already free\n", addr)
		case err != nil:
			return err
		default:
			c.Printf("%s\n", labelLine(addr, old))
		}
	}
	return nil
}

// clearSlots is clre and clrp: zero the size-byte slots index... of block
// addr.
func clearSlots(c *cons.Ctx, f cons.Fsys, argv []string, size int, fn func(uint32, int) ([]byte, error)) error {
	if len(argv) < 3 {
		return fmt.Errorf("usage: %s addr index [index ...]", argv[0])
	}
	addr, err := parseAddr(argv[1])
	if err != nil {
		return err
	}
	for _, s := range argv[2:] {
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 {
			return fmt.Errorf("bad offset %s", s)
		}
		old, err := fn(addr, i)
		if err != nil {
			return err
		}
		c.Tabf("%s", blockLine(addr, i*size, old))
	}
	return nil
}

func cmdClre(c *cons.Ctx, f cons.Fsys, argv []string) error {
	return clearSlots(c, f, argv, fsdisk.EntrySize, engine(f).fs.ClearEntry)
}

func cmdClrp(c *cons.Ctx, f cons.Fsys, argv []string) error {
	return clearSlots(c, f, argv, venti.ScoreSize, engine(f).fs.ClearPointer)
}

func cmdClri(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) < 2 {
		return errors.New("usage: clri path [path ...]")
	}
	for _, p := range argv[1:] {
		if err := engine(f).fs.ClearDirEntry(p); err != nil {
			c.Printf("clri %s: %v\n", p, err)
		}
	}
	return nil
}

func cmdLabel(c *cons.Ctx, f cons.Fsys, argv []string) error {
	const usage = "usage: label addr [type state epoch epochclose tag]"
	if len(argv) != 2 && len(argv) != 7 {
		return errors.New(usage)
	}
	addr, err := parseAddr(argv[1])
	if err != nil {
		return err
	}
	e := engine(f).fs
	if len(argv) == 2 {
		l, err := e.BlockLabel(addr)
		if err != nil {
			return err
		}
		c.Printf("%s\n", labelLine(addr, l))
		return nil
	}
	// The fields, "-" for one left as it is.
	var set [5]*uint32
	bits := [5]int{8, 8, 32, 32, 32}
	names := [5]string{"type", "state", "epoch", "epochclose", "tag"}
	for i, s := range argv[2:] {
		if s == "-" {
			continue
		}
		v, err := strconv.ParseUint(s, 0, bits[i])
		if err != nil {
			return fmt.Errorf("bad %s %s", names[i], s)
		}
		x := uint32(v)
		set[i] = &x
	}
	old, nl, err := e.EditLabel(addr, func(l *fsdisk.Label) {
		if v := set[0]; v != nil {
			l.Type = fsdisk.BlockType(*v)
		}
		if v := set[1]; v != nil {
			l.State = fsdisk.BlockState(*v)
		}
		if v := set[2]; v != nil {
			l.Epoch = *v
		}
		if v := set[3]; v != nil {
			l.EpochClose = *v
		}
		if v := set[4]; v != nil {
			l.Tag = *v
		}
	})
	if err != nil {
		return err
	}
	c.Printf("old: %s\n", labelLine(addr, old))
	c.Printf("new: %s\n", labelLine(addr, nl))
	return nil
}

func cmdBlock(c *cons.Ctx, f cons.Fsys, argv []string) error {
	if len(argv) < 3 || len(argv) > 5 {
		return errors.New("usage: block addr offset [count [data]]")
	}
	addr, err := parseAddr(argv[1])
	if err != nil {
		return err
	}
	e := engine(f).fs
	bs := e.BlockSize()
	off, err := strconv.ParseUint(argv[2], 0, 32)
	if err != nil || off >= uint64(bs) {
		return fmt.Errorf("bad offset %s", argv[2])
	}
	count := uint64(bs) - off
	if len(argv) > 3 {
		n, err := strconv.ParseUint(argv[3], 0, 32)
		if err != nil {
			return fmt.Errorf("bad count %s", argv[3])
		}
		count = min(n, count)
	}
	if len(argv) < 5 {
		data, err := e.ReadBlock(addr, int(off), int(count))
		if err != nil {
			return err
		}
		c.Tabf("%s", blockLine(addr, int(off), data))
		return nil
	}
	data, err := hex.DecodeString(argv[4])
	if err != nil || uint64(len(data)) != count {
		return errors.New("bad data count")
	}
	old, err := e.PatchBlock(addr, int(off), data)
	if err != nil {
		return err
	}
	c.Tabf("old: %s", blockLine(addr, int(off), old))
	c.Tabf("new: %s", blockLine(addr, int(off), data))
	return nil
}
