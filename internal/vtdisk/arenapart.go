package vtdisk

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"time"
)

// ArenaPart is the header of an arena partition, at offset PartBlank.
//
//	off size
//	  0    4  magic ArenaPartMagic
//	  4    4  version (3)
//	  8    4  block size (a power of two, 8192 by default)
//	 12    4  arena base: partition offset of the first arena
//
// The rest of the HeadSize (512) bytes are zero. The arena map table
// starts at the first block boundary after the header (TableBase) and
// runs to ArenaBase; see UnpackAMap.
type ArenaPart struct {
	Version   uint32
	BlockSize uint32
	ArenaBase uint32
}

const wherePartHead = "arena partition header"

// Unpack reads the header from the start of buf.
func (p *ArenaPart) Unpack(buf []byte) error {
	if len(buf) < ArenaPartSize {
		return short(wherePartHead, len(buf), ArenaPartSize)
	}
	if m := be.Uint32(buf); m != ArenaPartMagic {
		return badMagic(wherePartHead, m, ArenaPartMagic)
	}
	q := ArenaPart{
		Version:   be.Uint32(buf[4:]),
		BlockSize: be.Uint32(buf[8:]),
		ArenaBase: be.Uint32(buf[12:]),
	}
	if err := q.check(); err != nil {
		return err
	}
	*p = q
	return nil
}

func (p *ArenaPart) check() error {
	if p.Version != ArenaPartVersion {
		return errorf(wherePartHead, ErrVersion, "%d", p.Version)
	}
	if !okBlockSize(p.BlockSize) {
		return errorf(wherePartHead, ErrCorrupt, "bad block size %d", p.BlockSize)
	}
	if uint64(p.ArenaBase) <= p.TableBase() {
		return errorf(wherePartHead, ErrCorrupt, "arena base %d overlaps the map table at %d", p.ArenaBase, p.TableBase())
	}
	if p.ArenaBase%p.BlockSize != 0 {
		return errorf(wherePartHead, ErrCorrupt, "arena base %d is not a multiple of the block size %d", p.ArenaBase, p.BlockSize)
	}
	return nil
}

// Pack writes the header into the first ArenaPartSize bytes of buf.
func (p *ArenaPart) Pack(buf []byte) error {
	if len(buf) < ArenaPartSize {
		return short(wherePartHead, len(buf), ArenaPartSize)
	}
	if err := p.check(); err != nil {
		return err
	}
	be.PutUint32(buf, ArenaPartMagic)
	be.PutUint32(buf[4:], p.Version)
	be.PutUint32(buf[8:], p.BlockSize)
	be.PutUint32(buf[12:], p.ArenaBase)
	return nil
}

// TableBase is the partition offset of the arena map table.
func (p *ArenaPart) TableBase() uint64 { return tableBase(p.BlockSize) }

// TableSize is the space for the arena map table: up to ArenaBase.
func (p *ArenaPart) TableSize() uint64 { return uint64(p.ArenaBase) - p.TableBase() }

// ConfigMagic is the first line of the configuration block.
const ConfigMagic = "venti config\n"

const whereConfig = "config block"

// UnpackConfig returns the venti.conf text kept in a configuration block
// (the ConfigSize bytes at ConfigOffset of an arena partition, written
// by venti/conf -w): the text after the "venti config" line, up to the
// first NUL.
func UnpackConfig(block []byte) (string, error) {
	if len(block) < len(ConfigMagic) {
		return "", short(whereConfig, len(block), len(ConfigMagic))
	}
	if len(block) > ConfigSize {
		block = block[:ConfigSize]
	}
	if !bytes.HasPrefix(block, []byte(ConfigMagic)) {
		return "", errorf(whereConfig, ErrBadMagic, "no %q line", "venti config")
	}
	return string(cText(block[len(ConfigMagic):])), nil
}

// PackConfig fills block (ConfigSize bytes) with the "venti config" line,
// text and NUL padding. Text that does not fit in ConfigSize bytes with
// the magic line, or that holds a NUL, is refused and block is left as
// it was.
func PackConfig(block []byte, text string) error {
	if len(block) != ConfigSize {
		return errorf(whereConfig, ErrShort, "block is %d bytes, not %d", len(block), ConfigSize)
	}
	if n := len(ConfigMagic) + len(text); n > ConfigSize {
		return errorf(whereConfig, ErrTooLarge, "%d bytes with the magic line, max %d", n, ConfigSize)
	}
	if bytes.IndexByte([]byte(text), 0) >= 0 {
		return errorf(whereConfig, ErrCorrupt, "text contains a NUL byte")
	}
	n := copy(block, ConfigMagic)
	n += copy(block[n:], text)
	clear(block[n:])
	return nil
}

// ReadConfig reads the configuration text stored in partition r.
func ReadConfig(r io.ReaderAt) (string, error) {
	block := make([]byte, ConfigSize)
	if err := readAt(r, block, ConfigOffset, whereConfig); err != nil {
		return "", err
	}
	return UnpackConfig(block)
}

// WriteConfig stores text as the configuration block of partition w.
// Text that PackConfig refuses is not written at all.
func WriteConfig(w io.WriterAt, text string) error {
	block := make([]byte, ConfigSize)
	if err := PackConfig(block, text); err != nil {
		return err
	}
	if _, err := w.WriteAt(block, ConfigOffset); err != nil {
		return &Error{Where: whereConfig, Err: err}
	}
	return nil
}

// ArenaPartition is an arena partition opened for reading: its header
// and map. It reads arenas on demand.
type ArenaPartition struct {
	Header ArenaPart
	Map    []AMap
	// Size is the partition size rounded down to the block size.
	Size int64

	r io.ReaderAt
}

