package vtdisk

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
)

// This file holds what the formatters (venti/fmtarenas, fmtisect,
// fmtindex, fmtbloom) write. Each layout is computed in full first,
// with every check the C tools make along the way, so that a formatter
// can refuse a partition before it has written a byte; the Write
// functions then lay the structures down.

// MinArenaSize is the smallest arena fmtarenas makes, and the least
// that is left to a last arena rather than folded into the one before
// it (the C MinArenaSize).
const MinArenaSize = 1 << 20

// NewClumpMagic returns a random clump magic for a version 5 arena:
// never ClumpFreeMagic (zero) nor OldClumpMagic.
func NewClumpMagic() uint32 {
	for {
		if m := rand.Uint32(); m != ClumpFreeMagic && m != OldClumpMagic {
			return m
		}
	}
}

// NewBucketMagic returns a random bucket magic for a version 2 index
// section: never zero.
func NewBucketMagic() uint32 {
	for {
		if m := rand.Uint32(); m != 0 {
			return m
		}
	}
}

// ArenaPartLayout is the arena partition fmtarenas makes: the header,
// and the arenas' names and byte ranges in the map.
type ArenaPartLayout struct {
	Header ArenaPart
	Map    []AMap
	// Size is the partition size rounded down to the block size; the
	// arenas fill [Header.ArenaBase, Size).
	Size uint64
}

// Storage is the space for arenas: "bytes storage" in fmtarenas's report.
func (l *ArenaPartLayout) Storage() uint64 { return l.Size - uint64(l.Header.ArenaBase) }

// LayoutArenaPart plans an arena partition of size bytes as fmtarenas
// does: the map table takes tableSize bytes (rounded up to the block
// size) after the header, and the rest is cut into arenas of arenaSize
// bytes named prefix0, prefix1, ...; a remainder of at least
// MinArenaSize makes one more arena, a smaller one goes to the last.
//
// Unlike the C fmtarenas, which writes what it can and then stops, it
// refuses up front a partition with room for no arena, an arena size
// that is smaller than MinArenaSize (with which the C arithmetic always
// ends in a runt arena) or not a multiple of the block size, names that
// do not fit and a map that does not fit its table.
func LayoutArenaPart(size int64, blockSize, tableSize uint32, arenaSize uint64, prefix string) (*ArenaPartLayout, error) {
	const where = "arena partition layout"
	if !okBlockSize(blockSize) {
		return nil, errorf(where, ErrCorrupt, "bad block size %d: want a power of two from %d to %d", blockSize, MinBlockSize, MaxBlockSize)
	}
	bs := uint64(blockSize)
	if arenaSize < MinArenaSize {
		return nil, errorf(where, ErrCorrupt, "arena size %d is less than the minimum %d", arenaSize, MinArenaSize)
	}
	if arenaSize%bs != 0 {
		return nil, errorf(where, ErrCorrupt, "arena size %d is not a multiple of the block size %d", arenaSize, bs)
	}
	if !ValidName(prefix) {
		return nil, errorf(where, ErrCorrupt, "illegal name template %q", prefix)
	}
	tb := tableBase(blockSize)
	base := roundUp(tb+uint64(tableSize), bs)
	if base > 1<<32-1 {
		return nil, errorf(where, ErrTooLarge, "table of %d bytes", tableSize)
	}
	l := &ArenaPartLayout{
		Header: ArenaPart{Version: ArenaPartVersion, BlockSize: blockSize, ArenaBase: uint32(base)},
		Size:   uint64(size) &^ (bs - 1),
	}
	if size < 0 || l.Size < base+MinArenaSize {
		return nil, errorf(where, ErrShort, "partition of %d bytes has no room for an arena: need at least %d", size, base+MinArenaSize)
	}
	storage := l.Size - base
	n := storage / arenaSize
	if storage-n*arenaSize >= MinArenaSize {
		n++
	}
	if n > MaxAMap {
		return nil, errorf(where, ErrTooLarge, "%d arenas, more than %d", n, MaxAMap)
	}
	addr := base
	for i := uint64(0); i < n; i++ {
		limit := addr + arenaSize
		if limit >= l.Size || l.Size-limit < MinArenaSize {
			limit = l.Size
			if limit-addr < MinArenaSize {
				return nil, errorf(where, ErrCorrupt, "bad arena set math: runt arena at %d,%d %d", addr, limit, l.Size)
			}
		}
		name := prefix + itoa(i)
		if !ValidName(name) {
			return nil, errorf(where, ErrTooLarge, "arena name %q is too long", name)
		}
		l.Map = append(l.Map, AMap{Name: name, Start: addr, Stop: limit})
		addr = limit
	}
	if err := PackAMap(make([]byte, l.Header.TableSize()), l.Map); err != nil {
		return nil, err
	}
	return l, nil
}

