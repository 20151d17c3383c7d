package vtdisk

import (
	"syscall"
	"unsafe"
)

// adviseHugePages asks Linux to back b with huge pages where it can. A
// bloom filter is read and written at a few dozen random places for
// every block written: with 4 KiB pages nearly each is a TLB miss, which
// under a hypervisor costs a walk of two sets of page tables. Only the
// whole 2 MiB pages inside b are advised (the huge page of x86 and of
// arm64 with 4 KiB pages; elsewhere the advice may do nothing); failure
// changes nothing.
func adviseHugePages(b []byte) {
	const huge = 2 << 20
	if len(b) < huge {
		return
	}
	start := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (huge - 1))
	end := start + (len(b)-start)/huge*huge
	if end > start {
		syscall.Madvise(b[start:end], syscall.MADV_HUGEPAGE)
	}
}
