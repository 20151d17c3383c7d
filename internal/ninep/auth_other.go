//go:build !plan9

package ninep

import (
	"errors"
	"io"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"
)

// errNoFactotum says there is no factotum to authenticate with.
var errNoFactotum = errors.New("no factotum")

// OpenFactotum opens a new channel to a plan9port factotum, whose
// service is posted in the name space directory ($NAMESPACE or
// /tmp/ns.$USER.$DISPLAY), by opening its rpc file over 9P.
func OpenFactotum() (io.ReadWriteCloser, error) {
	fsys, err := client.MountService("factotum")
	if err != nil {
		return nil, errNoFactotum
	}
	fid, err := fsys.Open("rpc", plan9.ORDWR)
	if err != nil {
		fsys.Close()
		return nil, errNoFactotum
	}
	return &factotumFid{fid, fsys}, nil
}

// A factotumFid is an open rpc file and the mount it came through.
type factotumFid struct {
	*client.Fid
	fsys *client.Fsys
}

func (f *factotumFid) Close() error {
	err := f.Fid.Close()
	f.fsys.Close()
	return err
}
