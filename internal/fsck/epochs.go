package fsck

import (
	"fmt"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/venti"
)

// The epoch walk: every tree kept, block by block, and then the blocks
// in use that no tree reached.

// checkEpochs walks the tree of every epoch still kept, newest first:
// the active root, then the root each root names as its predecessor
// (the hint in its entry 1) down to the low epoch, marking the local
// blocks reached.
func (c *checker) checkEpochs() {
	addr, epoch := c.super.Active, c.hi
	for c.stop == nil {
		c.phase = fmt.Sprintf("epoch %d", epoch)
		c.printf("checking epoch %d...\n", epoch)
		l, why := c.checkLabel(addr, fsdisk.BtDir, fsdisk.RootTag, epoch)
		if why != "" {
			c.errorf("could not load root block 0x%08x of epoch %d: %s", addr, epoch, why)
			return
		}
		if c.visited.has(addr) {
			c.errorf("root block 0x%08x of epoch %d is the root of a newer epoch", addr, epoch)
			return
		}
		c.visit(addr, &l)
		b, err := c.data(addr)
		if err != nil {
			c.errorf("could not read root block 0x%08x of epoch %d: %s", addr, epoch, reason(err))
			return
		}
		// The root block's entry 0 is the tree; a repair there would
		// chop off the whole file system, so none is proposed.
		e, _ := fsdisk.UnpackEntry(b)
		if err := e.Check(c.bs); err != nil || !e.IsDir() {
			c.errorf("bad root entry in block 0x%08x: %s", addr, rootEntryProblem(&e, err))
		} else {
			c.walkTree(&e, epoch, noRef)
		}
		prev, _ := fsdisk.UnpackEntry(b[fsdisk.EntrySize:])
		paddr, local := fsdisk.LocalAddr(prev.Score)
		if !prev.IsActive() || !prev.IsLocal() || !local || prev.Snap < c.low || prev.Snap >= epoch {
			return
		}
		addr, epoch = paddr, prev.Snap
	}
}

func rootEntryProblem(e *fsdisk.Entry, err error) string {
	if err != nil {
		return detail(err)
	}
	return fmt.Sprintf("type %v is not a directory", e.Type)
}

// walkTree walks the tree of an entry that passed Entry.Check, in the
// tree of the given epoch; r is where the entry is.
func (c *checker) walkTree(e *fsdisk.Entry, epoch uint32, r ref) {
	c.walkBlock(e.Score, e.BlockType(), e, 0, epoch, r)
}

// walkBlock walks the block with score s and type t of e's tree, whose
// data blocks from bn on it holds.
func (c *checker) walkBlock(s venti.Score, t fsdisk.BlockType, e *fsdisk.Entry, bn uint64, epoch uint32, r ref) {
	if c.stop != nil || s == venti.ZeroScore {
		return
	}
	if addr, ok := fsdisk.LocalAddr(s); ok {
		c.walkLocal(addr, t, e, bn, epoch, r)
		return
	}
	if !c.opts.Venti || c.ventiSee.has(s) {
		return
	}
	size := int(e.DSize)
	if t.Level() > 0 {
		size = int(e.PSize)
	}
	b, err := c.ventiBlock(s, t, size)
	if err == errSkip {
		return
	}
	if err != nil {
		c.errorf("could not load venti block %v type %d: %s", s, t, reason(err))
		c.clear(r)
		return
	}
	c.ventiSee.add(s)
	c.walkContents(b, t, e, bn, epoch, s)
}

func (c *checker) walkLocal(addr uint32, t fsdisk.BlockType, e *fsdisk.Entry, bn uint64, epoch uint32, r ref) {
	l, why := c.checkLabel(addr, t, e.Tag, epoch)
	if why != "" {
		c.errorf("could not load block 0x%08x type %d tag %x: %s", addr, t, e.Tag, why)
		c.clear(r)
		return
	}
	if c.visited.has(addr) {
		return
	}
	c.visit(addr, &l)
	if t == fsdisk.BtData {
		// File data (or meta data, which the directory walk reads):
		// its label is all there is to check here.
		return
	}
	b, err := c.data(addr)
	if err != nil {
		c.errorf("could not read block 0x%08x: %s", addr, reason(err))
		c.clear(r)
		return
	}
	c.walkContents(b, t, e, bn, epoch, fsdisk.LocalScore(addr))
}

