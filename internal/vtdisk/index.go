package vtdisk

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/plan9fossil/fossil/venti"
)

// ISect is the header of an index section, at offset PartBlank.
//
//	off size
//	  0    4  magic ISectMagic
//	  4    4  version (1 or 2)
//	  8   64  section name, NUL-padded
//	 72   64  name of the index it belongs to (empty until fmtindex)
//	136    4  block (bucket) size
//	140    4  block base: partition offset of bucket block 0
//	144    4  blocks: bucket blocks the section has room for
//	148    4  start: first bucket number kept here
//	152    4  stop: bucket numbers [start, stop) are kept here
//	156    4  bucket magic (version 2 only; never zero)
//
// The rest of the HeadSize bytes are zero. The index map (IndexMap)
// starts at TableBase and runs to BlockBase. Bucket b of the index is
// the block at BlockBase + (b-Start)*BlockSize.
type ISect struct {
	Version     uint32
	Name        string
	Index       string
	BlockSize   uint32
	BlockBase   uint32
	Blocks      uint32
	Start, Stop uint32
	BucketMagic uint32
}

const whereISect = "index section header"

// PackedSize is the size of the packed header for its version.
func (s *ISect) PackedSize() int {
	if s.Version == ISectVersion1 {
		return ISectSize1
	}
	return ISectSize2
}

// Unpack reads the header from the start of buf.
func (s *ISect) Unpack(buf []byte) error {
	if len(buf) < ISectSize1 {
		return short(whereISect, len(buf), ISectSize1)
	}
	if m := be.Uint32(buf); m != ISectMagic {
		return badMagic(whereISect, m, ISectMagic)
	}
	var x ISect
	x.Version = be.Uint32(buf[4:])
	if x.Version != ISectVersion1 && x.Version != ISectVersion2 {
		return errorf(whereISect, ErrVersion, "%d", x.Version)
	}
	var err error
	if x.Name, err = getName(whereISect, buf[8:]); err != nil {
		return err
	}
	if x.Index, err = getName(whereISect, buf[72:]); err != nil {
		return err
	}
	x.BlockSize = be.Uint32(buf[136:])
	x.BlockBase = be.Uint32(buf[140:])
	x.Blocks = be.Uint32(buf[144:])
	x.Start = be.Uint32(buf[148:])
	x.Stop = be.Uint32(buf[152:])
	if x.Version == ISectVersion2 {
		if len(buf) < ISectSize2 {
			return short(whereISect, len(buf), ISectSize2)
		}
		x.BucketMagic = be.Uint32(buf[156:])
	}
	*s = x
	return nil
}

// Pack writes the header into the first PackedSize bytes of buf.
func (s *ISect) Pack(buf []byte) error {
	switch s.Version {
	case ISectVersion1:
		if s.BucketMagic != 0 {
			return errorf(whereISect, ErrCorrupt, "version 1 cannot record bucket magic %#08x", s.BucketMagic)
		}
	case ISectVersion2:
	default:
		return errorf(whereISect, ErrVersion, "%d", s.Version)
	}
	if len(buf) < s.PackedSize() {
		return short(whereISect, len(buf), s.PackedSize())
	}
	if !ValidName(s.Name) || !ValidName(s.Index) {
		return errorf(whereISect, ErrCorrupt, "bad name %q or index name %q", s.Name, s.Index)
	}
	be.PutUint32(buf, ISectMagic)
	be.PutUint32(buf[4:], s.Version)
	putName(buf[8:], s.Name)
	putName(buf[72:], s.Index)
	be.PutUint32(buf[136:], s.BlockSize)
	be.PutUint32(buf[140:], s.BlockBase)
	be.PutUint32(buf[144:], s.Blocks)
	be.PutUint32(buf[148:], s.Start)
	be.PutUint32(buf[152:], s.Stop)
	if s.Version == ISectVersion2 {
		be.PutUint32(buf[156:], s.BucketMagic)
	}
	return nil
}

// TableBase is the partition offset of the index map copy.
func (s *ISect) TableBase() uint64 { return tableBase(s.BlockSize) }

// TableSize is the room for the index map: from TableBase to BlockBase.
func (s *ISect) TableSize() uint64 { return uint64(s.BlockBase) - s.TableBase() }

// BucketMax is the most entries a bucket block holds.
func (s *ISect) BucketMax() int { return (int(s.BlockSize) - BucketHeadSize) / IEntrySize }

