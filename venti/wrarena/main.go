// Wrarena sends the blocks of an arena to a venti server; see
// venti-backup(8).
//
//	venti/wrarena [-fv] [-h host] [-M maxwrites] [-o fileoffset] arenafile [clumpoffset]
//
// Arenafile is an arena on its own, as venti/rdarena writes it, or an
// arena partition. With -o the arena is the one whose head block is at
// byte fileoffset of the file: an arena inside a partition, or one
// copied into a larger file. Without -o, a partition has all its arenas
// sent, one after another; any other file is an arena at offset 0.
//
// The clumps are read through the arena's directory, from the clump
// that starts at clumpoffset in the arena's clump log (default 0),
// checked against their scores (not with -f), and written to the server
// many at a time. With -o, wrarena prints
//
//	end offset 0x211c8
//
// for each arena once its clumps are written and synced: the offset in
// the log after the last clump, where the next run can start. With -h
// /dev/null nothing is sent (and, as in the C program, the final sync
// then fails). -M stops after that many clumps. -v prints each score
// written on standard output and the progress on standard error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// senders is how many writes are outstanding at once. A venti.Conn
// takes up to 256; the server handles 64 at a time by default.
const senders = 48

var cmd = arg.New("venti/wrarena", "[-fv] [-h host] [-M maxwrites] [-o fileoffset] arenafile [clumpoffset]")

func main() {
	var (
		host       = ""
		fast       = false
		verbose    = false
		haveOffset = false
		aoffset    uint64
		maxWrites  = int64(-1)
	)
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'f':
			fast = true
		case 'h':
			host = cmd.Arg()
		case 'o':
			haveOffset = true
			aoffset = number(cmd.Arg())
		case 'M':
			maxWrites = cmd.Int()
		case 'v':
			verbose = true
		default:
			cmd.UsageExit()
		}
	})
	offset := uint64(0)
	haveClumpOffset := false
	switch len(args) {
	case 2:
		offset, haveClumpOffset = number(args[1]), true
	case 1:
	default:
		cmd.UsageExit()
	}
	file := args[0]

	part, err := vtdisk.OpenPartition(file, false)
	if err != nil {
		cmd.Fatalf("can't open file %s: %v", file, err)
	}
	defer part.Close()
	arenas, whole := openArenas(part, file, haveOffset, aoffset)
	if whole && haveClumpOffset {
		fmt.Fprintf(os.Stderr, "wrarena: %s is an arena partition: clump offset %#x ignored\n", file, offset)
		haveClumpOffset = false
	}

	w := &writer{fast: fast, verbose: verbose, maxWrites: maxWrites}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.ctx = ctx
	if host != "/dev/null" {
		z, err := venti.DialContext(ctx, host)
		if err != nil {
			cmd.Fatalf("could not connect to server: %v", err)
		}
		w.z = z
		defer z.Close()
	}

	fmt.Printf("%s starting to send data\n", stamp())
	for _, a := range arenas {
		var off uint64
		if haveClumpOffset {
			off = offset
		}
		end := w.send(a, off, haveClumpOffset)
		if haveOffset {
			fmt.Printf("end offset %s\n", hex(end))
		}
	}
	if w.z == nil {
		cmd.Fatalf("executing sync: not connected")
	}
	if err := w.z.Sync(ctx); err != nil {
		cmd.Fatalf("executing sync: %v", err)
	}
	w.z.Close()
	fmt.Printf("%s sent all data\n", stamp())
}

// number parses a number as strtoull(s, 0, 0) does: decimal, 0x hex or
// 0 octal.
func number(s string) uint64 {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		cmd.Fatalf("bad number %s", s)
	}
	return v
}

// hex formats v as the C %#llx does: 0 has no prefix.
func hex(v uint64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x", v)
}

// stamp is the time as venti's %T prints it.
func stamp() string { return time.Now().Format("2006/0102 15:04:05") }

// openArenas finds the arenas to send: the one at aoffset if -o gave
// an offset where an arena starts, else every arena of an arena
// partition (whole is then set), else the arena at aoffset.
func openArenas(part *vtdisk.Partition, file string, haveOffset bool, aoffset uint64) (arenas []*vtdisk.Arena, whole bool) {
	var head vtdisk.ArenaHead
	headErr := readHead(part, aoffset, &head)
	if !haveOffset || headErr != nil {
		if ap, err := vtdisk.OpenArenaPartition(part, part.Size); err == nil {
			for i := range ap.Map {
				a, err := ap.Arena(i)
				if err != nil {
					cmd.Fatalf("initarena: %v", err)
				}
				arenas = append(arenas, a)
			}
			return arenas, true
		}
	}
	if headErr != nil {
		cmd.Fatalf("corrupted arena header: %v", headErr)
	}
	if aoffset+head.Size > uint64(part.Size) || aoffset+head.Size < aoffset {
		cmd.Fatalf("arena is truncated: want %d bytes have %d", head.Size, part.Size)
	}
	a, err := vtdisk.OpenArena(part, int64(aoffset), 0, 0)
	if err != nil {
		cmd.Fatalf("initarena: %v", err)
	}
	return []*vtdisk.Arena{a}, false
}

