package fsdisk

import (
	"fmt"
	"io"
	"strings"

	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// A BlockReader reads the blocks of a tree that are on venti: those
// whose scores are not local addresses. It returns the block as venti
// stores it (zero-truncated); the Reader checks and extends it.
type BlockReader interface {
	ReadVenti(score venti.Score, t venti.Type) ([]byte, error)
}

// A Reader reads the file trees of a fossil: the active file system and
// the snapshots from the local blocks of a Disk, and whatever has been
// archived through a BlockReader. It is read-only and keeps no cache:
// it is what fossil/flchk, fossil/last and tests need, not the file
// server's block cache. Set the epochs, if at all, before use; a Reader
// may then be used from several goroutines if its Disk's io.ReaderAt
// and its BlockReader may.
type Reader struct {
	disk      *Disk
	venti     BlockReader
	blockSize int

	// EpochLow and EpochHigh, when set (from the super block), let the
	// Reader refuse entries that enter snapshots as fossil does: one
	// older than EpochLow has been deleted (ErrSnapOld), one not older
	// than EpochHigh is corrupt.
	EpochLow, EpochHigh uint32
}

// NewReader returns a Reader of the trees on d; blocks on venti are
// read through v, which may be nil if none are needed.
func NewReader(d *Disk, v BlockReader) *Reader {
	return &Reader{disk: d, venti: v, blockSize: d.BlockSize()}
}

// NewVentiReader returns a Reader of trees archived on venti alone, such
// as the roots fossil/last and vac print. The block size is taken from
// the root (OpenVac).
func NewVentiReader(v BlockReader) *Reader {
	return &Reader{venti: v}
}

// BlockSize is the block size of the trees read.
func (r *Reader) BlockSize() int { return r.blockSize }

// Block returns the block with the given score, BlockSize bytes long,
// as the C fossil's cache finds it: a local block (the score holds its
// address) whose label must have type t and tag tag, a block of zeros
// (zero scores for pointer blocks) for venti.ZeroScore, or a block read
// from venti, checked against its score and zero-extended.
func (r *Reader) Block(score venti.Score, t BlockType, tag uint32) ([]byte, error) {
	b, _, err := r.block(score, t, tag)
	return b, err
}

// block is Block that also returns the block's name for messages.
func (r *Reader) block(score venti.Score, t BlockType, tag uint32) ([]byte, string, error) {
	if addr, ok := LocalAddr(score); ok {
		where := whereBlock(addr)
		if r.disk == nil {
			return nil, where, errorf(where, ErrBadAddr, "local block in a venti tree")
		}
		b, _, err := r.disk.ReadLocal(addr, t, tag)
		return b, where, err
	}
	where := fmt.Sprintf("venti block %v", score)
	if t >= BtMax {
		return nil, where, errorf(where, ErrCorrupt, "bad type %d", t)
	}
	if r.blockSize <= 0 {
		return nil, where, errorf(where, ErrCorrupt, "no block size")
	}
	if score == venti.ZeroScore {
		return venti.ZeroExtend(t.Venti(), make([]byte, 0, r.blockSize), r.blockSize), where, nil
	}
	if r.venti == nil {
		return nil, where, errorf(where, ErrNoVenti, "")
	}
	data, err := r.venti.ReadVenti(score, t.Venti())
	if err != nil {
		return nil, where, within(where, err)
	}
	if len(data) > r.blockSize {
		return nil, where, errorf(where, ErrTooLarge, "%d bytes, block size %d", len(data), r.blockSize)
	}
	if venti.Fingerprint(data) != score {
		return nil, where, errorf(where, ErrScore, "%d bytes read hash to %v", len(data), venti.Fingerprint(data))
	}
	buf := make([]byte, len(data), r.blockSize)
	copy(buf, data)
	return venti.ZeroExtend(t.Venti(), buf, r.blockSize), where, nil
}

// A Source is a tree of blocks that an Entry describes: a file's data,
// a directory's entries or a directory's meta blocks.
type Source struct {
	r     *Reader
	Entry Entry
	where string
}

// openSource checks an entry as fossil does before it opens its tree.
func (r *Reader) openSource(e Entry, where string) (*Source, error) {
	if err := e.Check(r.blockSize); err != nil {
		return nil, within(where, err)
	}
	if e.Snap != 0 && r.EpochLow != 0 {
		if e.Snap < r.EpochLow {
			return nil, errorf(where, ErrSnapOld, "epoch %d, low epoch %d", e.Snap, r.EpochLow)
		}
		if r.EpochHigh != 0 && e.Snap >= r.EpochHigh {
			return nil, errorf(where, ErrBadEntry, "snapshot epoch %d, high epoch %d", e.Snap, r.EpochHigh)
		}
	}
	return &Source{r: r, Entry: e, where: where}, nil
}

// RootSource opens the tree whose entry is in the root block addr (the
// super block's active, next or current root): a directory of three
// entries, those of the root directory, its meta blocks, and the meta
// block holding the root's own DirEntry.
func (r *Reader) RootSource(addr uint32) (*Source, error) {
	where := fmt.Sprintf("root %#x", addr)
	if r.disk == nil {
		return nil, errorf(where, ErrBadAddr, "no disk")
	}
	b, _, err := r.disk.ReadLocal(addr, BtDir, RootTag)
	if err != nil {
		return nil, within("root", err)
	}
	e, err := UnpackEntry(b)
	if err != nil {
		return nil, within(where, err)
	}
	return r.openSource(e, where)
}

// Where names the source in errors.
func (s *Source) Where() string { return s.where }

// Size is the size of the tree's data in bytes.
func (s *Source) Size() uint64 { return s.Entry.Size }

// Block returns data block bn of the tree (a directory block for a
// directory tree), BlockSize bytes long; the tree's data blocks hold
// Entry.DSize bytes of it.
func (s *Source) Block(bn uint64) ([]byte, error) {
	b, _, err := s.block(bn)
	if err != nil {
		return nil, within(s.where, err)
	}
	return b, nil
}

func (s *Source) block(bn uint64) ([]byte, string, error) {
	e := &s.Entry
	np := uint64(e.PSize) / venti.ScoreSize
	if np == 0 {
		return nil, "", errorf(whereEntry, ErrBadEntry, "psize %d", e.PSize)
	}
	var index [venti.PointerDepth + 1]int
	i := 0
	for n := bn; n > 0; i++ {
		if i >= venti.PointerDepth {
			return nil, "", errorf(fmt.Sprintf("block number %d", bn), ErrBadAddr, "")
		}
		index[i] = int(n % np)
		n /= np
	}
	if i > e.Depth() {
		return nil, "", errorf(fmt.Sprintf("block number %d", bn), ErrBadAddr, "beyond depth %d", e.Depth())
	}
	t := e.BlockType()
	b, where, err := s.r.block(e.Score, t, e.Tag)
	for lvl := e.Depth() - 1; err == nil && lvl >= 0; lvl-- {
		var sc venti.Score
		if sc, err = Pointer(b[:e.PSize], index[lvl]); err != nil {
			break
		}
		t--
		b, where, err = s.r.block(sc, t, e.Tag)
	}
	return b, where, err
}

// ReadAt reads the tree's data as a file, up to its size.
func (s *Source) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errorf(s.where, ErrBadAddr, "offset %d", off)
	}
	size := s.Entry.Size
	if uint64(off) >= size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	dsize := uint64(s.Entry.DSize)
	want := len(p)
	if rest := size - uint64(off); uint64(want) > rest {
		p = p[:rest]
	}
	n := 0
	for n < len(p) {
		o := uint64(off) + uint64(n)
		b, err := s.Block(o / dsize)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], b[o%dsize:dsize])
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// NumEntries is the number of entries of a directory tree, as fossil
// counts them from its size.
func (s *Source) NumEntries() uint64 {
	epb := uint64(s.Entry.DSize) / EntrySize
	if epb == 0 {
		return 0
	}
	dsize := uint64(s.Entry.DSize)
	return epb*(s.Entry.Size/dsize) + (s.Entry.Size%dsize)/EntrySize
}

