package vtstore

import (
	"fmt"
	"os"
	"sync"

	"github.com/plan9fossil/fossil/internal/vtdisk"
)

// A part is a partition: a whole file or device (a Plan 9 #S partition),
// or a byte range of one ("file:lo-hi" in venti.conf). Reads and writes
// outside it are errors, never a write into a neighbour.
type part struct {
	name string
	f    *file
	off  int64
	size int64
}

// A file is shared by the parts that live in it, so that it is opened
// once and synced once.
type file struct {
	f    *os.File
	refs int
	// fault, when set (by tests), is asked before every write and sync
	// (op is "write" or "sync") and may fail it, as a full or failing
	// disk would.
	fault func(op string) error
}

type files struct {
	mu sync.Mutex
	m  map[string]*file
	ro bool
}

func (fs *files) open(name string) (*part, error) {
	path, lo, hi, err := vtdisk.ParsePartName(name)
	if err != nil {
		return nil, err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.m == nil {
		fs.m = make(map[string]*file)
	}
	f := fs.m[path]
	if f == nil {
		flag := os.O_RDWR
		if fs.ro {
			flag = os.O_RDONLY
		}
		osf, err := os.OpenFile(path, flag, 0)
		if err != nil {
			return nil, err
		}
		f = &file{f: osf}
		fs.m[path] = f
	}
	size, err := vtdisk.SizeOf(f.f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if hi == 0 || int64(hi) > size {
		if hi != 0 {
			return nil, fmt.Errorf("%s: range ends at %d, past the end of the file (%d bytes)", name, hi, size)
		}
		hi = uint64(size)
	}
	if int64(lo) > int64(hi) {
		return nil, fmt.Errorf("%s: empty range", name)
	}
	f.refs++
	return &part{name: name, f: f, off: int64(lo), size: int64(hi - lo)}, nil
}

func (fs *files) closeAll() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var first error
	for _, f := range fs.m {
		if err := f.f.Close(); err != nil && first == nil {
			first = err
		}
	}
	fs.m = nil
	return first
}

func (p *part) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(b)) > p.size {
		return 0, fmt.Errorf("%s: read of %d bytes at %d is outside the partition (%d bytes)", p.name, len(b), off, p.size)
	}
	return p.f.f.ReadAt(b, p.off+off)
}

func (p *part) WriteAt(b []byte, off int64) (int, error) {
	if p.f.fault != nil {
		if err := p.f.fault("write"); err != nil {
			return 0, err
		}
	}
	if off < 0 || off+int64(len(b)) > p.size {
		return 0, fmt.Errorf("%s: write of %d bytes at %d is outside the partition (%d bytes)", p.name, len(b), off, p.size)
	}
	return p.f.f.WriteAt(b, p.off+off)
}

// Sync forces the partition's writes to disk.
func (p *part) Sync() error {
	if p.f.fault != nil {
		if err := p.f.fault("sync"); err != nil {
			return err
		}
	}
	return p.f.f.Sync()
}
