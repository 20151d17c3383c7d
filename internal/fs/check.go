package fs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/plan9fossil/fossil/internal/fsck"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// The console's check, and its repairs (fossilcons(8): bfree, clre,
// clri, clrp, label, block).
//
// A repair is the one exception to copy-on-write: clre and clrp zero an
// entry or a pointer in the block where it is, clri deletes a directory
// entry from the meta block where it is, and bfree, label and block
// change a label or bytes in place; each change is written straight to
// the partition and synced before the command returns, and the cached
// copy is changed with it. This is acceptable, where it would not be for
// an ordinary write, because
//
//   - what is cleared is already broken: a pointer to a block that is
//     not its child, an entry no tree can use, a directory entry naming
//     the wrong file, a block nothing reaches. The rest of the block
//     is written back as it was, so a crash in the middle of the write
//     leaves each sector old or new: at worst a pointer or entry that
//     straddles two sectors is half cleared, still broken, and the
//     repair is made again (a half cleared pointer reads as a venti
//     score, which check venti finds missing);
//   - a repair must work on a full disk and in the middle of a check,
//     so it cannot allocate, and it must not move blocks, whose
//     addresses the check (and flchk's printed proposals) name;
//   - every repair is done after a commit, so the committed tree and the
//     one in memory are the same: the block changed is the block the
//     disk's tree, and the next commit's, uses.
//
// The price is that a block shared with a snapshot changes in the
// snapshot too, as it does with the C fossil's clre and clrp; a
// snapshot that shares the block usually shares the damage.
//
// Repairs free no blocks but the one bfree names: what clre, clrp and
// clri cut off becomes unreachable, and the next check proposes bfree for
// it. The manual's procedure (check, feed the proposals to the console,
// check again) is iterative for that reason.

// Errors of the repairs.
var (
	ErrAlreadyFree = errors.New("block is already free")
	ErrWrongType   = errors.New("wrong block type")
	ErrBadIndex    = errors.New("bad offset")
	ErrInUse       = errors.New("block is in use")
	ErrClriRoot    = errors.New("cannot clri the root")
)

// Check runs fn, the checker, on the live file system: it commits, then
// runs fn with the engine's lock held throughout, so that nothing changes
// but what fn's repairs change (the file system is halted for the
// duration of the check, as fossilcons(8) says). src reads the labels
// and blocks as the engine sees them, and venti through the engine's
// connection; fix makes the repairs the check's options allow, in
// place, on the live file system.
func (fs *Fs) Check(fn func(src fsck.BlockSource, fix fsck.Fixer) error) error {
	fs.mu.Lock()
	defer fs.unlock()
	if fs.closed {
		return ErrHalted
	}
	if err := fs.commit(); err != nil {
		// Without the commit the tree in memory is not the disk's, and
		// blocks waiting to be closed would look unreachable.
		return fmt.Errorf("check: commit: %w", err)
	}
	return fn(&checkSource{fs: fs}, &fixer{fs: fs})
}

// checkSource is the fsck.BlockSource of the live engine. Its methods
// are called with the engine's lock held.
type checkSource struct {
	fs    *Fs
	calls int
}

var _ fsck.BlockSource = (*checkSource)(nil)

// tick drops clean blocks from the cache now and then: a check reads
// every label and many blocks.
func (s *checkSource) tick() {
	s.calls++
	if s.calls%1024 == 0 {
		s.fs.trim()
	}
}

func (s *checkSource) BlockSize() int    { return s.fs.bs }
func (s *checkSource) NumBlocks() uint32 { return s.fs.h.NumData() }

func (s *checkSource) ReadSuper() (*fsdisk.Super, error) {
	sb := s.fs.super
	return &sb, nil
}

func (s *checkSource) ReadLabel(addr uint32) (fsdisk.Label, error) {
	s.tick()
	p, err := s.fs.labelBytes(addr)
	if err != nil {
		return fsdisk.Label{}, err
	}
	var l fsdisk.Label
	if err := l.Unpack(p); err != nil {
		return l, fmt.Errorf("fs: block 0x%x: %w", addr, err)
	}
	return l, nil
}

