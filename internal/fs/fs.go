package fs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/venti"
)

// Errors returned to clients, in the C fossil's words where it has them.
var (
	ErrFull      = errors.New("file system is full")
	ErrReadOnly  = errors.New("file is read only")
	ErrRemoved   = errors.New("file has been removed")
	ErrNotFound  = errors.New("file does not exist")
	ErrExists    = errors.New("file already exists")
	ErrNotDir    = errors.New("not a directory")
	ErrIsDir     = errors.New("is a directory")
	ErrNotEmpty  = errors.New("directory is not empty")
	ErrBadName   = errors.New("bad file name")
	ErrHalted    = errors.New("file system is halted")
	ErrNoVenti   = errors.New("no venti server")
	ErrRootRm    = errors.New("cannot remove root")
	ErrTooBig    = errors.New("file too big")
	ErrSnapOld   = errors.New("snapshot has been deleted")
	ErrBadOffset = errors.New("bad offset")
)

// A Partition is where a file system lives: a file or a disk.
type Partition interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
}

// Options are the choices of `fsys open`.
type Options struct {
	ReadOnly bool
	// CacheBlocks bounds the blocks kept in memory (-c), local, label
	// and venti blocks together; dirty blocks are committed before
	// they fill the local blocks' share.
	CacheBlocks int
	// Venti, if not nil, serves archived blocks and takes archives.
	Venti *venti.Conn
	// Now gives the time for file times and snapshot names.
	Now func() time.Time
	// Logf reports what happens in the background (archiver, flush).
	Logf func(format string, args ...any)
	// Reserve is the number of blocks kept for removal and cleanup
	// on a full disk; 0 means a default.
	Reserve int
}

// An Fs is an open fossil file system.
type Fs struct {
	mu   sync.Mutex
	part Partition
	file *os.File // when opened by name, closed by Close
	disk *fsdisk.Disk
	h    fsdisk.Header
	bs   int
	opt  Options

	super fsdisk.Super // as it will be committed
	c     cache

	files map[fileKey]*File // open files, shared by all walkers
	// recentDirs holds a reference to the directories last opened, so
	// that their name index and free-slot hint outlive the requests
	// that use them: a client creating files one at a time walks to
	// the directory afresh for each, and a directory read again from
	// its blocks each time makes n creations cost n².
	recentDirs []*File
	dirtyF     map[*File]bool // files whose DirEntry must be written back

	halted  bool
	closed  bool
	failed  error  // a commit failed: changes are refused
	zero    []byte // a block of zeros, never changed
	zeroPtr []byte // a pointer block of zero scores, never changed

	arch archiver

	stop chan struct{}
	wg   sync.WaitGroup
}

// OpenFile opens the file system in the partition file name.
func OpenFile(name string, opt Options) (*Fs, error) {
	mode := os.O_RDWR
	if opt.ReadOnly {
		mode = os.O_RDONLY
	}
	f, err := os.OpenFile(name, mode, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	size := st.Size()
	if size == 0 {
		size = -1 // a device: unknown
	}
	fs, err := Open(f, size, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	fs.file = f
	return fs, nil
}

// Open opens the file system in part, of size bytes (negative if not
// known).
func Open(part Partition, size int64, opt Options) (*Fs, error) {
	d, err := fsdisk.Open(part, size)
	if err != nil {
		return nil, err
	}
	sb, err := d.ReadSuper()
	if err != nil {
		return nil, err
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	if opt.CacheBlocks <= 0 {
		opt.CacheBlocks = 1000
	}
	fs := &Fs{
		part:   part,
		disk:   d,
		h:      d.Header,
		bs:     d.BlockSize(),
		opt:    opt,
		super:  *sb,
		files:  make(map[fileKey]*File),
		dirtyF: make(map[*File]bool),
		stop:   make(chan struct{}),
	}
	if sb.Active >= d.NumData() {
		return nil, fmt.Errorf("fs: super block: active root 0x%x out of range", sb.Active)
	}
	fs.zero = make([]byte, fs.bs)
	fs.zeroPtr = make([]byte, fs.bs)
	for i := 0; i+venti.ScoreSize <= fs.bs; i += venti.ScoreSize {
		copy(fs.zeroPtr[i:], venti.ZeroScore[:])
	}
	fs.c.init(fs)
	fs.arch.init()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !opt.ReadOnly {
		if err := fs.sweep(); err != nil {
			return nil, err
		}
	}
	if err := fs.countFree(); err != nil {
		return nil, err
	}
	if opt.Reserve <= 0 {
		fs.opt.Reserve = min(64, max(8, int(d.NumData()/100)))
	}
	return fs, nil
}

// BlockSize is the file system's block size.
func (fs *Fs) BlockSize() int { return fs.bs }

// Super returns the super block as it stands in memory.
func (fs *Fs) Super() fsdisk.Super {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.super
}

// Sync commits every change to the disk.
func (fs *Fs) Sync() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.closed {
		return ErrHalted
	}
	return fs.commit()
}

// SyncStats commits and reports how many blocks it wrote, for the
// console's sync.
func (fs *Fs) SyncStats() (int, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.closed {
		return 0, ErrHalted
	}
	n := len(fs.c.fresh)
	return n, fs.commit()
}

// Halt commits and then refuses changes until Unhalt (console halt).
func (fs *Fs) Halt() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	err := fs.commit()
	fs.halted = true
	return err
}

// Unhalt allows changes again.
func (fs *Fs) Unhalt() {
	fs.mu.Lock()
	fs.halted = false
	fs.mu.Unlock()
}

// Halted reports whether the file system is halted.
func (fs *Fs) Halted() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.halted
}

// Close stops the background work, commits and closes the partition if
// Open opened it.
func (fs *Fs) Close() error {
	fs.mu.Lock()
	if fs.closed {
		fs.mu.Unlock()
		return nil
	}
	fs.closed = true
	fs.mu.Unlock()
	close(fs.stop)
	fs.arch.cancel()
	fs.wg.Wait()
	fs.mu.Lock()
	fs.dropDirs()
	var err error
	if !fs.opt.ReadOnly {
		err = fs.commit()
	}
	fs.mu.Unlock()
	if fs.file != nil {
		if cerr := fs.file.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// writeCheck is called first by every change.
func (fs *Fs) writeCheck() error {
	switch {
	case fs.closed:
		return ErrHalted
	case fs.halted:
		return ErrHalted
	case fs.opt.ReadOnly:
		return ErrReadOnly
	case fs.failed != nil:
		return fs.failed
	}
	return nil
}

// now is the time in fossil's unit.
func (fs *Fs) now() uint32 { return uint32(fs.opt.Now().Unix()) }

// Epochs returns the low and high epochs (console epoch).
func (fs *Fs) Epochs() (low, high uint32) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.super.EpochLow, fs.super.EpochHigh
}

// Df reports the used and free bytes and the total (console df).
func (fs *Fs) Df() (used, free, total int64) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := int64(fs.h.NumData())
	f := int64(fs.c.nfree)
	bs := int64(fs.bs)
	return (n - f) * bs, f * bs, n * bs
}

// CacheBytes is the memory the block cache may hold (-c blocks).
func (fs *Fs) CacheBytes() int64 { return int64(fs.opt.CacheBlocks) * int64(fs.bs) }
