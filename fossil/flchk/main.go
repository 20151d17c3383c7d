// Flchk checks a fossil file system for inconsistencies and prints the
// console commands that would chop off what is wrong; see fossil(4) and
// flchk(8).
//
//	fossil/flchk [-f] [-c ncache] [-h host] file
//
// It opens file read-only and never writes, so it may run beside the
// fossil serving it (whose unwritten blocks it does not see). Without
// -f it walks the archives on the venti server host ($venti by
// default) too.
package main

import (
	"bufio"
	"context"
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/fsck"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/venti"
)

func main() {
	cmd := arg.New("fossil/flchk", "[-f] [-c ncache] [-h host] file")
	fast := false
	ncache := fsck.DefaultCacheBlocks
	host := ""
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'f':
			fast = true
		case 'c':
			n := cmd.Int()
			if n <= 0 || n > 1<<20 {
				cmd.UsageExit()
			}
			ncache = int(n)
		case 'h':
			host = cmd.Arg()
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 1 {
		cmd.UsageExit()
	}
	name := args[0]

	f, err := os.Open(name)
	if err != nil {
		cmd.Fatalf("could not open %s: %v", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		cmd.Fatalf("%s: %v", name, err)
	}
	size := st.Size()
	if !st.Mode().IsRegular() {
		size = -1 // a device: its size is whatever the header says
	}

	v := &connReader{ctx: context.Background()}
	src, err := fsck.OpenDisk(f, size, v)
	if err != nil {
		cmd.Fatalf("%s: %v", name, err)
	}

	// Fast mode does not read venti at all, so it needs no server.
	if !fast {
		z, err := venti.DialContext(v.ctx, host)
		if err != nil {
			// A fossil need not have a venti; what is local can
			// still be checked.
			cmd.Warnf("could not connect to venti %s: %v; checking as with -f", venti.Addr(host), err)
			fast = true
		} else {
			defer z.Close()
			v.z = z
		}
	}

	out := bufio.NewWriter(os.Stdout)
	opts := fsck.Options{
		Venti:       !fast,
		Snapshots:   true,
		CacheBlocks: ncache,
		Progress:    os.Stderr,
		// flchk changes nothing: its repairs are the commands it
		// prints.
		Fix:   true,
		Fixer: fsck.PrintFixer{W: out},
	}
	_, err = fsck.CheckContext(v.ctx, src, opts, out)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		cmd.Fatalf("%s: %v", name, err)
	}
}

// connReader reads venti blocks for the check, once connected.
type connReader struct {
	ctx context.Context
	z   *venti.Conn
}

func (r *connReader) ReadVenti(s venti.Score, t venti.Type) ([]byte, error) {
	if r.z == nil {
		return nil, fsdisk.ErrNoVenti
	}
	return r.z.Read(r.ctx, s, t, venti.MaxLumpSize)
}
