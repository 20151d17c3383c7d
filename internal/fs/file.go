package fs

import (
	"errors"
	"strings"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/ninep"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

type fileKey struct {
	parent *File
	entry  uint32
}

// A File is a file or directory of the file system. All walkers of a
// file share one File, so its directory entry is the truth; it is
// written back to the parent's meta blocks at the next commit.
type File struct {
	fs       *Fs
	parent   *File
	ref      int
	de       vac.DirEntry
	mbn      uint64  // the parent's meta block holding de
	src      *source // file data, or a directory's entries
	msrc     *source // a directory's meta blocks
	rootMeta *source // the root: the meta block holding its own entry
	readOnly bool
	removed  bool

	// For directories: where each name's entry is (meta block number),
	// built on the first lookup, and the lowest entry index that may
	// be free. Both keep lookups and creation from reading the whole
	// directory each time.
	names    map[string]uint64
	slotHint uint32
}

var _ ninep.File = (*File)(nil)

// Root opens the root directory of the active file system.
func (fs *Fs) Root() (*File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.rootAt(fsdisk.NilBlock, fs.opt.ReadOnly)
}

// rootAt opens the root directory of the tree whose root block is addr
// (NilBlock: the active tree).
func (fs *Fs) rootAt(addr uint32, ro bool) (*File, error) {
	key := fileKey{nil, addr}
	if f := fs.files[key]; f != nil {
		f.ref++
		return f, nil
	}
	top := &source{fs: fs, root: addr, readOnly: ro}
	f := &File{fs: fs, ref: 1, readOnly: ro,
		src:      &source{fs: fs, parent: top, index: 0, readOnly: ro},
		msrc:     &source{fs: fs, parent: top, index: 1, readOnly: ro},
		rootMeta: &source{fs: fs, parent: top, index: 2, readOnly: ro},
	}
	data, err := f.rootMeta.block(0)
	if err != nil {
		return nil, err
	}
	mb, err := vac.UnpackMetaBlock(append([]byte(nil), data...))
	if err != nil {
		return nil, err
	}
	if mb.Len() < 1 {
		return nil, errors.New("fs: root has no directory entry")
	}
	f.de, err = mb.DirEntry(0)
	if err != nil {
		return nil, err
	}
	fs.files[key] = f
	return f, nil
}

// Open walks a slash-separated path from the root of the active tree.
func (fs *Fs) Open(path string) (ninep.File, error) {
	f, err := fs.Root()
	if err != nil {
		return nil, err
	}
	for _, elem := range strings.Split(path, "/") {
		if elem == "" || elem == "." {
			continue
		}
		g, err := f.walk(elem)
		f.Close()
		if err != nil {
			return nil, err
		}
		f = g
	}
	return f, nil
}

// OpenFile is Open returning the engine's File.
func (fs *Fs) OpenFile(path string) (*File, error) {
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	return f.(*File), nil
}

// Flags implements ninep.Fsys; the console's fsys keeps the real ones.
func (fs *Fs) Flags() ninep.FsysFlags { return ninep.FsysFlags{} }

func (f *File) lock() func() {
	f.fs.mu.Lock()
	return f.fs.unlock
}

// Walk implements ninep.File.
func (f *File) Walk(elem string) (ninep.File, error) {
	g, err := f.walk(elem)
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (f *File) walk(elem string) (*File, error) {
	defer f.lock()()
	return f.walkLocked(elem)
}

func (f *File) walkLocked(elem string) (*File, error) {
	if f.removed {
		return nil, ErrRemoved
	}
	if elem == ".." {
		g := f.parent
		if g == nil {
			g = f
		}
		g.ref++
		return g, nil
	}
	if elem == "." {
		f.ref++
		return f, nil
	}
	if f.msrc == nil {
		return nil, ErrNotDir
	}
	de, bn, _, err := f.lookup(elem)
	if err != nil {
		return nil, err
	}
	return f.child(de, bn)
}

// child returns the File for a directory entry of f.
func (f *File) child(de vac.DirEntry, bn uint64) (*File, error) {
	fs := f.fs
	key := fileKey{f, de.Entry}
	if g := fs.files[key]; g != nil && !g.removed {
		g.ref++
		return g, nil
	}
	e, err := f.src.entryAt(de.Entry)
	if err != nil {
		return nil, err
	}
	if !e.IsActive() || e.Gen != de.Gen {
		return nil, ErrRemoved
	}
	ro := f.readOnly || de.Mode&vac.ModeSnapshot != 0 || e.Snap != 0
	g := &File{fs: fs, parent: f, ref: 1, de: de, mbn: bn, readOnly: ro,
		src: &source{fs: fs, parent: f.src, index: de.Entry, readOnly: ro}}
	if de.IsDir() {
		me, err := f.src.entryAt(de.MEntry)
		if err != nil {
			return nil, err
		}
		if !me.IsActive() || me.Gen != de.MGen {
			return nil, ErrRemoved
		}
		g.msrc = &source{fs: fs, parent: f.src, index: de.MEntry, readOnly: ro}
	}
	if _, err := g.src.entry(); err != nil {
		return nil, err
	}
	f.ref++
	fs.files[key] = g
	if g.msrc != nil {
		fs.keepDir(g)
	}
	return g, nil
}

// recentDirsMax is how many directories keepDir holds.
const recentDirsMax = 16

// keepDir holds a reference to directory g, letting go of the oldest
// one held.
func (fs *Fs) keepDir(g *File) {
	g.ref++
	fs.recentDirs = append(fs.recentDirs, g)
	if len(fs.recentDirs) > recentDirsMax {
		old := fs.recentDirs[0]
		copy(fs.recentDirs, fs.recentDirs[1:])
		fs.recentDirs[len(fs.recentDirs)-1] = nil
		fs.recentDirs = fs.recentDirs[:len(fs.recentDirs)-1]
		old.decref()
	}
}

// dropDirs lets go of the directories keepDir holds.
func (fs *Fs) dropDirs() {
	for _, g := range fs.recentDirs {
		g.decref()
	}
	fs.recentDirs = nil
}

// lookup finds elem in directory f: its entry, meta block and index.
func (f *File) lookup(elem string) (vac.DirEntry, uint64, int, error) {
	e, err := f.msrc.entry()
	if err != nil {
		return vac.DirEntry{}, 0, 0, err
	}
	if f.names == nil {
		if err := f.indexNames(&e); err != nil {
			return vac.DirEntry{}, 0, 0, err
		}
	}
	bn, ok := f.names[elem]
	if !ok {
		return vac.DirEntry{}, 0, 0, ErrNotFound
	}
	data, err := f.msrc.blockOf(&e, bn)
	if err != nil {
		return vac.DirEntry{}, 0, 0, err
	}
	mb, err := vac.UnpackMetaBlock(data)
	if err != nil {
		return vac.DirEntry{}, 0, 0, err
	}
	de, i, err := mb.Lookup(elem)
	if err != nil {
		f.names = nil // stale; rebuilt next time
		if errors.Is(err, vac.ErrNotFound) {
			err = ErrNotFound
		}
		return vac.DirEntry{}, 0, 0, err
	}
	return de, bn, i, nil
}

// indexNames reads every meta block of directory f and notes where
// each name is.
func (f *File) indexNames(e *fsdisk.Entry) error {
	names := make(map[string]uint64)
	nb := (e.Size + uint64(e.DSize) - 1) / uint64(e.DSize)
	for bn := uint64(0); bn < nb; bn++ {
		data, err := f.msrc.blockOf(e, bn)
		if err != nil {
			return err
		}
		mb, err := vac.UnpackMetaBlock(data)
		if err != nil {
			return err
		}
		des, err := mb.DirEntries()
		if err != nil {
			return err
		}
		for _, de := range des {
			names[de.Elem] = bn
		}
	}
	f.names = names
	return nil
}

// Stat implements ninep.File.
func (f *File) Stat() (vac.DirEntry, error) {
	defer f.lock()()
	if f.removed {
		return vac.DirEntry{}, ErrRemoved
	}
	de := f.de
	de.Size = 0
	if f.msrc == nil {
		e, err := f.src.entry()
		if err != nil {
			return de, err
		}
		de.Size = e.Size
	}
	return de, nil
}

// ReadAt implements ninep.File.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	defer f.lock()()
	if f.removed {
		return 0, ErrRemoved
	}
	if f.msrc != nil {
		return 0, ErrIsDir
	}
	return f.src.readAt(p, off)
}

// WriteAt implements ninep.File.
func (f *File) WriteAt(p []byte, off int64, uid string) (int, error) {
	defer f.lock()()
	if err := f.writeCheck(); err != nil {
		return 0, err
	}
	if f.msrc != nil {
		return 0, ErrIsDir
	}
	n, err := f.src.writeAt(p, off)
	if n > 0 {
		f.modified(uid)
	}
	return n, err
}

func (f *File) writeCheck() error {
	if err := f.fs.writeCheck(); err != nil {
		return err
	}
	if f.removed {
		return ErrRemoved
	}
	if f.readOnly {
		return ErrReadOnly
	}
	return nil
}

// modified notes a change of f's contents by uid.
func (f *File) modified(uid string) {
	f.de.MTime = f.fs.now()
	f.de.MCount++
	if uid != "" {
		f.de.MID = uid
	}
	f.fs.dirtyF[f] = true
}

// Truncate implements ninep.File.
func (f *File) Truncate(uid string) error {
	defer f.lock()()
	if err := f.writeCheck(); err != nil {
		return err
	}
	if f.msrc != nil {
		return ErrIsDir
	}
	if err := f.src.truncate(0); err != nil {
		return err
	}
	f.modified(uid)
	return nil
}

// ReadDir implements ninep.File.
func (f *File) ReadDir() ([]vac.DirEntry, error) {
	defer f.lock()()
	if f.removed {
		return nil, ErrRemoved
	}
	if f.msrc == nil {
		return nil, ErrNotDir
	}
	if err := f.flushChildren(); err != nil {
		return nil, err
	}
	des, err := f.readDirLocked()
	if err != nil {
		return nil, err
	}
	for i := range des {
		des[i].Size = 0
		if !des[i].IsDir() {
			if ce, err := f.src.entryAt(des[i].Entry); err == nil && ce.IsActive() && ce.Gen == des[i].Gen {
				des[i].Size = ce.Size
			}
		}
	}
	return des, nil
}

// flushChildren writes back the entries of f's children that changed,
// so that listing f shows them.
func (f *File) flushChildren() error {
	for g := range f.fs.dirtyF {
		if g.parent == f {
			if err := g.flushMeta(); err != nil {
				return err
			}
			delete(f.fs.dirtyF, g)
		}
	}
	return nil
}

// flushFiles writes back every changed directory entry.
func (fs *Fs) flushFiles() error {
	for f := range fs.dirtyF {
		if err := f.flushMeta(); err != nil {
			return err
		}
		delete(fs.dirtyF, f)
	}
	return nil
}

// flushMeta writes f's directory entry into its parent's meta blocks.
func (f *File) flushMeta() error {
	if f.removed {
		return nil
	}
	if f.parent == nil {
		b, err := f.rootMeta.writableBlock(0, false, true)
		if err != nil {
			return err
		}
		mb, err := vac.UnpackMetaBlock(b.data)
		if err != nil {
			return err
		}
		return mb.Update(0, &f.de)
	}
	return f.parent.updateEntry(f.de.Elem, &f.de, f)
}

// writableMeta returns the meta block of directory p holding the entry
// called elem, made writable, its number and the entry's index in it.
func (p *File) writableMeta(elem string) (*vac.MetaBlock, uint64, int, error) {
	_, bn, _, err := p.lookup(elem)
	if err != nil {
		return nil, 0, 0, err
	}
	b, err := p.msrc.writableBlock(bn, false, true)
	if err != nil {
		return nil, 0, 0, err
	}
	mb, err := vac.UnpackMetaBlock(b.data)
	if err != nil {
		return nil, 0, 0, err
	}
	_, i, err := mb.Lookup(elem)
	if err != nil {
		return nil, 0, 0, err
	}
	return mb, bn, i, nil
}

// updateEntry replaces the entry called old in directory p by de,
// moving it to another meta block if it no longer fits.
func (p *File) updateEntry(old string, de *vac.DirEntry, child *File) error {
	mb, bn, i, err := p.writableMeta(old)
	if err != nil {
		return err
	}
	err = mb.Update(i, de)
	if err == nil {
		if child != nil {
			child.mbn = bn
		}
		if p.names != nil {
			delete(p.names, old)
			p.names[de.Elem] = bn
		}
		return nil
	}
	if !errors.Is(err, vac.ErrFull) {
		return err
	}
	if err := mb.Delete(i); err != nil {
		return err
	}
	if p.names != nil {
		delete(p.names, old)
	}
	nbn, err := p.insertEntry(de, true)
	if err != nil {
		return err
	}
	if child != nil {
		child.mbn = nbn
	}
	return nil
}

// insertEntry puts de into one of p's meta blocks with room, or a new one.
func (p *File) insertEntry(de *vac.DirEntry, priv bool) (uint64, error) {
	e, err := p.msrc.entry()
	if err != nil {
		return 0, err
	}
	need := de.PackedSize() + 4
	nb := (e.Size + uint64(e.DSize) - 1) / uint64(e.DSize)
	// Only the last block is tried: looking through them all would
	// make creating n files cost n² reads.
	if nb > 0 {
		bn := nb - 1
		data, err := p.msrc.blockOf(&e, bn)
		if err != nil {
			return 0, err
		}
		mb, err := vac.UnpackMetaBlock(append([]byte(nil), data...))
		if err != nil {
			return 0, err
		}
		if mb.Room() >= need && mb.Len() < mb.MaxIndex() {
			b, err := p.msrc.writableBlock(bn, false, priv)
			if err != nil {
				return 0, err
			}
			mb, err = vac.UnpackMetaBlock(b.data)
			if err != nil {
				return 0, err
			}
			if _, err := mb.Insert(de); err == nil {
				p.noteName(de.Elem, bn)
				return bn, nil
			} else if !errors.Is(err, vac.ErrFull) {
				return 0, err
			}
		}
	}
	b, err := p.msrc.writableBlock(nb, true, priv)
	if err != nil {
		return 0, err
	}
	mb, err := vac.NewMetaBlock(b.data[:e.DSize], int(e.DSize)/vac.BytesPerEntry)
	if err != nil {
		return 0, err
	}
	if _, err := mb.Insert(de); err != nil {
		return 0, err
	}
	if err := p.msrc.setSize((nb+1)*uint64(e.DSize), priv); err != nil {
		return 0, err
	}
	p.noteName(de.Elem, nb)
	return nb, nil
}

func (p *File) noteName(elem string, bn uint64) {
	if p.names != nil {
		p.names[elem] = bn
	}
}

// Create implements ninep.File.
func (f *File) Create(elem string, mode uint32, uid string) (ninep.File, error) {
	g, err := f.create(elem, mode, uid)
	if err != nil {
		return nil, err
	}
	return g, nil
}

func checkName(elem string) error {
	if elem == "" || elem == "." || elem == ".." || len(elem) > vac.MaxStringSize || strings.ContainsAny(elem, "/\x00") {
		return ErrBadName
	}
	return nil
}

func (f *File) create(elem string, mode uint32, uid string) (*File, error) {
	defer f.lock()()
	if err := f.writeCheck(); err != nil {
		return nil, err
	}
	return f.createLocked(elem, mode, uid, false)
}

// createLocked makes a file; privileged creations (the snapshot
// directories) may use the reserve.
func (f *File) createLocked(elem string, mode uint32, uid string, priv bool) (*File, error) {
	fs := f.fs
	if f.readOnly {
		return nil, ErrReadOnly
	}
	if f.msrc == nil {
		return nil, ErrNotDir
	}
	if err := checkName(elem); err != nil {
		return nil, err
	}
	if _, _, _, err := f.lookup(elem); err == nil {
		return nil, ErrExists
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if !priv && fs.c.nfree <= fs.opt.Reserve+8 {
		return nil, ErrFull
	}
	dir := mode&vac.ModeDir != 0
	n := 1
	if dir {
		n = 2
	}
	slots, gens, err := f.freeSlots(n)
	if err != nil {
		return nil, err
	}
	types := []venti.Type{venti.DataType}
	if dir {
		types = []venti.Type{venti.DirType, venti.DataType}
	}
	for k, i := range slots {
		var e fsdisk.Entry
		e.Gen = gens[k]
		e.PSize = uint16(fs.bs / venti.ScoreSize * venti.ScoreSize)
		e.DSize = uint16(fs.bs)
		e.Type = types[k]
		e.Flags = venti.EntryActive
		e.Score = venti.ZeroScore
		if err := f.setEntryAt(i, e); err != nil {
			return nil, err
		}
	}
	now := fs.now()
	de := vac.DirEntry{
		Elem: elem, Entry: slots[0], Gen: gens[0],
		Qid: fs.super.Qid,
		UID: uid, GID: f.de.GID, MID: uid,
		MTime: now, CTime: now, ATime: now,
		Mode: mode,
	}
	if dir {
		de.MEntry, de.MGen = slots[1], gens[1]
	}
	fs.super.Qid++
	bn, err := f.insertEntry(&de, priv)
	if err != nil {
		return nil, err
	}
	f.modified(uid)
	return f.child(de, bn)
}

// freeSlots finds n unused entries in directory f's entries tree,
// reusing removed ones (with the next generation) before growing it.
func (f *File) freeSlots(n int) ([]uint32, []uint32, error) {
	e, err := f.src.entry()
	if err != nil {
		return nil, nil, err
	}
	total := uint32(e.NumEntries())
	epb := f.src.epb(&e)
	var slots, gens []uint32
	var data []byte
	for i := f.slotHint; i < total && len(slots) < n; i++ {
		if data == nil || i%epb == 0 {
			if data, err = f.src.blockOf(&e, uint64(i/epb)); err != nil {
				return nil, nil, err
			}
		}
		ce, err := fsdisk.UnpackEntry(data[(i%epb)*fsdisk.EntrySize:])
		if err != nil || ce.IsActive() {
			continue
		}
		if f.fs.files[fileKey{f, i}] != nil {
			continue // a removed file still open
		}
		slots = append(slots, i)
		gens = append(gens, ce.Gen+1)
	}
	for i := total; len(slots) < n; i++ {
		slots = append(slots, i)
		gens = append(gens, 0)
	}
	f.slotHint = slots[len(slots)-1] + 1
	return slots, gens, nil
}

// setEntryAt writes entry i of directory f's entries tree, growing it.
func (f *File) setEntryAt(i uint32, ce fsdisk.Entry) error {
	e, err := f.src.entry()
	if err != nil {
		return err
	}
	epb := f.src.epb(&e)
	b, err := f.src.writableBlock(uint64(i/epb), false, true)
	if err != nil {
		return err
	}
	if err := ce.Pack(b.data[(i%epb)*fsdisk.EntrySize:]); err != nil {
		return err
	}
	if end := fsdisk.DirSize(uint64(i)+1, e.DSize); end > e.Size {
		return f.src.setSize(end, true)
	}
	return nil
}

// Remove implements ninep.File.
func (f *File) Remove(uid string) error {
	defer f.lock()()
	if err := f.writeCheck(); err != nil {
		return err
	}
	p := f.parent
	if p == nil {
		return ErrRootRm
	}
	if p.readOnly {
		return ErrReadOnly
	}
	if f.msrc != nil {
		e, err := f.msrc.entry()
		if err != nil {
			return err
		}
		nb := (e.Size + uint64(e.DSize) - 1) / uint64(e.DSize)
		for bn := uint64(0); bn < nb; bn++ {
			data, err := f.msrc.blockOf(&e, bn)
			if err != nil {
				return err
			}
			mb, err := vac.UnpackMetaBlock(data)
			if err != nil {
				return err
			}
			if mb.Len() > 0 {
				return ErrNotEmpty
			}
		}
	}
	return f.removeLocked(uid)
}

// removeLocked unlinks f from its parent and frees its trees.
func (f *File) removeLocked(uid string) error {
	p := f.parent
	mb, _, i, err := p.writableMeta(f.de.Elem)
	if err != nil {
		return err
	}
	if err := mb.Delete(i); err != nil {
		return err
	}
	if p.names != nil {
		delete(p.names, f.de.Elem)
	}
	idx := []uint32{f.de.Entry}
	if f.msrc != nil {
		idx = append(idx, f.de.MEntry)
	}
	for _, i := range idx {
		ce, err := p.src.entryAt(i)
		if err != nil {
			return err
		}
		if ce.IsLocal() && ce.Snap == 0 {
			f.fs.unlinkTree(ce.Score, ce.BlockType(), ce.Tag)
		}
		dead := fsdisk.Entry{}
		dead.Gen = ce.Gen
		if err := p.setEntryAt(i, dead); err != nil {
			return err
		}
		p.slotHint = min(p.slotHint, i)
	}
	f.removed = true
	delete(f.fs.dirtyF, f)
	p.modified(uid)
	return nil
}

// SetStat implements ninep.File.
func (f *File) SetStat(d vac.DirEntry, uid string) error {
	defer f.lock()()
	if err := f.writeCheck(); err != nil {
		return err
	}
	if d.Elem != f.de.Elem {
		if f.parent == nil {
			return ErrBadName
		}
		if err := checkName(d.Elem); err != nil {
			return err
		}
		if _, _, _, err := f.parent.lookup(d.Elem); err == nil {
			return ErrExists
		}
	}
	if f.msrc == nil {
		e, err := f.src.entry()
		if err != nil {
			return err
		}
		if d.Size < e.Size {
			if err := f.src.truncate(d.Size); err != nil {
				return err
			}
		} else if d.Size > e.Size {
			if err := f.src.setSize(d.Size, false); err != nil {
				return err
			}
		}
	}
	old := f.de.Elem
	nde := f.de
	nde.Elem, nde.Mode, nde.MTime, nde.ATime = d.Elem, d.Mode, d.MTime, d.ATime
	nde.UID, nde.GID = d.UID, d.GID
	if f.de.IsDir() {
		nde.Mode |= vac.ModeDir
	} else {
		nde.Mode &^= vac.ModeDir
	}
	nde.CTime = f.fs.now()
	nde.MID = uid
	f.de = nde
	if f.parent == nil {
		f.fs.dirtyF[f] = true
		return nil
	}
	delete(f.fs.dirtyF, f)
	return f.parent.updateEntry(old, &f.de, f)
}

// ReadOnly implements ninep.File.
func (f *File) ReadOnly() bool { return f.readOnly || f.fs.opt.ReadOnly }

// IsRoot implements ninep.File.
func (f *File) IsRoot() bool { return f.parent == nil }

// IsDir reports whether f is a directory.
func (f *File) IsDir() bool { return f.msrc != nil }

// Close implements ninep.File.
func (f *File) Close() error {
	defer f.lock()()
	f.decref()
	return nil
}

func (f *File) decref() {
	for f != nil {
		f.ref--
		if f.ref > 0 {
			return
		}
		if f.fs.dirtyF[f] {
			if err := f.flushMeta(); err != nil {
				f.fs.opt.Logf("fs: %s: %v", f.de.Elem, err)
			}
			delete(f.fs.dirtyF, f)
		}
		if f.parent == nil {
			delete(f.fs.files, fileKey{nil, f.src.parent.root})
			return
		}
		if g := f.fs.files[fileKey{f.parent, f.de.Entry}]; g == f {
			delete(f.fs.files, fileKey{f.parent, f.de.Entry})
		}
		f = f.parent
	}
}
