package vtdisk

import (
	"crypto/sha1"
	"fmt"
	"io"

	"github.com/plan9fossil/fossil/venti"
)

// ArenaHead is the first block of an arena. It repeats facts the
// trailer also holds, so that an arena copied off its partition (as
// venti/rdarena does) can be read on its own.
//
//	off size
//	  0    4  magic ArenaHeadMagic
//	  4    4  version (4 or 5)
//	  8   64  name, NUL-padded
//	 72    4  block size
//	 76    8  size of the whole arena, head and trailer blocks included
//	 84    4  clump magic (version 5 only; version 4 uses OldClumpMagic)
//
// The rest of the block is zero.
type ArenaHead struct {
	Version    uint32
	Name       string
	BlockSize  uint32
	Size       uint64
	ClumpMagic uint32
}

const whereHead = "arena head"

// PackedSize is the size of the packed head for its version.
func (h *ArenaHead) PackedSize() int {
	if h.Version == ArenaVersion4 {
		return ArenaHeadSize4
	}
	return ArenaHeadSize5
}

// Unpack reads the head from the start of buf.
func (h *ArenaHead) Unpack(buf []byte) error {
	if len(buf) < ArenaHeadSize4 {
		return short(whereHead, len(buf), ArenaHeadSize4)
	}
	if m := be.Uint32(buf); m != ArenaHeadMagic {
		return badMagic(whereHead, m, ArenaHeadMagic)
	}
	var x ArenaHead
	x.Version = be.Uint32(buf[4:])
	if x.Version != ArenaVersion4 && x.Version != ArenaVersion5 {
		return errorf(whereHead, ErrVersion, "%d", x.Version)
	}
	var err error
	if x.Name, err = getName(whereHead, buf[8:]); err != nil {
		return err
	}
	x.BlockSize = be.Uint32(buf[72:])
	x.Size = be.Uint64(buf[76:])
	x.ClumpMagic = OldClumpMagic
	if x.Version == ArenaVersion5 {
		if len(buf) < ArenaHeadSize5 {
			return short(whereHead, len(buf), ArenaHeadSize5)
		}
		x.ClumpMagic = be.Uint32(buf[84:])
	}
	*h = x
	return nil
}

// Pack writes the head into the first PackedSize bytes of buf.
func (h *ArenaHead) Pack(buf []byte) error {
	if err := checkVersionMagic(whereHead, h.Version, h.ClumpMagic); err != nil {
		return err
	}
	if len(buf) < h.PackedSize() {
		return short(whereHead, len(buf), h.PackedSize())
	}
	if !ValidName(h.Name) {
		return errorf(whereHead, ErrCorrupt, "bad name %q", h.Name)
	}
	be.PutUint32(buf, ArenaHeadMagic)
	be.PutUint32(buf[4:], h.Version)
	putName(buf[8:], h.Name)
	be.PutUint32(buf[72:], h.BlockSize)
	be.PutUint64(buf[76:], h.Size)
	if h.Version == ArenaVersion5 {
		be.PutUint32(buf[84:], h.ClumpMagic)
	}
	return nil
}

func checkVersionMagic(where string, version, magic uint32) error {
	switch version {
	case ArenaVersion4:
		if magic != OldClumpMagic {
			return errorf(where, ErrCorrupt, "version 4 cannot record clump magic %#08x", magic)
		}
	case ArenaVersion5:
	default:
		return errorf(where, ErrVersion, "%d", version)
	}
	return nil
}

// TailStats are the statistics an arena trailer keeps about the clump log.
type TailStats struct {
	Clumps  uint32 // clumps in the log
	CClumps uint32 // of which compressed
	Used    uint64 // bytes of the log used: headers and stored bytes
	UncSize uint64 // the clumps' uncompressed bytes
	Sealed  bool   // no more clumps will be added
}