func readHead(r io.ReaderAt, off uint64, h *vtdisk.ArenaHead) error {
	buf := make([]byte, vtdisk.HeadSize)
	if off > 1<<62 {
		return errors.New("offset out of range")
	}
	if _, err := r.ReadAt(buf, int64(off)); err != nil {
		return err
	}
	return h.Unpack(buf)
}

// A writer sends clumps to the server.
type writer struct {
	ctx       context.Context
	z         *venti.Conn // nil for -h /dev/null
	fast      bool
	verbose   bool
	maxWrites int64 // clumps still to send; negative: no limit

	outMu sync.Mutex // standard output, for -v
}

type job struct {
	aa   uint64
	t    venti.Type
	data []byte
}

// send writes the clumps of arena a that start at or after the log
// offset from, waits until the server has them all, and returns the
// log offset to resume from: after the last clump sent, or from if
// that is beyond. It exits on any failure to write.
func (w *writer) send(a *vtdisk.Arena, from uint64, haveFrom bool) uint64 {
	fmt.Fprintf(os.Stderr, "wrarena: copying %s to venti\n", a.Name())
	a.PrintSummary(os.Stderr)
	if haveFrom && from >= a.DataSize() {
		cmd.Fatalf("bad offset %#x >= %#x", from, a.DataSize())
	}

	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	jobs := make(chan job, senders)
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		failure error
		sent    int64
		bytes   int64
	)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					continue
				}
				score, err := w.z.Write(ctx, j.t, j.data)
				errMu.Lock()
				if err != nil && failure == nil {
					failure = fmt.Errorf("failed writing clump %d (%#x) of %s: %v", j.aa, j.aa, a.Name(), err)
					cancel()
				}
				if err == nil {
					sent++
					bytes += int64(len(j.data))
				}
				errMu.Unlock()
				if err == nil && w.verbose {
					w.outMu.Lock()
					fmt.Printf("%v\n", score)
					w.outMu.Unlock()
				}
			}
		}()
	}

	start := time.Now()
	last := start
	progress := func(final bool) {
		if !w.verbose {
			return
		}
		errMu.Lock()
		n, b := sent, bytes
		errMu.Unlock()
		secs := time.Since(start).Seconds()
		rate := 0.0
		if secs > 0 {
			rate = float64(b) / secs / 1e6
		}
		what := "sent"
		if !final {
			what = "sending:"
		}
		fmt.Fprintf(os.Stderr, "wrarena: %s: %s %d clumps, %d bytes in %.2fs (%.2f MB/s)\n",
			a.Name(), what, n, b, secs, rate)
	}

	var aa uint64 // log offset of clump i
	n := a.Tail.Mem.Clumps
	var dir []vtdisk.ClumpInfo // directory entries from dirStart on
	dirStart := uint32(0)
loop:
	for i := uint32(0); w.maxWrites != 0 && i < n && ctx.Err() == nil; i++ {
		if i-dirStart >= uint32(len(dir)) {
			const batch = 1024
			var err error
			dirStart = i
			if dir, err = a.ReadClumpInfos(i, int(min(batch, n-i))); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", cmd.Name, err)
				break
			}
		}
		ci := dir[i-dirStart]
		here := aa
		aa += vtdisk.ClumpSize + uint64(ci.Size)
		if here < from || ci.Type == vtdisk.CorruptType {
			if ci.Type == vtdisk.CorruptType {
				fmt.Fprintf(os.Stderr, "%s: corrupt clump read at %#x: +%d\n", cmd.Name, here, vtdisk.ClumpSize+int(ci.Size))
			}
			continue
		}
		c, stored, err := a.ReadClump(here, i)
		if err != nil {
			fmt.Fprintf(os.Stderr, "clump %#x failed to read: %v\n", here, err)
			continue
		}
		data, err := c.Decode(stored)
		if err != nil {
			fmt.Fprintf(os.Stderr, "clump %#x failed to read: %v\n", here, err)
			continue
		}
		t, typeOK := c.Type.Type()
		if c.Type != vtdisk.CorruptType && !w.fast {
			if err := c.Verify(data); err != nil {
				if errors.Is(err, vtdisk.ErrScore) {
					fmt.Fprintf(os.Stderr, "clump %#x has mismatched score\n", here)
				} else {
					fmt.Fprintf(os.Stderr, "clump %#x has bad type %d\n", here, c.Type)
				}
				aa = here
				break loop
			}
		}
		if w.z != nil && c.Type != vtdisk.CorruptType {
			if !typeOK {
				fmt.Fprintf(os.Stderr, "clump %#x has bad type %d\n", here, c.Type)
				aa = here
				break loop
			}
			select {
			case jobs <- job{aa: here, t: t, data: data}:
			case <-ctx.Done():
			}
		}
		if w.maxWrites > 0 {
			w.maxWrites--
		}
		if w.verbose && time.Since(last) >= 2*time.Second {
			last = time.Now()
			progress(false)
		}
	}
	close(jobs)
	wg.Wait()
	if failure != nil {
		cmd.Fatalf("%v", failure)
	}
	if err := w.ctx.Err(); err != nil {
		cmd.Fatalf("%v", err)
	}
	if w.z != nil {
		// Sync before reporting the offset, so that a script that
		// keeps it never skips clumps the server did not keep.
		if err := w.z.Sync(w.ctx); err != nil {
			cmd.Fatalf("executing sync: %v", err)
		}
	}
	progress(true)
	return max(aa, from)
}
