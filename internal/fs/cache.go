package fs

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/plan9fossil/fossil/internal/fault"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/venti"
)

// A block is a local data block in memory.
type block struct {
	addr  uint32
	data  []byte
	fresh bool          // allocated since the last commit: may change in place
	elem  *list.Element // in the clean list while not fresh
}

// A labelBlock is a block of labels in memory.
type labelBlock struct {
	data  []byte
	dirty bool
	elem  *list.Element
}

// A pendingClose is a block the next commit stops using.
type pendingClose struct {
	addr  uint32
	epoch uint32
}

// cache holds local blocks, label blocks and venti blocks. Fresh blocks
// stay until the commit writes them; clean ones are dropped oldest
// first beyond the limit.
//
// As in the C fossil, -c counts every block the cache holds, whatever
// its kind, so that the memory fossil uses is the cache it was given:
// an eighth for label blocks, an eighth for venti blocks, the rest for
// local blocks, clean and fresh together. A commit starts in the
// background when fresh blocks fill half the local share; writers wait
// for it only when they fill the whole.
type cache struct {
	fs                            *Fs
	maxLocal, maxLabels, maxVenti int // the shares of -c
	blocks                        map[uint32]*block
	clean                         list.List // of *block, oldest at the front
	labels                        map[uint32]*labelBlock
	lclean                        list.List // of label block numbers
	fresh                         map[uint32]*block
	closes                        []pendingClose

	venti  map[venti.Score]*list.Element
	vlru   list.List // of ventiBlock
	nfree  int
	cursor uint32 // where the allocator looks next

	// Buffers of blocks dropped from the cache: evicted during an
	// operation, spare once it has ended (unlock), when nothing can
	// hold them any more; blocks read or allocated take spare ones
	// before making new, so that a cache turning over makes no garbage.
	evicted, spare [][]byte

	onDisk   fsdisk.Super // the super block last written
	inflight *commitment  // a commit whose syncs are running, if any
	runBuf   []byte       // commit's buffer for runs of blocks

	// counters for the console and benchmarks
	reads, writes, ventiReads int64
}

type ventiBlock struct {
	score venti.Score
	data  []byte
}

func (c *cache) init(fs *Fs) {
	c.fs = fs
	n := fs.opt.CacheBlocks
	c.maxLabels = max(n/8, 4)
	c.maxVenti = max(n/8, 4)
	c.maxLocal = max(n-c.maxLabels-c.maxVenti, 16)
	c.blocks = make(map[uint32]*block)
	c.labels = make(map[uint32]*labelBlock)
	c.fresh = make(map[uint32]*block)
	c.venti = make(map[venti.Score]*list.Element)
	c.onDisk = fs.super
}

// local returns local block addr after checking that its label says
// type t and tag tag (any tag if tag is 0).
func (fs *Fs) local(addr uint32, t fsdisk.BlockType, tag uint32) (*block, error) {
	l, err := fs.label(addr)
	if err != nil {
		return nil, err
	}
	if l.State == fsdisk.BsFree || l.State == fsdisk.BsBad || l.Type != t || (tag != 0 && l.Tag != tag) {
		return nil, &fsdisk.Error{Pkg: "fs", Where: fmt.Sprintf("block 0x%x", addr),
			Err: fmt.Errorf("%w: label %v, want type %v tag 0x%x", fsdisk.ErrLabelMismatch, &l, t, tag)}
	}
	return fs.blockData(addr)
}

// blockData returns local block addr whatever its label says.
func (fs *Fs) blockData(addr uint32) (*block, error) {
	c := &fs.c
	if b := c.blocks[addr]; b != nil {
		if b.elem != nil {
			c.clean.MoveToBack(b.elem)
		}
		return b, nil
	}
	if addr >= fs.h.NumData() {
		return nil, fmt.Errorf("fs: block 0x%x: %w", addr, fsdisk.ErrBadAddr)
	}
	data := fs.newData()
	if _, err := fs.part.ReadAt(data, fs.disk.DataOffset(addr)); err != nil {
		c.dropped(data)
		return nil, fmt.Errorf("fs: read block 0x%x: %w", addr, err)
	}
	c.reads++
	b := &block{addr: addr, data: data}
	c.blocks[addr] = b
	b.elem = c.clean.PushBack(b)
	return b, nil
}