// ArenaTail is the trailer, the last block of an arena.
//
//	off size
//	  0    4  magic ArenaTailMagic
//	  4    4  version (4 or 5)
//	  8   64  name, NUL-padded
//	 72    4  clumps        \
//	 76    4  cclumps        | disk statistics
//	 80    4  ctime: first write, seconds since 1970
//	 84    4  wtime: last write
//	 88    4  clump magic (version 5 only; later offsets are 4 less in version 4)
//	 92    8  used           |
//	100    8  uncsize        | disk statistics
//	108    1  sealed        /
//	109    1  1 if the memory statistics follow; 0 (or absent) otherwise
//	110    4  clumps        \
//	114    4  cclumps        |
//	118    8  used           | memory statistics
//	126    8  uncsize        |
//	134    1  sealed        /
//	bs-20 20  score: SHA-1 of the sealed arena, zero until it is sealed
//
// The disk statistics describe the part of the log the index covers,
// the memory statistics the whole log. The C venti writes the second
// set only while they differ, so an arena fully indexed (and every
// sealed arena) has none.
type ArenaTail struct {
	Version    uint32
	Name       string
	Disk       TailStats // "diskstats": the clumps the index covers
	Mem        TailStats // "memstats": the clumps in the log; = Disk when not stored
	CTime      uint32
	WTime      uint32
	ClumpMagic uint32
	// MemStored records that the block holds the memory statistics.
	// Pack writes them when MemStored is set or when Mem differs from Disk.
	MemStored bool
	Score     venti.Score
}

const whereTail = "arena trailer"

// PackedSize is the size of the packed trailer fields (not counting the
// score at the end of the block).
func (t *ArenaTail) PackedSize() int {
	n := ArenaTailSize5
	if t.Version == ArenaVersion4 {
		n = ArenaTailSize4
	}
	if t.MemStored || t.Mem != t.Disk {
		n += TailStatsExtSize
	}
	return n
}

// Unpack reads a trailer from block, a whole trailer block: the fields
// from its start and the score from its last 20 bytes.
func (t *ArenaTail) Unpack(block []byte) error {
	if len(block) < ArenaTailSize4+venti.ScoreSize {
		return short(whereTail, len(block), ArenaTailSize4+venti.ScoreSize)
	}
	if m := be.Uint32(block); m != ArenaTailMagic {
		return badMagic(whereTail, m, ArenaTailMagic)
	}
	var x ArenaTail
	x.Version = be.Uint32(block[4:])
	if x.Version != ArenaVersion4 && x.Version != ArenaVersion5 {
		return errorf(whereTail, ErrVersion, "%d", x.Version)
	}
	need := ArenaTailSize4 + venti.ScoreSize
	if x.Version == ArenaVersion5 {
		need = ArenaTailSize5 + venti.ScoreSize
	}
	if len(block) < need+1 {
		return short(whereTail, len(block), need+1)
	}
	var err error
	if x.Name, err = getName(whereTail, block[8:]); err != nil {
		return err
	}
	x.Disk.Clumps = be.Uint32(block[72:])
	x.Disk.CClumps = be.Uint32(block[76:])
	x.CTime = be.Uint32(block[80:])
	x.WTime = be.Uint32(block[84:])
	p := block[88:]
	x.ClumpMagic = OldClumpMagic
	if x.Version == ArenaVersion5 {
		x.ClumpMagic = be.Uint32(p)
		p = p[4:]
	}
	x.Disk.Used = be.Uint64(p)
	x.Disk.UncSize = be.Uint64(p[8:])
	x.Disk.Sealed = p[16] != 0
	p = p[17:]
	x.Mem = x.Disk
	if p[0] == 1 {
		if len(p) < TailStatsExtSize+venti.ScoreSize {
			return short(whereTail, len(block), len(block)-len(p)+TailStatsExtSize+venti.ScoreSize)
		}
		x.MemStored = true
		x.Mem.Clumps = be.Uint32(p[1:])
		x.Mem.CClumps = be.Uint32(p[5:])
		x.Mem.Used = be.Uint64(p[9:])
		x.Mem.UncSize = be.Uint64(p[17:])
		x.Mem.Sealed = p[25] != 0
	}
	copy(x.Score[:], block[len(block)-venti.ScoreSize:])
	*t = x
	return nil
}

