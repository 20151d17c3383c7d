package fs

import (
	"fmt"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/venti"
)

// A source is a tree of blocks described by an entry: a file's data, a
// directory's entries or its meta blocks. It does not keep the entry,
// which can move when its parent's blocks are copied: it keeps where
// the entry is, entry index of its parent's tree, or entry 0 of a root
// block.
type source struct {
	fs       *Fs
	parent   *source // nil: entry 0 of the root block
	index    uint32
	root     uint32 // the root block when parent is nil; NilBlock: the active root
	readOnly bool

	// last is where writableEntry last found the entry: valid while
	// that block is still fresh, since a fresh block neither moves
	// nor is copied until the commit. It saves walking up to the root
	// for every block of a write.
	last entryRef
}

// cached returns the entry's place if it is still in the same fresh
// block.
func (s *source) cached() (entryRef, bool) {
	r := s.last
	if r.b == nil || s.fs.c.fresh[r.b.addr] != r.b {
		return entryRef{}, false
	}
	return r, true
}

func (s *source) String() string {
	if s.parent == nil {
		return "root"
	}
	return fmt.Sprintf("%v/%d", s.parent, s.index)
}

// rootAddr is the root block of a root source.
func (s *source) rootAddr() uint32 {
	if s.root == fsdisk.NilBlock {
		return s.fs.super.Active
	}
	return s.root
}

// entry returns the entry of the source.
func (s *source) entry() (fsdisk.Entry, error) {
	fs := s.fs
	var e fsdisk.Entry
	var err error
	if r, ok := s.cached(); ok {
		if e, err = r.get(); err != nil {
			return e, err
		}
	} else if s.parent == nil {
		b, err := fs.local(s.rootAddr(), fsdisk.BtDir, fsdisk.RootTag)
		if err != nil {
			return e, err
		}
		e, err = fsdisk.UnpackEntry(b.data)
		if err != nil {
			return e, err
		}
	} else {
		e, err = s.parent.entryAt(s.index)
		if err != nil {
			return e, err
		}
	}
	if !e.IsActive() {
		return e, ErrRemoved
	}
	if err := e.Check(fs.bs); err != nil {
		return e, fmt.Errorf("fs: entry %v: %w", s, err)
	}
	if e.Snap != 0 && e.Snap < fs.super.EpochLow {
		return e, ErrSnapOld
	}
	return e, nil
}

// epb is the number of entries in a directory block.
func (s *source) epb(e *fsdisk.Entry) uint32 { return uint32(e.DSize) / fsdisk.EntrySize }

// entryAt reads entry i of a directory tree.
func (s *source) entryAt(i uint32) (fsdisk.Entry, error) {
	e, err := s.entry()
	if err != nil {
		return fsdisk.Entry{}, err
	}
	epb := s.epb(&e)
	if uint64(i) >= e.NumEntries() {
		return fsdisk.Entry{}, ErrRemoved
	}
	data, err := s.blockOf(&e, uint64(i/epb))
	if err != nil {
		return fsdisk.Entry{}, err
	}
	return fsdisk.UnpackEntry(data[(i%epb)*fsdisk.EntrySize:])
}

// block returns data block bn of the tree for reading.
func (s *source) block(bn uint64) ([]byte, error) {
	e, err := s.entry()
	if err != nil {
		return nil, err
	}
	return s.blockOf(&e, bn)
}

func (s *source) blockOf(e *fsdisk.Entry, bn uint64) ([]byte, error) {
	fs := s.fs
	ppb := uint64(e.PSize) / venti.ScoreSize
	depth := e.Depth()
	if !fits(bn, ppb, depth) {
		if e.IsDir() {
			return fs.zero, nil
		}
		return fs.zero, nil
	}
	score := e.Score
	t := e.BlockType()
	for level := depth; level > 0; level-- {
		data, err := fs.readScore(score, t, e.Tag)
		if err != nil {
			return nil, err
		}
		idx := (bn / pow(ppb, level-1)) % ppb
		copy(score[:], data[idx*venti.ScoreSize:])
		t--
	}
	return fs.readScore(score, t, e.Tag)
}

