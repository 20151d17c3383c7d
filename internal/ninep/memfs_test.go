package ninep

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/plan9fossil/fossil/internal/vac"
)

// memFS is a file tree in memory that implements Fsys and File for the
// tests. It counts its open File references and records misuse (a File
// used after Close, closed twice), so tests can prove the server
// neither leaks nor abuses references.
type memFS struct {
	flags    FsysFlags
	readOnly bool

	mu      sync.Mutex
	root    *memNode
	nextQid uint64
	clock   uint32
	bugs    []string

	refs atomic.Int64 // Files not yet closed
}

type memNode struct {
	fs      *memFS
	d       vac.DirEntry
	data    []byte
	parent  *memNode
	kids    map[string]*memNode // directories only
	removed bool

	// block, if set, makes ReadAt and WriteAt wait for a value (or
	// the close) before they do anything: flushes then race real
	// work.
	block chan struct{}
	// panics, if set, makes ReadAt panic with it.
	panics string
}

type memFile struct {
	n      *memNode
	closed atomic.Bool
}

var (
	errMemNotFound = errors.New("file does not exist")
	errMemExists   = errors.New("file already exists")
	errMemNotDir   = errors.New("not a directory")
	errMemNotEmpty = errors.New("directory is not empty")
	errMemRoot     = errors.New("cannot remove root")
	errMemRdonly   = errors.New("file is read only")
)

func newMemFS() *memFS {
	fs := &memFS{clock: 1000}
	fs.root = &memNode{fs: fs, kids: map[string]*memNode{}, d: vac.DirEntry{
		Elem: "/", UID: "adm", GID: "adm", MID: "adm", Mode: vac.ModeDir | 0775,
	}}
	fs.root.parent = fs.root
	return fs
}

// mk makes the file at path (its directories must exist) owned by uid
// and gid, with vac mode and contents; it replaces an existing file.
func (fs *memFS) mk(path, uid, gid string, mode uint32, data string) *memNode {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir := fs.root
	elems := strings.Split(strings.Trim(path, "/"), "/")
	for _, e := range elems[:len(elems)-1] {
		dir = dir.kids[e]
		if dir == nil {
			panic("memfs: no directory for " + path)
		}
	}
	name := elems[len(elems)-1]
	fs.nextQid++
	fs.clock++
	n := &memNode{fs: fs, parent: dir, data: []byte(data), d: vac.DirEntry{
		Elem: name, UID: uid, GID: gid, MID: uid, Mode: mode, Qid: fs.nextQid,
		MTime: fs.clock, ATime: fs.clock, CTime: fs.clock,
	}}
	if mode&vac.ModeDir != 0 {
		n.kids = map[string]*memNode{}
	}
	dir.kids[name] = n
	return n
}

// node returns the node at path, or nil.
func (fs *memFS) node(path string) *memNode {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.root
	for _, e := range strings.Split(path, "/") {
		if e == "" {
			continue
		}
		if n = n.kids[e]; n == nil {
			return nil
		}
	}
	return n
}

func (fs *memFS) bug(format string, args ...any) {
	fs.mu.Lock()
	fs.bugs = append(fs.bugs, fmt.Sprintf(format, args...))
	fs.mu.Unlock()
}

// check reports misuse and Files left open.
func (fs *memFS) check() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.bugs) > 0 {
		return fmt.Errorf("memfs misused: %v", fs.bugs)
	}
	if n := fs.refs.Load(); n != 0 {
		return fmt.Errorf("memfs: %d Files left open", n)
	}
	return nil
}

func (fs *memFS) file(n *memNode) *memFile {
	fs.refs.Add(1)
	return &memFile{n: n}
}

func (fs *memFS) Flags() FsysFlags { return fs.flags }

func (fs *memFS) Open(path string) (File, error) {
	n := fs.node(path)
	if n == nil {
		return nil, errMemNotFound
	}
	return fs.file(n), nil
}

func (f *memFile) use(op string) *memNode {
	if f.closed.Load() {
		f.n.fs.bug("%s of closed file %s", op, f.n.d.Elem)
	}
	return f.n
}

func (f *memFile) Walk(elem string) (File, error) {
	n := f.use("walk")
	fs := n.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if n.kids == nil {
		return nil, errMemNotDir
	}
	if n.removed {
		return nil, errMemNotFound
	}
	k := n.parent
	if elem != ".." {
		if k = n.kids[elem]; k == nil {
			return nil, errMemNotFound
		}
	}
	return fs.file(k), nil
}

