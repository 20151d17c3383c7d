package vac

import (
	"fmt"
	"sort"
)

// Meta block constants.
const (
	// MetaMagic marks a meta block whose index is sorted in byte order
	// of the names, a name before any longer name it is a prefix of.
	// Fossil writes it.
	MetaMagic = 0x5656fc7a
	// MetaMagicOld marks a meta block of the older order, in which a
	// name sorts after the longer names it is a prefix of ("ab" after
	// "abc"). vac writes it.
	MetaMagicOld = 0x5656fc79

	MetaHeaderSize = 12 // magic[4] size[2] free[2] maxindex[2] nindex[2]
	MetaIndexSize  = 4  // offset[2] size[2]

	// BytesPerEntry is fossil's estimate of the size of a packed
	// DirEntry: a new meta block of n bytes has n/BytesPerEntry index
	// slots.
	BytesPerEntry = 100
	// FullPercentage is how full (in bytes) fossil lets a meta block get
	// before it puts new entries in another block.
	FullPercentage = 80

	// minEntrySize is the smallest entry the index may point at: the
	// magic, version and name length.
	minEntrySize = 8
)

// A MetaBlock is a block of packed DirEntry structures with an index
// sorted by name. It works in place on the bytes it was made from, as
// the C code does: every change is made to those bytes, header
// included, and Bytes returns them.
//
//	0   magic[4]     MetaMagic or MetaMagicOld
//	4   size[2]      bytes in use: the end of the last entry
//	6   free[2]      bytes in holes below size
//	8   maxindex[2]  slots in the index
//	10  nindex[2]    slots used
//	12  index        maxindex slots of offset[2] size[2], the first
//	                 nindex in use, sorted by the names of their entries
//	12+4*maxindex    the entries, in any order, with holes
//
// The bytes from size to the end of the block are free too; deleted
// entries are zeroed.
type MetaBlock struct {
	buf      []byte
	size     int
	free     int
	maxIndex int
	nIndex   int
	old      bool
}

const whereMeta = "meta block"

func (mb *MetaBlock) indexEnd() int { return MetaHeaderSize + mb.maxIndex*MetaIndexSize }

// NewMetaBlock makes an empty meta block with maxIndex index slots in
// buf, which it zeroes (fossil's mbInit; it gives a block of n bytes
// n/BytesPerEntry slots).
func NewMetaBlock(buf []byte, maxIndex int) (*MetaBlock, error) {
	if len(buf) > 1<<16-1 {
		return nil, errorf(whereMeta, ErrTooLarge, "block of %d bytes", len(buf))
	}
	if maxIndex < 0 || MetaHeaderSize+maxIndex*MetaIndexSize > len(buf) {
		return nil, errorf(whereMeta, ErrTooLarge, "%d index slots in %d bytes", maxIndex, len(buf))
	}
	clear(buf)
	mb := &MetaBlock{buf: buf, maxIndex: maxIndex, size: MetaHeaderSize + maxIndex*MetaIndexSize}
	mb.pack()
	return mb, nil
}

// UnpackMetaBlock reads the meta block in buf (a whole block) and
// checks it as fossil does: the magic, size within the block, the
// index within the block, and every index slot in use pointing inside
// the used bytes at an entry of at least 8 bytes that starts with
// DirMagic. It also rejects (unlike the C code) blocks whose size ends
// inside the index or that use more slots than they have. The
// MetaBlock keeps buf and changes it in place.
func UnpackMetaBlock(buf []byte) (*MetaBlock, error) {
	if len(buf) < MetaHeaderSize {
		return nil, errorf(whereMeta, ErrShort, "%d bytes, need %d", len(buf), MetaHeaderSize)
	}
	if len(buf) > 1<<16-1 {
		return nil, errorf(whereMeta, ErrTooLarge, "block of %d bytes", len(buf))
	}
	magic := be.Uint32(buf)
	if magic != MetaMagic && magic != MetaMagicOld {
		return nil, errorf(whereMeta, ErrBadMeta, "bad magic %#08x", magic)
	}
	mb := &MetaBlock{
		buf:      buf,
		size:     int(be.Uint16(buf[4:])),
		free:     int(be.Uint16(buf[6:])),
		maxIndex: int(be.Uint16(buf[8:])),
		nIndex:   int(be.Uint16(buf[10:])),
		old:      magic == MetaMagicOld,
	}
	omin := mb.indexEnd()
	switch {
	case mb.size > len(buf):
		return nil, errorf(whereMeta, ErrBadMeta, "size %d beyond the block (%d bytes)", mb.size, len(buf))
	case omin > len(buf):
		return nil, errorf(whereMeta, ErrBadMeta, "%d index slots beyond the block (%d bytes)", mb.maxIndex, len(buf))
	case mb.size < omin:
		return nil, errorf(whereMeta, ErrBadMeta, "size %d inside the index (%d slots)", mb.size, mb.maxIndex)
	case mb.nIndex > mb.maxIndex:
		return nil, errorf(whereMeta, ErrBadMeta, "%d of %d index slots used", mb.nIndex, mb.maxIndex)
	}
	for i := 0; i < mb.nIndex; i++ {
		off, n := mb.slot(i)
		if off < omin || off+n > mb.size || n < minEntrySize {
			return nil, errorf(fmt.Sprintf("%s: entry %d", whereMeta, i), ErrBadMeta, "bad index: offset %d size %d", off, n)
		}
		if m := be.Uint32(buf[off:]); m != DirMagic {
			return nil, errorf(fmt.Sprintf("%s: entry %d at %#x", whereMeta, i, off), ErrBadMeta, "bad magic %#08x", m)
		}
	}
	return mb, nil
}