// WriteArenaPart writes the header of an arena partition (a HeadSize
// block at PartBlank) and its map table, NUL-padded, from TableBase to
// ArenaBase. Nothing is written if the map does not fit its table.
func WriteArenaPart(w io.WriterAt, h *ArenaPart, m []AMap) error {
	table := make([]byte, h.TableSize())
	if err := PackAMap(table, m); err != nil {
		return err
	}
	head := make([]byte, HeadSize)
	if err := h.Pack(head); err != nil {
		return err
	}
	if err := writeAt(w, head, PartBlank, wherePartHead); err != nil {
		return err
	}
	return writeAt(w, table, int64(h.TableBase()), "arena map")
}

// FormatArena writes an empty arena described by head at partition
// offset off, as fmtarenas does: the head block, a zero block where the
// clump log starts (which ends the log) and a trailer with no clumps.
// The rest of the arena is left alone.
func FormatArena(w io.WriterAt, off int64, head *ArenaHead) error {
	bs := int64(head.BlockSize)
	if !okBlockSize(head.BlockSize) || head.Size < 3*uint64(bs) || head.Size%uint64(bs) != 0 {
		return errorf(whereHead, ErrCorrupt, "bad size %d for block size %d", head.Size, bs)
	}
	block := make([]byte, bs)
	if err := head.Pack(block); err != nil {
		return err
	}
	tail := ArenaTail{Version: head.Version, Name: head.Name, ClumpMagic: head.ClumpMagic}
	tblock := make([]byte, bs)
	if err := tail.Pack(tblock); err != nil {
		return err
	}
	where := "arena " + head.Name
	if err := writeAt(w, block, off, where+": head"); err != nil {
		return err
	}
	if err := writeAt(w, make([]byte, bs), off+bs, where+": clump log"); err != nil {
		return err
	}
	return writeAt(w, tblock, off+int64(head.Size)-bs, where+": trailer")
}

// NewISect returns the header fmtisect writes on a partition of size
// bytes: the index map table takes tableSize bytes (rounded up to the
// block size) after the header, and the rest holds as many buckets of
// blockSize bytes as fit. Version 2 sections get a random bucket magic.
// A partition with room for no bucket is refused.
func NewISect(size int64, name string, blockSize, tableSize, version uint32) (*ISect, error) {
	const where = "index section layout"
	if !okBlockSize(blockSize) {
		return nil, errorf(where, ErrCorrupt, "bad block size %d: want a power of two from %d to %d", blockSize, MinBlockSize, MaxBlockSize)
	}
	if !ValidName(name) {
		return nil, errorf(where, ErrCorrupt, "illegal name %q", name)
	}
	if version != ISectVersion1 && version != ISectVersion2 {
		return nil, errorf(where, ErrVersion, "%d", version)
	}
	bs := uint64(blockSize)
	base := roundUp(tableBase(blockSize)+uint64(tableSize), bs)
	if base > 1<<32-1 {
		return nil, errorf(where, ErrTooLarge, "table of %d bytes", tableSize)
	}
	if size < 0 || uint64(size)/bs <= base/bs {
		return nil, errorf(where, ErrShort, "partition of %d bytes has no room for a bucket: need at least %d", size, base+bs)
	}
	blocks := uint64(size)/bs - base/bs
	if blocks > 1<<32-1 {
		return nil, errorf(where, ErrTooLarge, "%d buckets", blocks)
	}
	s := &ISect{Version: version, Name: name, BlockSize: blockSize, BlockBase: uint32(base), Blocks: uint32(blocks)}
	if version == ISectVersion2 {
		s.BucketMagic = NewBucketMagic()
	}
	return s, nil
}