// OpenArenaPartition reads the header and the arena map of the arena
// partition r, of the given size in bytes, and checks that the map's
// ranges are in order and inside the partition.
func OpenArenaPartition(r io.ReaderAt, size int64) (*ArenaPartition, error) {
	buf := make([]byte, HeadSize)
	if err := readAt(r, buf, PartBlank, wherePartHead); err != nil {
		return nil, err
	}
	p := &ArenaPartition{r: r}
	if err := p.Header.Unpack(buf); err != nil {
		return nil, err
	}
	bs := int64(p.Header.BlockSize)
	p.Size = size &^ (bs - 1)
	if p.Size < int64(p.Header.ArenaBase) {
		return nil, errorf(wherePartHead, ErrShort, "partition is %d bytes, arenas start at %d", size, p.Header.ArenaBase)
	}
	table := make([]byte, p.Header.TableSize())
	where := fmt.Sprintf("arena partition: table at %#x", p.Header.TableBase())
	if err := readAt(r, table, int64(p.Header.TableBase()), where); err != nil {
		return nil, err
	}
	m, err := UnpackAMap(table)
	if err != nil {
		return nil, within(where, err)
	}
	if err := checkAMap(m, uint64(p.Header.ArenaBase), uint64(p.Size), where); err != nil {
		return nil, err
	}
	for i, a := range m {
		if a.Start%uint64(bs) != 0 || a.Stop%uint64(bs) != 0 || a.Stop-a.Start < 2*uint64(bs) {
			return nil, errorf(where, ErrCorrupt, "entry %d: %s: bad range [%d,%d) for block size %d", i, a.Name, a.Start, a.Stop, bs)
		}
	}
	p.Map = m
	return p, nil
}

// Arena opens the i'th arena of the map.
func (p *ArenaPartition) Arena(i int) (*Arena, error) {
	if i < 0 || i >= len(p.Map) {
		return nil, fmt.Errorf("vtdisk: arena %d out of range [0,%d)", i, len(p.Map))
	}
	m := p.Map[i]
	a, err := openArena(p.r, int64(m.Start), int64(m.Stop-m.Start), p.Header.BlockSize, "arena "+m.Name)
	if err != nil {
		return nil, err
	}
	if a.Name() != m.Name {
		return nil, errorf("arena "+m.Name, ErrCorrupt, "trailer names it %q", a.Name())
	}
	return a, nil
}

// ArenaNamed opens the arena of the map with the given name, as the
// index map names arenas.
func (p *ArenaPartition) ArenaNamed(name string) (*Arena, error) {
	for i := range p.Map {
		if p.Map[i].Name == name {
			return p.Arena(i)
		}
	}
	return nil, fmt.Errorf("vtdisk: no arena %q in the partition", name)
}

// PrintArenaPart writes the report of venti/printarenapart for the
// partition: the header line, then for each arena of the map its name,
// offset, the statistics its trailer holds (the disk statistics) and its
// times. Times are printed the way Plan 9's ctime does in zone loc
// (nil: GMT, as plan9port on a machine set to UTC prints them).
// The C program also reports "bad line: " on standard error when it
// reaches the NUL padding after the table; that line is not written.
func (p *ArenaPartition) PrintArenaPart(w io.Writer, loc *time.Location) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# arena part version=%d blocksize=%d arenabase=%d\n",
		p.Header.Version, p.Header.BlockSize, p.Header.ArenaBase)
	for _, m := range p.Map {
		// Like the C program, trust the arena's head for its size.
		head, err := readArenaHead(p.r, int64(m.Start), "arena "+m.Name)
		if err != nil {
			return err
		}
		if head.Size < 2*uint64(head.BlockSize) || m.Start+head.Size > uint64(p.Size) {
			return errorf("arena "+m.Name+": head", ErrCorrupt, "size %d", head.Size)
		}
		var tail ArenaTail
		toff := int64(m.Start + head.Size - uint64(head.BlockSize))
		if err := readArenaTail(p.r, toff, head.BlockSize, &tail, "arena "+m.Name); err != nil {
			return err
		}
		sealed := ""
		if tail.Disk.Sealed {
			sealed = " sealed"
		}
		fmt.Fprintf(bw, "arena %s %d clumps=%s cclumps=%s used=%s uncsize=%s%s\n",
			tail.Name, m.Start, commas(uint64(tail.Disk.Clumps)), commas(uint64(tail.Disk.CClumps)),
			commas(tail.Disk.Used), commas(tail.Disk.UncSize), sealed)
		fmt.Fprintf(bw, "\tctime=%s\n\tmtime=%s\n", Ctime(tail.CTime, loc), Ctime(tail.WTime, loc))
	}
	return bw.Flush()
}

var gmt = time.FixedZone("GMT", 0)

// Ctime formats t as Plan 9's ctime(2) does, without the newline, e.g.
// "Thu Jan  1 00:00:00 GMT 1970". Like Plan 9's, it adds the zone
// offset to t in unsigned 32-bit arithmetic, so time 0 west of
// Greenwich comes out in 2106 (as printarenapart on Plan 9 shows it for
// arenas never written). loc nil means GMT.
func Ctime(t uint32, loc *time.Location) string {
	if loc == nil {
		loc = gmt
	}
	name, off := time.Unix(int64(t), 0).In(loc).Zone()
	u := uint32(int64(t) + int64(off))
	tm := time.Unix(int64(u), 0).UTC()
	s := tm.Format("Mon Jan _2 15:04:05 ") + name + " " + itoa(uint64(tm.Year()))
	if len(s) > 28 {
		s = s[:28]
	}
	return s
}