// readScore returns the block a score names, BlockSize bytes, for
// reading only: a local block of type t and tag tag, zeros for
// venti.ZeroScore, or a block from venti.
func (fs *Fs) readScore(s venti.Score, t fsdisk.BlockType, tag uint32) ([]byte, error) {
	if a, ok := fsdisk.LocalAddr(s); ok {
		b, err := fs.local(a, t, tag)
		if err != nil {
			return nil, err
		}
		return b.data, nil
	}
	if s == venti.ZeroScore {
		if t.Level() > 0 {
			return fs.zeroPtr, nil
		}
		return fs.zero, nil
	}
	return fs.ventiBlock(s, t)
}

// ventiBlock reads a block from venti through the venti cache.
func (fs *Fs) ventiBlock(s venti.Score, t fsdisk.BlockType) ([]byte, error) {
	c := &fs.c
	if e := c.venti[s]; e != nil {
		c.vlru.MoveToBack(e)
		return e.Value.(*ventiBlock).data, nil
	}
	v := fs.opt.Venti
	if v == nil {
		return nil, fmt.Errorf("fs: block %v: %w", s, ErrNoVenti)
	}
	// Venti is slow next to the disk; the lock is released meanwhile
	// would be nicer, but callers hold pointers into the cache, so we
	// keep it simple and hold it.
	// Conn.Read has checked the data against its score.
	data, err := v.Read(context.Background(), s, t.Venti(), fs.bs)
	if err != nil {
		return nil, fmt.Errorf("fs: venti read %v: %w", s, err)
	}
	c.ventiReads++
	data = venti.ZeroExtend(t.Venti(), data, fs.bs)
	c.venti[s] = c.vlru.PushBack(&ventiBlock{s, data})
	return data, nil
}

// label returns the label of data block addr.
func (fs *Fs) label(addr uint32) (fsdisk.Label, error) {
	var l fsdisk.Label
	lb, off, err := fs.labelSlot(addr)
	if err != nil {
		return l, err
	}
	if err := l.Unpack(lb.data[off:]); err != nil {
		// A label the format cannot hold: treat the block as bad,
		// never as free.
		return fsdisk.Label{State: fsdisk.BsBad}, nil
	}
	return l, nil
}

// setLabel changes the label of data block addr in memory.
func (fs *Fs) setLabel(addr uint32, l fsdisk.Label) error {
	lb, off, err := fs.labelSlot(addr)
	if err != nil {
		return err
	}
	if err := l.Pack(lb.data[off:]); err != nil {
		return err
	}
	if !lb.dirty {
		lb.dirty = true
		if lb.elem != nil {
			fs.c.lclean.Remove(lb.elem)
			lb.elem = nil
		}
	}
	return nil
}

func (fs *Fs) labelSlot(addr uint32) (*labelBlock, int, error) {
	if addr >= fs.h.NumData() {
		return nil, 0, fmt.Errorf("fs: label of block 0x%x: %w", addr, fsdisk.ErrBadAddr)
	}
	lpb := uint32(fs.h.LabelsPerBlock())
	n := fs.h.Label + addr/lpb
	off := int(addr%lpb) * fsdisk.LabelSize
	c := &fs.c
	if lb := c.labels[n]; lb != nil {
		if lb.elem != nil {
			c.lclean.MoveToBack(lb.elem)
		}
		return lb, off, nil
	}
	data := make([]byte, fs.bs)
	if _, err := fs.part.ReadAt(data, int64(n)*int64(fs.bs)); err != nil {
		return nil, 0, fmt.Errorf("fs: read label block %d: %w", n, err)
	}
	lb := &labelBlock{data: data}
	lb.elem = c.lclean.PushBack(n)
	c.labels[n] = lb
	return lb, off, nil
}

// isFree says whether a block with label l may be allocated.
func (fs *Fs) isFree(l fsdisk.Label) bool {
	if l.State == fsdisk.BsFree {
		return true
	}
	if l.State == fsdisk.BsBad || l.State&fsdisk.BsClosed == 0 {
		return false
	}
	return l.EpochClose <= fs.super.EpochLow || l.EpochClose == l.Epoch
}