func (s *checkSource) ReadData(addr uint32) ([]byte, error) {
	s.tick()
	b, err := s.fs.blockData(addr)
	if err != nil {
		return nil, err
	}
	// The checker keeps what it reads; repairs change the cache's copy.
	return bytes.Clone(b.data), nil
}

func (s *checkSource) ReadVenti(score venti.Score, t venti.Type) ([]byte, error) {
	v := s.fs.opt.Venti
	if v == nil {
		return nil, fmt.Errorf("fs: venti block %v: %w", score, fsdisk.ErrNoVenti)
	}
	return v.Read(context.Background(), score, t, venti.MaxLumpSize)
}

// fixer is the fsck.Fixer of the live engine, called with its lock held.
type fixer struct{ fs *Fs }

var _ fsck.Fixer = (*fixer)(nil)

func (f *fixer) ClearPointer(addr uint32, index int) error {
	_, err := f.fs.clearPointer(addr, index)
	return err
}

func (f *fixer) ClearEntry(addr uint32, index int) error {
	_, err := f.fs.clearEntry(addr, index)
	return err
}

func (f *fixer) ClearDirEntry(path string) error { return f.fs.clearDirEntry(path) }

func (f *fixer) CloseBlock(addr uint32) error {
	_, err := f.fs.closeBlock(addr)
	return err
}

// The console's repairs: each commits first, so that the addresses it
// is given (by a check, or by flchk reading the disk) are those of the
// tree in memory.

// repair runs fn, a repair, with the lock held, after a commit.
func (fs *Fs) repair(fn func() error) error {
	fs.mu.Lock()
	defer fs.unlock()
	if err := fs.repairCheck(); err != nil {
		return err
	}
	if err := fs.commit(); err != nil {
		return err
	}
	return fn()
}

// repairCheck says whether the file system may be repaired: a halted
// one may (check runs halted), a closed or read-only one may not.
func (fs *Fs) repairCheck() error {
	switch {
	case fs.closed:
		return ErrHalted
	case fs.opt.ReadOnly:
		return ErrReadOnly
	}
	return nil
}

// ClearPointer replaces score index of the pointer block addr by the
// zero score (console clrp) and returns the bytes it replaced.
func (fs *Fs) ClearPointer(addr uint32, index int) ([]byte, error) {
	var old []byte
	err := fs.repair(func() (err error) {
		old, err = fs.clearPointer(addr, index)
		return err
	})
	return old, err
}

// ClearEntry zeroes entry index of the directory block addr (console
// clre) and returns the bytes it replaced.
func (fs *Fs) ClearEntry(addr uint32, index int) ([]byte, error) {
	var old []byte
	err := fs.repair(func() (err error) {
		old, err = fs.clearEntry(addr, index)
		return err
	})
	return old, err
}

// ClearDirEntry removes the directory entry path, "/active/adm/users",
// from its directory's meta block (console clri). The entries it names
// are cleared too, unless another directory entry of the directory
// names them, but no block is freed: the file's blocks become
// unreachable, and the next check proposes bfree for them. It does not
// look at the file itself, which may be broken, and removes a directory
// whether it is empty or not.
func (fs *Fs) ClearDirEntry(path string) error {
	return fs.repair(func() error { return fs.clearDirEntry(path) })
}

// FreeBlock marks block addr, which nothing references, free (console
// bfree) and returns the label it had. A block already free is
// ErrAlreadyFree.
func (fs *Fs) FreeBlock(addr uint32) (fsdisk.Label, error) {
	var old fsdisk.Label
	err := fs.repair(func() (err error) {
		old, err = fs.closeBlock(addr)
		return err
	})
	return old, err
}

