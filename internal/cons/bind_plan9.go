package cons

import (
	"fmt"
	"os"
	"syscall"
)

// bind changes fossil's name space, for a fossil started without the
// devices it needs bound in.
func bind(new, old string, flag int) error {
	err := syscall.Bind(new, old, flag)
	if err == nil {
		return nil
	}
	// Name the file that is missing rather than the pair.
	if _, e := os.Stat(new); e != nil {
		return fmt.Errorf("bind: %s: %v", new, err)
	}
	if _, e := os.Stat(old); e != nil {
		return fmt.Errorf("bind: %s: %v", old, err)
	}
	return fmt.Errorf("bind %s %s: %v", new, old, err)
}
