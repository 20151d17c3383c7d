package vtstore

import (
	"errors"
	"fmt"
	"sync"

	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// An arena is one arena of the store, with the state of its clump log.
// Only the current arena takes writes; the others are read.
type arena struct {
	*vtdisk.Arena
	part  *part
	base  uint64 // the arena's start in the index address space
	index int    // position in the index map

	// flushMu serializes flushes (and sealing) of this arena.
	flushMu sync.Mutex

	// mu guards the fields below; readers take it to find clumps still
	// in memory.
	mu       sync.Mutex
	tail     vtdisk.ArenaTail   // the trailer as it will next be written
	onDisk   uint64             // log bytes written to the partition
	inflight []byte             // log bytes being written by a flush, from onDisk
	buf      []byte             // log bytes appended since, from onDisk+len(inflight)
	infos    []vtdisk.ClumpInfo // directory entries not yet on disk, from dirDone
	dirDone  uint32             // clumps whose directory entries are on disk
	written  vtdisk.ArenaTail   // the trailer last written
	behind   bool               // a write-behind of buf is under way
	spare    []byte             // a written-out buffer to reuse for buf
}

var errArenaFull = errors.New("arena full")

// writeBehind is how much of the log is kept in memory before it is
// written out, unsynced, in the background: a sync then has little left
// to write, and the buffer never grows large.
const writeBehind = 1 << 20

// appendClump adds a clump to the log in memory and returns its arena
// address. It fails with errArenaFull when the clump does not fit.
func (a *arena) appendClump(c *vtdisk.Clump, stored []byte) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &a.tail.Mem
	if !a.CanAppend(*st, len(stored)) {
		return 0, errArenaFull
	}
	aa := st.Used
	var hdr [vtdisk.ClumpSize]byte
	if err := c.Pack(hdr[:], a.ClumpMagic()); err != nil {
		return 0, err
	}
	if a.buf == nil {
		// Reusing the last buffer written out spares the page faults
		// of fresh memory on every megabyte.
		a.buf, a.spare = a.spare, nil
		if a.buf == nil {
			a.buf = make([]byte, 0, writeBehind+vtdisk.ClumpSize+venti.MaxLumpSize)
		}
	}
	a.buf = append(a.buf, hdr[:]...)
	a.buf = append(a.buf, stored...)
	if len(a.buf) >= writeBehind && !a.behind {
		a.behind = true
		go a.writeOut()
	}
	a.infos = append(a.infos, c.ClumpInfo)
	st.Clumps++
	if c.Encoding == vtdisk.EncodingWhack {
		st.CClumps++
	}
	st.Used += vtdisk.ClumpSize + uint64(len(stored))
	st.UncSize += uint64(c.UncSize)
	if a.tail.CTime == 0 {
		a.tail.CTime = c.Time
	}
	a.tail.WTime = c.Time
	return aa, nil
}

// memClump returns a copy of the header and stored bytes of the clump at
// arena address aa if it is still in memory (not yet on disk).
func (a *arena) memClump(aa uint64) (*vtdisk.Clump, []byte, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if aa < a.onDisk {
		return nil, nil, false, nil
	}
	off := aa - a.onDisk
	var p []byte
	if off < uint64(len(a.inflight)) {
		p = a.inflight[off:]
	} else if off -= uint64(len(a.inflight)); off < uint64(len(a.buf)) {
		p = a.buf[off:]
	} else {
		return nil, nil, true, fmt.Errorf("arena %s: clump at %#x: past the end of the log", a.Name(), aa)
	}
	var c vtdisk.Clump
	if err := c.Unpack(p, a.ClumpMagic()); err != nil {
		return nil, nil, true, err
	}
	if len(p) < vtdisk.ClumpSize+int(c.Size) {
		return nil, nil, true, fmt.Errorf("arena %s: clump at %#x: cut short in memory", a.Name(), aa)
	}
	return &c, append([]byte(nil), p[vtdisk.ClumpSize:vtdisk.ClumpSize+int(c.Size)]...), true, nil
}