// EntryAt returns entry i of a directory tree, whatever it holds.
func (s *Source) EntryAt(i uint32) (Entry, error) {
	if !s.Entry.IsDir() {
		return Entry{}, errorf(s.where, ErrNotDir, "")
	}
	epb := uint32(s.Entry.DSize) / EntrySize
	if epb == 0 {
		return Entry{}, errorf(s.where, ErrBadEntry, "dsize %d", s.Entry.DSize)
	}
	b, where, err := s.block(uint64(i / epb))
	if err != nil {
		return Entry{}, within(s.where, err)
	}
	e, err := UnpackEntry(b[(i%epb)*EntrySize:])
	if err != nil {
		return e, within(s.where+": "+where, err)
	}
	return e, nil
}

// Open opens the tree of entry i of a directory tree, checking the
// entry as fossil does.
func (s *Source) Open(i uint32) (*Source, error) {
	e, err := s.EntryAt(i)
	if err != nil {
		return nil, err
	}
	return s.r.openSource(e, fmt.Sprintf("%s: entry %d", s.where, i))
}

// metaBlock reads and unpacks meta block bn of a tree of meta blocks.
func (s *Source) metaBlock(bn uint64) (*vac.MetaBlock, error) {
	b, where, err := s.block(bn)
	if err != nil {
		return nil, within(s.where, err)
	}
	mb, err := vac.UnpackMetaBlock(b[:s.Entry.DSize])
	if err != nil {
		return nil, within(s.where+": "+where, err)
	}
	return mb, nil
}

