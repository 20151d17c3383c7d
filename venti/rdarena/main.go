// Rdarena copies one arena of an arena partition to standard output;
// see venti-backup(8).
//
//	venti/rdarena [-qv] arenapart arenaname
//
// The copy is the arena byte for byte, head block to trailer, as
// venti/printarena and venti/wrarena read it. On standard error
// rdarena says which arena it copies and prints the arena's summary,
// unless -q is given; -v first describes the whole partition.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

func main() {
	cmd := arg.New("venti/rdarena", "[-qv] arenapart arenaname")
	quiet, verbose := false, false
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'q':
			quiet = true
		case 'v':
			verbose = true
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 2 {
		cmd.UsageExit()
	}
	file, name := args[0], args[1]
	part, err := vtdisk.OpenPartition(file, false)
	if err != nil {
		cmd.Fatalf("can't open partition %s: %v", file, err)
	}
	defer part.Close()
	ap, err := vtdisk.OpenArenaPartition(part, part.Size)
	if err != nil {
		cmd.Fatalf("can't initialize arena partition in %s: %v", file, err)
	}
	if verbose {
		h := &ap.Header
		fmt.Fprintf(os.Stderr, "arena partition=%s\n\tversion=%d blocksize=%d arenas=%d\n\tsetbase=%d setsize=%d\n",
			file, h.Version, h.BlockSize, len(ap.Map), h.TableBase(), h.TableSize())
		for _, m := range ap.Map {
			fmt.Fprintf(os.Stderr, "\tarena=%s at [%d,%d)\n", m.Name, m.Start, m.Stop)
		}
	}
	for i, m := range ap.Map {
		if m.Name != name {
			continue
		}
		a, err := ap.Arena(i)
		if err != nil {
			cmd.Fatalf("can't initialize arena %s: %v", name, err)
		}
		if !quiet {
			fmt.Fprintf(os.Stderr, "copying %s to standard output\n", name)
			a.PrintSummary(os.Stderr)
		}
		src := io.NewSectionReader(part, a.Offset, int64(a.Size))
		if _, err := io.Copy(os.Stdout, src); err != nil {
			cmd.Fatalf("can't copy %s: %v", name, err)
		}
		return
	}
	cmd.Fatalf("couldn't find arena %s", name)
}