// readData returns the decoded, verified data of the clump at aa.
// blocks is the clump's length in 512-byte units as the index records
// it: header and stored bytes are then read from disk in one piece.
func (a *arena) readData(aa uint64, blocks uint8) (*vtdisk.Clump, []byte, error) {
	c, stored, inMem, err := a.memClump(aa)
	if err != nil {
		return nil, nil, err
	}
	if !inMem {
		c, stored, err = a.readClump(aa, blocks)
		if err != nil {
			return nil, nil, err
		}
	}
	data, err := c.Decode(stored)
	if err == nil {
		err = c.Verify(data)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("arena %s: clump at %#x: %w", a.Name(), aa, err)
	}
	return c, data, nil
}

// readClump reads the header and stored bytes of the clump at aa with
// one read when the index says how long it is, else as vtdisk does.
func (a *arena) readClump(aa uint64, blocks uint8) (*vtdisk.Clump, []byte, error) {
	n := uint64(blocks) << vtdisk.ClumpBlockShift
	if n < vtdisk.ClumpSize || aa+n > a.DataSize() {
		return a.ReadClump(aa, a.clumpNumberBound())
	}
	buf := make([]byte, n)
	if _, err := a.part.ReadAt(buf, a.DataOffset()+int64(aa)); err != nil {
		return nil, nil, fmt.Errorf("arena %s: clump at %#x: %w", a.Name(), aa, err)
	}
	var c vtdisk.Clump
	if err := c.Unpack(buf, a.ClumpMagic()); err != nil {
		return nil, nil, fmt.Errorf("arena %s: clump at %#x: %w", a.Name(), aa, err)
	}
	end := vtdisk.ClumpSize + int(c.Size)
	if end > len(buf) {
		// The index's length is wrong; trust the header instead.
		return a.ReadClump(aa, a.clumpNumberBound())
	}
	return &c, buf[vtdisk.ClumpSize:end], nil
}

// clumpNumberBound is a clump count that bounds where clumps can be,
// for vtdisk's range checks.
func (a *arena) clumpNumberBound() uint32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tail.Mem.Clumps
}

// writeOut writes the log bytes held in memory to the partition, without
// forcing them to disk or touching the directory or trailer: until a
// flush writes a trailer that claims them they are invisible to readers
// of the disk, so this changes nothing a crash could see.
func (a *arena) writeOut() error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	a.mu.Lock()
	a.behind = false
	a.inflight, a.buf = a.buf, nil
	start, data := a.onDisk, a.inflight
	a.mu.Unlock()
	if len(data) == 0 {
		return nil
	}
	if _, err := a.part.WriteAt(data, a.DataOffset()+int64(start)); err != nil {
		return a.flushFailed(fmt.Errorf("arena %s: writing clumps: %w", a.Name(), err))
	}
	a.mu.Lock()
	a.onDisk += uint64(len(data))
	a.inflight = nil
	a.recycle(data)
	a.mu.Unlock()
	return nil
}

// recycle keeps a written-out buffer for the next one; a.mu is held.
func (a *arena) recycle(b []byte) {
	if cap(b) >= writeBehind {
		a.spare = b[:0]
	}
}