// walkContents walks what block b, with score s (a LocalScore for a
// local block), holds: the blocks a pointer block points at, or the
// trees of the entries of a directory block.
func (c *checker) walkContents(b []byte, t fsdisk.BlockType, e *fsdisk.Entry, bn uint64, epoch uint32, s venti.Score) {
	addr, local := fsdisk.LocalAddr(s)
	if !local {
		addr = fsdisk.NilBlock
	}
	nb := numBlocks(e)
	if t.Level() > 0 {
		np := uint64(e.PSize) / venti.ScoreSize
		sp := span(np, t.Level())
		for i := uint64(0); i < np && c.stop == nil; i++ {
			if i > 0 && sp > (1<<62)/i {
				break
			}
			cbn := bn + i*sp
			if cbn >= nb {
				break
			}
			cs, _ := fsdisk.Pointer(b[:e.PSize], int(i))
			c.walkBlock(cs, t-1, e, cbn, epoch, ref{addr: addr, index: int(i)})
		}
		return
	}
	if t != fsdisk.BtDir {
		return
	}
	epb := uint64(e.DSize) / fsdisk.EntrySize
	first := bn * epb
	total := e.NumEntries()
	for j := uint64(0); j < epb && first+j < total && c.stop == nil; j++ {
		ce, _ := fsdisk.UnpackEntry(b[j*fsdisk.EntrySize:])
		c.checkEntry(&ce, epoch, s, int(j))
	}
}

// blockName names the block with score s in messages.
func blockName(s venti.Score) string {
	if addr, ok := fsdisk.LocalAddr(s); ok {
		return fmt.Sprintf("block 0x%08x", addr)
	}
	return fmt.Sprintf("venti block %v", s)
}

// checkEntry checks entry index of the directory block with score s
// (a LocalScore for a local block) and walks its tree.
func (c *checker) checkEntry(e *fsdisk.Entry, epoch uint32, s venti.Score, index int) {
	if !e.IsActive() {
		return
	}
	// An archived block cannot be repaired: only a local one.
	addr, local := fsdisk.LocalAddr(s)
	r := ref{addr: addr, index: index, entry: true}
	if !local {
		r = noRef
	}
	if err := e.Check(c.bs); err != nil {
		c.errorf("bad entry %d in %s: %s", index, blockName(s), detail(err))
		c.clear(r)
		return
	}
	if !local && e.IsLocal() {
		c.errorf("bad entry %d in %s: local entry in an archived tree", index, blockName(s))
		return
	}
	if e.Snap != 0 {
		switch {
		case e.Snap < c.low:
			// A snapshot deleted since: its blocks may have been
			// reused. The directory walk reports it.
			return
		case e.Snap >= epoch:
			c.errorf("bad entry %d in %s: snapshot of epoch %d in the tree of epoch %d", index, blockName(s), e.Snap, epoch)
			c.clear(r)
			return
		case !c.opts.Snapshots:
			// Its blocks are those of its epoch's tree.
			return
		}
		epoch = e.Snap
	}
	c.walkTree(e, epoch, r)
}

// checkLeaks finds the blocks in use that nothing reached, and counts
// the blocks in use.
func (c *checker) checkLeaks() {
	for a := uint32(0); a < c.n && c.stop == nil; a++ {
		c.scanAt = a
		c.tick()
		l, err := c.src.ReadLabel(a)
		if err != nil {
			// Neither free nor usable: bfree makes it free.
			c.rep.Used++
			if !c.visited.has(a) {
				c.rep.Lost++
				c.errorf("unreachable block 0x%08x: %s", a, reason(err))
				c.bclose(a)
			}
			continue
		}
		if c.isFree(&l) {
			continue
		}
		c.rep.Used++
		if l.State == fsdisk.BsBad {
			if c.opts.PrintBad {
				c.printf("bad block 0x%08x: %v\n", a, &l)
			}
			if c.opts.KillBad && !c.visited.has(a) {
				c.rep.Lost++
				c.errorf("unreachable block 0x%08x: label %v", a, &l)
				c.bclose(a)
			}
			continue
		}
		// A closed block not yet free is waiting for the low epoch to
		// pass its close epoch (the archiver closes the blocks it
		// sent to venti so): not a leak, as the C checker says too.
		if !c.visited.has(a) && l.State&fsdisk.BsClosed == 0 {
			c.rep.Lost++
			c.errorf("unreachable block 0x%08x: label %v", a, &l)
			c.bclose(a)
		}
	}
}
