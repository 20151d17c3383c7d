//go:build !linux

package vtdisk

// adviseHugePages does nothing where there is no such advice to give.
func adviseHugePages(b []byte) error { return nil }

// collapseHugePages does nothing where there is no such advice to give.
func collapseHugePages(b []byte) error { return nil }
