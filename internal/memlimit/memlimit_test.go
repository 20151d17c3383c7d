package memlimit

import (
	"runtime/debug"
	"testing"
)

func TestHold(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	const room = 32 << 20
	for _, c := range []struct{ configured, want int64 }{
		{0, room},
		{24 << 20, 56 << 20},
		{128 << 20, 160 << 20},
		{1 << 30, 1<<30 + 256<<20},
	} {
		if got := Hold(c.configured, room); got != c.want {
			t.Errorf("Hold(%d) = %d, want %d", c.configured, got, c.want)
		}
		if got := debug.SetMemoryLimit(-1); got != c.want {
			t.Errorf("after Hold(%d) the runtime's limit is %d", c.configured, got)
		}
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(5 << 30)
	if got := Hold(64<<20, room); got != 0 || debug.SetMemoryLimit(-1) != 5<<30 {
		t.Errorf("Hold with GOMEMLIMIT set changed the limit (returned %d)", got)
	}
}