// BlockLabel returns the label of block addr as it is, even one that
// does not unpack (console label).
func (fs *Fs) BlockLabel(addr uint32) (fsdisk.Label, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.closed {
		return fsdisk.Label{}, ErrHalted
	}
	return fs.labelAny(addr)
}

// EditLabel changes the label of block addr with edit (console label
// with fields) and returns the old and new labels. The free block
// count follows the change.
func (fs *Fs) EditLabel(addr uint32, edit func(*fsdisk.Label)) (old, nl fsdisk.Label, err error) {
	err = fs.repair(func() error {
		var err error
		if old, err = fs.labelAny(addr); err != nil {
			return err
		}
		if fs.c.fresh[addr] != nil {
			return fmt.Errorf("fs: block 0x%x: %w", addr, ErrInUse)
		}
		nl = old
		edit(&nl)
		return fs.putLabel(addr, old, nl)
	})
	return old, nl, err
}

// ReadBlock returns count bytes of block addr from offset off, as the
// engine sees them (console block); count is cut at the end of the
// block.
func (fs *Fs) ReadBlock(addr uint32, off, count int) ([]byte, error) {
	fs.mu.Lock()
	defer fs.unlock()
	if fs.closed {
		return nil, ErrHalted
	}
	if off < 0 || off >= fs.bs || count < 0 {
		return nil, ErrBadIndex
	}
	count = min(count, fs.bs-off)
	b, err := fs.blockData(addr)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b.data[off : off+count]), nil
}

// PatchBlock writes data into block addr at offset off, in place
// (console block with data), and returns the bytes it replaced.
func (fs *Fs) PatchBlock(addr uint32, off int, data []byte) ([]byte, error) {
	var old []byte
	err := fs.repair(func() (err error) {
		if off < 0 || off >= fs.bs || len(data) > fs.bs-off {
			return ErrBadIndex
		}
		old, err = fs.patch(addr, off, data)
		return err
	})
	return old, err
}

// The repairs themselves, with the lock held.

func (fs *Fs) clearPointer(addr uint32, index int) ([]byte, error) {
	if err := fs.repairCheck(); err != nil {
		return nil, err
	}
	l, err := fs.label(addr)
	if err != nil {
		return nil, err
	}
	if l.State == fsdisk.BsBad || l.Type.Level() == 0 {
		return nil, fmt.Errorf("fs: block 0x%x: %w: label %v", addr, ErrWrongType, &l)
	}
	if index < 0 || index >= fs.bs/venti.ScoreSize {
		return nil, fmt.Errorf("fs: block 0x%x: %w %d", addr, ErrBadIndex, index)
	}
	return fs.patch(addr, index*venti.ScoreSize, venti.ZeroScore[:])
}

func (fs *Fs) clearEntry(addr uint32, index int) ([]byte, error) {
	if err := fs.repairCheck(); err != nil {
		return nil, err
	}
	l, err := fs.label(addr)
	if err != nil {
		return nil, err
	}
	if l.State == fsdisk.BsBad || l.Type != fsdisk.BtDir {
		return nil, fmt.Errorf("fs: block 0x%x: %w: label %v", addr, ErrWrongType, &l)
	}
	if index < 0 || index >= fs.bs/fsdisk.EntrySize {
		return nil, fmt.Errorf("fs: block 0x%x: %w %d", addr, ErrBadIndex, index)
	}
	return fs.patch(addr, index*fsdisk.EntrySize, make([]byte, fsdisk.EntrySize))
}