// WriteISect writes the section header: a HeadSize block at PartBlank.
func WriteISect(w io.WriterAt, s *ISect) error {
	buf := make([]byte, HeadSize)
	if err := s.Pack(buf); err != nil {
		return err
	}
	return writeAt(w, buf, PartBlank, whereISect)
}

// WriteIndexMap writes the index map into the table of section s, from
// TableBase to BlockBase, NUL-padded. Nothing is written if it does not
// fit.
func WriteIndexMap(w io.WriterAt, s *ISect, m *IndexMap) error {
	table := make([]byte, s.TableSize())
	if err := m.Pack(table); err != nil {
		return err
	}
	return writeAt(w, table, int64(s.TableBase()), whereIndexMap)
}

// LayoutIndex divides the buckets of a new index named name among its
// sections, in order, as fmtindex does: the sections must be freshly
// formatted (no index, no buckets) with one block size and one table
// size and distinct names. The index uses the most buckets for which a
// divisor of at least 100 reaches exactly that many (see Divisor);
// the buckets left over are taken evenly from the sections, and the
// last section ends at the last bucket. LayoutIndex sets the sections'
// Index, Start and Stop and returns the section map.
func LayoutIndex(name string, sects []*ISect) ([]AMap, error) {
	where := "index " + name
	if !ValidName(name) || name == "" {
		return nil, errorf(where, ErrCorrupt, "illegal index name %q", name)
	}
	if len(sects) == 0 {
		return nil, errorf(where, ErrCorrupt, "no index sections")
	}
	var nb uint64
	for i, s := range sects {
		switch {
		case s.Start != 0 || s.Stop != 0 || s.Index != "":
			return nil, errorf(where, ErrCorrupt, "creating new index using non-empty section %s", s.Name)
		case s.BlockSize != sects[0].BlockSize:
			return nil, errorf(where, ErrCorrupt, "mismatched block sizes in index sections")
		case s.TableSize() != sects[0].TableSize():
			return nil, errorf(where, ErrCorrupt, "mismatched config table sizes in index sections")
		}
		for _, t := range sects[:i] {
			if t.Name == s.Name {
				return nil, errorf(where, ErrCorrupt, "duplicate section name %s", s.Name)
			}
		}
		nb += uint64(s.Blocks)
	}
	if nb >= 1<<32 {
		return nil, errorf(where, ErrTooLarge, "%d buckets: index too large", nb)
	}
	if nb == 0 {
		return nil, errorf(where, ErrShort, "no buckets")
	}
	div := (1<<32 + nb - 1) / nb
	ub := (1<<32-1)/div + 1
	if div < 100 {
		return nil, errorf(where, ErrCorrupt, "index divisor %d too coarse", div)
	}
	if ub > nb {
		return nil, errorf(where, ErrCorrupt, "index initialization math wrong: %d of %d buckets", ub, nb)
	}
	xb := nb - ub
	n := uint64(len(sects))
	m := make([]AMap, len(sects))
	var start uint64
	for i, s := range sects {
		stop := start + uint64(s.Blocks) - xb/n
		if i == len(sects)-1 {
			stop = ub
		}
		if stop < start || stop-start > uint64(s.Blocks) {
			return nil, errorf(where, ErrCorrupt, "section %s cannot hold buckets [%d,%d)", s.Name, start, stop)
		}
		m[i] = AMap{Name: s.Name, Start: start, Stop: stop}
		start = stop
	}
	for i, s := range sects {
		s.Index, s.Start, s.Stop = name, uint32(m[i].Start), uint32(m[i].Stop)
	}
	return m, nil
}

