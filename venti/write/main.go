// Write writes a block read from standard input to a venti server and
// prints its score; see venti(1).
//
//	venti/write [-z] [-h host] [-t type]
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/venti"
)

// maxInput is the most venti/write reads, as the C program does: larger
// than a lump so that the server, not the client, refuses blocks over
// 56 KiB ("lump too large"), and small enough to fit in one message.
const maxInput = 65535

func main() {
	cmd := arg.New("venti/write", "[-z] [-h host] [-t type]")
	host := ""
	typ := int64(venti.DataType)
	trunc := false
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'h':
			host = cmd.Arg()
		case 't':
			typ = cmd.Int()
		case 'z':
			trunc = true
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 0 {
		cmd.UsageExit()
	}
	if typ < 0 || typ >= int64(venti.MaxType) {
		cmd.Fatalf("bad type %d", typ)
	}
	data, err := io.ReadAll(io.LimitReader(os.Stdin, maxInput+1))
	if err != nil {
		cmd.Fatalf("read: %v", err)
	}
	if len(data) > maxInput {
		cmd.Fatalf("input too big: max block size is %d", maxInput)
	}
	ctx := context.Background()
	z, err := venti.DialContext(ctx, host)
	if err != nil {
		cmd.Fatalf("could not connect to server: %v", err)
	}
	if trunc {
		data = venti.ZeroTruncate(venti.Type(typ), data)
	}
	score, err := z.Write(ctx, venti.Type(typ), data)
	if err == nil {
		// A block is on permanent storage only after a sync; the C
		// program hangs up without one and relies on the server.
		err = z.Sync(ctx)
	}
	z.Close()
	if err != nil {
		cmd.Fatalf("vtwrite: %v", err)
	}
	fmt.Println(score)
}