// closeBlock makes block addr free by fossil's rule for labels: closed
// in the epoch it was written in. A label that does not unpack, or says
// bad, becomes a free label.
func (fs *Fs) closeBlock(addr uint32) (fsdisk.Label, error) {
	if err := fs.repairCheck(); err != nil {
		return fsdisk.Label{}, err
	}
	old, err := fs.labelAny(addr)
	if err != nil {
		return old, err
	}
	if fs.c.fresh[addr] != nil {
		return old, fmt.Errorf("fs: block 0x%x: %w", addr, ErrInUse)
	}
	if fs.labelFree(old) {
		return old, fmt.Errorf("fs: block 0x%x: %w", addr, ErrAlreadyFree)
	}
	nl := fsdisk.Label{State: fsdisk.BsFree}
	if labelValid(old) && old.State != fsdisk.BsBad {
		closed := old
		closed.State |= fsdisk.BsClosed
		closed.EpochClose = old.Epoch
		if fs.labelFree(closed) {
			nl = closed
		}
	}
	return old, fs.putLabel(addr, old, nl)
}

// clearDirEntry is clri.
func (fs *Fs) clearDirEntry(path string) error {
	if err := fs.repairCheck(); err != nil {
		return err
	}
	var elems []string
	for _, e := range strings.Split(path, "/") {
		switch e {
		case "", ".":
		case "..":
			return ErrBadName
		default:
			elems = append(elems, e)
		}
	}
	if len(elems) == 0 {
		return ErrClriRoot
	}
	clean := "/" + strings.Join(elems, "/")
	elem := elems[len(elems)-1]
	root, err := fs.rootAt(fsdisk.NilBlock, false)
	if err != nil {
		return err
	}
	defer root.decref()
	p, err := root.walkPath(strings.Join(elems[:len(elems)-1], "/"))
	if err != nil {
		return err
	}
	defer p.decref()
	if p.msrc == nil {
		return ErrNotDir
	}

	// Find the directory entry, and the entries every other one names.
	me, err := p.msrc.entry()
	if err != nil {
		return err
	}
	var (
		found    bool
		target   vac.DirEntry
		where    venti.Score
		wtype    fsdisk.BlockType
		refs     = make(map[uint32]bool)
		complete = true
	)
	nb := (me.Size + uint64(me.DSize) - 1) / uint64(me.DSize)
	for bn := uint64(0); bn < nb; bn++ {
		s, t, err := p.msrc.leaf(&me, bn)
		if err != nil {
			complete = false
			continue
		}
		if s == venti.ZeroScore {
			continue
		}
		data, err := fs.readScore(s, t, me.Tag)
		if err != nil {
			complete = false
			continue
		}
		mb, err := vac.UnpackMetaBlock(bytes.Clone(data[:me.DSize]))
		if err != nil {
			complete = false
			continue
		}
		for i := 0; i < mb.Len(); i++ {
			d, err := mb.DirEntry(i)
			if err != nil {
				complete = false
				continue
			}
			if d.Elem == elem && !found {
				found, target, where, wtype = true, d, s, t
				continue
			}
			refs[d.Entry] = true
			if d.IsDir() {
				refs[d.MEntry] = true
			}
		}
	}
	if !found {
		return ErrNotFound
	}
	addr, local := fsdisk.LocalAddr(where)
	if !local {
		return errors.New("its directory entry is archived on venti")
	}
	b, err := fs.local(addr, wtype, me.Tag)
	if err != nil {
		return err
	}
	mb, err := vac.UnpackMetaBlock(b.data[:me.DSize])
	if err != nil {
		return err
	}
	old := bytes.Clone(b.data)
	deleted := false
	for i := 0; i < mb.Len(); i++ {
		if d, err := mb.DirEntry(i); err == nil && d.Elem == elem {
			if err := mb.Delete(i); err != nil {
				copy(b.data, old)
				return err
			}
			deleted = true
			break
		}
	}
	if !deleted {
		return ErrNotFound
	}
	if err := fs.putBlock(b); err != nil {
		copy(b.data, old)
		return err
	}
	fs.dropFile(clean)

	// The entries nothing else names are cut off, so that the file's
	// blocks become unreachable. When a meta block did not read, other
	// directory entries are not known: the entries stay, and the check
	// proposes clearing them if they are not used.
	if complete {
		idx := []uint32{target.Entry}
		if target.IsDir() {
			idx = append(idx, target.MEntry)
		}
		for _, i := range idx {
			if !refs[i] {
				if err := p.clearUnusedEntry(i); err != nil {
					fs.afterRepair()
					return err
				}
			}
		}
	}
	fs.afterRepair()
	return nil
}