// fits says whether block bn is within a tree of the given depth.
func fits(bn, ppb uint64, depth int) bool {
	n := uint64(1)
	for i := 0; i < depth; i++ {
		if n > (1<<63)/ppb {
			return true
		}
		n *= ppb
	}
	return bn < n
}

func pow(b uint64, n int) uint64 {
	r := uint64(1)
	for ; n > 0; n-- {
		r *= b
	}
	return r
}

// An entryRef is the place of an entry in a fresh block, where the
// caller may change it.
type entryRef struct {
	b   *block
	off int
}

func (r entryRef) get() (fsdisk.Entry, error) { return fsdisk.UnpackEntry(r.b.data[r.off:]) }
func (r entryRef) set(e fsdisk.Entry) error   { return e.Pack(r.b.data[r.off:]) }

// writableEntry makes the block holding the source's entry writable,
// and the path above it.
func (s *source) writableEntry(priv bool) (entryRef, fsdisk.Entry, error) {
	fs := s.fs
	if s.readOnly {
		return entryRef{}, fsdisk.Entry{}, ErrReadOnly
	}
	if _, err := s.entry(); err != nil {
		return entryRef{}, fsdisk.Entry{}, err
	}
	if r, ok := s.cached(); ok {
		e, err := r.get()
		return r, e, err
	}
	var ref entryRef
	if s.parent == nil {
		if s.root != fsdisk.NilBlock {
			return ref, fsdisk.Entry{}, ErrReadOnly
		}
		b, ns, err := fs.writable(fsdisk.LocalScore(fs.super.Active), fsdisk.BtDir, fsdisk.RootTag, false, priv)
		if err != nil {
			return ref, fsdisk.Entry{}, err
		}
		fs.super.Active, _ = fsdisk.LocalAddr(ns)
		ref = entryRef{b, 0}
	} else {
		pe, err := s.parent.entry()
		if err != nil {
			return ref, fsdisk.Entry{}, err
		}
		epb := s.parent.epb(&pe)
		b, err := s.parent.writableBlock(uint64(s.index/epb), false, priv)
		if err != nil {
			return ref, fsdisk.Entry{}, err
		}
		ref = entryRef{b, int(s.index%epb) * fsdisk.EntrySize}
	}
	s.last = ref
	e, err := ref.get()
	return ref, e, err
}

// writableBlock returns data block bn of the tree, fresh, growing the
// tree's depth as needed (the caller sets the size). If overwrite, the
// caller will write the whole block, so its old contents are not read.
func (s *source) writableBlock(bn uint64, overwrite, priv bool) (*block, error) {
	fs := s.fs
	ref, e, err := s.writableEntry(priv)
	if err != nil {
		return nil, err
	}
	if e.Tag == 0 || !e.IsLocal() && e.Score == venti.ZeroScore && e.Depth() == 0 {
		if e.Tag == 0 {
			e.Tag = newTag()
		}
	}
	ppb := uint64(e.PSize) / venti.ScoreSize
	base := e.Type.Base()
	for !fits(bn, ppb, e.Depth()) {
		if e.Depth() >= 7 {
			return nil, ErrTooBig
		}
		nt := e.BlockType() + 1
		var p *block
		if e.Score == venti.ZeroScore {
			// An empty tree grows for free.
			e.Type = base + venti.Type(e.Depth()+1)
			continue
		}
		p, err = fs.alloc(nt, e.Tag, nil, priv)
		if err != nil {
			return nil, err
		}
		copy(p.data, e.Score[:])
		e.Score = fsdisk.LocalScore(p.addr)
		e.Type = base + venti.Type(e.Depth()+1)
		e.Flags |= venti.EntryLocal
		if err := ref.set(e); err != nil {
			return nil, err
		}
	}
	t := e.BlockType()
	depth := e.Depth()
	b, ns, err := fs.writable(e.Score, t, e.Tag, overwrite && depth == 0, priv)
	if err != nil {
		return nil, err
	}
	if ns != e.Score || !e.IsLocal() {
		e.Score = ns
		e.Flags |= venti.EntryLocal
	}
	if err := ref.set(e); err != nil {
		return nil, err
	}
	for level := depth; level > 0; level-- {
		idx := int((bn / pow(ppb, level-1)) % ppb)
		cs, err := fsdisk.Pointer(b.data, idx)
		if err != nil {
			return nil, err
		}
		t--
		cb, ncs, err := fs.writable(cs, t, e.Tag, overwrite && level == 1, priv)
		if err != nil {
			return nil, err
		}
		if ncs != cs {
			fsdisk.SetPointer(b.data, idx, ncs)
		}
		b = cb
	}
	return b, nil
}

