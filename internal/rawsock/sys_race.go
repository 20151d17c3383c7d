//go:build linux && race

package rawsock

import "syscall"

// Under the race detector reads and writes go through package syscall,
// whose calls tell the detector that what one goroutine wrote to a
// socket happens before what another reads from it; raw calls would
// not, and every request served in the same process would be reported
// as a race. The waiting in the poller is the same either way.

func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	return max(n, 0), errno(err)
}

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	return max(n, 0), errno(err)
}

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	return err.(syscall.Errno)
}