// clearUnusedEntry makes entry i of directory p inactive, keeping its
// generation, in place. An entry past the end of the directory, or in
// a block on venti, is left as it is.
func (p *File) clearUnusedEntry(i uint32) error {
	fs := p.fs
	pe, err := p.src.entry()
	if err != nil {
		return err
	}
	epb := uint64(pe.DSize) / fsdisk.EntrySize
	if uint64(i) >= pe.NumEntries() || epb == 0 {
		return nil
	}
	s, t, err := p.src.leaf(&pe, uint64(i)/epb)
	if err != nil {
		return err
	}
	addr, ok := fsdisk.LocalAddr(s)
	if !ok {
		return nil
	}
	b, err := fs.local(addr, t, pe.Tag)
	if err != nil {
		return err
	}
	off := int(uint64(i)%epb) * fsdisk.EntrySize
	ce, err := fsdisk.UnpackEntry(b.data[off:])
	if err != nil || !ce.IsActive() {
		return err
	}
	var dead fsdisk.Entry
	dead.Gen = ce.Gen
	buf := make([]byte, fsdisk.EntrySize)
	if err := dead.Pack(buf); err != nil {
		return err
	}
	_, err = fs.patch(addr, off, buf)
	return err
}

// leaf returns the score and type of data block bn of the tree of e,
// as blockOf would read it: the zero score for a hole.
func (s *source) leaf(e *fsdisk.Entry, bn uint64) (venti.Score, fsdisk.BlockType, error) {
	ppb := uint64(e.PSize) / venti.ScoreSize
	depth := e.Depth()
	t := e.BlockType()
	if ppb == 0 || !fits(bn, ppb, depth) {
		return venti.ZeroScore, t - fsdisk.BlockType(depth), nil
	}
	score := e.Score
	for level := depth; level > 0; level-- {
		data, err := s.fs.readScore(score, t, e.Tag)
		if err != nil {
			return score, t, err
		}
		idx := (bn / pow(ppb, level-1)) % ppb
		copy(score[:], data[idx*venti.ScoreSize:])
		t--
	}
	return score, t, nil
}

// patch writes data into block addr at offset off, in place, and
// returns the bytes it replaced.
func (fs *Fs) patch(addr uint32, off int, data []byte) ([]byte, error) {
	b, err := fs.blockData(addr)
	if err != nil {
		return nil, err
	}
	if off < 0 || off+len(data) > len(b.data) {
		return nil, ErrBadIndex
	}
	old := bytes.Clone(b.data[off : off+len(data)])
	copy(b.data[off:], data)
	if err := fs.putBlock(b); err != nil {
		copy(b.data[off:], old)
		return nil, err
	}
	fs.afterRepair()
	return old, nil
}

// putBlock writes a block a repair changed in place. A fresh block
// goes out with the next commit like any other.
func (fs *Fs) putBlock(b *block) error {
	fs.arch.mu.Lock()
	delete(fs.arch.scores, b.addr) // its copy on venti is out of date
	fs.arch.mu.Unlock()
	if b.fresh {
		return nil
	}
	if _, err := fs.part.WriteAt(b.data, fs.disk.DataOffset(b.addr)); err != nil {
		return fmt.Errorf("fs: write block 0x%x: %w", b.addr, err)
	}
	fs.c.writes++
	if err := fs.part.Sync(); err != nil {
		return fmt.Errorf("fs: sync: %w", err)
	}
	return nil
}