func (n *memNode) entry() vac.DirEntry {
	d := n.d
	d.Size = uint64(len(n.data))
	if n.kids != nil {
		d.Size = 0
	}
	return d
}

func (f *memFile) Stat() (vac.DirEntry, error) {
	n := f.use("stat")
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	return n.entry(), nil
}

func (n *memNode) wait() {
	if n.block != nil {
		<-n.block
	}
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	n := f.use("read")
	if n.panics != "" {
		panic(n.panics)
	}
	n.wait()
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if off >= int64(len(n.data)) {
		return 0, io.EOF
	}
	m := copy(p, n.data[off:])
	if m < len(p) {
		return m, io.EOF
	}
	return m, nil
}

func (n *memNode) changed(uid string) {
	n.fs.clock++
	n.d.MTime, n.d.ATime, n.d.MID = n.fs.clock, n.fs.clock, uid
	n.d.MCount++
}

func (f *memFile) WriteAt(p []byte, off int64, uid string) (int, error) {
	n := f.use("write")
	n.wait()
	fs := n.fs
	if fs.readOnly {
		return 0, errMemRdonly
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(n.data)) {
		n.data = append(n.data, make([]byte, end-int64(len(n.data)))...)
	}
	copy(n.data[off:], p)
	n.changed(uid)
	return len(p), nil
}

func (f *memFile) Truncate(uid string) error {
	n := f.use("truncate")
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	n.data = nil
	n.changed(uid)
	return nil
}

func (f *memFile) ReadDir() ([]vac.DirEntry, error) {
	n := f.use("readdir")
	n.fs.mu.Lock()
	defer n.fs.mu.Unlock()
	if n.kids == nil {
		return nil, errMemNotDir
	}
	var ents []vac.DirEntry
	for _, k := range n.kids {
		ents = append(ents, k.entry())
	}
	slices.SortFunc(ents, func(a, b vac.DirEntry) int { return strings.Compare(a.Elem, b.Elem) })
	return ents, nil
}

func (f *memFile) Create(elem string, mode uint32, uid string) (File, error) {
	n := f.use("create")
	fs := n.fs
	if fs.readOnly {
		return nil, errMemRdonly
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if n.kids == nil {
		return nil, errMemNotDir
	}
	if n.kids[elem] != nil {
		return nil, errMemExists
	}
	fs.nextQid++
	fs.clock++
	k := &memNode{fs: fs, parent: n, d: vac.DirEntry{
		Elem: elem, UID: uid, GID: n.d.GID, MID: uid, Mode: mode, Qid: fs.nextQid,
		MTime: fs.clock, ATime: fs.clock, CTime: fs.clock,
	}}
	if mode&vac.ModeDir != 0 {
		k.kids = map[string]*memNode{}
	}
	n.kids[elem] = k
	n.changed(uid)
	return fs.file(k), nil
}

func (f *memFile) Remove(uid string) error {
	n := f.use("remove")
	fs := n.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch {
	case n == fs.root:
		return errMemRoot
	case n.removed:
		return errMemNotFound
	case len(n.kids) > 0:
		return errMemNotEmpty
	}
	delete(n.parent.kids, n.d.Elem)
	n.removed = true
	n.parent.changed(uid)
	return nil
}

func (f *memFile) SetStat(d vac.DirEntry, uid string) error {
	n := f.use("setstat")
	fs := n.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if d.Elem != n.d.Elem {
		if n.parent.kids[d.Elem] != nil {
			return errMemExists
		}
		delete(n.parent.kids, n.d.Elem)
		n.parent.kids[d.Elem] = n
	}
	if n.kids == nil && d.Size != uint64(len(n.data)) {
		n.data = append(n.data, make([]byte, max(0, int(d.Size)-len(n.data)))...)[:d.Size]
	}
	n.d.Elem, n.d.Mode, n.d.MTime, n.d.ATime = d.Elem, d.Mode, d.MTime, d.ATime
	n.d.UID, n.d.GID, n.d.MID = d.UID, d.GID, d.MID
	n.d.MCount++
	return nil
}

func (f *memFile) ReadOnly() bool { return f.n.fs.readOnly }

func (f *memFile) IsRoot() bool { return f.n == f.n.fs.root }

func (f *memFile) Close() error {
	if f.closed.Swap(true) {
		f.n.fs.bug("double close of %s", f.n.d.Elem)
		return nil
	}
	f.n.fs.refs.Add(-1)
	return nil
}