// numBlocks is the number of data blocks of the tree.
func (s *Source) numBlocks() uint64 {
	d := uint64(s.Entry.DSize)
	return (s.Entry.Size + d - 1) / d
}

// A File is a file or directory of a fossil or vac tree.
type File struct {
	r       *Reader
	Dir     vac.DirEntry
	Path    string  // from the root of the tree: "/", "/active/adm"
	source  *Source // the data, or a directory's entries
	msource *Source // a directory's meta blocks
	up      *File
}

// Root opens the root directory of the tree whose root block is addr
// (the super block's active, next or current root).
func (r *Reader) Root(addr uint32) (*File, error) {
	top, err := r.RootSource(addr)
	if err != nil {
		return nil, err
	}
	return r.fileRoot(top, "/")
}

// OpenVac opens the root directory of a tree archived on venti, given
// the score of its root block (venti.Root): an archive of fossil's
// (fossil/last, "archive vac:..."), whose root block holds the top
// entry of the tree, or a vac archive (vac, fossil's console vac),
// whose root block holds the three root entries themselves. A Reader
// made by NewVentiReader takes its block size from the root.
func (r *Reader) OpenVac(score venti.Score) (*File, error) {
	where := fmt.Sprintf("vac root %v", score)
	if r.venti == nil {
		return nil, errorf(where, ErrNoVenti, "")
	}
	b, err := r.venti.ReadVenti(score, venti.RootType)
	if err != nil {
		return nil, within(where, err)
	}
	if venti.Fingerprint(b) != score {
		return nil, errorf(where, ErrScore, "root block hashes to %v", venti.Fingerprint(b))
	}
	root, err := venti.UnpackRoot(b)
	if err != nil {
		return nil, within(where, err)
	}
	if r.blockSize == 0 {
		rr := *r
		rr.blockSize = int(root.BlockSize)
		r = &rr
	}
	dir, err := r.venti.ReadVenti(root.Score, venti.DirType)
	if err != nil {
		return nil, within(where, err)
	}
	// The root block is a directory block of one or three entries;
	// describe it as a tree of one block.
	bs := r.blockSize
	e := Entry{Entry: venti.Entry{
		PSize: uint16(bs / venti.ScoreSize * venti.ScoreSize),
		DSize: uint16(bs),
		Type:  venti.DirType,
		Flags: venti.EntryActive,
		Size:  uint64((len(dir) + EntrySize - 1) / EntrySize * EntrySize),
		Score: root.Score,
	}}
	top, err := r.openSource(e, where)
	if err != nil {
		return nil, err
	}
	// Fossil's archives have a layer more than vac's (flfmt -v tells
	// them apart the same way).
	if len(dir) <= 2*EntrySize {
		if top, err = top.Open(0); err != nil {
			return nil, err
		}
	}
	return r.fileRoot(top, "/")
}

// fileRoot opens the root directory of a tree from its top source, as
// fossil's fileRoot does.
func (r *Reader) fileRoot(top *Source, path string) (*File, error) {
	var srcs [3]*Source
	for i := range srcs {
		var err error
		if srcs[i], err = top.Open(uint32(i)); err != nil {
			return nil, err
		}
	}
	f := &File{r: r, Path: path, source: srcs[0], msource: srcs[1]}
	f.source.where = path
	f.msource.where = path + " (meta)"
	if srcs[2].numBlocks() == 0 {
		return nil, errorf(srcs[2].where, vac.ErrBadMeta, "no meta block for the root")
	}
	mb, err := srcs[2].metaBlock(0)
	if err != nil {
		return nil, err
	}
	if f.Dir, err = mb.DirEntry(0); err != nil {
		return nil, within(srcs[2].where, err)
	}
	return f, nil
}

// IsDir reports whether f is a directory.
func (f *File) IsDir() bool { return f.Dir.IsDir() }

// Size is the size of a file's data; 0 for a directory.
func (f *File) Size() uint64 {
	if f.IsDir() {
		return 0
	}
	return f.source.Size()
}

