//go:build !linux

package vtdisk

// adviseHugePages does nothing where there is no such advice to give.
func adviseHugePages(b []byte) {}
