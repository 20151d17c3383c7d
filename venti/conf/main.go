// Conf prints or stores the venti configuration kept in a partition;
// see venti-fmt(8).
//
//	venti/conf [-w] partition [configfile]
//
// The configuration lives in the 8 KiB before the partition's header,
// at offset 248 KiB: a "venti config" line and the text of venti.conf,
// NUL-padded. Without -w, conf prints the text. With -w it stores the
// text of configfile, or of standard input, there; text that does not
// fit is refused and nothing is written. A partition so branded can be
// given to venti -c and fmtindex in place of a configuration file.
package main

import (
	"errors"
	"io"
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

func main() {
	cmd := arg.New("venti/conf", "[-w] partition [configfile]")
	write := false
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'w':
			write = true
		default:
			cmd.UsageExit()
		}
	})
	if len(args) < 1 || len(args) > 2 || !write && len(args) != 1 {
		cmd.UsageExit()
	}
	disk := args[0]
	part, err := vtdisk.OpenPartition(disk, write)
	if err != nil {
		cmd.Fatalf("unknown disk %s: %v", disk, err)
	}
	defer part.Close()
	if part.Size < vtdisk.ConfigOffset+vtdisk.ConfigSize {
		cmd.Fatalf("%s is too small to hold a config: %d bytes", disk, part.Size)
	}

	if !write {
		text, err := vtdisk.ReadConfig(part)
		if errors.Is(err, vtdisk.ErrBadMagic) {
			cmd.Fatalf("config has bad header")
		}
		if err != nil {
			cmd.Fatalf("%s: %v", disk, err)
		}
		if _, err := io.WriteString(os.Stdout, text); err != nil {
			cmd.Fatalf("write: %v", err)
		}
		return
	}

	var text []byte
	if len(args) == 2 {
		text, err = os.ReadFile(args[1])
	} else {
		text, err = io.ReadAll(io.LimitReader(os.Stdin, vtdisk.ConfigSize+1))
	}
	if err != nil {
		cmd.Fatalf("%v", err)
	}
	if len(vtdisk.ConfigMagic)+len(text) > vtdisk.ConfigSize {
		cmd.Fatalf("config is too long; max is a little less than eight kilobytes")
	}
	if err := vtdisk.WriteConfig(part, string(text)); err != nil {
		cmd.Fatalf("%s: %v", disk, err)
	}
	if err := part.Sync(); err != nil {
		cmd.Fatalf("%s: %v", disk, err)
	}
	if err := part.Close(); err != nil {
		cmd.Fatalf("%s: %v", disk, err)
	}
}
