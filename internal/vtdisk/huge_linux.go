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
// arm64 with 4 KiB pages; elsewhere the advice may do nothing). Given
// before b is first touched, the advice makes its page faults take huge
// pages; memory the Go heap reuses is already in small pages, which
// collapseHugePages mends. Failure changes nothing, and is returned for
// tests.
func adviseHugePages(b []byte) error { return adviseWhole(b, syscall.MADV_HUGEPAGE) }

// madvCollapse is MADV_COLLAPSE (Linux 6.1), which the syscall package
// does not name.
const madvCollapse = 25

// collapseHugePages makes Linux move b's whole huge pages of memory,
// already touched, into huge pages now, rather than some day in the
// background. Older kernels refuse (EINVAL): nothing changes then.
func collapseHugePages(b []byte) error { return adviseWhole(b, madvCollapse) }

// adviseWhole gives the advice for b's whole huge pages, if it has any.
func adviseWhole(b []byte, advice int) error {
	start, end := hugeRange(b)
	if end <= start {
		return nil
	}
	return syscall.Madvise(b[start:end], advice)
}

// hugeSize is the size of a huge page.
const hugeSize = 2 << 20

// hugeRange is the part of b made of whole huge pages: b[start:end].
func hugeRange(b []byte) (start, end int) {
	if len(b) < hugeSize {
		return 0, 0
	}
	start = int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (hugeSize - 1))
	if start >= len(b) {
		return 0, 0
	}
	return start, start + (len(b)-start)/hugeSize*hugeSize
}
