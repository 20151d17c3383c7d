// Copy copies the tree of blocks below a root block from one venti
// server to another; see venti(1).
//
//	venti/copy [-fimrv] [-t type] srchost dsthost score
//
// -f (fast) skips a block the destination already has, trusting that it
// has its children too; -i ignores read errors on the source; -r
// replaces pointers to unreadable blocks with the zero score and prints
// the new root; -m remembers visited blocks so shared subtrees are
// copied once; -v reports what was skipped and written.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/venti"
)

type copier struct {
	cmd      *arg.Cmd
	src, dst *venti.Conn
	fast     bool
	ignore   bool
	rewrite  bool
	verbose  bool
	visited  map[visit]bool // nil unless -m
	changes  int
	nskip    int
	nwrite   int
}

type visit struct {
	score venti.Score
	t     venti.Type
}

func main() {
	cmd := arg.New("venti/copy", "[-fimrv] [-t type] srchost dsthost score")
	c := &copier{cmd: cmd}
	typ := int64(-1)
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'f':
			c.fast = true
		case 'i':
			if c.rewrite {
				cmd.UsageExit()
			}
			c.ignore = true
		case 'm':
			c.visited = make(map[visit]bool)
		case 'r':
			if c.ignore {
				cmd.UsageExit()
			}
			c.rewrite = true
		case 't':
			typ = cmd.Int()
		case 'v':
			c.verbose = true
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 3 {
		cmd.UsageExit()
	}
	score, label, err := venti.ParseScore(args[2])
	if err != nil {
		cmd.Fatalf("could not parse score: %v", err)
	}
	if typ >= int64(venti.MaxType) || typ < -1 {
		cmd.Fatalf("bad type %d", typ)
	}
	ctx := context.Background()
	if c.src, err = venti.DialContext(ctx, args[0]); err != nil {
		cmd.Fatalf("could not dial src server: %v", err)
	}
	if c.dst, err = venti.DialContext(ctx, args[1]); err != nil {
		cmd.Fatalf("could not dial dst server: %v", err)
	}
	t := venti.Type(typ)
	if typ < 0 {
		for t = 0; t < venti.MaxType; t++ {
			if _, err := c.src.Read(ctx, score, t, venti.MaxLumpSize); err == nil {
				break
			}
		}
		if t == venti.MaxType {
			cmd.Fatalf("could not find block %v of any type", score)
		}
	} else if _, err := c.src.Read(ctx, score, t, venti.MaxLumpSize); err != nil {
		cmd.Fatalf("could not read block: %v", err)
	}
	score = c.walk(ctx, score, t)
	if c.changes > 0 {
		fmt.Printf("%s:%v (%d pointers rewritten)\n", label, score, c.changes)
	}
	if c.verbose {
		fmt.Printf("%d skipped, %d written\n", c.nskip, c.nwrite)
	}
	if err := c.dst.Sync(ctx); err != nil {
		cmd.Fatalf("could not sync dst server: %v", err)
	}
	c.src.Close()
	c.dst.Close()
}

// walk copies the block (score, t) and everything below it, children
// first, so that the destination never holds a block whose children it
// lacks. It returns the block's score, which differs from the one given
// only when -r rewrote a pointer below it.
func (c *copier) walk(ctx context.Context, score venti.Score, t venti.Type) venti.Score {
	if score == venti.ZeroScore || score == (venti.Score{}) {
		return score
	}
	if c.visited != nil && c.visited[visit{score, t}] {
		c.nskip++
		return score
	}
	if c.fast {
		if _, err := c.dst.Read(ctx, score, t, venti.MaxLumpSize); err == nil {
			if c.verbose {
				fmt.Fprintf(os.Stderr, "skip %v\n", score)
			}
			return score
		}
	}
	buf, err := c.src.Read(ctx, score, t, venti.MaxLumpSize)
	if err != nil {
		switch {
		case c.rewrite:
			c.changes++
			fmt.Fprintf(os.Stderr, "reading block %v (type %d): %v\n", score, t, err)
			return venti.ZeroScore
		case c.ignore:
			fmt.Fprintf(os.Stderr, "reading block %v (type %d): %v\n", score, t, err)
			return score
		}
		c.cmd.Fatalf("reading block %v (type %d): %v", score, t, err)
	}
	buf = append([]byte(nil), buf...)
	switch {
	case t == venti.RootType:
		root, err := venti.UnpackRoot(buf)
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: could not unpack root in %v %d\n", score, t)
			break
		}
		root.Prev = c.walk(ctx, root.Prev, venti.RootType)
		root.Score = c.walk(ctx, root.Score, venti.DirType)
		if c.rewrite {
			root.Pack(buf)
		}
	case t == venti.DirType:
		for i := 0; (i+1)*venti.EntrySize <= len(buf); i++ {
			p := buf[i*venti.EntrySize:]
			e, err := venti.UnpackEntry(p)
			if err != nil {
				fmt.Fprintf(os.Stderr, "warning: could not unpack entry #%d in %v %d\n", i, score, t)
				continue
			}
			if e.Flags&venti.EntryActive == 0 {
				continue
			}
			ns := c.walk(ctx, e.Score, e.Type)
			if c.rewrite && ns != e.Score {
				// Only the score changes; the rest of the entry's
				// bytes are kept exactly as they were.
				copy(p[venti.EntrySize-venti.ScoreSize:venti.EntrySize], ns[:])
			}
		}
	case t.IsPointer():
		for i := 0; (i+1)*venti.ScoreSize <= len(buf); i++ {
			p := buf[i*venti.ScoreSize : (i+1)*venti.ScoreSize]
			child := venti.Score(p)
			if child == venti.ZeroScore {
				continue
			}
			ns := c.walk(ctx, child, t-1)
			copy(p, ns[:])
		}
	}
	c.nwrite++
	ns, err := c.dst.Write(ctx, t, buf)
	if err != nil {
		c.cmd.Fatalf("writing block %v (type %d): %v", venti.Fingerprint(buf), t, err)
	}
	if !c.rewrite && ns != score {
		c.cmd.Fatalf("not rewriting: wrote %v got %v", score, ns)
	}
	if c.visited != nil {
		c.visited[visit{ns, t}] = true
	}
	return ns
}
