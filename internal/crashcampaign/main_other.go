//go:build !linux

// Crashcampaign runs on Linux only: it starts, kills and restarts the
// servers as Linux processes on file-backed partitions.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "crashcampaign: runs on Linux only")
	os.Exit(2)
}
