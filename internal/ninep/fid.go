package ninep

import (
	"sync"
	"sync/atomic"

	"9fans.net/go/plan9"

	"github.com/plan9fossil/fossil/internal/vac"
)

// A fileRef shares one File among the fids that refer to it: a walk
// with no names clones a fid, and File has no way to copy a reference.
// The File is closed when the last fid lets go.
type fileRef struct {
	f File
	n atomic.Int32
}

func newRef(f File) *fileRef {
	r := &fileRef{f: f}
	r.n.Store(1)
	return r
}

func (r *fileRef) get() *fileRef {
	if r != nil {
		r.n.Add(1)
	}
	return r
}

func (r *fileRef) put() {
	if r != nil && r.n.Add(-1) == 0 {
		r.f.Close()
	}
}

// A fid is the server's side of a client's fid.
type fid struct {
	num uint32
	c   *conn

	// Fixed when the fid is made.
	fsname     string // the file system attached to
	root       uint64 // qid path of the attach point: ".." does not leave it
	uname      string // the user, as 9P names them
	uid        string // the user's id, as files record owners
	noPerm     bool
	wstatAllow bool

	// mu is held while the fid's state changes (walk in place, open,
	// create, directory reads, clunk) and while the fields below are
	// read.
	mu      sync.Mutex
	file    *fileRef // nil for an auth fid
	parent  *fileRef // the directory a file was walked from or created in; nil if unknown
	qid     plan9.Qid
	omode   int // plan9.OREAD ... plan9.OEXEC once open, else -1
	rclose  bool
	excl    bool // holds the exclusive-use lock of exclKey
	exclKey exclKey
	dir     *dirState    // directories open for reading
	auth    *authSession // auth fids

	// Guarded by c.mu.
	refs int // the table's reference and those of requests using it
}

// A dirState is where a directory read is up to. read(5): each read
// starts at offset 0 or where the previous one ended.
type dirState struct {
	ents []vac.DirEntry // read at offset 0
	next int            // the first entry not yet sent
	off  uint64         // the offset the next read must give
}

// lookup returns fid num, with a reference the caller must put.
func (c *conn) lookup(num uint32) (*fid, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.fids[num]
	if f == nil {
		return nil, errUnknownFid
	}
	f.refs++
	return f, nil
}

// holdFile returns fid num locked, for a request on its file: not an
// auth fid. The caller releases it.
func (c *conn) holdFile(num uint32) (*fid, error) {
	f, err := c.lookup(num)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.auth != nil {
		f.mu.Unlock()
		f.put()
		return nil, errAuthFid
	}
	return f, nil
}

// release undoes holdFile.
func (f *fid) release() {
	f.mu.Unlock()
	f.put()
}

// inUse reports whether fid num is taken.
func (c *conn) inUse(num uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fids[num] != nil
}

// install puts the new fid f in the table, whose reference it is.
func (c *conn) install(f *fid) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fids[f.num] != nil {
		return errFidInUse
	}
	f.c = c
	f.refs = 1
	c.fids[f.num] = f
	c.s.nfids.Add(1)
	return nil
}

// take removes fid num from the table, for clunk and remove; the
// table's reference becomes the caller's.
func (c *conn) take(num uint32) (*fid, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.fids[num]
	if f == nil {
		return nil, errUnknownFid
	}
	delete(c.fids, num)
	return f, nil
}

// put drops a reference to f; the last frees what f holds.
func (f *fid) put() {
	c := f.c
	c.mu.Lock()
	f.refs--
	last := f.refs == 0
	c.mu.Unlock()
	if !last {
		return
	}
	f.mu.Lock()
	file, parent, auth := f.file, f.parent, f.auth
	f.file, f.parent, f.auth = nil, nil, nil
	if f.excl {
		c.s.excl.release(f)
	}
	f.mu.Unlock()
	file.put()
	parent.put()
	if auth != nil {
		auth.close()
	}
	c.s.nfids.Add(-1)
}

// clunk ends a fid taken from the table: a file opened ORCLOSE is
// removed, an exclusive-use lock is let go at once, and the table's
// reference is dropped.
func (c *conn) clunk(f *fid) {
	f.mu.Lock()
	rclose := f.rclose
	f.rclose = false
	if f.excl {
		c.s.excl.release(f)
	}
	var file *fileRef
	if rclose {
		file = f.file.get()
	}
	f.mu.Unlock()
	if rclose {
		// Permission to remove was checked at open; a failure here
		// has no one to tell.
		if err := file.f.Remove(f.uid); err != nil {
			c.s.debugf("%s: remove on close: %v\n", c.name, err)
		}
		file.put()
	}
	f.put()
}

// clunkAll clunks the fids of a table taken away whole.
func (c *conn) clunkAll(fids map[uint32]*fid) {
	for _, f := range fids {
		c.clunk(f)
	}
}

// exclKey names a file across connections.
type exclKey struct {
	fsys string
	path uint64
}

// exclTable records which fid has each exclusive-use file open.
type exclTable struct {
	mu sync.Mutex
	m  map[exclKey]*fid
}

// acquire gives f, holding f.mu, the lock on its file.
func (t *exclTable) acquire(f *fid, path uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := exclKey{f.fsname, path}
	if t.m[k] != nil {
		return errExclusive
	}
	t.m[k] = f
	f.excl, f.exclKey = true, k
	return nil
}

// release lets go of f's lock; f.mu is held.
func (t *exclTable) release(f *fid) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m[f.exclKey] == f {
		delete(t.m, f.exclKey)
	}
	f.excl = false
}