// alloc returns a fresh block of type t and tag, labelled in the
// current epoch, with its bytes a copy of from (or zeros). Only
// privileged allocations (removal, cleanup) may take the reserve.
func (fs *Fs) alloc(t fsdisk.BlockType, tag uint32, from []byte, privileged bool) (*block, error) {
	c := &fs.c
	if c.nfree <= 0 || (!privileged && c.nfree <= fs.opt.Reserve) {
		return nil, ErrFull
	}
	n := fs.h.NumData()
	for i := uint32(0); i < n; i++ {
		a := c.cursor
		c.cursor++
		if c.cursor >= n {
			c.cursor = 0
		}
		l, err := fs.label(a)
		if err != nil {
			return nil, err
		}
		if !fs.isFree(l) || c.fresh[a] != nil {
			continue
		}
		nl := fsdisk.Label{State: fsdisk.BsAlloc, Type: t, Epoch: fs.super.EpochHigh, EpochClose: fsdisk.NilBlock, Tag: tag}
		if err := fs.setLabel(a, nl); err != nil {
			return nil, err
		}
		c.nfree--
		// Always a new block: the block a freed address had may
		// still be cached, and a source's entryRef to it must not
		// take the new block for the one it knew (source.cached
		// compares blocks, not addresses).
		if old := c.blocks[a]; old != nil && old.elem != nil {
			c.clean.Remove(old.elem)
			old.elem = nil
			c.dropped(old.data)
		}
		b := &block{addr: a, data: fs.newData()}
		c.blocks[a] = b
		switch {
		case from != nil:
			// Spare buffers hold an old block's bytes: clear what a
			// short from would leave of them.
			clear(b.data[copy(b.data, from):])
		case t.Level() > 0:
			copy(b.data, fs.zeroPtr)
		default:
			clear(b.data)
		}
		b.fresh = true
		c.fresh[a] = b
		return b, nil
	}
	c.nfree = 0
	return nil, ErrFull
}

// unlink records that the tree no longer uses the block a score names;
// the block is closed by the next commit.
func (fs *Fs) unlink(s venti.Score) {
	a, ok := fsdisk.LocalAddr(s)
	if !ok {
		return
	}
	if b := fs.c.fresh[a]; b != nil {
		// Never committed: free it now.
		delete(fs.c.fresh, a)
		delete(fs.c.blocks, a)
		fs.c.dropped(b.data)
		fs.setLabel(a, fsdisk.Label{State: fsdisk.BsFree})
		fs.c.nfree++
		return
	}
	fs.c.closes = append(fs.c.closes, pendingClose{a, fs.super.EpochHigh})
}

// writable returns a block that may be changed in place holding what
// score s names (a block of type t and tag): the block itself if it is
// fresh, else a fresh copy, whose score the caller must put where s was.
// If overwrite, the old contents are not needed and are not read.
func (fs *Fs) writable(s venti.Score, t fsdisk.BlockType, tag uint32, overwrite, privileged bool) (*block, venti.Score, error) {
	if a, ok := fsdisk.LocalAddr(s); ok {
		if b := fs.c.fresh[a]; b != nil {
			return b, s, nil
		}
	}
	var from []byte
	if !overwrite {
		d, err := fs.readScore(s, t, tag)
		if err != nil {
			return nil, s, err
		}
		from = d
	}
	b, err := fs.alloc(t, tag, from, privileged)
	if err != nil {
		return nil, s, err
	}
	if overwrite && t.Level() > 0 {
		copy(b.data, fs.zeroPtr)
	}
	fs.unlink(s)
	return b, fsdisk.LocalScore(b.addr), nil
}

// newTag draws a tag for a new tree.
func newTag() uint32 {
	var b [4]byte
	for {
		rand.Read(b[:])
		t := binary.BigEndian.Uint32(b[:]) & 0x7fffffff
		if t >= fsdisk.UserTag {
			return t
		}
	}
}

// trim drops clean blocks beyond the cache's limit.
func (fs *Fs) trim() {
	c := &fs.c
	for c.clean.Len() > 0 && len(c.blocks) > c.maxLocal {
		b := c.clean.Remove(c.clean.Front()).(*block)
		delete(c.blocks, b.addr)
		c.dropped(b.data)
	}
	for c.lclean.Len() > 0 && len(c.labels) > c.maxLabels {
		n := c.lclean.Remove(c.lclean.Front()).(uint32)
		delete(c.labels, n)
	}
	for c.vlru.Len() > c.maxVenti {
		v := c.vlru.Remove(c.vlru.Front()).(*ventiBlock)
		delete(c.venti, v.score)
	}
	if cm := c.inflight; cm != nil {
		select {
		case <-cm.done:
			if err := fs.waitCommit(); err != nil {
				fs.opt.Logf("fs: commit: %v", err)
			}
		default:
		}
	}
	if len(c.fresh) > c.maxLocal/2 {
		fs.commitBehind()
	}
}

