//go:build plan9

// Bench measures venti and fossil and writes a report; it runs on Unix
// (Linux), where it starts the programs as processes on loopback.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench: runs on Linux and other Unix systems, not Plan 9")
	os.Exit(1)
}
