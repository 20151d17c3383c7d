//go:build !plan9

package cons

import "errors"

// bind has nothing to act on: only Plan 9 has per-process name spaces.
func bind(new, old string, flag int) error {
	return errors.New("bind: not supported on this system")
}
