package fsck

import (
	"errors"
	"fmt"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// The directory walk: the meta data of every directory against its
// entries.

// treeBlock returns block bn of e's tree and its address (NilBlock on
// venti), or errSkip if it is on venti and venti is not walked, or the
// reason it cannot be read. Labels are checked for type and tag only:
// the epoch walk has judged the rest.
func (c *checker) treeBlock(s venti.Score, t fsdisk.BlockType, e *fsdisk.Entry) ([]byte, uint32, error) {
	if addr, ok := fsdisk.LocalAddr(s); ok {
		if addr >= c.n {
			return nil, addr, fsdisk.ErrBadAddr
		}
		l, err := c.src.ReadLabel(addr)
		if err != nil {
			return nil, addr, err
		}
		if l.Type != t || l.Tag != e.Tag {
			return nil, addr, fsdisk.ErrLabelMismatch
		}
		b, err := c.data(addr)
		return b, addr, err
	}
	size := int(e.DSize)
	if t.Level() > 0 {
		size = int(e.PSize)
	}
	b, err := c.ventiBlock(s, t, size)
	return b, fsdisk.NilBlock, err
}

// leaves calls fn with each data block of e's tree, in order, skipping
// holes: its block number, bytes and address (NilBlock on venti). A
// block that cannot be read is given with the error and the first
// block number under it; fn returns false to stop.
func (c *checker) leaves(e *fsdisk.Entry, fn func(bn uint64, b []byte, addr uint32, err error) bool) {
	nb := numBlocks(e)
	np := uint64(e.PSize) / venti.ScoreSize
	var walk func(s venti.Score, t fsdisk.BlockType, bn uint64) bool
	walk = func(s venti.Score, t fsdisk.BlockType, bn uint64) bool {
		if c.stop != nil {
			return false
		}
		if s == venti.ZeroScore {
			return true
		}
		b, addr, err := c.treeBlock(s, t, e)
		if err != nil {
			return fn(bn, nil, addr, err)
		}
		if t.Level() == 0 {
			return fn(bn, b, addr, nil)
		}
		sp := span(np, t.Level())
		for i := uint64(0); i < np; i++ {
			if i > 0 && sp > (1<<62)/i {
				break
			}
			cbn := bn + i*sp
			if cbn >= nb {
				break
			}
			cs, _ := fsdisk.Pointer(b[:e.PSize], int(i))
			if !walk(cs, t-1, cbn) {
				return false
			}
		}
		return true
	}
	if nb > 0 {
		walk(e.Score, e.BlockType(), 0)
	}
}

// entryAt returns entry i of the directory tree e.
func (c *checker) entryAt(e *fsdisk.Entry, i uint32) (fsdisk.Entry, error) {
	var none fsdisk.Entry
	if uint64(i) >= e.NumEntries() {
		return none, fmt.Errorf("entry %d of %d", i, e.NumEntries())
	}
	epb := uint64(e.DSize) / fsdisk.EntrySize
	bn := uint64(i) / epb
	np := uint64(e.PSize) / venti.ScoreSize
	s, t := e.Score, e.BlockType()
	for t.Level() > 0 {
		b, _, err := c.treeBlock(s, t, e)
		if err != nil {
			return none, err
		}
		sp := span(np, t.Level())
		s, _ = fsdisk.Pointer(b[:e.PSize], int(bn/sp%np))
		bn %= sp
		t--
	}
	if s == venti.ZeroScore {
		return none, nil
	}
	b, _, err := c.treeBlock(s, t, e)
	if err != nil {
		return none, err
	}
	return fsdisk.UnpackEntry(b[(uint64(i)%epb)*fsdisk.EntrySize:])
}

// checkDirs walks the directories of the active file system from the
// root, checking each one's meta blocks and directory entries against
// its entries, and reporting the entries no directory entry uses.
func (c *checker) checkDirs() {
	root := c.super.Active
	if root >= c.n {
		return
	}
	if _, why := c.checkLabel(root, fsdisk.BtDir, fsdisk.RootTag, c.hi); why != "" {
		return // reported by the epoch walk
	}
	b, err := c.data(root)
	if err != nil {
		return
	}
	top, _ := fsdisk.UnpackEntry(b)
	if top.Check(c.bs) != nil || !top.IsDir() {
		return
	}
	var srcs [3]fsdisk.Entry
	for i := range srcs {
		if srcs[i], err = c.entryAt(&top, uint32(i)); err != nil {
			if err != errSkip {
				c.errorf("could not open the root directory: entry %d: %s", i, reason(err))
			}
			return
		}
		if err := srcs[i].Check(c.bs); err != nil {
			c.errorf("could not open the root directory: entry %d: %s", i, detail(err))
			return
		}
	}
	if !srcs[0].IsDir() || srcs[1].IsDir() || srcs[2].IsDir() {
		c.errorf("could not open the root directory: entries of the wrong types")
		return
	}
	c.checkRootEntry(&srcs[2])
	c.walkDir("", &srcs[0], &srcs[1], c.hi, 0)
}

// checkRootEntry checks the meta block holding the root's DirEntry.
func (c *checker) checkRootEntry(e *fsdisk.Entry) {
	seen := false
	c.leaves(e, func(bn uint64, b []byte, addr uint32, err error) bool {
		seen = true
		if err == errSkip {
			return false
		}
		if err != nil {
			c.errorf("could not read the root's directory entry: %s", reason(err))
			return false
		}
		mb, err := vac.UnpackMetaBlock(b[:e.DSize])
		if err == nil {
			var d vac.DirEntry
			if d, err = mb.DirEntry(0); err == nil && !d.IsDir() {
				err = errors.New("not a directory")
			}
		}
		if err != nil {
			c.errorf("could not unpack the root's directory entry: %s", reason(err))
		}
		return false
	})
	if !seen && c.stop == nil {
		c.errorf("could not read the root's directory entry: no meta block")
	}
}

// walkDir checks the directory path whose entries are the tree dir
// and whose meta blocks are the tree meta, in the tree of epoch.
func (c *checker) walkDir(path string, dir, meta *fsdisk.Entry, epoch uint32, depth int) {
	c.ndirs++
	c.tick()
	if c.opts.PrintDirs {
		c.printf("%s/\n", path)
	}
	refs := make(map[uint32]bool)
	brokenMeta := make(map[string]bool)
	complete := true
	c.leaves(meta, func(bn uint64, b []byte, addr uint32, err error) bool {
		if err == errSkip {
			complete = false
			return true
		}
		if err != nil {
			c.errorf("could not read block in meta file: %s[%d]: %s", path, bn, reason(err))
			return true
		}
		mb, err := vac.UnpackMetaBlock(b[:meta.DSize])
		if err != nil {
			c.errorf("could not unpack meta block: %s[%d]: %s", path, bn, reason(err))
			// The C flchk proposes nothing here, and nothing else
			// would ever clear the error: the directory goes (the
			// root's cannot).
			if path != "" && !brokenMeta[path] {
				brokenMeta[path] = true
				c.clri(path)
			}
			return true
		}
		if err := mb.Check(); err != nil {
			c.errorf("bad meta block: %s[%d]: %s", path, bn, detail(err))
		}
		for i := 0; i < mb.Len() && c.stop == nil; i++ {
			d, err := mb.DirEntry(i)
			if err != nil {
				c.errorf("could not unpack directory entry %d of meta block %s[%d]: %s", i, path, bn, reason(err))
				continue
			}
			c.checkDirEntry(path, &d, dir, refs, epoch, depth)
		}
		return true
	})
	if !complete || c.stop != nil {
		// Directory entries on venti were not read: whether an entry
		// is used is not known.
		return
	}
	epb := uint64(dir.DSize) / fsdisk.EntrySize
	total := dir.NumEntries()
	c.leaves(dir, func(bn uint64, b []byte, addr uint32, err error) bool {
		if err != nil {
			return true // reported by the epoch walk, or on venti
		}
		for j := uint64(0); j < epb && bn*epb+j < total; j++ {
			i := bn*epb + j
			if refs[uint32(i)] {
				continue
			}
			e, _ := fsdisk.UnpackEntry(b[j*fsdisk.EntrySize:])
			if !e.IsActive() {
				continue
			}
			c.errorf("non referenced entry in source %s[%d]", path, i)
			if addr != fsdisk.NilBlock {
				c.clre(addr, int(j))
			}
		}
		return c.stop == nil
	})
}

// sourceState is what checkSource found.
type sourceState int

const (
	sourceOK sourceState = iota
	sourceBad
	sourceGone // a deleted snapshot: said, not an error
)

// checkSource checks entry i of a directory, e, which the directory
// entry of path uses with generation gen.
func (c *checker) checkSource(path string, i uint32, e *fsdisk.Entry, gen uint32, dir bool, epoch uint32) sourceState {
	bad := func(format string, args ...any) sourceState {
		c.errorf("%s -> %d: "+format, append([]any{path, i}, args...)...)
		c.clri(path)
		return sourceBad
	}
	if !e.IsActive() {
		return bad("entry is not active")
	}
	if e.Gen != gen {
		return bad("%s: generation %d, want %d", fsdisk.ErrRemoved, e.Gen, gen)
	}
	if err := e.Check(c.bs); err != nil {
		return bad("%s", detail(err))
	}
	if e.IsDir() != dir {
		return bad("directory entry and entry disagree on being a directory")
	}
	if e.Snap != 0 {
		if e.Snap < c.low {
			c.printf("%s -> %d: %s\n", path, i, fsdisk.ErrSnapOld)
			return sourceGone
		}
		if e.Snap >= epoch {
			return bad("snapshot of epoch %d in the tree of epoch %d", e.Snap, epoch)
		}
	}
	return sourceOK
}

// validName reports whether elem can be a file name.
func validName(elem string) bool {
	if elem == "" || elem == "." || elem == ".." {
		return false
	}
	for i := 0; i < len(elem); i++ {
		if elem[i] == '/' || elem[i] == 0 {
			return false
		}
	}
	return true
}

// checkDirEntry checks the directory entry d of the directory path,
// whose entries are the tree dir; refs collects the entries used.
func (c *checker) checkDirEntry(parent string, d *vac.DirEntry, dir *fsdisk.Entry, refs map[uint32]bool, epoch uint32, depth int) {
	path := parent + "/" + d.Elem
	c.nentries++
	c.tick()
	if c.opts.PrintFiles && !d.IsDir() {
		c.printf("%s\n", path)
	}
	if !validName(d.Elem) {
		c.errorf("%s: bad name %q", path, d.Elem)
		c.clri(path)
		return
	}
	idx := []uint32{d.Entry}
	if d.IsDir() {
		idx = append(idx, d.MEntry)
	}
	// The entries are used, whatever they hold: a bad one is this
	// directory entry's fault, not a lost file.
	for _, i := range idx {
		if n := dir.NumEntries(); uint64(i) >= n {
			c.errorf("%s -> %d: no such entry: the directory has %d", path, i, n)
			c.clri(path)
			return
		}
		if refs[i] {
			c.errorf("%s -> %d: entry used by another directory entry", path, i)
			c.clri(path)
			return
		}
		refs[i] = true
	}
	var es [2]fsdisk.Entry
	for k, i := range idx {
		var err error
		if es[k], err = c.entryAt(dir, i); err != nil {
			if err != errSkip {
				c.errorf("%s -> %d: %s", path, i, reason(err))
			}
			return
		}
	}
	switch c.checkSource(path, d.Entry, &es[0], d.Gen, d.IsDir(), epoch) {
	case sourceBad, sourceGone:
		return
	}
	if !d.IsDir() {
		return
	}
	if c.checkSource(path, d.MEntry, &es[1], d.MGen, false, epoch) != sourceOK {
		return
	}
	if es[0].Snap != 0 {
		if !c.opts.Snapshots {
			return
		}
		epoch = es[0].Snap
	}
	if depth >= c.maxNested {
		c.errorf("%s: directories nested too deeply", path)
		return
	}
	if _, local := fsdisk.LocalAddr(es[0].Score); local {
		// A directory whose blocks are an ancestor's would be walked
		// forever.
		if c.dirStack[es[0].Score] {
			c.errorf("%s: directory contains itself", path)
			c.clri(path)
			return
		}
		c.dirStack[es[0].Score] = true
		defer delete(c.dirStack, es[0].Score)
	}
	// A directory shared by snapshots is checked once.
	var key [2 * venti.ScoreSize]byte
	copy(key[:], es[0].Score[:])
	copy(key[venti.ScoreSize:], es[1].Score[:])
	k := venti.Fingerprint(key[:])
	if c.dirsSeen.has(k) {
		return
	}
	c.dirsSeen.add(k)
	c.walkDir(path, &es[0], &es[1], epoch, depth+1)
}
