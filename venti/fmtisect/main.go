// Fmtisect formats an index section; see venti-fmt(8).
//
//	venti/fmtisect [-1Z] [-b blocksize] name file
//
// The section gets a header naming it, room for the index map
// (512 KiB) and as many buckets of blocksize bytes (default 8k) as fit.
// A version 2 section (the default) gets a random bucket magic, which
// makes every bucket on the partition empty until it is written. With
// -1 it is a version 1 section, and the partition is first cleared
// unless -Z is given. As the C program does, it reports on standard
// error what it made:
//
//	fmtisect file: 927 buckets of 215 entries, 524,288 bytes for index map
//
// fmtindex(8) then makes the sections into an index.
package main

import (
	"fmt"
	"github.com/plan9fossil/fossil/internal/report"
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

func main() {
	cmd := arg.New("venti/fmtisect", "[-1Z] [-b blocksize] name file")
	blockSize := uint64(8 << 10)
	version := uint32(vtdisk.ISectVersion2)
	noZero := false
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'b':
			v, err := vtdisk.ParseSize(cmd.Arg())
			if err != nil {
				cmd.UsageExit()
			}
			if v > vtdisk.MaxBlockSize {
				cmd.Fatalf("block size too large, max %d", vtdisk.MaxBlockSize)
			}
			blockSize = v
		case '1':
			version = vtdisk.ISectVersion1
		case 'Z':
			noZero = true
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 2 {
		cmd.UsageExit()
	}
	name, file := args[0], args[1]
	if !vtdisk.ValidName(name) {
		cmd.Fatalf("illegal name %s", name)
	}
	if err := vtdisk.CheckBlockSize(blockSize); err != nil {
		cmd.Fatalf("%v", err)
	}

	part, err := vtdisk.OpenPartition(file, true)
	if err != nil {
		cmd.Fatalf("can't open partition %s: %v", file, err)
	}
	defer part.Close()
	is, err := vtdisk.NewISect(part.Size, name, uint32(blockSize), vtdisk.DefaultTableSize, version)
	if err != nil {
		cmd.Fatalf("can't initialize new index section %s: %v", file, err)
	}

	// Version 1 buckets carry no magic, so old ones must be cleared.
	if version == vtdisk.ISectVersion1 && !noZero {
		fmt.Fprintf(os.Stderr, "clearing %s\n", file)
		n := part.Size&^int64(blockSize-1) - vtdisk.PartBlank
		p := report.NewProgress("clearing "+file, n)
		if err := vtdisk.ZeroRange(part, vtdisk.PartBlank, n, p.Update); err != nil {
			p.Finish()
			cmd.Fatalf("can't initialize %s: %v", file, err)
		}
		p.Finish()
	}

	fmt.Fprintf(os.Stderr, "fmtisect %s: %s buckets of %s entries, %s bytes for index map\n",
		file, report.Commas(uint64(is.Blocks)), report.Commas(uint64(is.BucketMax())), report.Commas(vtdisk.DefaultTableSize))
	if err := vtdisk.WriteISect(part, is); err != nil {
		cmd.Fatalf("can't write back index section header for %s: %v", file, err)
	}
	if err := part.Sync(); err != nil {
		cmd.Fatalf("sync %s: %v", file, err)
	}
	if err := part.Close(); err != nil {
		cmd.Fatalf("close %s: %v", file, err)
	}
}
