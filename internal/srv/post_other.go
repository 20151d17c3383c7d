//go:build !plan9 && !linux && !darwin && !dragonfly && !freebsd && !netbsd && !openbsd

package srv

import (
	"errors"
	"io"
)

// errNoSrv is what posting says on systems with neither srv(3) nor
// Unix-domain sockets and FIFOs.
var errNoSrv = errors.New("srv: not supported on this system")

// Dir reports that there is no place to post names here.
func Dir() (string, error) { return "", errNoSrv }

func (s *Services) postNine(name string, opts Options) (*post, error) { return nil, errNoSrv }

func (s *Services) postConsole(name string) (*post, error) { return nil, errNoSrv }

// DialConsole reports that there are no posted consoles here.
func DialConsole(name string) (io.ReadWriteCloser, error) { return nil, errNoSrv }

func noteProof(rwc io.ReadWriteCloser) io.ReadWriteCloser { return rwc }
