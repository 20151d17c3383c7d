package fsck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/plan9fossil/fossil/internal/diskerr"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// A Report sums up a check.
type Report struct {
	// Block counts of the summary line: Used are the blocks whose
	// labels say they are in use (allocated and not free by the
	// closing rule, or marked bad), Lost those of them that nothing
	// reaches.
	Total, Used, Free, Lost uint32
	// Visited is the number of local blocks reached from the trees.
	Visited uint32
	// Errors is the number of "error:" lines printed.
	Errors int
	// Repairs made through the Fixer.
	Clri, Clre, Clrp, Bclose int
}

// FixSummary is the line the console prints after a check:
// "fsck: N clri, N clre, N clrp, N bclose".
func (r *Report) FixSummary() string {
	return fmt.Sprintf("fsck: %d clri, %d clre, %d clrp, %d bclose", r.Clri, r.Clre, r.Clrp, r.Bclose)
}

// Check checks the file system of src as flchk and the console's check
// do, printing its findings on out, and returns their sum. The error
// is for what stops a check (a super block that does not read, a
// failed write to out), not for what the check finds.
func Check(src BlockSource, opts Options, out io.Writer) (*Report, error) {
	return CheckContext(context.Background(), src, opts, out)
}

// CheckContext is Check that stops, with ctx's error, when ctx ends.
func CheckContext(ctx context.Context, src BlockSource, opts Options, out io.Writer) (*Report, error) {
	c := &checker{ctx: ctx, src: src, opts: opts, out: out}
	err := c.run()
	return &c.rep, err
}

// errSkip is what reading a venti block gives when venti is not
// walked, or cannot be read: the block is left alone.
var errSkip = errors.New("venti not walked")

// ErrNotStored is what a BlockSource's ReadVenti wraps when venti
// does not have a block (as a venti.ServerError from a server says):
// the checker then proposes to cut the pointer to it. Any other error
// means venti cannot be read, which is no damage: the check goes on
// without it.
var ErrNotStored = errors.New("not stored on venti")

// The phases after the epochs', named in progress lines.
const (
	phaseLeaks = "unreachable blocks"
	phaseDirs  = "directories"
)

type checker struct {
	ctx  context.Context
	src  BlockSource
	opts Options
	out  io.Writer
	stop error // why the check ends early: a write or context error

	bs       int
	n        uint32
	super    *fsdisk.Super
	low, hi  uint32
	visited  bitmap
	quantum  uint32
	cache    *lru
	ventiSee *scoreSet // venti blocks walked
	dirsSeen *scoreSet // directories checked, by their two scores
	dirStack map[venti.Score]bool
	// ventiDown: venti failed other than by refusing a block.
	ventiDown bool

	phase     string // for progress: an epoch, phaseLeaks or phaseDirs
	scanAt    uint32 // progress of phaseLeaks
	ndirs     int    // progress of phaseDirs
	nentries  int
	ticks     int
	lastTick  time.Time
	rep       Report
	maxNested int
}

func (c *checker) run() error {
	c.bs = c.src.BlockSize()
	c.n = c.src.NumBlocks()
	c.rep.Total = c.n
	s, err := c.src.ReadSuper()
	if err != nil {
		return err
	}
	if c.bs < fsdisk.EntrySize*3 || s.EpochLow == 0 || s.EpochLow > s.EpochHigh {
		return fmt.Errorf("fsck: bad file system: block size %d, epochs %d..%d", c.bs, s.EpochLow, s.EpochHigh)
	}
	c.super = s
	c.low, c.hi = s.EpochLow, s.EpochHigh
	c.visited = newBitmap(c.n)
	c.quantum = max(c.n/10, 1)
	ncache := c.opts.CacheBlocks
	if ncache <= 0 {
		ncache = DefaultCacheBlocks
	}
	c.cache = newLRU(ncache)
	// Scores are small: remember many more of them than blocks.
	c.ventiSee = newScoreSet(64 * ncache)
	c.dirsSeen = newScoreSet(16 * ncache)
	c.dirStack = make(map[venti.Score]bool)
	c.maxNested = 10000
	c.lastTick = time.Now()

	c.checkEpochs()
	if c.stop == nil {
		c.phase = phaseLeaks
		c.checkLeaks()
	}
	if c.stop == nil {
		pct := func(k uint32) float64 {
			if c.n == 0 {
				return 0
			}
			return 100 * float64(k) / float64(c.n)
		}
		c.rep.Free = c.n - c.rep.Used
		c.printf("fsys blocks: total=%d used=%d(%.1f%%) free=%d(%.1f%%) lost=%d(%.1f%%)\n",
			c.n, c.rep.Used, pct(c.rep.Used), c.rep.Free, pct(c.rep.Free), c.rep.Lost, pct(c.rep.Lost))
	}
	if c.stop == nil {
		c.phase = phaseDirs
		c.checkDirs()
	}
	if c.stop == nil && c.opts.FixCounts {
		c.printf("%s\n", c.rep.FixSummary())
	}
	return c.stop
}

