// Printarena lists the clumps of an arena; see venti-fmt(8).
//
//	venti/printarena [-o aoffset] file [offset]
//
// The arena starts at byte aoffset of file (0: an arena copied out by
// venti/rdarena). Printarena prints the arena's head, then on standard
// error its summary, then one line per clump from arena address offset
// (default 0) on: address, score, type and size, each clump checked
// against its score, and the address where the log ends.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

func main() {
	cmd := arg.New("venti/printarena", "[-o aoffset] file [offset]")
	var aoffset uint64
	number := func(s string) uint64 {
		v, err := strconv.ParseUint(s, 0, 63)
		if err != nil {
			cmd.Fatalf("bad number %s", s)
		}
		return v
	}
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'o':
			aoffset = number(cmd.Arg())
		default:
			cmd.UsageExit()
		}
	})
	if len(args) < 1 || len(args) > 2 {
		cmd.UsageExit()
	}
	file := args[0]
	var start uint64
	if len(args) == 2 {
		start = number(args[1])
	}
	part, err := vtdisk.OpenPartition(file, false)
	if err != nil {
		cmd.Fatalf("can't open file %s: %v", file, err)
	}
	defer part.Close()
	buf := make([]byte, vtdisk.HeadSize)
	if _, err := part.ReadAt(buf, int64(aoffset)); err != nil {
		cmd.Fatalf("can't read file %s: %v", file, err)
	}
	var head vtdisk.ArenaHead
	if err := head.Unpack(buf); err != nil {
		cmd.Fatalf("corrupted arena header: %v", err)
	}
	fmt.Printf("# arena head version=%d name=%s blocksize=%d size=%d clumpmagic=0x%08x\n",
		head.Version, head.Name, head.BlockSize, head.Size, head.ClumpMagic)
	if aoffset+head.Size > uint64(part.Size) {
		cmd.Fatalf("arena is truncated: want %d bytes have %d", head.Size, part.Size)
	}
	a, err := vtdisk.OpenArena(part, int64(aoffset), int64(head.Size), head.BlockSize)
	if err != nil {
		cmd.Fatalf("initarena: %v", err)
	}
	os.Stdout.Sync()
	a.PrintSummary(os.Stderr)
	if start >= a.DataSize() {
		cmd.Fatalf("bad offset %d >= %d", start, a.DataSize())
	}

	// The clump log, as the C program walks it: from start to the end
	// marker, stopping at the first clump that is wrong.
	aa := start
	magic := make([]byte, 4)
	for n := uint32(0); ; n++ {
		limit := a.DataSize() - min(a.DirSize(n), a.DataSize())
		if aa >= limit || limit-aa < 4 {
			break
		}
		if _, err := part.ReadAt(magic, a.DataOffset()+int64(aa)); err != nil {
			cmd.Warnf("clump %d failed to read: %v", aa, err)
			break
		}
		m := binary.BigEndian.Uint32(magic)
		if m == vtdisk.ClumpFreeMagic {
			break
		}
		if m != a.ClumpMagic() {
			fmt.Fprintf(os.Stderr, "illegal clump magic number 0x%08x offset %d\n", m, aa)
			break
		}
		c, stored, err := a.ReadClump(aa, n)
		if err != nil {
			fmt.Fprintf(os.Stderr, "clump %d failed to read: %v\n", aa, err)
			break
		}
		vt := 0xff // the C VtCorruptType
		if c.Type != vtdisk.CorruptType {
			data, err := c.Decode(stored)
			if err != nil {
				fmt.Fprintf(os.Stderr, "clump %d failed to read: %v\n", aa, err)
				break
			}
			t, ok := c.Type.Type()
			if !ok {
				fmt.Fprintf(os.Stderr, "clump %d has bad type %d\n", aa, c.Type)
				break
			}
			if err := c.Verify(data); err != nil {
				fmt.Fprintf(os.Stderr, "clump %d has mismatched score\n", aa)
				break
			}
			vt = int(t)
		}
		fmt.Printf("%22d %v %3d %5d\n", aa, c.Score, vt, c.UncSize)
		aa += vtdisk.ClumpSize + uint64(c.Size)
	}
	fmt.Printf("end offset %d\n", aa)
}
