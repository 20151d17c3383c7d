//go:build !plan9

package osys

import "os"

// Self returns the path of the running program, to start another copy
// of it.
func Self() (string, error) { return os.Executable() }