// pack writes the header fields into the block.
func (mb *MetaBlock) pack() {
	magic := uint32(MetaMagic)
	if mb.old {
		magic = MetaMagicOld
	}
	be.PutUint32(mb.buf, magic)
	be.PutUint16(mb.buf[4:], uint16(mb.size))
	be.PutUint16(mb.buf[6:], uint16(mb.free))
	be.PutUint16(mb.buf[8:], uint16(mb.maxIndex))
	be.PutUint16(mb.buf[10:], uint16(mb.nIndex))
}

// Bytes returns the block.
func (mb *MetaBlock) Bytes() []byte { return mb.buf }

// Size is the number of bytes in use: the end of the last entry.
func (mb *MetaBlock) Size() int { return mb.size }

// Free is the number of bytes in holes below Size.
func (mb *MetaBlock) Free() int { return mb.free }

// MaxSize is the size of the whole block.
func (mb *MetaBlock) MaxSize() int { return len(mb.buf) }

// MaxIndex is the number of index slots.
func (mb *MetaBlock) MaxIndex() int { return mb.maxIndex }

// Len is the number of entries.
func (mb *MetaBlock) Len() int { return mb.nIndex }

// OldOrder reports whether the block has MetaMagicOld and its order.
func (mb *MetaBlock) OldOrder() bool { return mb.old }

// Room is the number of bytes fossil would still put in the block: it
// stops adding entries when they pass FullPercentage of it.
func (mb *MetaBlock) Room() int {
	return len(mb.buf)*FullPercentage/100 - mb.size + mb.free
}

func (mb *MetaBlock) slot(i int) (off, size int) {
	p := mb.buf[MetaHeaderSize+i*MetaIndexSize:]
	return int(be.Uint16(p)), int(be.Uint16(p[2:]))
}

func (mb *MetaBlock) setSlot(i, off, size int) {
	p := mb.buf[MetaHeaderSize+i*MetaIndexSize:]
	be.PutUint16(p, uint16(off))
	be.PutUint16(p[2:], uint16(size))
}

func whereEntry(i int) string { return fmt.Sprintf("%s: entry %d", whereMeta, i) }

// Index returns the offset and size of entry i, in index order.
func (mb *MetaBlock) Index(i int) (off, size int, err error) {
	if i < 0 || i >= mb.nIndex {
		return 0, 0, errorf(whereEntry(i), ErrNotFound, "%d entries", mb.nIndex)
	}
	off, size = mb.slot(i)
	return off, size, nil
}

// EntryBytes returns the packed entry i, a slice of the block.
func (mb *MetaBlock) EntryBytes(i int) ([]byte, error) {
	off, n, err := mb.Index(i)
	if err != nil {
		return nil, err
	}
	return mb.buf[off : off+n : off+n], nil
}

// DirEntry unpacks entry i.
func (mb *MetaBlock) DirEntry(i int) (DirEntry, error) {
	var d DirEntry
	p, err := mb.EntryBytes(i)
	if err != nil {
		return d, err
	}
	if err := d.Unpack(p); err != nil {
		off, _ := mb.slot(i)
		return d, within(fmt.Sprintf("%s at %#x", whereEntry(i), off), err)
	}
	return d, nil
}

