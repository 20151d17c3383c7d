// Last prints the root score of the newest archive of a fossil file
// system, as vac:SCORE, reading the super block straight from the
// partition: it works beside a running fossil. The rc script fossilize
// records its output; fosreset (flfmt -v) restores from it.
//
//	fossil/last disk
package main

import (
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/fsdisk"
)

func main() {
	cmd := arg.New("fossil/last", "disk")
	args := cmd.Parse(os.Args[1:], func(f rune) { cmd.UsageExit() })
	if len(args) != 1 {
		cmd.UsageExit()
	}
	f, err := os.Open(args[0])
	if err != nil {
		cmd.Fatalf("%v", err)
	}
	defer f.Close()
	if err := fsdisk.WriteLast(os.Stdout, f); err != nil {
		cmd.Fatalf("%s: %v", args[0], err)
	}
}