// Pack writes the trailer as the whole trailer block: the fields, zeros,
// and the score in the last 20 bytes.
func (t *ArenaTail) Pack(block []byte) error {
	if err := checkVersionMagic(whereTail, t.Version, t.ClumpMagic); err != nil {
		return err
	}
	if need := t.PackedSize() + venti.ScoreSize; len(block) < need {
		return short(whereTail, len(block), need)
	}
	if !ValidName(t.Name) {
		return errorf(whereTail, ErrCorrupt, "bad name %q", t.Name)
	}
	clear(block)
	be.PutUint32(block, ArenaTailMagic)
	be.PutUint32(block[4:], t.Version)
	putName(block[8:], t.Name)
	be.PutUint32(block[72:], t.Disk.Clumps)
	be.PutUint32(block[76:], t.Disk.CClumps)
	be.PutUint32(block[80:], t.CTime)
	be.PutUint32(block[84:], t.WTime)
	p := block[88:]
	if t.Version == ArenaVersion5 {
		be.PutUint32(p, t.ClumpMagic)
		p = p[4:]
	}
	putStats := func(p []byte, s *TailStats) {
		be.PutUint64(p, s.Used)
		be.PutUint64(p[8:], s.UncSize)
		if s.Sealed {
			p[16] = 1
		}
	}
	putStats(p, &t.Disk)
	p = p[17:]
	if t.MemStored || t.Mem != t.Disk {
		p[0] = 1
		be.PutUint32(p[1:], t.Mem.Clumps)
		be.PutUint32(p[5:], t.Mem.CClumps)
		putStats(p[9:], &t.Mem)
	}
	copy(block[len(block)-venti.ScoreSize:], t.Score[:])
	return nil
}

// Arena is one arena, opened for reading: a head block, the clump log
// growing up from the block after it, the clump directory growing down
// from the block before the trailer, and the trailer block.
//
// Clumps are addressed by their offset in the log ("arena address",
// from 0 at DataOffset). The index addresses a clump as the arena's
// start in the index map plus that offset.
type Arena struct {
	Head ArenaHead
	Tail ArenaTail
	// Offset is the partition offset of the head block.
	Offset int64
	// Size is the size of the whole arena; BlockSize its block size.
	Size      uint64
	BlockSize uint32

	r io.ReaderAt
}

func readArenaHead(r io.ReaderAt, off int64, where string) (*ArenaHead, error) {
	buf := make([]byte, HeadSize)
	where = fmt.Sprintf("%s: head at %#x", where, off)
	if err := readAt(r, buf, off, where); err != nil {
		return nil, err
	}
	var h ArenaHead
	if err := h.Unpack(buf); err != nil {
		return nil, relocate(err, where)
	}
	return &h, nil
}

func readArenaTail(r io.ReaderAt, off int64, bs uint32, t *ArenaTail, where string) error {
	if !okBlockSize(bs) {
		return errorf(where, ErrCorrupt, "bad block size %d", bs)
	}
	block := make([]byte, bs)
	where = fmt.Sprintf("%s: trailer at %#x", where, off)
	if err := readAt(r, block, off, where); err != nil {
		return err
	}
	return relocate(t.Unpack(block), where)
}

// OpenArena reads the arena of size bytes at partition offset off in r,
// with the given block size, as the arena partition's header and map
// give them. Size and blockSize may both be zero to take them from the
// arena's head, as for an arena copied to a file of its own by
// venti/rdarena. OpenArena checks that head and trailer agree and that
// the trailer's statistics fit in the arena.
func OpenArena(r io.ReaderAt, off, size int64, blockSize uint32) (*Arena, error) {
	return openArena(r, off, size, blockSize, fmt.Sprintf("arena at %#x", off))
}

func openArena(r io.ReaderAt, off, size int64, blockSize uint32, where string) (*Arena, error) {
	head, err := readArenaHead(r, off, where)
	if err != nil {
		return nil, err
	}
	where = "arena " + head.Name
	if size == 0 && blockSize == 0 {
		if head.Size > 1<<62 {
			return nil, errorf(where+": head", ErrCorrupt, "size %d", head.Size)
		}
		size, blockSize = int64(head.Size), head.BlockSize
	}
	if !okBlockSize(blockSize) {
		return nil, errorf(where, ErrCorrupt, "bad block size %d", blockSize)
	}
	bs := int64(blockSize)
	if size < 2*bs || size%bs != 0 || off < 0 || off%bs != 0 {
		return nil, errorf(where, ErrCorrupt, "bad arena range [%d,%d) for block size %d", off, off+size, bs)
	}
	a := &Arena{Head: *head, Offset: off, Size: uint64(size), BlockSize: blockSize, r: r}
	if err := readArenaTail(r, off+size-bs, blockSize, &a.Tail, where); err != nil {
		return nil, err
	}
	t := &a.Tail
	switch {
	case t.Name != head.Name:
		err = fmt.Errorf("trailer name %q, head %q", t.Name, head.Name)
	case t.Version != head.Version:
		err = fmt.Errorf("trailer version %d, head %d", t.Version, head.Version)
	case t.ClumpMagic != head.ClumpMagic:
		err = fmt.Errorf("trailer clump magic %#08x, head %#08x", t.ClumpMagic, head.ClumpMagic)
	case head.BlockSize != blockSize:
		err = fmt.Errorf("head block size %d, partition %d", head.BlockSize, blockSize)
	case head.Size != uint64(size):
		err = fmt.Errorf("head size %d, map %d", head.Size, size)
	}
	if err != nil {
		return nil, errorf(where, ErrCorrupt, "%v", err)
	}
	for _, s := range []*TailStats{&t.Disk, &t.Mem} {
		if s.Used > a.DataSize() || a.DirSize(s.Clumps) > a.DataSize()-s.Used {
			return nil, errorf(where+": trailer", ErrCorrupt,
				"%d clumps using %d bytes do not fit in %d bytes", s.Clumps, s.Used, a.DataSize())
		}
	}
	return a, nil
}