// printf writes to out; the first failure stops the check.
func (c *checker) printf(format string, args ...any) {
	if c.stop != nil {
		return
	}
	if _, err := fmt.Fprintf(c.out, format, args...); err != nil {
		c.stop = err
	}
}

// errorf prints an "error:" line.
func (c *checker) errorf(format string, args ...any) {
	c.rep.Errors++
	c.printf("error: "+format+"\n", args...)
}

// tick is called for each block read: it ends the check when the
// context does, and reports progress on a long check.
func (c *checker) tick() {
	c.ticks++
	if c.ticks%256 != 0 || c.stop != nil {
		return
	}
	if err := c.ctx.Err(); err != nil {
		c.stop = err
		return
	}
	if c.opts.Progress == nil {
		return
	}
	every := c.opts.ProgressInterval
	if every <= 0 {
		every = 10 * time.Second
	}
	if now := time.Now(); now.Sub(c.lastTick) >= every {
		c.lastTick = now
		var where string
		switch c.phase {
		case phaseLeaks:
			where = fmt.Sprintf("label %d/%d", c.scanAt, c.n)
		case phaseDirs:
			where = fmt.Sprintf("%d directories, %d directory entries", c.ndirs, c.nentries)
		default:
			where = fmt.Sprintf("visited %d/%d blocks", c.rep.Visited, c.n)
		}
		fmt.Fprintf(c.opts.Progress, "check: %s: %s, %d errors\n", c.phase, where, c.rep.Errors)
	}
}

// A ref is where a pointer to a block is kept, for its repair: score
// index of a pointer block (clrp) or entry index of a directory block
// (clre). Pointers kept on venti, or in the root block, have none.
type ref struct {
	addr  uint32 // fsdisk.NilBlock: no repair
	index int
	entry bool
}

var noRef = ref{addr: fsdisk.NilBlock}

// clear repairs or proposes to repair a bad pointer or entry.
func (c *checker) clear(r ref) {
	if r.addr == fsdisk.NilBlock || c.stop != nil {
		return
	}
	if r.entry {
		c.clre(r.addr, r.index)
		return
	}
	if f := c.opts.fixer(c.opts.ClearPointers); f != nil {
		if err := f.ClearPointer(r.addr, r.index); err != nil {
			c.errorf("clrp %#x %d: %v", r.addr, r.index, err)
			return
		}
		c.rep.Clrp++
		return
	}
	c.printf("# clrp %#x %d\n", r.addr, r.index)
}

func (c *checker) clre(addr uint32, index int) {
	if c.stop != nil {
		return
	}
	if f := c.opts.fixer(c.opts.ClearEntries); f != nil {
		if err := f.ClearEntry(addr, index); err != nil {
			c.errorf("clre %#x %d: %v", addr, index, err)
			return
		}
		c.rep.Clre++
		return
	}
	c.printf("# clre %#x %d\n", addr, index)
}

func (c *checker) clri(path string) {
	if c.stop != nil {
		return
	}
	if f := c.opts.fixer(c.opts.ClearDirEntries); f != nil {
		if err := f.ClearDirEntry(path); err != nil {
			c.errorf("clri %s: %v", path, err)
			return
		}
		c.rep.Clri++
		return
	}
	c.printf("# clri %s\n", path)
}

func (c *checker) bclose(addr uint32) {
	if c.stop != nil {
		return
	}
	if f := c.opts.fixer(c.opts.CloseBlocks); f != nil {
		if err := f.CloseBlock(addr); err != nil {
			c.errorf("bclose %#x: %v", addr, err)
			return
		}
		c.rep.Bclose++
		return
	}
	c.printf("# bfree %#x\n", addr)
}

// sentinels are the errors whose text alone says what is wrong, as
// the C flchk says it ("block label mismatch", "corrupted meta data").
var sentinels = []error{
	fsdisk.ErrLabelMismatch, fsdisk.ErrBadLabel, fsdisk.ErrBadAddr,
	vac.ErrBadMeta, fsdisk.ErrScore, fsdisk.ErrNoVenti, ErrNotStored,
}

// reason is the short text of an error for a message.
func reason(err error) string {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return detail(err)
}

// detail is an error's text without the package and place, which the
// message gives in its own terms.
func detail(err error) string {
	var e *diskerr.Error
	if errors.As(err, &e) {
		return e.Err.Error()
	}
	return err.Error()
}

