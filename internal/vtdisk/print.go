package vtdisk

import (
	"bufio"
	"fmt"
	"io"

	"github.com/plan9fossil/fossil/venti"
)

// PrintArena writes the report of venti/printarena for the arena: a
// line describing the head, the arena's summary (which the C program
// writes on standard error, in this order), one line per clump with its
// arena address, score, type (in the numbering of venti(6): a pointer
// block of either kind shows as a directory pointer) and size, and the
// offset where the log ends. Each clump is decoded and checked against
// its score on the way; a clump that fails ends the listing with an
// error, after the lines before it have been written.
func (a *Arena) PrintArena(w io.Writer) error {
	bw := bufio.NewWriter(w)
	h := &a.Head
	fmt.Fprintf(bw, "# arena head version=%d name=%s blocksize=%d size=%d clumpmagic=0x%08x\n",
		h.Version, h.Name, h.BlockSize, h.Size, h.ClumpMagic)
	a.printSummary(bw)
	end, _, err := a.Walk(func(aa uint64, c *Clump, stored []byte) error {
		if c.Type != CorruptType {
			data, err := c.Decode(stored)
			if err == nil {
				err = c.Verify(data)
			}
			if err != nil {
				return relocate(err, fmt.Sprintf("arena %s: clump at %#x", a.Name(), aa))
			}
		}
		fmt.Fprintf(bw, "%22d %v %3d %5d\n", aa, c.Score, vtType(c.Type), c.UncSize)
		return nil
	})
	if err != nil {
		bw.Flush()
		return err
	}
	fmt.Fprintf(bw, "end offset %d\n", end)
	return bw.Flush()
}

// printSummary writes what the C printarena function prints about an
// arena: its name, the range [data offset, data offset + size of the
// whole arena) (sic), version, times and the log statistics with the
// derived compressed data (used minus headers) and disk storage (used
// plus directory entries).
func (a *Arena) printSummary(w io.Writer) {
	m := &a.Tail.Mem
	sealed := ""
	if m.Sealed {
		sealed = " sealed"
	}
	fmt.Fprintf(w, "arena='%s' [%d,%d)\n\tversion=%d created=%d modified=%d%s\n",
		a.Name(), a.DataOffset(), uint64(a.DataOffset())+a.Size,
		a.Tail.Version, int32(a.Tail.CTime), int32(a.Tail.WTime), sealed)
	if a.Tail.Score != (venti.Score{}) {
		fmt.Fprintf(w, "\tscore=%v\n", a.Tail.Score)
	}
	fmt.Fprintf(w, "\tclumps=%s compressed clumps=%s data=%s compressed data=%s disk storage=%s\n",
		commas(uint64(m.Clumps)), commas(uint64(m.CClumps)), commas(m.UncSize),
		commas(m.Used-uint64(m.Clumps)*ClumpSize), commas(m.Used+uint64(m.Clumps)*ClumpInfoSize))
}

// vtType is the venti(6) number of disk type t, or 255 (the C
// VtCorruptType) for disk types that have none.
func vtType(t venti.DiskType) int {
	if v, ok := t.Type(); ok {
		return int(v)
	}
	return 0xff
}