// maxSpare bounds the spare buffers kept (2 MiB of 8 KiB blocks).
const maxSpare = 256

// dropped keeps the buffer of a block the cache let go, to be spare
// when the operation ends. Only as many as may be spare are kept: a
// long operation (a check, a big archive step) drops thousands, which
// must stay free for the collector meanwhile.
func (c *cache) dropped(data []byte) {
	if len(c.spare)+len(c.evicted) < maxSpare {
		c.evicted = append(c.evicted, data)
	}
}

// newData returns a block buffer, spare or new; its bytes are whatever
// they were.
func (fs *Fs) newData() []byte {
	c := &fs.c
	if n := len(c.spare); n > 0 {
		d := c.spare[n-1]
		c.spare = c.spare[:n-1]
		return d
	}
	return make([]byte, fs.bs)
}

// unlock ends an operation on the engine: it trims the cache, makes
// the buffers of the blocks dropped meanwhile spare (no caller holds a
// block's bytes past its operation: readers copy them out under the
// lock) and releases the lock.
func (fs *Fs) unlock() {
	fs.trim()
	c := &fs.c
	c.spare = append(c.spare, c.evicted...)
	clear(c.evicted)
	c.evicted = c.evicted[:0]
	fs.mu.Unlock()
}

// commit writes every change to the disk in the order that keeps it
// consistent (see the package documentation), and returns when it is
// there.
func (fs *Fs) commit() error {
	if err := fs.waitCommit(); err != nil {
		return err
	}
	cm, err := fs.startCommit()
	if cm == nil || err != nil {
		return err
	}
	cm.sync()
	return fs.finishCommit(cm)
}

// A commitment is a commit whose blocks and labels are written and whose
// syncs and super block are still to come. Those run without the engine
// lock when the cache fills (trim), so that writers go on meanwhile: the
// blocks it writes are no longer fresh, so a change to them makes a
// copy, which belongs to the next commit.
type commitment struct {
	fs     *Fs
	super  fsdisk.Super   // the super block it writes
	packed []byte         // packed
	closes []pendingClose // blocks the committed tree no longer uses
	done   chan struct{}  // closed when sync has returned
	err    error
}