// putLabel changes the label of block addr from old to nl and writes the
// labels out, keeping the count of free blocks.
func (fs *Fs) putLabel(addr uint32, old, nl fsdisk.Label) error {
	if err := fs.setLabel(addr, nl); err != nil {
		return err
	}
	switch wasFree, isFree := fs.labelFree(old), fs.labelFree(nl); {
	case isFree && !wasFree:
		fs.c.nfree++
	case wasFree && !isFree:
		fs.c.nfree--
	}
	// Label blocks are written in place anyway; writing them now only
	// makes the repair durable before the command returns.
	if err := fs.writeLabels(); err != nil {
		return err
	}
	if err := fs.part.Sync(); err != nil {
		return fmt.Errorf("fs: sync: %w", err)
	}
	return nil
}

// labelBytes returns the packed label of block addr, in the cache.
func (fs *Fs) labelBytes(addr uint32) ([]byte, error) {
	lb, off, err := fs.labelSlot(addr)
	if err != nil {
		return nil, err
	}
	return lb.data[off : off+fsdisk.LabelSize], nil
}

// labelAny returns the label of block addr field by field, even one
// that does not unpack.
func (fs *Fs) labelAny(addr uint32) (fsdisk.Label, error) {
	p, err := fs.labelBytes(addr)
	if err != nil {
		return fsdisk.Label{}, err
	}
	var l fsdisk.Label
	if l.Unpack(p) == nil {
		return l, nil
	}
	// Pack writes any label; read one back the same way.
	be := binary.BigEndian
	l = fsdisk.Label{
		State:      fsdisk.BlockState(p[0]),
		Type:       fsdisk.BlockType(p[1]),
		Epoch:      be.Uint32(p[2:]),
		EpochClose: be.Uint32(p[6:]),
		Tag:        be.Uint32(p[10:]),
	}
	return l, nil
}

// labelValid says whether a label unpacks.
func labelValid(l fsdisk.Label) bool {
	var buf [fsdisk.LabelSize]byte
	if l.Pack(buf[:]) != nil {
		return false
	}
	var u fsdisk.Label
	return u.Unpack(buf[:]) == nil
}

// labelFree says whether the allocator may take a block with label l,
// as it reads labels: one that does not unpack is bad, never free.
func (fs *Fs) labelFree(l fsdisk.Label) bool {
	return labelValid(l) && fs.isFree(l)
}

// dropFile marks the open file at path of the active tree, and what is
// open below it, removed: clri took its directory entry away.
func (fs *Fs) dropFile(path string) {
	for _, f := range fs.files {
		if p, ok := activePath(f); ok && p == path {
			f.removed = true
			delete(fs.dirtyF, f)
		}
	}
}

// activePath is the path of an open file of the active tree.
func activePath(f *File) (string, bool) {
	var elems []string
	for ; f.parent != nil; f = f.parent {
		elems = append(elems, f.de.Elem)
	}
	if f.src == nil || f.src.parent == nil || f.src.parent.root != fsdisk.NilBlock {
		return "", false
	}
	var b strings.Builder
	for i := len(elems) - 1; i >= 0; i-- {
		b.WriteString("/")
		b.WriteString(elems[i])
	}
	return b.String(), true
}

// afterRepair brings the open files up to date with a repair: their
// caches of names and free entries are dropped, and those whose entry a
// repair cleared, or whose directory is gone, are removed, so that the
// next commit does not try to write their directory entries back into
// directories that are no longer there.
func (fs *Fs) afterRepair() {
	for _, f := range fs.files {
		f.names = nil
		f.slotHint = 0
	}
	for changed := true; changed; {
		changed = false
		for _, f := range fs.files {
			if f.removed || f.parent == nil {
				continue
			}
			gone := f.parent.removed
			if !gone {
				_, err := f.src.entry()
				gone = errors.Is(err, ErrRemoved)
			}
			if !gone && f.msrc != nil {
				_, err := f.msrc.entry()
				gone = errors.Is(err, ErrRemoved)
			}
			if gone {
				f.removed = true
				delete(fs.dirtyF, f)
				changed = true
			}
		}
	}
}
