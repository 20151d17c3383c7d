package vtdisk

import (
	"fmt"
	"io"
)

// This file holds what the checking and rebuilding tools (checkarenas,
// checkindex, buildindex) need beyond the readers: writers that put
// single structures back where the readers found them, packed with the
// same code the round-trip tests check against the C venti's disks.

// TailOffset is the partition offset of the trailer block.
func (a *Arena) TailOffset() int64 { return a.Offset + int64(a.Size) - int64(a.BlockSize) }

// WriteTail writes a.Tail as the arena's trailer block, score included.
func (a *Arena) WriteTail(w io.WriterAt) error {
	block := make([]byte, a.BlockSize)
	where := fmt.Sprintf("arena %s: trailer at %#x", a.Name(), a.TailOffset())
	if err := a.Tail.Pack(block); err != nil {
		return relocate(err, where)
	}
	return writeAt(w, block, a.TailOffset(), where)
}

// WriteClumpInfo writes ci as directory entry i.
func (a *Arena) WriteClumpInfo(w io.WriterAt, i uint32, ci *ClumpInfo) error {
	if uint64(i) >= uint64(a.ClumpsPerBlock())*(a.DataSize()/uint64(a.BlockSize)) {
		return errorf(fmt.Sprintf("arena %s: directory", a.Name()), ErrCorrupt, "entry %d cannot exist", i)
	}
	buf := make([]byte, ClumpInfoSize)
	ci.Pack(buf)
	off := a.ClumpInfoOffset(i)
	return writeAt(w, buf, off, fmt.Sprintf("arena %s: directory entry %d at %#x", a.Name(), i, off))
}

// WriteClumpHeader rewrites the header of the clump at arena address
// aa (clump number n of the log), leaving its stored bytes alone; it is
// how a clump is marked CorruptType.
func (a *Arena) WriteClumpHeader(w io.WriterAt, aa uint64, n uint32, c *Clump) error {
	where := fmt.Sprintf("arena %s: clump at %#x", a.Name(), aa)
	if limit := a.clumpLimit(n + 1); aa >= limit || limit-aa < ClumpSize {
		return errorf(where, ErrCorrupt, "header runs past the clump area (ends at %#x)", limit)
	}
	buf := make([]byte, ClumpSize)
	if err := c.Pack(buf, a.ClumpMagic()); err != nil {
		return relocate(err, where)
	}
	return writeAt(w, buf, a.DataOffset()+int64(aa), where)
}

// ReadClumpMagic reads the four bytes at arena address aa, where a
// clump header starts with the arena's clump magic and the log ends
// with ClumpFreeMagic.
func (a *Arena) ReadClumpMagic(aa uint64) (uint32, error) {
	where := fmt.Sprintf("arena %s: clump at %#x", a.Name(), aa)
	if aa > a.DataSize() || a.DataSize()-aa < 4 {
		return 0, errorf(where, ErrCorrupt, "past the clump area")
	}
	buf := make([]byte, 4)
	if err := readAt(a.r, buf, a.DataOffset()+int64(aa), where); err != nil {
		return 0, err
	}
	return be.Uint32(buf), nil
}

// WriteClumpMagic writes magic at arena address aa. Writing
// ClumpFreeMagic ends the log there.
func (a *Arena) WriteClumpMagic(w io.WriterAt, aa uint64, magic uint32) error {
	where := fmt.Sprintf("arena %s: clump at %#x", a.Name(), aa)
	if aa > a.DataSize() || a.DataSize()-aa < 4 {
		return errorf(where, ErrCorrupt, "past the clump area")
	}
	buf := make([]byte, 4)
	be.PutUint32(buf, magic)
	return writeAt(w, buf, a.DataOffset()+int64(aa), where)
}

// IEntry is the index entry of the clump described by ci whose index
// address is addr. WTime and Train are zero, as the C venti writes them.
func (ci *ClumpInfo) IEntry(addr uint64) IEntry {
	return IEntry{Score: ci.Score, Addr: addr, Size: ci.UncSize, Type: ci.Type, Blocks: ci.Blocks()}
}

// Compare orders entries as buckets keep them: by score, then type.
func (e *IEntry) Compare(f *IEntry) int { return e.compare(f.Score, f.Type) }

// SameAddr reports whether e and f locate the same clump the same way:
// address, size, type and block count (wtime and train are ignored, as
// the C venti ignores them).
func (e *IEntry) SameAddr(f *IEntry) bool {
	return e.Addr == f.Addr && e.Size == f.Size && e.Type == f.Type && e.Blocks == f.Blocks
}