// startCommit writes the fresh blocks and the labels and returns the
// commitment to finish, or nil if there is nothing to commit. From here
// on the blocks it wrote are clean.
func (fs *Fs) startCommit() (*commitment, error) {
	if fs.opt.ReadOnly {
		return nil, nil
	}
	if err := fs.flushFiles(); err != nil {
		return nil, err
	}
	c := &fs.c
	if len(c.fresh) == 0 && len(c.closes) == 0 && !fs.labelsDirty() && !fs.superDirty() {
		return nil, nil
	}
	// 1. Fresh blocks, in address order, runs written at once.
	addrs := make([]uint32, 0, len(c.fresh))
	for a := range c.fresh {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	run := fs.c.runBuf[:0]
	if cap(run) < 128*fs.bs {
		run = make([]byte, 0, 128*fs.bs)
		fs.c.runBuf = run
	}
	for i := 0; i < len(addrs); {
		j := i + 1
		for j < len(addrs) && addrs[j] == addrs[j-1]+1 && j-i < 128 {
			j++
		}
		run = run[:0]
		for _, a := range addrs[i:j] {
			run = append(run, c.fresh[a].data...)
		}
		if _, err := fs.part.WriteAt(run, fs.disk.DataOffset(addrs[i])); err != nil {
			return nil, fmt.Errorf("fs: write block 0x%x: %w", addrs[i], err)
		}
		c.writes += int64(j - i)
		i = j
	}
	if err := fs.writeLabels(); err != nil {
		return nil, err
	}
	cm := &commitment{fs: fs, super: fs.super, packed: make([]byte, fsdisk.SuperSize), done: make(chan struct{})}
	if err := cm.super.Pack(cm.packed); err != nil {
		return nil, err
	}
	for _, a := range addrs {
		b := c.fresh[a]
		b.fresh = false
		b.elem = c.clean.PushBack(b)
	}
	clear(c.fresh)
	cm.closes, c.closes = c.closes, nil
	return cm, nil
}

// sync makes the commitment's blocks durable, then writes its super
// block, the commit point, and makes that durable. It needs no lock.
func (cm *commitment) sync() {
	defer close(cm.done)
	fs := cm.fs
	fault.Point("fs.commit.afterdata")
	// 2.
	if err := fs.part.Sync(); err != nil {
		cm.err = fmt.Errorf("fs: sync: %w", err)
		return
	}
	fault.Point("fs.commit.beforesuper")
	// 3, 4. The commit point.
	if _, err := fs.part.WriteAt(cm.packed, int64(fs.h.Super)*int64(fs.bs)); err != nil {
		cm.err = fmt.Errorf("fs: write super block: %w", err)
		return
	}
	fault.Point("fs.commit.aftersuper")
	if err := fs.part.Sync(); err != nil {
		cm.err = fmt.Errorf("fs: sync: %w", err)
	}
}

// finishCommit closes what the committed tree no longer uses, once its
// commitment is on the disk. A commitment that failed leaves the disk
// as the last good commit left it, but the blocks it wrote are no longer
// fresh in memory: the file system refuses changes from then on.
func (fs *Fs) finishCommit(cm *commitment) error {
	c := &fs.c
	if c.inflight == cm {
		c.inflight = nil
	}
	if cm.err != nil {
		fs.failed = fmt.Errorf("%w (changes refused from now on)", cm.err)
		return cm.err
	}
	c.onDisk = cm.super
	// 5. Close what the committed tree no longer uses.
	for _, pc := range cm.closes {
		fault.Point("fs.commit.close")
		l, err := fs.label(pc.addr)
		if err != nil {
			continue
		}
		if l.State == fsdisk.BsFree || l.State&fsdisk.BsClosed != 0 {
			continue
		}
		l.State |= fsdisk.BsClosed
		l.EpochClose = pc.epoch
		fs.setLabel(pc.addr, l)
		if fs.isFree(l) {
			c.nfree++
		}
	}
	// Their labels go out now; a crash before they reach the disk
	// only leaks the blocks.
	return fs.writeLabels()
}

// waitCommit finishes the commitment in flight, if any, waiting for
// its syncs.
func (fs *Fs) waitCommit() error {
	cm := fs.c.inflight
	if cm == nil {
		return nil
	}
	<-cm.done
	return fs.finishCommit(cm)
}

// commitBehind is trim's commit: it starts one whose syncs run in the
// background, after finishing the one before. Writers wait only when
// the fresh blocks fill the local share while one is in flight.
func (fs *Fs) commitBehind() {
	c := &fs.c
	if cm := c.inflight; cm != nil {
		select {
		case <-cm.done:
		default:
			if len(c.fresh) <= c.maxLocal {
				return
			}
		}
		if err := fs.waitCommit(); err != nil {
			fs.opt.Logf("fs: commit: %v", err)
			return
		}
	}
	cm, err := fs.startCommit()
	if err != nil {
		fs.opt.Logf("fs: commit: %v", err)
		return
	}
	if cm != nil {
		c.inflight = cm
		go cm.sync()
	}
}

func (fs *Fs) labelsDirty() bool {
	for _, lb := range fs.c.labels {
		if lb.dirty {
			return true
		}
	}
	return false
}

// committedSuper is the super block last written.
func (fs *Fs) superDirty() bool {
	return fs.super != fs.c.onDisk
}

func (fs *Fs) writeLabels() error {
	c := &fs.c
	for n, lb := range c.labels {
		if !lb.dirty {
			continue
		}
		if _, err := fs.part.WriteAt(lb.data, int64(n)*int64(fs.bs)); err != nil {
			return fmt.Errorf("fs: write label block %d: %w", n, err)
		}
		fault.Point("fs.commit.label")
		lb.dirty = false
		lb.elem = c.lclean.PushBack(n)
	}
	return nil
}

// countFree counts the free blocks, reading every label.
func (fs *Fs) countFree() error {
	n := fs.h.NumData()
	free := 0
	for a := uint32(0); a < n; a++ {
		l, err := fs.label(a)
		if err != nil {
			return err
		}
		if fs.isFree(l) {
			free++
		}
		if a%uint32(fs.h.LabelsPerBlock()) == 0 {
			fs.trim()
		}
	}
	fs.c.nfree = free
	return nil
}
