package vtdisk

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestHugeRange: the advised part of a buffer is whole huge pages
// inside it, and all of them.
func TestHugeRange(t *testing.T) {
	b := make([]byte, 9<<20)
	for _, c := range []struct{ lo, hi int }{{0, len(b)}, {1, len(b)}, {4096, 4<<20 + 4096}, {12345, 12345 + hugeSize}, {0, hugeSize - 1}} {
		s := b[c.lo:c.hi]
		start, end := hugeRange(s)
		addr := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
		if start < 0 || end > len(s) || start > end {
			t.Fatalf("b[%d:%d]: range [%d,%d) outside the buffer", c.lo, c.hi, start, end)
		}
		if end > start && ((addr+uintptr(start))%hugeSize != 0 || (end-start)%hugeSize != 0) {
			t.Fatalf("b[%d:%d]: range [%d,%d) not whole huge pages", c.lo, c.hi, start, end)
		}
		// No whole huge page is left out.
		first := int(-addr & (hugeSize - 1))
		want := 0
		if first < len(s) {
			want = (len(s) - first) / hugeSize
		}
		if got := (end - start) / hugeSize; got != want {
			t.Fatalf("b[%d:%d]: %d huge pages advised, want %d", c.lo, c.hi, got, want)
		}
	}
}

// TestBloomHugePages: Linux takes the advice, and memory already
// touched (in small pages, as memory the Go heap reuses is) ends up in
// huge pages, all of its whole huge pages, once collapsed. The memory is
// a mapping of the test's own: in the Go heap an advised range can merge
// with another advised before it, whose huge pages smaps would count too.
func TestBloomHugePages(t *testing.T) {
	m, err := syscall.Mmap(-1, 0, 10<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(m) })
	b := m[4096 : 4096+8<<20] // not aligned, as a heap buffer may not be
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	mode, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err := adviseHugePages(b); err != nil {
		t.Skipf("MADV_HUGEPAGE: %v (transparent huge pages %q)", err, strings.TrimSpace(string(mode)))
	}
	if err := collapseHugePages(b); err != nil {
		// An older kernel, one without huge pages to spare, or a
		// busy one (EAGAIN).
		t.Skipf("MADV_COLLAPSE: %v (transparent huge pages %q)", err, strings.TrimSpace(string(mode)))
	}
	start, end := hugeRange(b)
	huge, err := anonHuge(uintptr(unsafe.Pointer(&b[start])), uintptr(unsafe.Pointer(&b[end-1])))
	if err != nil {
		t.Fatal(err)
	}
	if huge != int64(end-start) {
		t.Errorf("%d KiB of huge pages back the %d KiB advised", huge>>10, (end-start)>>10)
	}
}

// anonHuge is the AnonHugePages of the mapping of this process that
// holds the bytes from lo to hi.
func anonHuge(lo, hi uintptr) (int64, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var a, z uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &a, &z); n == 2 && strings.Contains(line[:strings.IndexByte(line, ' ')], "-") {
			in = a <= lo && hi < z
			continue
		}
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			kb, err := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no mapping holds %#x-%#x", lo, hi)
}