// LayoutIndexArenas returns the arena part of an index map for arenas,
// in the order the configuration lists them: each arena gets DataSize
// index addresses, the first starting at IndexBase. With old, the
// arenas of an existing index map (fmtindex -a), the arenas must start
// with the same names and the existing ranges are kept; the new arenas
// follow them.
func LayoutIndexArenas(old []AMap, arenas []*Arena) ([]AMap, error) {
	const where = "index map: arenas"
	if len(arenas) < len(old) {
		return nil, errorf(where, ErrCorrupt, "the index maps %d arenas, the configuration has only %d", len(old), len(arenas))
	}
	if len(arenas) > MaxAMap {
		return nil, errorf(where, ErrTooLarge, "%d arenas, more than %d", len(arenas), MaxAMap)
	}
	m := make([]AMap, len(arenas))
	addr := uint64(IndexBase)
	for i, a := range arenas {
		for _, b := range arenas[:i] {
			if b.Name() == a.Name() {
				return nil, errorf(where, ErrCorrupt, "duplicate arena name %s", a.Name())
			}
		}
		if i < len(old) {
			if old[i].Name != a.Name() {
				return nil, errorf(where, ErrCorrupt, "mismatched arenas %s and %s at slot %d", a.Name(), old[i].Name, i)
			}
			if old[i].Start != addr {
				return nil, errorf(where, ErrCorrupt, "mis-located arena %s at %d, want %d", a.Name(), old[i].Start, addr)
			}
			m[i] = old[i]
		} else {
			m[i] = AMap{Name: a.Name(), Start: addr, Stop: addr + a.DataSize()}
		}
		addr = m[i].Stop
	}
	return m, nil
}

// PrintSummary writes what the C printarena function prints about the
// arena, as venti/rdarena and venti/printarena show it on standard
// error: its name and range, version, times and statistics.
func (a *Arena) PrintSummary(w io.Writer) { a.printSummary(w) }

// ZeroRange writes n zero bytes at offset off of w, in large writes.
// If progress is not nil it is called after each write with the
// number of bytes written so far.
func ZeroRange(w io.WriterAt, off, n int64, progress func(done int64)) error {
	buf := make([]byte, min(n, 1<<20))
	for done := int64(0); done < n; {
		k := min(int64(len(buf)), n-done)
		if err := writeAt(w, buf[:k], off+done, "zeroing"); err != nil {
			return err
		}
		done += k
		if progress != nil {
			progress(done)
		}
	}
	return nil
}

func writeAt(w io.WriterAt, buf []byte, off int64, where string) error {
	if _, err := w.WriteAt(buf, off); err != nil {
		return &Error{Where: where, Err: fmt.Errorf("write at %#x: %w", off, err)}
	}
	return nil
}

// A Partition is a partition named as venti.conf and the venti tools
// name them: a file or disk partition, or a byte range of one,
// "file:lo-hi" (see ParsePartName). Offsets in ReadAt and WriteAt are
// relative to the start of the range, and neither goes past its end.
type Partition struct {
	Name   string // as given
	File   string // the file it lies in
	Offset int64  // where in File it starts
	Size   int64  // its length in bytes

	f *os.File
}

// OpenPartition opens the partition name, for writing too if writable.
// A range must lie inside the file, and the partition must not be
// empty. The size of a disk partition is found as SizeOf does.
func OpenPartition(name string, writable bool) (*Partition, error) {
	file, lo, hi, err := ParsePartName(name)
	if err != nil {
		return nil, err
	}
	flag := os.O_RDONLY
	if writable {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(file, flag, 0)
	if err != nil {
		return nil, err
	}
	length, err := SizeOf(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if uint64(length) < hi || uint64(length) < lo {
		f.Close()
		return nil, fmt.Errorf("partition '%s': bounds out of range (max %d)", name, length)
	}
	if hi == 0 {
		hi = uint64(length)
	}
	if hi <= lo {
		f.Close()
		return nil, fmt.Errorf("partition '%s' is empty", name)
	}
	return &Partition{Name: name, File: file, Offset: int64(lo), Size: int64(hi - lo), f: f}, nil
}

var errPastEnd = errors.New("past the end of the partition")

// ReadAt reads from the partition; a read that reaches its end returns
// io.EOF with what there was.
func (p *Partition) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= p.Size {
		return 0, io.EOF
	}
	if rest := p.Size - off; int64(len(b)) > rest {
		n, err := p.f.ReadAt(b[:rest], p.Offset+off)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return p.f.ReadAt(b, p.Offset+off)
}

// WriteAt writes into the partition; a write that would go past its
// end writes nothing.
func (p *Partition) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off > p.Size || int64(len(b)) > p.Size-off {
		return 0, fmt.Errorf("%w: %d bytes at %d of %d", errPastEnd, len(b), off, p.Size)
	}
	return p.f.WriteAt(b, p.Offset+off)
}

// Sync commits what was written to stable storage.
func (p *Partition) Sync() error { return p.f.Sync() }

// Close closes the partition's file.
func (p *Partition) Close() error { return p.f.Close() }