// Source is the tree of a file's data or a directory's entries.
func (f *File) Source() *Source { return f.source }

// MetaSource is the tree of a directory's meta blocks; nil for a file.
func (f *File) MetaSource() *Source { return f.msource }

// ReadAt reads a file's data.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.IsDir() {
		return 0, errorf(f.Path, ErrNotDir, "is a directory")
	}
	return f.source.ReadAt(p, off)
}

// Reader returns a reader of the whole file.
func (f *File) Reader() *io.SectionReader {
	return io.NewSectionReader(f, 0, int64(f.Size()))
}

func (f *File) child(name string) string {
	if f.Path == "/" {
		return "/" + name
	}
	return f.Path + "/" + name
}

// ReadDir returns the entries of a directory, meta block by meta block
// and in name order within each, as fossil lists them. A file's Size
// is that of its data entry (0 if the entry is not active or of another
// generation).
func (f *File) ReadDir() ([]vac.DirEntry, error) {
	if !f.IsDir() {
		return nil, errorf(f.Path, ErrNotDir, "")
	}
	var all []vac.DirEntry
	nb := f.msource.numBlocks()
	for bn := uint64(0); bn < nb; bn++ {
		mb, err := f.msource.metaBlock(bn)
		if err != nil {
			return nil, err
		}
		ds, err := mb.DirEntries()
		if err != nil {
			return nil, within(fmt.Sprintf("%s: meta block %d", f.msource.where, bn), err)
		}
		for i := range ds {
			if ds[i].IsDir() {
				continue
			}
			e, err := f.source.EntryAt(ds[i].Entry)
			if err != nil {
				return nil, err
			}
			if e.IsActive() && e.Gen == ds[i].Gen {
				ds[i].Size = e.Size
			}
		}
		all = append(all, ds...)
	}
	return all, nil
}

// Walk opens the file called name in directory f: "." is f and ".."
// its parent (the root's parent is the root).
func (f *File) Walk(name string) (*File, error) {
	switch {
	case !f.IsDir():
		return nil, errorf(f.Path, ErrNotDir, "")
	case name == "" || strings.IndexByte(name, '/') >= 0:
		return nil, errorf(f.Path, ErrNotFound, "bad name %q", name)
	case name == ".":
		return f, nil
	case name == "..":
		if f.up == nil {
			return f, nil
		}
		return f.up, nil
	}
	nb := f.msource.numBlocks()
	for bn := uint64(0); bn < nb; bn++ {
		mb, err := f.msource.metaBlock(bn)
		if err != nil {
			return nil, err
		}
		i, ok := mb.Search(name)
		if !ok {
			continue
		}
		d, err := mb.DirEntry(i)
		if err != nil {
			return nil, within(fmt.Sprintf("%s: meta block %d", f.msource.where, bn), err)
		}
		return f.open(d)
	}
	return nil, errorf(f.child(name), ErrNotFound, "")
}

// open opens the sources of the directory entry d of directory f,
// checking their generations and kinds as fossil does.
func (f *File) open(d vac.DirEntry) (*File, error) {
	ff := &File{r: f.r, Dir: d, Path: f.child(d.Elem), up: f}
	var err error
	if ff.source, err = f.openSource(ff.Path, d.Entry, d.Gen, d.IsDir()); err != nil {
		return nil, err
	}
	if d.IsDir() {
		if ff.msource, err = f.openSource(ff.Path+" (meta)", d.MEntry, d.MGen, false); err != nil {
			return nil, err
		}
	} else {
		ff.Dir.Size = ff.source.Size()
	}
	return ff, nil
}

func (f *File) openSource(path string, i, gen uint32, dir bool) (*Source, error) {
	e, err := f.source.EntryAt(i)
	if err != nil {
		return nil, err
	}
	s, err := f.r.openSource(e, path)
	if err != nil {
		return nil, err
	}
	switch {
	case s.Entry.Gen != gen:
		return nil, errorf(path, ErrRemoved, "entry %d has generation %d, want %d", i, s.Entry.Gen, gen)
	case s.Entry.IsDir() != dir:
		return nil, errorf(path, vac.ErrBadMeta, "entry %d: dir mismatch %v %v", i, s.Entry.IsDir(), dir)
	}
	return s, nil
}

// Open walks a slash-separated path from f.
func (f *File) Open(path string) (*File, error) {
	for _, elem := range strings.Split(path, "/") {
		if elem == "" {
			continue
		}
		var err error
		if f, err = f.Walk(elem); err != nil {
			return nil, err
		}
	}
	return f, nil
}