// DirEntries unpacks every entry, in index (name) order.
func (mb *MetaBlock) DirEntries() ([]DirEntry, error) {
	ds := make([]DirEntry, mb.nIndex)
	for i := range ds {
		var err error
		if ds[i], err = mb.DirEntry(i); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// name returns the name bytes of entry i as the comparisons see them:
// cut to the entry's size.
func (mb *MetaBlock) name(i int) []byte {
	off, n := mb.slot(i)
	l := int(be.Uint16(mb.buf[off+6:]))
	if l > n-minEntrySize {
		l = n - minEntrySize
	}
	return mb.buf[off+minEntrySize : off+minEntrySize+l]
}

// compare compares name with elem in the block's order.
func (mb *MetaBlock) compare(name []byte, elem string) int {
	n := min(len(name), len(elem))
	for k := 0; k < n; k++ {
		switch {
		case name[k] < elem[k]:
			return -1
		case name[k] > elem[k]:
			return 1
		}
	}
	switch {
	case len(name) == len(elem):
		return 0
	case mb.old:
		// The older order puts a prefix after the longer name.
		if len(name) > len(elem) {
			return -1
		}
		return 1
	case len(name) > len(elem):
		return 1
	}
	return -1
}

// Search looks elem up by binary search of the index, as the C code
// does. It returns the index of the entry and true, or the index at
// which an entry of that name would go and false.
func (mb *MetaBlock) Search(elem string) (int, bool) {
	b, t := 0, mb.nIndex
	for b < t {
		i := (b + t) >> 1
		switch x := mb.compare(mb.name(i), elem); {
		case x == 0:
			return i, true
		case x < 0:
			b = i + 1
		default:
			t = i
		}
	}
	return b, false
}

// Lookup returns the entry named elem and its index.
func (mb *MetaBlock) Lookup(elem string) (DirEntry, int, error) {
	i, ok := mb.Search(elem)
	if !ok {
		return DirEntry{}, -1, errorf(fmt.Sprintf("%s: %q", whereMeta, elem), ErrNotFound, "")
	}
	d, err := mb.DirEntry(i)
	return d, i, err
}

// chunk is an entry's place in the block.
type chunk struct{ off, size, index int }

// chunks returns the entries in order of offset, after checking that
// they do not overlap and that size and free agree with them (the C
// code's metaChunks).
func (mb *MetaBlock) chunks() ([]chunk, error) {
	cs := make([]chunk, mb.nIndex)
	for i := range cs {
		off, n := mb.slot(i)
		cs[i] = chunk{off, n, i}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].off < cs[b].off })
	used := mb.indexEnd()
	o, n := used, 0
	for _, c := range cs {
		o, n = c.off, c.size
		if o < used {
			return nil, errorf(fmt.Sprintf("%s: entry %d at %#x", whereMeta, c.index, c.off), ErrBadMeta, "overlaps the one before")
		}
		used += n
	}
	if o+n > mb.size {
		return nil, errorf(whereMeta, ErrBadMeta, "entries end at %d, size %d", o+n, mb.size)
	}
	if mb.size-used != mb.free {
		return nil, errorf(whereMeta, ErrBadMeta, "free %d, holes hold %d bytes", mb.free, mb.size-used)
	}
	return cs, nil
}

// Check checks that the entries do not overlap and that the header's
// size and free agree with them, as fossil does before it looks for
// room in a block.
func (mb *MetaBlock) Check() error {
	_, err := mb.chunks()
	return err
}

// compact moves the entries, in order of offset, down to the index,
// leaving no holes (the C code's mbCompact; it does not clear the
// bytes it leaves behind).
func (mb *MetaBlock) compact(cs []chunk) {
	oo := mb.indexEnd()
	for _, c := range cs {
		if c.off != oo {
			copy(mb.buf[oo:], mb.buf[c.off:c.off+c.size])
			mb.setSlot(c.index, oo, c.size)
		}
		oo += c.size
	}
	mb.size = oo
	mb.free = 0
}

// alloc finds n free bytes as the C code's mbAlloc does: off the end
// if they fit, else the first hole big enough, else after compacting.
// It returns the offset, or -1 if the block has no room.
func (mb *MetaBlock) alloc(n int) (int, error) {
	limit := len(mb.buf)
	if limit-mb.size >= n {
		return mb.size, nil
	}
	if limit-mb.size+mb.free < n {
		return -1, nil
	}
	cs, err := mb.chunks()
	if err != nil {
		return -1, err
	}
	o := mb.indexEnd()
	for _, c := range cs {
		if c.off-o >= n {
			return o, nil
		}
		o = c.off + c.size
	}
	if limit-o >= n {
		return o, nil
	}
	mb.compact(cs)
	mb.pack()
	if limit-mb.size < n {
		return -1, errorf(whereMeta, ErrBadMeta, "no room after compaction")
	}
	return mb.size, nil
}

