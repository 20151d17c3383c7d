// Fmtbloom formats a bloom filter partition; see venti-fmt(8).
//
//	venti/fmtbloom [-n nblocks | -N nhash] [-s size] file
//
// The filter takes size bytes (default: the whole partition), rounded
// down to a power of two, at most 512 MiB and at least 1 MiB. Each
// score sets nhash bits (default 32); with -n the filter is sized and
// nhash chosen for nblocks blocks. The filter is written zeroed with
// its header, and the choice reported on standard error as the C
// program does:
//
//	fmtbloom: using 1MB, 32 hashes/score, best up to 186,413 blocks
package main

import (
	"fmt"
	"github.com/plan9fossil/fossil/internal/report"
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

func main() {
	cmd := arg.New("venti/fmtbloom", "[-n nblocks | -N nhash] [-s size] file")
	var size, nblocks, nhash uint64
	num := func() uint64 {
		v, err := vtdisk.ParseSize(cmd.Arg())
		if err != nil {
			cmd.UsageExit()
		}
		return v
	}
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'n':
			if nhash != 0 || nblocks != 0 {
				cmd.UsageExit()
			}
			nblocks = num()
		case 'N':
			if nhash != 0 || nblocks != 0 {
				cmd.UsageExit()
			}
			nhash = num()
			if nhash > vtdisk.MaxBloomHash {
				fmt.Fprintf(os.Stderr, "maximum possible is -N %d\n", vtdisk.MaxBloomHash)
				cmd.UsageExit()
			}
		case 's':
			size = num()
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 1 {
		cmd.UsageExit()
	}
	file := args[0]

	part, err := vtdisk.OpenPartition(file, true)
	if err != nil {
		cmd.Fatalf("can't open partition %s: %v", file, err)
	}
	defer part.Close()
	if size == 0 {
		size = uint64(part.Size)
	}
	if size > uint64(part.Size) {
		cmd.Fatalf("bloom filter of %s bytes does not fit in %s (%s bytes)", report.Commas(size), file, report.Commas(uint64(part.Size)))
	}
	if size < 1<<20 {
		cmd.Fatalf("bloom filter too small")
	}
	if size > vtdisk.MaxBloomSize {
		fmt.Fprintf(os.Stderr, "warning: not using entire %s bytes; using only %s bytes\n",
			report.Commas(size), report.Commas(vtdisk.MaxBloomSize))
		size = vtdisk.MaxBloomSize
	}
	if size&(size-1) != 0 {
		for size&(size-1) != 0 {
			size &= size - 1 // down to the highest bit
		}
		fmt.Fprintf(os.Stderr, "warning: size not a power of 2; only using %dMB\n", size>>20)
	}
	if nblocks != 0 {
		// No use for more than 32 bits per block; aim for fewer than 64.
		s := size
		for s*8 >= nblocks*64 && s > vtdisk.BloomHeadSize {
			s >>= 1
		}
		if s != size {
			size = s
			fmt.Fprintf(os.Stderr, "warning: using only %dMB - not enough blocks to warrant more\n", size>>20)
		}
		// ln 2 times as many hashes as there are bits per block is best.
		nhash = min((8*size)/nblocks*7/10, vtdisk.MaxBloomHash)
	}
	if nhash == 0 {
		nhash = vtdisk.MaxBloomHash
	}
	head := vtdisk.BloomHead{NHash: uint32(nhash), Size: uint32(size)}
	buf := make([]byte, vtdisk.BloomHeadSize)
	if err := head.Pack(buf); err != nil {
		cmd.Fatalf("bloominit: %v", err)
	}
	bits := nhash * 10 / 7
	fmt.Fprintf(os.Stderr, "fmtbloom: using %dMB, %d hashes/score, best up to %s blocks\n", size>>20, nhash, report.Commas(8*size/bits))

	p := report.NewProgress("writing "+file, int64(size))
	if err := vtdisk.ZeroRange(part, 0, int64(size), p.Update); err != nil {
		p.Finish()
		cmd.Fatalf("writing %s: %v", file, err)
	}
	p.Finish()
	if _, err := part.WriteAt(buf, 0); err != nil {
		cmd.Fatalf("writing %s: %v", file, err)
	}
	if err := part.Sync(); err != nil {
		cmd.Fatalf("writing %s: %v", file, err)
	}
	if err := part.Close(); err != nil {
		cmd.Fatalf("writing %s: %v", file, err)
	}
}
