//go:build !plan9

package ninep

import "testing"

// TestOpenFactotumNone: with no plan9port factotum in the name space
// there is none to open, and the error says so.
func TestOpenFactotumNone(t *testing.T) {
	t.Setenv("NAMESPACE", t.TempDir())
	if _, err := OpenFactotum(); err == nil || err.Error() != "no factotum" {
		t.Errorf("OpenFactotum: %v", err)
	}
}