// WriteBucket writes bucket b, which the section must keep, as one
// whole block: the header with the section's bucket magic, the entries
// (which must be sorted) and zeros to the end of the block. A bucket
// with no entries is written as a block of zeros, the way fmtisect
// leaves buckets that were never written.
func (s *IndexSection) WriteBucket(w io.WriterAt, b uint32, entries []IEntry) error {
	h := &s.Header
	where := fmt.Sprintf("index section %s: bucket %d", h.Name, b)
	if b < h.Start || b >= h.Stop {
		return errorf(where, ErrCorrupt, "not in the section's range [%d,%d)", h.Start, h.Stop)
	}
	if len(entries) > h.BucketMax() {
		return errorf(where, ErrTooLarge, "%d entries, room for %d", len(entries), h.BucketMax())
	}
	buf := make([]byte, h.BlockSize)
	if len(entries) > 0 {
		bk := Bucket{Magic: h.BucketMagic, Entries: entries}
		if err := bk.Pack(buf); err != nil {
			return relocate(err, where)
		}
	}
	off := h.BucketOffset(b)
	return writeAt(w, buf, off, fmt.Sprintf("%s at %#x", where, off))
}

// BlankBloom returns an empty filter with the geometry of h.
func BlankBloom(h BloomHead) (*Bloom, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	f := &Bloom{BloomHead: h, Data: make([]byte, h.Size)}
	if err := h.Pack(f.Data); err != nil {
		return nil, err
	}
	return f, nil
}

// Store writes the filter, its header included, at the start of the
// bloom partition w.
func (f *Bloom) Store(w io.WriterAt) error {
	if uint32(len(f.Data)) != f.Size {
		return errorf("bloom filter", ErrCorrupt, "%d bytes of data for a %d-byte filter", len(f.Data), f.Size)
	}
	if err := f.BloomHead.Pack(f.Data); err != nil {
		return err
	}
	return writeAt(w, f.Data, 0, "bloom filter")
}

// Venti is the storage of a venti opened as its venti.conf describes
// it, without caches: what the C tools' initventi sets up for
// checkindex and buildindex.
type Venti struct {
	Config *Config
	// ArenaParts are the arena partitions in the order of the
	// configuration.
	ArenaParts []*ArenaPartition
	// Arenas are the arenas of the index map, in its order.
	Arenas []*Arena
	Index  *Index
	// SectParts are the partitions of Index.Sects, in the same order.
	SectParts []*Partition
	// Bloom is the bloom filter, nil if the configuration has none;
	// BloomPart is its partition.
	Bloom     *Bloom
	BloomPart *Partition

	parts []*Partition
}

// OpenVenti opens the venti configured by config: a venti.conf file,
// or a partition holding a configuration block. The arena partitions
// are opened read-only; the index sections and the bloom filter for
// writing too if writeIndex is set.
func OpenVenti(config string, writeIndex bool) (*Venti, error) {
	v := &Venti{}
	ok := false
	defer func() {
		if !ok {
			v.Close()
		}
	}()
	open := func(name string, w bool) (*Partition, error) {
		p, err := OpenPartition(name, w)
		if err != nil {
			return nil, err
		}
		v.parts = append(v.parts, p)
		return p, nil
	}
	cp, err := open(config, false)
	if err != nil {
		return nil, err
	}
	text, err := LoadConfig(cp, cp.Size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config, err)
	}
	if v.Config, err = ParseConfig(text); err != nil {
		return nil, fmt.Errorf("%s: %w", config, err)
	}
	if len(v.Config.ISects) == 0 {
		return nil, fmt.Errorf("%s: no index sections", config)
	}
	byName := map[string]*Arena{}
	for _, name := range v.Config.Arenas {
		p, err := open(name, false)
		if err != nil {
			return nil, err
		}
		ap, err := OpenArenaPartition(p, p.Size)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		v.ArenaParts = append(v.ArenaParts, ap)
		for i := range ap.Map {
			a, err := ap.Arena(i)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if byName[a.Name()] != nil {
				return nil, fmt.Errorf("%s: arena %s is in more than one arena partition", name, a.Name())
			}
			byName[a.Name()] = a
		}
	}
	var sects []*IndexSection
	for _, name := range v.Config.ISects {
		p, err := open(name, writeIndex)
		if err != nil {
			return nil, err
		}
		s, err := OpenIndexSection(p, p.Size)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		sects = append(sects, s)
		v.SectParts = append(v.SectParts, p)
	}
	if v.Index, err = OpenIndex(sects...); err != nil {
		return nil, err
	}
	for _, m := range v.Index.Map.Arenas {
		a := byName[m.Name]
		if a == nil {
			return nil, fmt.Errorf("index %s: can't find arena %s", v.Index.Map.Name, m.Name)
		}
		if m.Stop-m.Start != a.DataSize() {
			return nil, fmt.Errorf("index %s: arena %s has %d bytes of data, the index map %d", v.Index.Map.Name, m.Name, a.DataSize(), m.Stop-m.Start)
		}
		v.Arenas = append(v.Arenas, a)
	}
	if v.Config.Bloom != "" {
		if v.BloomPart, err = open(v.Config.Bloom, writeIndex); err != nil {
			return nil, err
		}
		if v.Bloom, err = ReadBloom(v.BloomPart); err != nil {
			return nil, fmt.Errorf("%s: %w", v.Config.Bloom, err)
		}
	}
	ok = true
	return v, nil
}

// Close closes the partitions.
func (v *Venti) Close() error {
	var first error
	for _, p := range v.parts {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	v.parts = nil
	return first
}
