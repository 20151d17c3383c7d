//go:build plan9

package ninep

import (
	"io"
	"os"
)

// OpenFactotum opens a new channel to the factotum of the name space,
// /mnt/factotum/rpc.
func OpenFactotum() (io.ReadWriteCloser, error) {
	return os.OpenFile("/mnt/factotum/rpc", os.O_RDWR, 0)
}