// BucketOffset is the partition offset of bucket b, which must be in
// [Start, Stop).
func (s *ISect) BucketOffset(b uint32) int64 {
	return int64(s.BlockBase) + int64(b-s.Start)*int64(s.BlockSize)
}

// IndexMagic is the first line of the index map.
const IndexMagic = "venti index configuration"

// IndexMap is the index configuration that fmtindex writes, the same
// copy into every index section between its header and its buckets
// (the "index map" of the fmt tools). It is text:
//
//	venti index configuration
//	<version: 1>
//	<index name>
//	<bucket block size>
//	<number of sections>
//	<section name> TAB <first bucket> TAB <bucket limit>     (one per section)
//	<number of arenas>
//	<arena name> TAB <start address> TAB <stop address>     (one per arena)
//
// then NUL bytes to the end of the table. Arena i holds index
// addresses [start, stop): start is IndexBase plus the data sizes of
// the arenas before it, and stop-start is its DataSize.
type IndexMap struct {
	Version   uint32
	Name      string
	BlockSize uint32
	Sects     []AMap // bucket ranges of the sections, in order
	Arenas    []AMap // index address ranges of the arenas, in order
}

const whereIndexMap = "index map"

// Unpack parses the index map from table, the bytes between an index
// section's header and its buckets.
func (m *IndexMap) Unpack(table []byte) error {
	l := newLines(cText(table), false)
	if s, ok := l.next(); !ok || s != IndexMagic {
		return errorf(whereIndexMap, ErrBadMagic, "no %q line", IndexMagic)
	}
	var x IndexMap
	s, _ := l.next()
	v, ok := parseDecimal(s, 32)
	if !ok {
		return errorf(whereIndexMap, ErrCorrupt, "bad version %q", s)
	}
	if v != IndexVersion {
		return errorf(whereIndexMap, ErrVersion, "%d", v)
	}
	x.Version = uint32(v)
	if x.Name, ok = l.next(); !ok || !ValidName(x.Name) {
		return errorf(whereIndexMap, ErrCorrupt, "bad index name %q", x.Name)
	}
	s, _ = l.next()
	v, ok = parseDecimal(s, 32)
	if !ok {
		return errorf(whereIndexMap, ErrCorrupt, "bad block size %q", s)
	}
	x.BlockSize = uint32(v)
	var err error
	if x.Sects, err = parseAMap(l, whereIndexMap+": sections"); err != nil {
		return err
	}
	if x.Arenas, err = parseAMap(l, whereIndexMap+": arenas"); err != nil {
		return err
	}
	*m = x
	return nil
}

// Pack formats the index map into table, NUL-padded, as fmtindex does.
// It fails, writing nothing, if the text does not fit.
func (m *IndexMap) Pack(table []byte) error {
	if m.Version != IndexVersion {
		return errorf(whereIndexMap, ErrVersion, "%d", m.Version)
	}
	if !ValidName(m.Name) || m.Name == "" {
		return errorf(whereIndexMap, ErrCorrupt, "bad index name %q", m.Name)
	}
	b := []byte(IndexMagic + "\n")
	b = strconv.AppendUint(b, uint64(m.Version), 10)
	b = append(b, '\n')
	b = append(b, m.Name...)
	b = append(b, '\n')
	b = strconv.AppendUint(b, uint64(m.BlockSize), 10)
	b = append(b, '\n')
	var err error
	if b, err = appendAMap(b, m.Sects, whereIndexMap+": sections"); err != nil {
		return err
	}
	if b, err = appendAMap(b, m.Arenas, whereIndexMap+": arenas"); err != nil {
		return err
	}
	return putText(table, b, whereIndexMap)
}

// Buckets is the number of buckets of the index: where the last
// section's range stops.
func (m *IndexMap) Buckets() uint32 {
	if len(m.Sects) == 0 {
		return 0
	}
	return uint32(m.Sects[len(m.Sects)-1].Stop)
}

// Divisor returns the divisor that spreads the 2^32 values of a score's
// first four bytes evenly over n buckets: ceil(2^32/n). Not every n
// works: ok is false unless exactly n buckets are reachable (the C
// fmtindex picks such an n).
func Divisor(n uint32) (div uint32, ok bool) {
	if n == 0 {
		return 0, false
	}
	d := (uint64(1)<<32 + uint64(n) - 1) / uint64(n)
	if d > 0xffffffff {
		return 0, false
	}
	return uint32(d), (uint64(1)<<32-1)/d+1 == uint64(n)
}