// setSize changes the size recorded in the entry.
func (s *source) setSize(size uint64, priv bool) error {
	ref, e, err := s.writableEntry(priv)
	if err != nil {
		return err
	}
	e.Size = size
	if e.Depth() < fsdisk.SizeToDepth(size, int(e.PSize), int(e.DSize)) {
		// Grow the depth the way writableBlock does, by touching
		// the last block.
		if size > 0 {
			if _, err := s.writableBlock((size-1)/uint64(e.DSize), false, priv); err != nil {
				return err
			}
			ref, e, err = s.writableEntry(priv)
			if err != nil {
				return err
			}
			e.Size = size
		}
	}
	return ref.set(e)
}

// truncate shrinks the tree to size bytes, unlinking the blocks past
// it and zeroing the rest of the last block.
func (s *source) truncate(size uint64) error {
	fs := s.fs
	ref, e, err := s.writableEntry(true)
	if err != nil {
		return err
	}
	if size >= e.Size {
		return nil
	}
	dsize := uint64(e.DSize)
	if size == 0 {
		fs.unlinkTree(e.Score, e.BlockType(), e.Tag)
		e.Score = venti.ZeroScore
		e.Type = e.Type.Base()
		e.Flags &^= venti.EntryLocal
		e.Size = 0
		return ref.set(e)
	}
	// Unlink whole blocks past the new end, one pointer at a time from
	// the lowest level up.
	nb := (size + dsize - 1) / dsize
	ppb := uint64(e.PSize) / venti.ScoreSize
	if err := s.prune(nb, ppb); err != nil {
		return err
	}
	if size%dsize != 0 {
		b, err := s.writableBlock(size/dsize, false, true)
		if err != nil {
			return err
		}
		clear(b.data[size%dsize:])
	}
	ref, e, err = s.writableEntry(true)
	if err != nil {
		return err
	}
	e.Size = size
	return ref.set(e)
}

