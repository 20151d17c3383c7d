//go:build linux

package main

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// directRead reads the file with O_DIRECT, past the page cache, in
// 1 MiB reads into an aligned buffer: the rate of the device itself.
func directRead(file string) (float64, string) {
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return 0, "O_DIRECT refused: " + err.Error()
	}
	defer f.Close()
	const align = 4096
	raw := make([]byte, 1<<20+align)
	off := int(uintptr(unsafe.Pointer(&raw[0])) & (align - 1))
	if off != 0 {
		off = align - off
	}
	buf := raw[off : off+1<<20]
	start := time.Now()
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(k)
		if k == 0 || err != nil {
			if err != nil && n == 0 {
				return 0, "O_DIRECT read failed: " + err.Error()
			}
			break
		}
	}
	return mbs(n, time.Since(start)), "O_DIRECT, past the page cache"
}