// insert records the entry of n bytes at off in index slot i.
func (mb *MetaBlock) insert(i, off, n int) {
	if off+n > mb.size {
		mb.free -= mb.size - off
		mb.size = off + n
	} else {
		mb.free -= n
	}
	p := mb.buf[MetaHeaderSize:]
	copy(p[(i+1)*MetaIndexSize:(mb.nIndex+1)*MetaIndexSize], p[i*MetaIndexSize:mb.nIndex*MetaIndexSize])
	mb.setSlot(i, off, n)
	mb.nIndex++
}

// remove zeroes entry i, gives its bytes back and removes its slot.
func (mb *MetaBlock) remove(i int) {
	off, n := mb.slot(i)
	clear(mb.buf[off : off+n])
	if off+n == mb.size {
		mb.size -= n
	} else {
		mb.free += n
	}
	p := mb.buf[MetaHeaderSize:]
	copy(p[i*MetaIndexSize:], p[(i+1)*MetaIndexSize:mb.nIndex*MetaIndexSize])
	clear(p[(mb.nIndex-1)*MetaIndexSize : mb.nIndex*MetaIndexSize])
	mb.nIndex--
}

// Insert packs d into the block and adds it to the index in name
// order, as fossil adds an entry to a directory: room is found off the
// end, in the first hole big enough, or by compacting the block. It
// returns the index of the new entry. The block is full (ErrFull) when
// all index slots are used or no room is left; it may have been
// compacted then.
func (mb *MetaBlock) Insert(d *DirEntry) (int, error) {
	if err := d.check(); err != nil {
		return -1, err
	}
	where := fmt.Sprintf("%s: insert %q", whereMeta, d.Elem)
	if _, found := mb.Search(d.Elem); found {
		return -1, errorf(where, ErrExists, "")
	}
	if mb.nIndex >= mb.maxIndex {
		return -1, errorf(where, ErrFull, "%d index slots used", mb.nIndex)
	}
	n := d.PackedSize()
	off, err := mb.alloc(n)
	if err != nil {
		return -1, within(where, err)
	}
	if off < 0 {
		return -1, errorf(where, ErrFull, "no room for %d bytes", n)
	}
	i, _ := mb.Search(d.Elem)
	if err := d.Pack(mb.buf[off : off+n]); err != nil {
		return -1, err
	}
	mb.insert(i, off, n)
	mb.pack()
	return i, nil
}

// Delete removes entry i, zeroing its bytes.
func (mb *MetaBlock) Delete(i int) error {
	if i < 0 || i >= mb.nIndex {
		return errorf(whereEntry(i), ErrNotFound, "%d entries", mb.nIndex)
	}
	mb.remove(i)
	mb.pack()
	return nil
}

// Update replaces entry i by d (which may have another name) in this
// block, as fossil writes back a changed entry: in its old place if d
// is no bigger or the zero bytes after it make room, else wherever
// Insert would put it. If the block has no room it returns ErrFull,
// leaving entry i as it was (the block may have been compacted); the
// caller then moves the entry to another block.
func (mb *MetaBlock) Update(i int, d *DirEntry) error {
	if i < 0 || i >= mb.nIndex {
		return errorf(whereEntry(i), ErrNotFound, "%d entries", mb.nIndex)
	}
	if err := d.check(); err != nil {
		return err
	}
	where := fmt.Sprintf("%s: update %q", whereEntry(i), d.Elem)
	if j, found := mb.Search(d.Elem); found && j != i {
		return errorf(where, ErrExists, "")
	}
	n := d.PackedSize()
	off, size := mb.slot(i)
	if n > size {
		// Grow into the zero bytes that follow, if there are enough.
		p := off + size
		for p < len(mb.buf) && mb.buf[p] == 0 {
			p++
		}
		if n > p-off {
			var err error
			if off, err = mb.alloc(n); err != nil {
				return within(where, err)
			}
			if off < 0 {
				return errorf(where, ErrFull, "no room for %d bytes", n)
			}
		}
	}
	mb.remove(i)
	i, _ = mb.Search(d.Elem)
	if err := d.Pack(mb.buf[off : off+n]); err != nil {
		return err
	}
	mb.insert(i, off, n)
	mb.pack()
	return nil
}
