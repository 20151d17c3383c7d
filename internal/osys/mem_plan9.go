package osys

import (
	"os"
	"strconv"
	"strings"
)

// PhysicalMemory returns the machine's user memory in bytes as /dev/swap
// reports it ("1073741824 memory", then "4096 pagesize" and
// "N/M user" pages), 0 if unknown.
func PhysicalMemory() uint64 {
	b, err := os.ReadFile("/dev/swap")
	if err != nil {
		return 0
	}
	var pagesize, userPages uint64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		switch f[1] {
		case "pagesize":
			pagesize, _ = strconv.ParseUint(f[0], 10, 64)
		case "user":
			if i := strings.IndexByte(f[0], '/'); i >= 0 {
				userPages, _ = strconv.ParseUint(f[0][i+1:], 10, 64)
			}
		}
	}
	if pagesize != 0 && userPages != 0 {
		return pagesize * userPages
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == "memory" {
			n, _ := strconv.ParseUint(f[0], 10, 64)
			return n
		}
	}
	return 0
}