// BucketOf is the bucket that keeps score: its first four bytes as a
// big-endian number, divided by div.
func BucketOf(score venti.Score, div uint32) uint32 {
	return be.Uint32(score[:4]) / div
}

// IEntry is an index entry, kept in buckets sorted by score then type.
//
//	off size
//	  0   20  score
//	 20    4  wtime (written by the C venti, not used when reading)
//	 24    2  train (likewise)
//	 26    8  index address of the clump (arena start in the map + offset)
//	 34    2  size of the data, uncompressed
//	 36    1  type, disk numbering
//	 37    1  blocks: length of clump header and stored bytes in 512-byte units
type IEntry struct {
	Score  venti.Score
	WTime  uint32
	Train  uint16
	Addr   uint64
	Size   uint16
	Type   venti.DiskType
	Blocks uint8
}

// Unpack reads the entry from the first IEntrySize bytes of buf, which
// must hold them.
func (e *IEntry) Unpack(buf []byte) {
	_ = buf[IEntrySize-1]
	copy(e.Score[:], buf)
	e.WTime = be.Uint32(buf[20:])
	e.Train = be.Uint16(buf[24:])
	e.Addr = be.Uint64(buf[26:])
	e.Size = be.Uint16(buf[34:])
	e.Type = venti.DiskType(buf[36])
	e.Blocks = buf[37]
}

// Pack writes the entry into the first IEntrySize bytes of buf, which
// must have room.
func (e *IEntry) Pack(buf []byte) {
	_ = buf[IEntrySize-1]
	copy(buf, e.Score[:])
	be.PutUint32(buf[20:], e.WTime)
	be.PutUint16(buf[24:], e.Train)
	be.PutUint64(buf[26:], e.Addr)
	be.PutUint16(buf[34:], e.Size)
	buf[36] = byte(e.Type)
	buf[37] = e.Blocks
}

// compare orders entries as the buckets keep them: by score, then type.
func (e *IEntry) compare(s venti.Score, t venti.DiskType) int {
	if c := bytes.Compare(e.Score[:], s[:]); c != 0 {
		return c
	}
	return int(e.Type) - int(t)
}

// Bucket is an index bucket: one block of an index section.
//
//	off size
//	  0    2  n: entries in use
//	  2    4  the section's bucket magic (version 2 sections)
//	  6       n IEntry, sorted by score then type; the rest is unused
//
// In a version 2 section a bucket whose magic is not the section's has
// never been written since the section was formatted and counts as
// empty, whatever its n says.
type Bucket struct {
	Magic   uint32
	Entries []IEntry
}

const whereBucket = "bucket"

// Unpack reads a bucket block. sectMagic is the section's BucketMagic
// (zero for version 1 sections, whose buckets are always valid).
func (b *Bucket) Unpack(buf []byte, sectMagic uint32) error {
	if len(buf) < BucketHeadSize {
		return short(whereBucket, len(buf), BucketHeadSize)
	}
	n := int(be.Uint16(buf))
	x := Bucket{Magic: be.Uint32(buf[2:])}
	if sectMagic != 0 && x.Magic != sectMagic {
		*b = x
		return nil
	}
	if max := (len(buf) - BucketHeadSize) / IEntrySize; n > max {
		return errorf(whereBucket, ErrCorrupt, "%d entries, room for %d", n, max)
	}
	x.Entries = make([]IEntry, n)
	for i := range x.Entries {
		x.Entries[i].Unpack(buf[BucketHeadSize+i*IEntrySize:])
	}
	*b = x
	return nil
}

// PackedSize is the size of the bucket's header and entries.
func (b *Bucket) PackedSize() int { return BucketHeadSize + len(b.Entries)*IEntrySize }

// Pack writes the bucket's header and entries at the start of buf,
// which is usually a whole bucket block; the rest of buf is left alone.
// The entries must already be sorted (see Sort).
func (b *Bucket) Pack(buf []byte) error {
	if len(b.Entries) > 0xffff {
		return errorf(whereBucket, ErrTooLarge, "%d entries", len(b.Entries))
	}
	if len(buf) < b.PackedSize() {
		return errorf(whereBucket, ErrTooLarge, "%d entries in %d bytes", len(b.Entries), len(buf))
	}
	be.PutUint16(buf, uint16(len(b.Entries)))
	be.PutUint32(buf[2:], b.Magic)
	for i := range b.Entries {
		b.Entries[i].Pack(buf[BucketHeadSize+i*IEntrySize:])
	}
	return nil
}

