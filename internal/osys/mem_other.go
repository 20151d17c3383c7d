//go:build !linux && !plan9

package osys

// PhysicalMemory is unknown here.
func PhysicalMemory() uint64 { return 0 }
