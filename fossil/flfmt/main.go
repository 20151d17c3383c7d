// Flfmt prepares a file as a new fossil file system; see fossil(4) and
// flfmt(8).
//
//	fossil/flfmt [-y] [-b blocksize] [-h host] [-l label] [-v score] file
//
// Without -v the file system holds the empty directories active,
// archive and snapshot, laid out block for block as the C flfmt lays
// them out. With -v its active tree is the fossil archive whose venti
// root is score, read from the venti server host. Everything is
// checked, and the archive read, before anything is written.
package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/venti"
)

func main() {
	cmd := arg.New("fossil/flfmt", "[-b blocksize] [-h host] [-l label] [-v score] [-y] file")
	bsize := fsdisk.DefaultBlockSize
	label := "vfs"
	host := ""
	scoreArg := ""
	force := false
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'b':
			n, ok := unitToInt(cmd.Arg())
			if !ok {
				cmd.UsageExit()
			}
			bsize = n
		case 'h':
			host = cmd.Arg()
		case 'l':
			label = cmd.Arg()
		case 'v':
			scoreArg = cmd.Arg()
		case 'y':
			// -y, not -f: flchk has a much used -f, and flfmt
			// should be hard to run by mistake.
			force = true
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 1 {
		cmd.UsageExit()
	}
	name := args[0]

	if bsize%512 != 0 || bsize <= 0 {
		cmd.Fatalf("block size must be a multiple of 512 bytes")
	}
	if bsize > venti.MaxLumpSize {
		cmd.Fatalf("block size must be less than %d", venti.MaxLumpSize)
	}
	var score venti.Score
	if scoreArg != "" {
		s, kind, err := venti.ParseScore(scoreArg)
		if err != nil || (kind != "" && kind != "vac") {
			cmd.Fatalf("bad score '%s'", scoreArg)
		}
		score = s
	}

	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		cmd.Fatalf("could not open file: %s: %v", name, err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		cmd.Fatalf("could not stat file: %s: %v", name, err)
	}
	if _, err := fsdisk.NewHeader(size, bsize); err != nil || size/int64(bsize) < fsdisk.HeaderOffset*10/int64(bsize) {
		cmd.Fatalf("%s: file too small: %d bytes", name, size)
	}

	if !force {
		hb := make([]byte, fsdisk.HeaderSize)
		if _, err := f.ReadAt(hb, fsdisk.HeaderOffset); err != nil {
			cmd.Fatalf("could not read fs header block: %v", err)
		}
		var h fsdisk.Header
		if h.Unpack(hb) == nil && !confirm("fs header block already exists; are you sure?") {
			return
		}
	}

	opts := fsdisk.FormatOptions{BlockSize: bsize, Label: label, Time: uint32(time.Now().Unix())}
	var layout *fsdisk.Format
	if scoreArg == "" {
		layout, err = fsdisk.NewFormat(size, opts)
		if err != nil {
			cmd.Fatalf("%s: %v", name, err)
		}
	} else {
		ctx := context.Background()
		z, err := venti.DialContext(ctx, host)
		if err != nil {
			cmd.Fatalf("connect to venti: %v", err)
		}
		defer z.Close()
		layout, err = fsdisk.NewVentiFormat(size, opts, score, connReader{ctx, z}, func(s venti.Score) {
			cmd.Printf(os.Stderr, "%v\n", s)
		})
		if err != nil {
			cmd.Fatalf("%v", err)
		}
	}
	if err := layout.Write(f); err != nil {
		cmd.Fatalf("%s: %v", name, err)
	}
	if err := f.Sync(); err != nil && !isUnsupported(err) {
		cmd.Fatalf("%s: sync: %v", name, err)
	}
	if err := f.Close(); err != nil {
		cmd.Fatalf("%s: %v", name, err)
	}
}

// connReader reads venti blocks for fsdisk.
type connReader struct {
	ctx context.Context
	z   *venti.Conn
}

func (r connReader) ReadVenti(s venti.Score, t venti.Type) ([]byte, error) {
	return r.z.Read(r.ctx, s, t, venti.MaxLumpSize)
}

// confirm asks a question on standard error and reads the answer from
// standard input, as the C flfmt does on /dev/cons: only an answer
// starting with y says yes.
func confirm(msg string) bool {
	os.Stderr.WriteString(msg + " [y/n]: ")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if line == "" && err != nil {
		return false
	}
	return strings.HasPrefix(line, "y")
}

// unitToInt parses a number with an optional k, m or g (times 1024,
// 1024², 1024³) as flfmt's -b takes it.
func unitToInt(s string) (int, bool) {
	mul := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mul, s = 1<<10, s[:n-1]
		case 'm', 'M':
			mul, s = 1<<20, s[:n-1]
		case 'g', 'G':
			mul, s = 1<<30, s[:n-1]
		}
	}
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil || v < 0 || v > 1<<31/mul {
		return 0, false
	}
	return int(v * mul), true
}

// isUnsupported reports whether a sync failed only because the file
// cannot be synced (a pipe, some devices).
func isUnsupported(err error) bool {
	return strings.Contains(err.Error(), "invalid argument") || strings.Contains(err.Error(), "not supported")
}
