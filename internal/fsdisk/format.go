package fsdisk

import (
	"fmt"
	"io"

	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// A Format is a new file system as flfmt lays it out, built in memory
// before anything is written: the header, the super block, and the
// data blocks 0 .. len(Blocks)-1 with their labels. Every other label
// is zero (BsFree); data blocks past Blocks are left as they are.
type Format struct {
	Header Header
	Super  Super
	Blocks [][]byte // BlockSize bytes each
	Labels []Label  // the label of each block in Blocks
}

// FormatOptions are flfmt's choices.
type FormatOptions struct {
	BlockSize int    // 8192 if zero
	Label     string // the super block's name; "vfs" if empty; cut to 127 bytes as flfmt cuts it
	Time      uint32 // mtime, ctime and atime of the directory entries made
}

// DefaultBlockSize is flfmt's block size.
const DefaultBlockSize = 8 * 1024

// The C flfmt takes its tags from lrand(2) without seeding it, so a
// fresh fossil always gets the same ones. draws are the positions in
// that sequence of the tags of a fresh file system (flfmt draws some
// it overwrites; the fossil code it runs to make the top directories
// draws others it does not use) and of a restored one (-v).
const (
	drawRootMeta  = 0 // the root's meta block (block 0)
	drawTop       = 2 // the top directory block (block 1)
	drawRootDir   = 7 // the root directory's entries (block 3), drawn by fossil
	drawRootMetas = 9 // the root directory's meta block (block 4), drawn by fossil
	drawVentiTop  = 0 // -v: the top directory block (block 0)
)

const defaultLabel = "vfs"

func (o *FormatOptions) blockSize() int {
	if o.BlockSize == 0 {
		return DefaultBlockSize
	}
	return o.BlockSize
}

func (o *FormatOptions) label() string {
	l := o.Label
	if l == "" {
		l = defaultLabel
	}
	if len(l) > superNameSize-1 {
		l = l[:superNameSize-1]
	}
	if i := indexNUL(l); i >= 0 {
		l = l[:i]
	}
	return l
}

func indexNUL(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

const whereFormat = "format"

// newFormat lays out a partition of partSize bytes.
func newFormat(partSize int64, o *FormatOptions) (*Format, error) {
	h, err := NewHeader(partSize, o.blockSize())
	if err != nil {
		return nil, err
	}
	if h.NumData() < 8 {
		return nil, errorf(whereFormat, ErrShort, "partition of %d bytes too small: %d data blocks", partSize, h.NumData())
	}
	f := &Format{Header: h}
	f.Super = Super{
		Version:   SuperVersion,
		EpochLow:  1,
		EpochHigh: 1,
		Next:      NilBlock,
		Current:   NilBlock,
		Last:      venti.ZeroScore,
		Name:      o.label(),
	}
	return f, nil
}

// alloc adds a block of type t and tag to the file system, labelled as
// flfmt labels it (allocated in epoch 1, open), and returns its
// address and its bytes.
func (f *Format) alloc(t BlockType, tag uint32) (uint32, []byte) {
	b := make([]byte, f.Header.BlockSize)
	f.Blocks = append(f.Blocks, b)
	f.Labels = append(f.Labels, Label{State: BsAlloc, Type: t, Epoch: 1, EpochClose: NilBlock, Tag: tag})
	return uint32(len(f.Blocks) - 1), b
}

// localEntry is the entry flfmt makes for a local tree at addr.
func (f *Format) localEntry(dir bool, size uint64, tag, addr uint32) Entry {
	bs := int(f.Header.BlockSize)
	e := Entry{Tag: tag}
	e.PSize = uint16(bs / venti.EntrySize * venti.EntrySize)
	e.DSize = uint16(bs)
	e.Type = venti.DataType
	if dir {
		e.Type = venti.DirType
	}
	e.Flags = venti.EntryActive | venti.EntryLocal
	e.Size = size
	e.Score = LocalScore(addr)
	return e
}

func putEntry(b []byte, i int, e Entry) error {
	return e.Pack(b[i*EntrySize:])
}

// NewFormat lays out a new, empty file system on a partition of
// partSize bytes exactly as the C flfmt does: the root directory (owned
// by adm, mode d555) holding the empty directories active, archive and
// snapshot, all in five blocks:
//
//	0  BtData  the meta block holding the root's DirEntry ("root")
//	1  BtDir   the top directory: the entries of the root's
//	           directory (3), its meta blocks (4), and block 0
//	2  BtDir   the root block (RootTag), the super block's active
//	3  BtDir   the root directory's entries: six empty ones, the
//	           directory and meta entries of each top directory
//	4  BtData  the root directory's meta block: their DirEntries
//
// Only the times of the directory entries (o.Time) differ between two
// runs of flfmt.
func NewFormat(partSize int64, o FormatOptions) (*Format, error) {
	f, err := newFormat(partSize, &o)
	if err != nil {
		return nil, err
	}
	bs := int(f.Header.BlockSize)
	var rnd plan9Rand
	tags := tagDraws(&rnd, drawRootMetas)
	now := o.Time
	names := []string{"active", "archive", "snapshot"}
	mode := uint32(vac.ModeDir | 0o555)

	// Block 0: the root's own DirEntry.
	a0, b0 := f.alloc(BtData, tags[drawRootMeta])
	mb, err := vac.NewMetaBlock(b0, bs/100)
	if err != nil {
		return nil, within(whereFormat, err)
	}
	root := vac.DirEntry{
		Elem: "root", Entry: 0, MEntry: 1, Qid: 1,
		UID: "adm", GID: "adm", MID: "adm",
		MTime: now, MCount: uint32(len(names)), CTime: now, ATime: now,
		Mode: mode,
	}
	if _, err := mb.Insert(&root); err != nil {
		return nil, within(whereFormat, err)
	}

	// Block 1: the top directory; block 2: the root block.
	a1, b1 := f.alloc(BtDir, tags[drawTop])
	a2, b2 := f.alloc(BtDir, RootTag)
	if err := putEntry(b2, 0, f.localEntry(true, 3*EntrySize, tags[drawTop], a1)); err != nil {
		return nil, err
	}

	// Block 3: the entries of the root directory.
	a3, b3 := f.alloc(BtDir, tags[drawRootDir])
	for i := range names {
		for j, t := range []venti.Type{venti.DirType, venti.DataType} {
			var e Entry
			e.PSize = uint16(bs / venti.ScoreSize * venti.ScoreSize)
			e.DSize = uint16(bs)
			e.Type = t
			e.Flags = venti.EntryActive
			e.Score = venti.ZeroScore
			if err := putEntry(b3, 2*i+j, e); err != nil {
				return nil, err
			}
		}
	}

	// Block 4: their DirEntries.
	a4, b4 := f.alloc(BtData, tags[drawRootMetas])
	mb, err = vac.NewMetaBlock(b4, bs/100)
	if err != nil {
		return nil, within(whereFormat, err)
	}
	for i, name := range names {
		d := vac.DirEntry{
			Elem: name, Entry: uint32(2 * i), MEntry: uint32(2*i + 1), Qid: uint64(2 + i),
			UID: "adm", GID: "adm", MID: "adm",
			MTime: now, CTime: now, ATime: now,
			Mode: mode,
		}
		if _, err := mb.Insert(&d); err != nil {
			return nil, within(whereFormat, err)
		}
	}

	for i, e := range []Entry{
		f.localEntry(true, uint64(2*len(names)*EntrySize), tags[drawRootDir], a3),
		f.localEntry(false, uint64(bs), tags[drawRootMetas], a4),
		f.localEntry(false, uint64(bs), tags[drawRootMeta], a0),
	} {
		if err := putEntry(b1, i, e); err != nil {
			return nil, err
		}
	}
	f.Super.Qid = uint64(2 + len(names))
	f.Super.Active = a2
	return f, nil
}

// NewVentiFormat lays out a file system whose active tree is the
// fossil archive whose venti.Root has the given score, as flfmt -v
// does: block 0 (BtDir) is a copy of the archive's directory block of
// three entries, which point at venti; block 1 is the root block,
// pointing at block 0. The next qid is the qidMax of the root's
// DirEntry in the archive, and the super block's last is score.
//
// The archive's root block names a directory block holding either the
// top entry of the tree (fossil's archives), which is followed, or the
// three entries themselves (vac's). The root's DirEntry must carry a
// qid space, which fossil's archives have and vac(1)'s do not.
//
// info, if not nil, is called with the scores of the three entries, which
// flfmt -v prints.
func NewVentiFormat(partSize int64, o FormatOptions, score venti.Score, v BlockReader, info func(venti.Score)) (*Format, error) {
	f, err := newFormat(partSize, &o)
	if err != nil {
		return nil, err
	}
	bs := int(f.Header.BlockSize)
	where := fmt.Sprintf("vac root %v", score)
	read := func(s venti.Score, t venti.Type) ([]byte, int, error) {
		b, err := v.ReadVenti(s, t)
		if err != nil {
			return nil, 0, within(where, err)
		}
		if len(b) > bs {
			return nil, 0, errorf(where, ErrTooLarge, "block %v of %d bytes, block size %d", s, len(b), bs)
		}
		if venti.Fingerprint(b) != s {
			return nil, 0, errorf(where, ErrScore, "block %v", s)
		}
		n := len(b)
		buf := make([]byte, n, bs)
		copy(buf, b)
		return venti.ZeroExtend(t, buf, bs), n, nil
	}
	b, _, err := read(score, venti.RootType)
	if err != nil {
		return nil, err
	}
	r, err := venti.UnpackRoot(b)
	if err != nil {
		return nil, errorf(where, ErrCorrupt, "corrupted root: %v", err)
	}
	dir, n, err := read(r.Score, venti.DirType)
	if err != nil {
		return nil, err
	}
	if n <= 2*EntrySize {
		e, err := UnpackEntry(dir)
		if err != nil {
			return nil, err
		}
		if dir, n, err = read(e.Score, venti.DirType); err != nil {
			return nil, err
		}
	}
	if n > 3*EntrySize {
		return nil, errorf(where, ErrCorrupt, "bad root: entry count: %d bytes", n)
	}
	var meta Entry
	for i := 0; i < 3; i++ {
		e, err := UnpackEntry(dir[i*EntrySize:])
		if err != nil {
			return nil, err
		}
		if !e.IsActive() || e.PSize < 256 || e.DSize < 256 {
			return nil, errorf(where, ErrCorrupt, "bad root: entry %d", i)
		}
		if int(e.PSize) > bs || int(e.DSize) > bs {
			return nil, errorf(where, ErrCorrupt, "bad root: entry %d: psize %d dsize %d larger than the block size %d", i, e.PSize, e.DSize, bs)
		}
		if info != nil {
			info(e.Score)
		}
		meta = e
	}
	mbuf, _, err := read(meta.Score, venti.DataType)
	if err != nil {
		return nil, err
	}
	mb, err := vac.UnpackMetaBlock(mbuf)
	if err != nil {
		return nil, errorf(where, ErrCorrupt, "bad root: %v", err)
	}
	de, err := mb.DirEntry(0)
	if err != nil {
		return nil, errorf(where, ErrCorrupt, "bad root: %v", err)
	}
	if !de.QidSpace {
		return nil, errorf(where, ErrCorrupt, "bad root: no qidSpace (not a fossil archive?)")
	}

	var rnd plan9Rand
	tag := tagDraws(&rnd, drawVentiTop)[drawVentiTop]
	a0, b0 := f.alloc(BtDir, tag)
	copy(b0, dir)
	a1, b1 := f.alloc(BtDir, RootTag)
	if err := putEntry(b1, 0, f.localEntry(true, 3*EntrySize, tag, a0)); err != nil {
		return nil, err
	}
	f.Super.Qid = de.QidMax
	f.Super.Active = a1
	f.Super.Last = score
	return f, nil
}

// zeroChunk is how much of the label blocks Write clears at a time.
const zeroChunk = 1 << 20

// Write writes the file system into the partition w in the C flfmt's
// order: the header (its HeaderSize bytes), zeros over every label
// block, the data blocks, their labels, and last the super block. It
// does not touch the config block or data blocks past f.Blocks.
func (f *Format) Write(w io.WriterAt) error {
	h := &f.Header
	bs := int64(h.BlockSize)
	hb := make([]byte, HeaderSize)
	if err := h.Pack(hb); err != nil {
		return err
	}
	if _, err := w.WriteAt(hb, HeaderOffset); err != nil {
		return within(whereHeader, err)
	}
	zeros := make([]byte, max(zeroChunk/bs, 1)*bs)
	for off, end := int64(h.Label)*bs, int64(h.Data)*bs; off < end; {
		n := min(int64(len(zeros)), end-off)
		if _, err := w.WriteAt(zeros[:n], off); err != nil {
			return within("labels", err)
		}
		off += n
	}
	d := &Disk{Header: *h}
	lpb := uint32(h.LabelsPerBlock())
	labels := map[uint32][]byte{}
	for i, b := range f.Blocks {
		addr := uint32(i)
		if len(b) != int(bs) {
			return errorf(whereBlock(addr), ErrCorrupt, "%d bytes, block size %d", len(b), bs)
		}
		if _, err := w.WriteAt(b, d.DataOffset(addr)); err != nil {
			return within(whereBlock(addr), err)
		}
		lb := addr / lpb
		if labels[lb] == nil {
			labels[lb] = make([]byte, bs)
		}
		if err := f.Labels[i].Pack(labels[lb][(addr%lpb)*LabelSize:]); err != nil {
			return within(whereBlock(addr), err)
		}
	}
	for lb, b := range labels {
		if _, err := w.WriteAt(b, (int64(h.Label)+int64(lb))*bs); err != nil {
			return within("labels", err)
		}
	}
	sb := make([]byte, bs)
	if err := f.Super.Pack(sb); err != nil {
		return err
	}
	if _, err := w.WriteAt(sb, int64(h.Super)*bs); err != nil {
		return within(whereSuper, err)
	}
	return nil
}

// tagDraws returns the first n+1 values of the sequence as tags: a
// value too small to be a user tag is drawn again, as the C tagGen
// does, so later draws move up one. (The unseeded sequence has no such
// value in its first hundreds.)
func tagDraws(r *plan9Rand, n int) []uint32 {
	tags := make([]uint32, n+1)
	for i := range tags {
		for {
			t := r.next()
			if t >= UserTag {
				tags[i] = t
				break
			}
		}
	}
	return tags
}

// plan9Rand is the pseudo-random sequence of Plan 9's lrand(2) before
// any srand: an additive lagged Fibonacci generator, x[n] = x[n-273] +
// x[n-607] mod 2³¹, whose 607 first values come from the Lehmer
// generator x = 48271 x mod (2³¹-1) started at 1, after 20 discarded
// steps. The zero value is ready to use.
type plan9Rand struct {
	vec       [randLen]uint32
	tap, feed int
	seeded    bool
}

const (
	randLen  = 607
	randTap  = 273
	randMask = 1<<31 - 1
	lehmerA  = 48271
	lehmerM  = 1<<31 - 1
)

func (r *plan9Rand) seed(s int64) {
	x := s % lehmerM
	if x < 0 {
		x += lehmerM
	}
	if x == 0 {
		x = 89482311
	}
	for i := -20; i < randLen; i++ {
		x = x * lehmerA % lehmerM
		if i >= 0 {
			r.vec[i] = uint32(x)
		}
	}
	r.tap = 0
	r.feed = randLen - randTap
	r.seeded = true
}

// next returns the next value, in [0, 2³¹).
func (r *plan9Rand) next() uint32 {
	if !r.seeded {
		r.seed(1)
	}
	r.tap--
	if r.tap < 0 {
		r.tap += randLen
	}
	r.feed--
	if r.feed < 0 {
		r.feed += randLen
	}
	x := (r.vec[r.feed] + r.vec[r.tap]) & randMask
	r.vec[r.feed] = x
	return x
}