// prune unlinks the data blocks from nb on, and the pointer blocks
// that hold nothing but them.
func (s *source) prune(nb, ppb uint64) error {
	fs := s.fs
	_, e, err := s.writableEntry(true)
	if err != nil {
		return err
	}
	var walk func(b *block, t fsdisk.BlockType, level int, first uint64) error
	walk = func(b *block, t fsdisk.BlockType, level int, first uint64) error {
		span := pow(ppb, level-1)
		for i := uint64(0); i < ppb; i++ {
			lo := first + i*span
			hi := lo + span
			if hi <= nb {
				continue
			}
			cs, _ := fsdisk.Pointer(b.data, int(i))
			if cs == venti.ZeroScore {
				continue
			}
			if lo >= nb {
				fs.unlinkTree(cs, t-1, e.Tag)
				fsdisk.SetPointer(b.data, int(i), venti.ZeroScore)
				continue
			}
			if level > 1 {
				cb, ncs, err := fs.writable(cs, t-1, e.Tag, false, true)
				if err != nil {
					return err
				}
				if ncs != cs {
					fsdisk.SetPointer(b.data, int(i), ncs)
				}
				if err := walk(cb, t-1, level-1, lo); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if e.Depth() == 0 {
		return nil
	}
	// Make the path to block 0 fresh, top block included.
	if _, err := s.writableBlock(0, false, true); err != nil {
		return err
	}
	_, e, err = s.writableEntry(true)
	if err != nil {
		return err
	}
	top := fs.c.fresh[mustLocal(e.Score)]
	if top == nil {
		return fmt.Errorf("fs: prune: top block not fresh")
	}
	return walk(top, e.BlockType(), e.Depth(), 0)
}

func mustLocal(s venti.Score) uint32 {
	a, _ := fsdisk.LocalAddr(s)
	return a
}

// unlinkTree unlinks every local block of a tree that is still open,
// top down. Blocks on venti are left alone.
func (fs *Fs) unlinkTree(s venti.Score, t fsdisk.BlockType, tag uint32) {
	a, ok := fsdisk.LocalAddr(s)
	if !ok {
		return
	}
	l, err := fs.label(a)
	if err != nil || l.State == fsdisk.BsFree || l.State&fsdisk.BsClosed != 0 || l.Type != t {
		return
	}
	if t.Level() > 0 || t == fsdisk.BtDir {
		b, err := fs.local(a, t, tag)
		if err == nil {
			data := append([]byte(nil), b.data...)
			if t.Level() > 0 {
				for i := 0; i+venti.ScoreSize <= len(data); i += venti.ScoreSize {
					var cs venti.Score
					copy(cs[:], data[i:])
					fs.unlinkTree(cs, t-1, tag)
				}
			} else {
				for i := 0; i+fsdisk.EntrySize <= len(data); i += fsdisk.EntrySize {
					ce, err := fsdisk.UnpackEntry(data[i:])
					if err != nil || !ce.IsActive() || !ce.IsLocal() || ce.Snap != 0 {
						continue
					}
					fs.unlinkTree(ce.Score, ce.BlockType(), ce.Tag)
				}
			}
		}
	}
	fs.unlink(s)
}

// readAt reads the tree's data as a file.
func (s *source) readAt(p []byte, off int64) (int, error) {
	e, err := s.entry()
	if err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, ErrBadOffset
	}
	if uint64(off) >= e.Size {
		return 0, nil
	}
	if rest := e.Size - uint64(off); uint64(len(p)) > rest {
		p = p[:rest]
	}
	dsize := int64(e.DSize)
	n := 0
	for n < len(p) {
		o := off + int64(n)
		data, err := s.blockOf(&e, uint64(o/dsize))
		if err != nil {
			return n, err
		}
		n += copy(p[n:], data[o%dsize:dsize])
	}
	return n, nil
}

// writeAt writes data into the tree, growing its size.
func (s *source) writeAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, ErrBadOffset
	}
	e, err := s.entry()
	if err != nil {
		return 0, err
	}
	dsize := int64(e.DSize)
	n := 0
	for n < len(p) {
		o := off + int64(n)
		bo := o % dsize
		m := min(int64(len(p)-n), dsize-bo)
		// A whole block, or a block past the end of the file, needs
		// no old contents.
		over := bo == 0 && (m == dsize || uint64(o) >= e.Size)
		b, err := s.writableBlock(uint64(o/dsize), over, false)
		if err != nil {
			if n > 0 {
				s.growTo(uint64(o))
			}
			return n, err
		}
		if over && m < dsize {
			clear(b.data[m:])
		}
		copy(b.data[bo:], p[n:n+int(m)])
		n += int(m)
	}
	return n, s.growTo(uint64(off) + uint64(n))
}

func (s *source) growTo(size uint64) error {
	ref, e, err := s.writableEntry(false)
	if err != nil {
		return err
	}
	if size > e.Size {
		e.Size = size
		return ref.set(e)
	}
	return nil
}