// isFree reports whether a label lets fossil reuse its block: free,
// or closed before the oldest epoch kept, or closed in the epoch it
// was written in (no snapshot holds it).
func (c *checker) isFree(l *fsdisk.Label) bool {
	if l.State == fsdisk.BsFree {
		return true
	}
	if l.State == fsdisk.BsBad || l.State&fsdisk.BsClosed == 0 {
		return false
	}
	return l.EpochClose <= c.low || l.EpochClose == l.Epoch
}

// checkLabel judges the label of local block addr, which a parent in
// the tree of the given epoch expects to have type t and tag tag. It
// returns the label and, if the block cannot be used, why.
func (c *checker) checkLabel(addr uint32, t fsdisk.BlockType, tag, epoch uint32) (fsdisk.Label, string) {
	var l fsdisk.Label
	if addr >= c.n {
		return l, fsdisk.ErrBadAddr.Error()
	}
	l, err := c.src.ReadLabel(addr)
	if err != nil {
		return l, reason(err)
	}
	switch {
	case l.Type != t || l.Tag != tag:
		return l, fsdisk.ErrLabelMismatch.Error()
	case l.State == fsdisk.BsFree:
		return l, "block is free"
	case l.State == fsdisk.BsBad:
		return l, "block is marked bad"
	case l.Epoch > epoch:
		return l, fmt.Sprintf("block from the future: epoch %d, tree of epoch %d", l.Epoch, epoch)
	case l.State&fsdisk.BsClosed != 0 && l.EpochClose <= epoch:
		return l, fmt.Sprintf("closed block still referenced: closed in epoch %d, tree of epoch %d", l.EpochClose, epoch)
	}
	return l, ""
}

// data returns the bytes of local block addr.
func (c *checker) data(addr uint32) ([]byte, error) {
	k := fsdisk.LocalScore(addr)
	if b, ok := c.cache.get(k); ok {
		return b, nil
	}
	c.tick()
	b, err := c.src.ReadData(addr)
	if err != nil {
		return nil, err
	}
	if len(b) < c.bs {
		return nil, &diskerr.Error{Pkg: "fsck", Where: fmt.Sprintf("block %#x", addr), Err: fmt.Errorf("%w: %d bytes", fsdisk.ErrShort, len(b))}
	}
	c.cache.put(k, b)
	return b, nil
}

// ventiBlock reads and verifies a venti block of type t, extended to
// size bytes. When venti cannot be read at all, it says so once and
// returns errSkip from then on: a missing server is no damage.
func (c *checker) ventiBlock(s venti.Score, t fsdisk.BlockType, size int) ([]byte, error) {
	if !c.opts.Venti || c.ventiDown {
		return nil, errSkip
	}
	if b, ok := c.cache.get(s); ok && len(b) == size {
		return b, nil
	}
	c.tick()
	if t >= fsdisk.BtMax {
		return nil, fmt.Errorf("%w: bad type %d", fsdisk.ErrCorrupt, t)
	}
	b, err := c.src.ReadVenti(s, t.Venti())
	if err != nil {
		var se venti.ServerError
		if !errors.As(err, &se) && !errors.Is(err, ErrNotStored) {
			c.ventiDown = true
			c.errorf("could not read venti block %v: %v; not checking what is on venti", s, err)
			return nil, errSkip
		}
		return nil, err
	}
	if len(b) > size {
		return nil, fmt.Errorf("%w: %d bytes, want at most %d", fsdisk.ErrTooLarge, len(b), size)
	}
	if venti.Fingerprint(b) != s {
		return nil, fmt.Errorf("%w: read %d bytes hashing to %v", fsdisk.ErrScore, len(b), venti.Fingerprint(b))
	}
	buf := make([]byte, len(b), size)
	copy(buf, b)
	buf = venti.ZeroExtend(t.Venti(), buf, size)
	c.cache.put(s, buf)
	return buf, nil
}

// visit marks a local block reached, printing progress as flchk does.
func (c *checker) visit(addr uint32, l *fsdisk.Label) {
	c.visited.set(addr)
	c.rep.Visited++
	if c.opts.PrintBlocks {
		c.printf("block %#x %v\n", addr, l)
	}
	if (c.rep.Visited-1)%c.quantum == 0 {
		c.printf("check: visited %d/%d blocks (%.0f%%)\n", c.rep.Visited, c.n, 100*float64(c.rep.Visited)/float64(c.n))
	}
	c.tick()
}

// numBlocks is the number of data blocks of an entry's tree.
func numBlocks(e *fsdisk.Entry) uint64 {
	d := uint64(e.DSize)
	if d == 0 {
		return 0
	}
	return e.Size/d + min(e.Size%d, 1)
}

// span is the number of data blocks under each score of a pointer
// block of the given level, at most 1<<62.
func span(np uint64, level int) uint64 {
	s := uint64(1)
	for i := 1; i < level; i++ {
		if s > (1<<62)/np {
			return 1 << 62
		}
		s *= np
	}
	return s
}
