// Fmtarenas formats an arena partition; see venti-fmt(8).
//
//	venti/fmtarenas [-4Z] [-a arenasize] [-b blocksize] name file
//
// The partition gets a header, a map of its arenas and, for each arena
// of arenasize bytes (default 512M; the last takes what is left), a
// head block, an empty clump log and a trailer. The arenas are named
// name0, name1, and so on. Version 5 arenas (the default) each get a
// random clump magic; with -4 they are version 4 arenas, and the
// partition is first cleared unless -Z is given. As the C program
// does, it reports on standard error what it made:
//
//	fmtarenas file: 6 arenas, 99,868,672 bytes storage, 524,288 bytes for index map
//
// Unlike the C program, it checks the whole layout before writing, so a
// partition too small for an arena, or an arena size that cannot work,
// is refused with nothing written.
package main

import (
	"fmt"
	"github.com/plan9fossil/fossil/internal/report"
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

func main() {
	cmd := arg.New("venti/fmtarenas", "[-4Z] [-a arenasize] [-b blocksize] name file")
	blockSize := uint64(8 << 10)
	arenaSize := uint64(512 << 20)
	version := uint32(vtdisk.ArenaVersion5)
	noZero := false
	size := func() uint64 {
		v, err := vtdisk.ParseSize(cmd.Arg())
		if err != nil {
			cmd.UsageExit()
		}
		return v
	}
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'a':
			arenaSize = size()
		case 'b':
			blockSize = size()
			if blockSize > vtdisk.MaxBlockSize {
				cmd.Fatalf("block size too large, max %d", vtdisk.MaxBlockSize)
			}
		case '4':
			version = vtdisk.ArenaVersion4
		case 'Z':
			noZero = true
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 2 {
		cmd.UsageExit()
	}
	name, file := args[0], args[1]
	if !vtdisk.ValidName(name) {
		cmd.Fatalf("illegal name template %s", name)
	}
	if err := vtdisk.CheckBlockSize(blockSize); err != nil {
		cmd.Fatalf("%v", err)
	}

	part, err := vtdisk.OpenPartition(file, true)
	if err != nil {
		cmd.Fatalf("can't open partition %s: %v", file, err)
	}
	defer part.Close()
	l, err := vtdisk.LayoutArenaPart(part.Size, uint32(blockSize), vtdisk.DefaultTableSize, arenaSize, name)
	if err != nil {
		cmd.Fatalf("can't initialize arena partition %s: %v", file, err)
	}

	// Version 4 arenas need their clump logs zeroed; version 5 arenas
	// do not (the C fmtarenas zeroes only for version 4).
	if version == vtdisk.ArenaVersion4 && !noZero {
		fmt.Fprintf(os.Stderr, "clearing %s\n", file)
		p := report.NewProgress("clearing "+file, int64(l.Size)-vtdisk.PartBlank)
		if err := vtdisk.ZeroRange(part, vtdisk.PartBlank, int64(l.Size)-vtdisk.PartBlank, p.Update); err != nil {
			p.Finish()
			cmd.Fatalf("can't initialize %s: %v", file, err)
		}
		p.Finish()
	}

	// As the C program does, first write the header with an empty map,
	// so that the old arenas are gone before the new ones are written.
	if err := vtdisk.WriteArenaPart(part, &l.Header, nil); err != nil {
		cmd.Fatalf("can't initialize arena partition %s: %v", file, err)
	}
	fmt.Fprintf(os.Stderr, "fmtarenas %s: %s arenas, %s bytes storage, %s bytes for index map\n",
		file, report.Commas(uint64(len(l.Map))), report.Commas(l.Storage()), report.Commas(l.Header.TableSize()))
	for _, m := range l.Map {
		head := vtdisk.ArenaHead{
			Version:    version,
			Name:       m.Name,
			BlockSize:  l.Header.BlockSize,
			Size:       m.Stop - m.Start,
			ClumpMagic: vtdisk.OldClumpMagic,
		}
		if version == vtdisk.ArenaVersion5 {
			head.ClumpMagic = vtdisk.NewClumpMagic()
		}
		if err := vtdisk.FormatArena(part, int64(m.Start), &head); err != nil {
			cmd.Fatalf("can't make new arena %s: %v", m.Name, err)
		}
	}
	if err := vtdisk.WriteArenaPart(part, &l.Header, l.Map); err != nil {
		cmd.Fatalf("can't write back arena partition header for %s: %v", file, err)
	}
	if err := part.Sync(); err != nil {
		cmd.Fatalf("sync %s: %v", file, err)
	}
	if err := part.Close(); err != nil {
		cmd.Fatalf("close %s: %v", file, err)
	}
}