// Name is the arena's name.
func (a *Arena) Name() string { return a.Tail.Name }

// ClumpMagic is the magic number that starts each of the arena's clumps.
func (a *Arena) ClumpMagic() uint32 { return a.Tail.ClumpMagic }

// DataOffset is the partition offset of the clump log (arena address 0).
func (a *Arena) DataOffset() int64 { return a.Offset + int64(a.BlockSize) }

// DataSize is the space between head and trailer, shared by the clump
// log and the directory. It is also the arena's span in the index
// address space.
func (a *Arena) DataSize() uint64 { return a.Size - 2*uint64(a.BlockSize) }

// ClumpsPerBlock is how many ClumpInfo entries a directory block holds.
func (a *Arena) ClumpsPerBlock() uint32 { return a.BlockSize / ClumpInfoSize }

// DirSize is the space the directory takes for n clumps: whole blocks,
// and always one more than needed (the C arenadirsize).
func (a *Arena) DirSize(n uint32) uint64 {
	return (uint64(n)/uint64(a.ClumpsPerBlock()) + 1) * uint64(a.BlockSize)
}

// ClumpInfoOffset is the partition offset of clump i's directory entry.
// Directory block k (entries k*ClumpsPerBlock on) is the k'th block
// counting down from the trailer; entries run forward inside a block.
func (a *Arena) ClumpInfoOffset(i uint32) int64 {
	k := int64(i / a.ClumpsPerBlock())
	end := a.DataOffset() + int64(a.DataSize())
	return end - (k+1)*int64(a.BlockSize) + int64(i%a.ClumpsPerBlock())*ClumpInfoSize
}

// ReadClumpInfos reads n directory entries starting with clump i.
func (a *Arena) ReadClumpInfos(i uint32, n int) ([]ClumpInfo, error) {
	if n < 0 || uint64(i)+uint64(n) > uint64(a.ClumpsPerBlock())*(a.DataSize()/uint64(a.BlockSize)) {
		return nil, errorf("arena "+a.Name()+": directory", ErrCorrupt, "entries [%d,%d) cannot exist", i, uint64(i)+uint64(n))
	}
	out := make([]ClumpInfo, 0, n)
	per := a.ClumpsPerBlock()
	for n > 0 {
		m := int(per - i%per)
		if m > n {
			m = n
		}
		off := a.ClumpInfoOffset(i)
		buf := make([]byte, m*ClumpInfoSize)
		where := fmt.Sprintf("arena %s: directory entry %d at %#x", a.Name(), i, off)
		if err := readAt(a.r, buf, off, where); err != nil {
			return nil, err
		}
		for j := 0; j < m; j++ {
			var ci ClumpInfo
			ci.Unpack(buf[j*ClumpInfoSize:])
			out = append(out, ci)
		}
		i += uint32(m)
		n -= m
	}
	return out, nil
}

// ReadClumpInfo reads the directory entry of clump i.
func (a *Arena) ReadClumpInfo(i uint32) (ClumpInfo, error) {
	cis, err := a.ReadClumpInfos(i, 1)
	if err != nil {
		return ClumpInfo{}, err
	}
	return cis[0], nil
}

// clumpLimit is the end of the space the clump log may use when it
// holds n clumps (the rest is the directory).
func (a *Arena) clumpLimit(n uint32) uint64 {
	d := a.DirSize(n)
	if d > a.DataSize() {
		return 0
	}
	return a.DataSize() - d
}