// Sort puts the entries in the order buckets keep them.
func (b *Bucket) Sort() {
	sort.SliceStable(b.Entries, func(i, j int) bool {
		return b.Entries[i].compare(b.Entries[j].Score, b.Entries[j].Type) < 0
	})
}

// Find looks for the entry of score with type t in the sorted bucket.
// With anyType set, the type is ignored and some entry of the score is
// returned.
func (b *Bucket) Find(score venti.Score, t venti.DiskType, anyType bool) (*IEntry, bool) {
	lo, hi := 0, len(b.Entries)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		e := &b.Entries[m]
		c := bytes.Compare(e.Score[:], score[:])
		if c == 0 && !anyType {
			c = int(e.Type) - int(t)
		}
		switch {
		case c == 0:
			return e, true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return nil, false
}

// IndexSection is an index section partition opened for reading.
type IndexSection struct {
	Header ISect
	// Size is the partition size.
	Size int64

	r io.ReaderAt
}

// OpenIndexSection reads the header of the index section r, of the
// given size in bytes, and checks its geometry.
func OpenIndexSection(r io.ReaderAt, size int64) (*IndexSection, error) {
	buf := make([]byte, HeadSize)
	where := fmt.Sprintf("%s at %#x", whereISect, PartBlank)
	if err := readAt(r, buf, PartBlank, where); err != nil {
		return nil, err
	}
	s := &IndexSection{Size: size, r: r}
	if err := s.Header.Unpack(buf); err != nil {
		return nil, relocate(err, where)
	}
	h := &s.Header
	where = "index section " + h.Name
	switch {
	case !okBlockSize(h.BlockSize):
		return nil, errorf(where, ErrCorrupt, "bad block size %d", h.BlockSize)
	case uint64(h.BlockBase) <= h.TableBase():
		return nil, errorf(where, ErrCorrupt, "block base %d overlaps the index map at %d", h.BlockBase, h.TableBase())
	case h.BlockBase%h.BlockSize != 0:
		return nil, errorf(where, ErrCorrupt, "block base %d is not a multiple of the block size %d", h.BlockBase, h.BlockSize)
	case int64(h.BlockBase)+int64(h.Blocks)*int64(h.BlockSize) > size:
		return nil, errorf(where, ErrShort, "%d blocks at %d do not fit in %d bytes", h.Blocks, h.BlockBase, size)
	case h.Start > h.Stop || h.Stop-h.Start > h.Blocks:
		return nil, errorf(where, ErrCorrupt, "buckets [%d,%d) do not fit in %d blocks", h.Start, h.Stop, h.Blocks)
	}
	return s, nil
}

// ReadMap reads the section's copy of the index map.
func (s *IndexSection) ReadMap() (*IndexMap, error) {
	table := make([]byte, s.Header.TableSize())
	where := fmt.Sprintf("index section %s: table at %#x", s.Header.Name, s.Header.TableBase())
	if err := readAt(s.r, table, int64(s.Header.TableBase()), where); err != nil {
		return nil, err
	}
	var m IndexMap
	if err := m.Unpack(table); err != nil {
		return nil, within(where, err)
	}
	return &m, nil
}

// ReadBucket reads bucket b, which the section must keep.
func (s *IndexSection) ReadBucket(b uint32) (*Bucket, error) {
	h := &s.Header
	where := fmt.Sprintf("index section %s: bucket %d", h.Name, b)
	if b < h.Start || b >= h.Stop {
		return nil, errorf(where, ErrCorrupt, "not in the section's range [%d,%d)", h.Start, h.Stop)
	}
	buf := make([]byte, h.BlockSize)
	off := h.BucketOffset(b)
	where = fmt.Sprintf("%s at %#x", where, off)
	if err := readAt(s.r, buf, off, where); err != nil {
		return nil, err
	}
	var bk Bucket
	if err := bk.Unpack(buf, h.BucketMagic); err != nil {
		return nil, relocate(err, where)
	}
	return &bk, nil
}

// Index is an index opened for lookups: its map and its sections.
type Index struct {
	Map   IndexMap
	Sects []*IndexSection
	// Div is the bucket divisor: score bucket = first 4 bytes / Div.
	Div uint32
}

// OpenIndex makes an index of its sections, in the order of the
// configuration. It reads the index map from the first section and
// checks that the sections agree with it (the C initindex).
func OpenIndex(sects ...*IndexSection) (*Index, error) {
	if len(sects) == 0 {
		return nil, errorf("index", ErrCorrupt, "no sections")
	}
	m, err := sects[0].ReadMap()
	if err != nil {
		return nil, err
	}
	where := "index " + m.Name
	if len(m.Sects) != len(sects) {
		return nil, errorf(where, ErrCorrupt, "map names %d sections, have %d", len(m.Sects), len(sects))
	}
	var last uint64
	for i, s := range sects {
		h := &s.Header
		sm := m.Sects[i]
		switch {
		case h.Index != m.Name:
			err = fmt.Errorf("section %s belongs to index %q", h.Name, h.Index)
		case h.BlockSize != m.BlockSize:
			err = fmt.Errorf("section %s has block size %d, index %d", h.Name, h.BlockSize, m.BlockSize)
		case h.TableSize() != sects[0].Header.TableSize():
			err = fmt.Errorf("section %s has a %d-byte map table, %s %d", h.Name, h.TableSize(), sects[0].Header.Name, sects[0].Header.TableSize())
		case h.Name != sm.Name || uint64(h.Start) != sm.Start || uint64(h.Stop) != sm.Stop:
			err = fmt.Errorf("section %s [%d,%d) is not map entry %d: %s [%d,%d)", h.Name, h.Start, h.Stop, i, sm.Name, sm.Start, sm.Stop)
		case uint64(h.Start) != last:
			err = fmt.Errorf("section %s starts at bucket %d, not %d", h.Name, h.Start, last)
		}
		if err != nil {
			return nil, errorf(where, ErrCorrupt, "%v", err)
		}
		last = uint64(h.Stop)
	}
	div, ok := Divisor(uint32(last))
	if !ok {
		return nil, errorf(where, ErrCorrupt, "no divisor spreads scores over %d buckets", last)
	}
	if err := checkAMap(m.Arenas, 0, 1<<63, where+": arenas"); err != nil {
		return nil, err
	}
	return &Index{Map: *m, Sects: sects, Div: div}, nil
}

// Buckets is the number of buckets.
func (ix *Index) Buckets() uint32 { return ix.Map.Buckets() }

// Bucket is the bucket that keeps score.
func (ix *Index) Bucket(score venti.Score) uint32 { return BucketOf(score, ix.Div) }

// Section returns the section that keeps bucket b.
func (ix *Index) Section(b uint32) (*IndexSection, bool) {
	i := sort.Search(len(ix.Sects), func(i int) bool { return ix.Sects[i].Header.Stop > b })
	if i == len(ix.Sects) || b < ix.Sects[i].Header.Start {
		return nil, false
	}
	return ix.Sects[i], true
}

// ReadBucket reads bucket b from the section that keeps it.
func (ix *Index) ReadBucket(b uint32) (*Bucket, error) {
	s, ok := ix.Section(b)
	if !ok {
		return nil, errorf(fmt.Sprintf("index %s: bucket %d", ix.Map.Name, b), ErrCorrupt, "no section keeps it")
	}
	return s.ReadBucket(b)
}

// Lookup finds the index entry of score with disk type t (any type
// if anyType is set). found is false, with a nil error, when the index
// has no such entry.
func (ix *Index) Lookup(score venti.Score, t venti.DiskType, anyType bool) (e IEntry, found bool, err error) {
	bk, err := ix.ReadBucket(ix.Bucket(score))
	if err != nil {
		return IEntry{}, false, err
	}
	p, ok := bk.Find(score, t, anyType)
	if !ok {
		return IEntry{}, false, nil
	}
	return *p, true, nil
}

// ArenaAt maps an index address to an arena: its position in the map
// and the arena address (offset in the clump log) of addr.
func (ix *Index) ArenaAt(addr uint64) (i int, aa uint64, ok bool) {
	a := ix.Map.Arenas
	i = sort.Search(len(a), func(i int) bool { return a[i].Stop > addr })
	if i == len(a) || addr < a[i].Start {
		return 0, 0, false
	}
	return i, addr - a[i].Start, true
}