// flush writes what the log holds in memory, then its directory
// entries, forces both to disk, and then writes and forces the trailer
// (rule 1 of the package doc). disk, when not nil, replaces the
// trailer's disk statistics (after an index flush).
func (a *arena) flush(disk *vtdisk.TailStats) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()

	a.mu.Lock()
	a.inflight, a.buf = a.buf, nil
	start := a.onDisk
	data := a.inflight
	infos := a.infos
	first := a.dirDone
	if disk != nil && !a.tail.Disk.Sealed && disk.Clumps > a.tail.Disk.Clumps {
		// The index covers more of the log. A sealed trailer is final.
		a.tail.Disk = *disk
		a.tail.MemStored = false // written again only while they differ
	}
	tail := a.tail
	a.mu.Unlock()

	if len(data) == 0 && len(infos) == 0 && tail == a.written {
		return nil
	}
	where := "arena " + a.Name()
	// Four zero bytes after the last clump end the log for readers that
	// walk it, whatever the partition held there.
	out := append(data[:len(data):len(data)], 0, 0, 0, 0)
	if _, err := a.part.WriteAt(out, a.DataOffset()+int64(start)); err != nil {
		return a.flushFailed(fmt.Errorf("%s: writing clumps: %w", where, err))
	}
	if err := a.writeDir(first, infos); err != nil {
		return a.flushFailed(err)
	}
	if err := a.part.Sync(); err != nil {
		return a.flushFailed(fmt.Errorf("%s: sync: %w", where, err))
	}
	if err := a.writeTail(&tail); err != nil {
		return a.flushFailed(err)
	}

	a.mu.Lock()
	a.written = tail
	a.onDisk += uint64(len(data))
	a.inflight = nil
	a.recycle(data)
	a.infos = a.infos[len(infos):]
	a.dirDone += uint32(len(infos))
	a.mu.Unlock()
	return nil
}

// flushFailed puts the data of a failed flush back in front of the
// buffer, so that nothing acknowledged is forgotten and a later flush
// tries again.
func (a *arena) flushFailed(err error) error {
	a.mu.Lock()
	a.buf = append(a.inflight, a.buf...)
	a.inflight = nil
	a.mu.Unlock()
	return err
}

// writeDir writes directory entries for clumps first.. (read-modify-write
// of each directory block touched).
func (a *arena) writeDir(first uint32, infos []vtdisk.ClumpInfo) error {
	per := a.ClumpsPerBlock()
	bs := int64(a.BlockSize)
	block := make([]byte, bs)
	for len(infos) > 0 {
		n := int(per - first%per)
		if n > len(infos) {
			n = len(infos)
		}
		off := a.ClumpInfoOffset(first)
		blockOff := off - (off-a.DataOffset())%bs
		if _, err := a.part.ReadAt(block, blockOff); err != nil {
			return fmt.Errorf("arena %s: reading directory block at %#x: %w", a.Name(), blockOff, err)
		}
		for i := 0; i < n; i++ {
			infos[i].Pack(block[off-blockOff+int64(i)*vtdisk.ClumpInfoSize:])
		}
		if _, err := a.part.WriteAt(block, blockOff); err != nil {
			return fmt.Errorf("arena %s: writing directory block at %#x: %w", a.Name(), blockOff, err)
		}
		first += uint32(n)
		infos = infos[n:]
	}
	return nil
}

func (a *arena) writeTail(t *vtdisk.ArenaTail) error {
	block := make([]byte, a.BlockSize)
	if err := t.Pack(block); err != nil {
		return fmt.Errorf("arena %s: %w", a.Name(), err)
	}
	off := a.Offset + int64(a.Size) - int64(a.BlockSize)
	if _, err := a.part.WriteAt(block, off); err != nil {
		return fmt.Errorf("arena %s: writing trailer: %w", a.Name(), err)
	}
	if err := a.part.Sync(); err != nil {
		return fmt.Errorf("arena %s: sync: %w", a.Name(), err)
	}
	return nil
}

// memStats returns the statistics of the whole log.
func (a *arena) memStats() vtdisk.TailStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tail.Mem
}

func (a *arena) trailer() vtdisk.ArenaTail {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tail
}

// seal marks the arena full and writes it out; the caller has flushed
// its index entries, so disk and memory statistics agree. Then it sums
// the arena and records the score, after which the arena never changes.
func (a *arena) seal() error {
	a.mu.Lock()
	a.tail.Mem.Sealed = true
	a.tail.Disk = a.tail.Mem
	a.tail.MemStored = false
	a.mu.Unlock()
	if err := a.flush(nil); err != nil {
		return err
	}
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	score, err := a.SealScore()
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.tail.Score = score
	t := a.tail
	a.mu.Unlock()
	if err := a.writeTail(&t); err != nil {
		return err
	}
	a.mu.Lock()
	a.written = t
	a.mu.Unlock()
	return nil
}
