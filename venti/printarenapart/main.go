// Printarenapart lists the arenas of an arena partition; see
// venti-fmt(8).
//
//	venti/printarenapart [-o aoffset] file
//
// It prints the partition header and, for each arena of the map, its
// name, offset, the statistics of its trailer and its creation and
// modification times in the local time zone. With -o the partition
// starts at byte aoffset of file. Like the C program it ends with
// "bad line: " on standard error, where it reads past the map.
package main

import (
	"io"
	"os"
	"strconv"
	"time"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

func main() {
	cmd := arg.New("venti/printarenapart", "[-o aoffset] file")
	var aoffset int64
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'o':
			v, err := strconv.ParseUint(cmd.Arg(), 0, 63)
			if err != nil {
				cmd.UsageExit()
			}
			aoffset = int64(v)
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 1 {
		cmd.UsageExit()
	}
	file := args[0]
	part, err := vtdisk.OpenPartition(file, false)
	if err != nil {
		cmd.Fatalf("can't open file %s: %v", file, err)
	}
	defer part.Close()
	if aoffset > part.Size {
		cmd.Fatalf("offset %d is past the end of %s", aoffset, file)
	}
	r := io.NewSectionReader(part, aoffset, part.Size-aoffset)
	ap, err := vtdisk.OpenArenaPartition(r, r.Size())
	if err != nil {
		cmd.Fatalf("corrupted arena part header: %v", err)
	}
	if err := ap.PrintArenaPart(os.Stdout, zone()); err != nil {
		cmd.Fatalf("%s: %v", file, err)
	}
	os.Stderr.WriteString("bad line: \n")
}

// zone is the local time zone for the times, as Plan 9's ctime uses
// it; a zone of UTC is called GMT, as Plan 9 and plan9port call it.
func zone() *time.Location {
	if name, off := time.Now().Zone(); off == 0 && (name == "UTC" || name == "GMT") {
		return nil
	}
	return time.Local
}
