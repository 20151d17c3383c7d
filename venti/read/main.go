// Read reads a block from a venti server and prints it on standard
// output; see venti(1).
//
//	venti/read [-h host] [-t type] score
//
// Without -t it tries each type in turn and prints on standard error the
// venti/read command that names the type it found.
package main

import (
	"context"
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/venti"
)

func main() {
	cmd := arg.New("venti/read", "[-h host] [-t type] score")
	host := ""
	typ := int64(-1)
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'h':
			host = cmd.Arg()
		case 't':
			typ = cmd.Int()
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 1 {
		cmd.UsageExit()
	}
	score, _, err := venti.ParseScore(args[0])
	if err != nil {
		cmd.Fatalf("could not parse score '%s': %v", args[0], err)
	}
	if typ >= int64(venti.MaxType) || typ < -1 {
		cmd.Fatalf("bad type %d", typ)
	}
	ctx := context.Background()
	z, err := venti.DialContext(ctx, host)
	if err != nil {
		cmd.Fatalf("could not connect to server: %v", err)
	}
	var data []byte
	if typ >= 0 {
		data, err = z.Read(ctx, score, venti.Type(typ), venti.MaxLumpSize)
	} else {
		for t := venti.Type(0); t < venti.MaxType; t++ {
			if data, err = z.Read(ctx, score, t, venti.MaxLumpSize); err == nil {
				h := ""
				if host != "" {
					h = " -h" + host
				}
				cmd.Printf(os.Stderr, "venti/read%s %v %d\n", h, score, t)
				break
			}
		}
	}
	z.Close()
	if err != nil {
		cmd.Fatalf("could not read block: %v", err)
	}
	if _, err := os.Stdout.Write(data); err != nil {
		cmd.Fatalf("write: %v", err)
	}
}
