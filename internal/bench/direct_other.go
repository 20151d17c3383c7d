//go:build !linux && !plan9

package main

// directRead is not measured where O_DIRECT is not Linux's.
func directRead(file string) (float64, string) {
	return 0, "no O_DIRECT on this system"
}
