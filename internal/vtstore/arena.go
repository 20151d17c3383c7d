package vtstore

import (
	"errors"
	"fmt"
	"sync"

	"github.com/plan9fossil/fossil/internal/fault"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// An arena is one arena of the store, with the state of its clump log.
// Only the current arena takes writes; the others are read.
//
// The log's newest bytes are kept in memory in chunks of about
// writeBehind bytes. A full chunk is written out (unsynced) in the
// background by writeOut, and every syncBehind bytes so written are
// forced to disk in the background too, so that a sync finds little left
// to do; a flush writes the rest, with the directory and the trailer.
type arena struct {
	*vtdisk.Arena
	part  *part
	base  uint64 // the arena's start in the index address space
	index int    // position in the index map

	// flushMu serializes writes of the log to the partition: flushes,
	// sealing, and each chunk written out.
	flushMu sync.Mutex

	// mu guards the fields below; readers take it to find clumps still
	// in memory.
	mu       sync.Mutex
	cond     sync.Cond          // on mu: broadcast when a chunk is written out or a background sync ends
	tail     vtdisk.ArenaTail   // the trailer as it will next be written
	onDisk   uint64             // log bytes written to the partition
	synced   uint64             // log bytes forced to disk by a flush
	chunks   [][]byte           // full log chunks not yet written, from onDisk
	buf      []byte             // the chunk taking appends, after chunks
	writing  bool               // writeOut is running
	free     [][]byte           // written-out chunks to reuse
	unsynced int                // bytes written out since the last background sync began
	syncing  bool               // a background sync is running
	syncErr  error              // why a background sync failed: what it covered may be lost
	infos    []vtdisk.ClumpInfo // directory entries not yet on disk, from dirDone
	dirDone  uint32             // clumps whose directory entries are on disk
	written  vtdisk.ArenaTail   // the trailer last written
}

var errArenaFull = errors.New("arena full")

const (
	// writeBehind is the size of a chunk of the log in memory: a full
	// one is written out in the background, so that a sync has little
	// left to write and memory stays bounded.
	writeBehind = 1 << 20
	// chunkCap is a chunk's capacity: the clump that fills it always
	// fits, and so do the 4 zero bytes a flush writes after the log.
	chunkCap = writeBehind + vtdisk.ClumpSize + venti.MaxLumpSize + 4
	// maxChunks is how many full chunks may wait to be written before
	// writers wait for the disk (see throttle).
	maxChunks = 4
	// WriteBehindMemory is the most the write-behind queues hold.
	WriteBehindMemory = (maxChunks + 1) * chunkCap
	// syncBehind is how many bytes writeOut writes before it forces
	// them to disk, in the background: left to the system, a long run of
	// writes would all wait for the next sync.
	syncBehind = 8 << 20
)

// appendClump adds a clump to the log in memory and returns its arena
// address, and whether the writer should throttle. It fails with
// errArenaFull when the clump does not fit.
func (a *arena) appendClump(c *vtdisk.Clump, stored []byte) (aa uint64, backlog bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &a.tail.Mem
	if !a.CanAppend(*st, len(stored)) {
		return 0, false, errArenaFull
	}
	aa = st.Used
	if a.buf == nil {
		// Reusing chunks written out spares the page faults of fresh
		// memory on every megabyte.
		if n := len(a.free); n > 0 {
			a.buf, a.free = a.free[n-1][:0], a.free[:n-1]
		} else {
			a.buf = make([]byte, 0, chunkCap)
		}
	}
	n := len(a.buf)
	a.buf = a.buf[:n+vtdisk.ClumpSize+len(stored)]
	if err := c.Pack(a.buf[n:], a.ClumpMagic()); err != nil {
		a.buf = a.buf[:n]
		return 0, false, err
	}
	copy(a.buf[n+vtdisk.ClumpSize:], stored)
	if len(a.buf) >= writeBehind {
		a.chunks = append(a.chunks, a.buf)
		a.buf = nil
		if !a.writing {
			a.writing = true
			go a.writeOut()
		}
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
	return aa, len(a.chunks) > maxChunks, nil
}

// throttle waits while more full chunks wait to be written than
// maxChunks, so that writes faster than the disk do not fill memory.
func (a *arena) throttle() {
	a.mu.Lock()
	for len(a.chunks) > maxChunks && a.writing {
		a.cond.Wait()
	}
	a.mu.Unlock()
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
	for _, c := range a.chunks {
		if off < uint64(len(c)) {
			p = c[off:]
			break
		}
		off -= uint64(len(c))
	}
	if p == nil {
		if off >= uint64(len(a.buf)) {
			return nil, nil, true, fmt.Errorf("arena %s: clump at %#x: past the end of the log", a.Name(), aa)
		}
		p = a.buf[off:]
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

// writeOut writes the full chunks of the log to the partition, oldest
// first, without touching the directory or trailer: until a flush writes
// a trailer that claims them they are invisible to readers of the disk,
// so this changes nothing a crash could see. A chunk leaves memory only
// once written; after a failed write it stays for the next flush, which
// reports the error.
func (a *arena) writeOut() {
	for {
		a.flushMu.Lock()
		a.mu.Lock()
		if len(a.chunks) == 0 {
			a.writing = false
			a.cond.Broadcast()
			a.mu.Unlock()
			a.flushMu.Unlock()
			return
		}
		c, start := a.chunks[0], a.onDisk
		a.mu.Unlock()
		_, err := a.part.WriteAt(c, a.DataOffset()+int64(start))
		a.mu.Lock()
		if err != nil {
			a.writing = false
			a.cond.Broadcast()
			a.mu.Unlock()
			a.flushMu.Unlock()
			return
		}
		a.onDisk += uint64(len(c))
		a.dropChunks(1)
		a.unsynced += len(c)
		if a.unsynced >= syncBehind && !a.syncing {
			a.unsynced = 0
			a.syncing = true
			go a.syncOut()
		}
		a.cond.Broadcast()
		a.mu.Unlock()
		a.flushMu.Unlock()
	}
}

// syncOut forces what writeOut wrote to disk. Its chunks are gone from
// memory, so if that fails they may be lost: the error stays, and every
// later flush fails with it, so that no trailer ever claims them.
func (a *arena) syncOut() {
	err := a.part.Sync()
	a.mu.Lock()
	a.syncing = false
	if err != nil && a.syncErr == nil {
		a.syncErr = fmt.Errorf("arena %s: forcing the log to disk: %w", a.Name(), err)
	}
	a.cond.Broadcast()
	a.mu.Unlock()
}

// dropChunks forgets the first n chunks, which are on the partition,
// keeping a few for reuse; a.mu is held.
func (a *arena) dropChunks(n int) {
	for _, c := range a.chunks[:n] {
		if len(a.free) < maxChunks+2 && cap(c) == chunkCap {
			a.free = append(a.free, c[:0])
		}
	}
	k := copy(a.chunks, a.chunks[n:])
	clear(a.chunks[k:])
	a.chunks = a.chunks[:k]
}

// flush writes what the log holds in memory, then its directory
// entries, forces both to disk, and then writes and forces the trailer
// (rule 1 of the package doc). disk, when not nil, replaces the
// trailer's disk statistics (after an index flush).
func (a *arena) flush(disk *vtdisk.TailStats) error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()

	a.mu.Lock()
	if err := a.syncErr; err != nil {
		a.mu.Unlock()
		return err
	}
	if len(a.buf) > 0 {
		a.chunks = append(a.chunks, a.buf)
		a.buf = nil
	}
	chunks := append([][]byte(nil), a.chunks...)
	start := a.onDisk
	infos := a.infos
	first := a.dirDone
	if disk != nil && !a.tail.Disk.Sealed && disk.Clumps > a.tail.Disk.Clumps {
		// The index covers more of the log. A sealed trailer is final.
		a.tail.Disk = *disk
		a.tail.MemStored = false // written again only while they differ
	}
	tail := a.tail
	a.mu.Unlock()

	if len(chunks) == 0 && len(infos) == 0 && tail == a.written {
		return nil
	}
	where := "arena " + a.Name()
	// Four zero bytes after the last clump end the log for readers that
	// walk it, whatever the partition held there. A chunk has room for
	// them past its end, where nothing else writes: so they go out with
	// the last one.
	var zero [4]byte
	off := a.DataOffset() + int64(start)
	marked := false
	for i, c := range chunks {
		if i == len(chunks)-1 && cap(c)-len(c) >= len(zero) {
			c = append(c, zero[:]...)
			marked = true
		}
		if _, err := a.part.WriteAt(c, off); err != nil {
			return fmt.Errorf("%s: writing clumps: %w", where, err)
		}
		off += int64(len(c))
	}
	if !marked {
		if _, err := a.part.WriteAt(zero[:], off); err != nil {
			return fmt.Errorf("%s: writing clumps: %w", where, err)
		}
	}
	if err := a.writeDir(first, infos); err != nil {
		return err
	}
	if err := a.part.Sync(); err != nil {
		return fmt.Errorf("%s: sync: %w", where, err)
	}
	// A background sync may have met, and so taken from us, an error
	// about what it covered: wait for it and look.
	a.mu.Lock()
	for a.syncing {
		a.cond.Wait()
	}
	err := a.syncErr
	a.mu.Unlock()
	if err != nil {
		return err
	}
	fault.Point("vtstore.flush.clumps")
	if err := a.writeTail(&tail); err != nil {
		return err
	}

	a.mu.Lock()
	a.written = tail
	for _, c := range chunks {
		a.onDisk += uint64(len(c))
	}
	a.synced = a.onDisk
	a.dropChunks(len(chunks))
	a.cond.Broadcast()
	a.infos = a.infos[len(infos):]
	a.dirDone += uint32(len(infos))
	a.mu.Unlock()
	return nil
}

// writeDir writes directory entries for clumps first.. . The directory
// grows down from the end of the arena, so the blocks it touches are one
// run of the partition: read (to keep what they hold besides), changed
// and written back whole.
func (a *arena) writeDir(first uint32, infos []vtdisk.ClumpInfo) error {
	if len(infos) == 0 {
		return nil
	}
	per := a.ClumpsPerBlock()
	bs := int64(a.BlockSize)
	last := first + uint32(len(infos)) - 1
	hi := a.ClumpInfoOffset(first-first%per) + bs // the end of the first entry's block
	lo := a.ClumpInfoOffset(last - last%per)      // the start of the last entry's block
	run := make([]byte, hi-lo)
	if _, err := a.part.ReadAt(run, lo); err != nil {
		return fmt.Errorf("arena %s: reading directory blocks at %#x: %w", a.Name(), lo, err)
	}
	for i := range infos {
		infos[i].Pack(run[a.ClumpInfoOffset(first+uint32(i))-lo:])
	}
	if _, err := a.part.WriteAt(run, lo); err != nil {
		return fmt.Errorf("arena %s: writing directory blocks at %#x: %w", a.Name(), lo, err)
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
	fault.Point("vtstore.seal.flushed")
	return a.scoreSeal()
}

// scoreSeal computes a sealed arena's score and writes it into the
// trailer: the second half of seal, and all of it for an arena found
// sealed without a score at open (its venti died in between).
func (a *arena) scoreSeal() error {
	a.flushMu.Lock()
	defer a.flushMu.Unlock()
	a.mu.Lock()
	a.free = nil // no more appends
	a.mu.Unlock()
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
	fault.Point("vtstore.seal.done")
	a.mu.Lock()
	a.written = t
	a.mu.Unlock()
	return nil
}
