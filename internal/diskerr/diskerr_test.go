package diskerr

import (
	"errors"
	"io"
	"testing"
)

var errBad = errors.New("bad magic")

func TestError(t *testing.T) {
	err := BadMagic("vtdisk", "clump", errBad, 0x12345678, 0x8c81fb1d)
	err = Relocate("vtdisk", "arena arenas0.0: clump at 0x1234", err)
	if got := err.Error(); got != "vtdisk: arena arenas0.0: clump at 0x1234: bad magic 0x12345678 (want 0x8c81fb1d)" {
		t.Errorf("%q", got)
	}
	if !errors.Is(err, errBad) {
		t.Error("does not wrap its kind")
	}
	inner := Errorf("vac", "meta block", errBad, "entry %d", 3)
	if got := Within("fsdisk", "block 0xfa", inner).Error(); got != "fsdisk: block 0xfa: meta block: bad magic: entry 3" {
		t.Errorf("%q", got)
	}
	if got := Within("fsdisk", "super", io.ErrUnexpectedEOF).Error(); got != "fsdisk: super: unexpected EOF" {
		t.Errorf("%q", got)
	}
	if Within("x", "y", nil) != nil || Relocate("x", "y", nil) != nil {
		t.Error("nil error not kept nil")
	}
	if got := Short("vac", "entry", errors.New("truncated"), 3, 40).Error(); got != "vac: entry: truncated: 3 bytes, need 40" {
		t.Errorf("%q", got)
	}
}
