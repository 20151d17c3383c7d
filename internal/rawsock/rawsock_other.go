//go:build !linux

package rawsock

import "net"

const supported = false

// Wrap returns c: only Linux has the raw path.
func Wrap(c net.Conn) net.Conn { return c }