// CanAppend reports whether a clump of size stored bytes may be added
// to a log described by st (the memory statistics): the C venti adds a
// clump only if the log, the new clump with the four zero bytes that
// end the log after it, four more spare bytes and the directory for one
// more clump all fit between head and trailer, and the arena is not
// sealed.
func (a *Arena) CanAppend(st TailStats, size int) bool {
	if st.Sealed || size < 0 || size > 0xffff {
		return false
	}
	need := st.Used + ClumpSize + uint64(size) + 4 + 4
	return need >= st.Used && a.DirSize(st.Clumps+1) <= a.DataSize() && need <= a.DataSize()-a.DirSize(st.Clumps+1)
}

// ReadClump reads the clump at arena address aa: its header and its
// stored bytes (compressed or not, see Clump.Decode). n is the clump's
// number in the log, used only to bound it: clump n must end before the
// directory space of n+1 clumps.
func (a *Arena) ReadClump(aa uint64, n uint32) (*Clump, []byte, error) {
	where := fmt.Sprintf("arena %s: clump at %#x", a.Name(), aa)
	limit := a.clumpLimit(n + 1)
	if aa >= limit || limit-aa < ClumpSize {
		return nil, nil, errorf(where, ErrCorrupt, "header runs past the clump area (ends at %#x)", limit)
	}
	hdr := make([]byte, ClumpSize)
	if err := readAt(a.r, hdr, a.DataOffset()+int64(aa), where); err != nil {
		return nil, nil, err
	}
	var c Clump
	if err := c.Unpack(hdr, a.ClumpMagic()); err != nil {
		return nil, nil, relocate(err, where)
	}
	if end := aa + ClumpSize + uint64(c.Size); end > limit {
		return nil, nil, errorf(where, ErrCorrupt, "%d bytes run past the clump area (to %#x, limit %#x)", c.Size, end, limit)
	}
	stored := make([]byte, c.Size)
	if err := readAt(a.r, stored, a.DataOffset()+int64(aa)+ClumpSize, where); err != nil {
		return nil, nil, err
	}
	return &c, stored, nil
}

// Walk calls fn for each clump of the log in order, with its arena
// address, header and stored bytes, until it finds ClumpFreeMagic where
// the next header would start, reaches the directory, or fn returns an
// error. It returns the address where the log ends (the trailer's Used
// once the arena is synced) and the number of clumps seen.
// A header with the wrong magic, or a clump that runs into the
// directory, is an error naming its address.
func (a *Arena) Walk(fn func(aa uint64, c *Clump, stored []byte) error) (end uint64, n uint32, err error) {
	var aa uint64
	magic := make([]byte, 4)
	for {
		limit := a.clumpLimit(n)
		if aa >= limit || limit-aa < 4 {
			return aa, n, nil
		}
		where := fmt.Sprintf("arena %s: clump at %#x", a.Name(), aa)
		if err := readAt(a.r, magic, a.DataOffset()+int64(aa), where); err != nil {
			return aa, n, err
		}
		m := be.Uint32(magic)
		if m == ClumpFreeMagic {
			return aa, n, nil
		}
		if m != a.ClumpMagic() {
			return aa, n, badMagic(where, m, a.ClumpMagic())
		}
		c, stored, err := a.ReadClump(aa, n)
		if err != nil {
			return aa, n, err
		}
		if err := fn(aa, c, stored); err != nil {
			return aa, n, err
		}
		aa += ClumpSize + uint64(c.Size)
		n++
	}
}

// SealScore computes the score a sealed arena records in its trailer:
// the SHA-1 of every block from the head to the trailer, with the
// trailer's last 20 bytes (where the score goes) taken as zero.
// (This follows the C sumarena; the fixtures hold no sealed arena to
// check it against.)
func (a *Arena) SealScore() (venti.Score, error) {
	h := sha1.New()
	buf := make([]byte, 64<<10)
	off, end := a.Offset, a.Offset+int64(a.Size)-int64(a.BlockSize)
	for off < end {
		n := int64(len(buf))
		if end-off < n {
			n = end - off
		}
		if err := readAt(a.r, buf[:n], off, "arena "+a.Name()); err != nil {
			return venti.Score{}, err
		}
		h.Write(buf[:n])
		off += n
	}
	last := make([]byte, a.BlockSize)
	if err := readAt(a.r, last, end, "arena "+a.Name()+": trailer"); err != nil {
		return venti.Score{}, err
	}
	clear(last[len(last)-venti.ScoreSize:])
	h.Write(last)
	var s venti.Score
	h.Sum(s[:0])
	return s, nil
}
