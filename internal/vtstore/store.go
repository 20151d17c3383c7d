package vtstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plan9fossil/fossil/internal/fault"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/whack"
	"github.com/plan9fossil/fossil/venti"
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// ReadOnly opens the partitions read-only; writes fail.
	ReadOnly bool
	// LumpCache is the byte size of the cache of recently used blocks
	// (venti.conf mem plus bcmem); 0 means 16 MiB.
	LumpCache int64
	// IndexCache bounds the memory held by index entries (venti.conf
	// icmem): those not yet in their buckets, flushed to them as their
	// share fills, and the cache of those read from buckets. 0
	// means 16 MiB.
	IndexCache int64
	// Logf receives messages about recovery, sealing and failures.
	Logf func(format string, args ...any)
	// Now is the clock used for clump times; time.Now if nil.
	Now func() time.Time
}

// A Store is an open venti: arenas, index and bloom filter.
type Store struct {
	opt     Options
	files   files
	arenas  []*arena // in index map order
	index   *vtdisk.Index
	isects  []*part
	bloom   *vtdisk.Bloom
	bloomPt *part
	bloomMu sync.RWMutex // guards bloom.Data
	cache   *lumpCache
	icache  *icache // index entries known to be in their buckets

	// mu guards cur and pending.
	mu      sync.Mutex
	cur     int         // the arena taking writes; len(arenas) when all are full
	pending map[key]loc // entries not yet in their buckets
	// pendingMax is how many entries pending may hold: its share of
	// icmem. Writers wait for an index flush beyond it.
	pendingMax int

	indexMu sync.Mutex // serializes index flushes
	// bucketsMu is held to write index buckets, and to read them.
	bucketsMu sync.RWMutex
	flushing  atomic.Bool
	unpended  atomic.Uint64 // counts index flushes' moves of entries out of pending, made under mu
	sealWG    sync.WaitGroup
	closed    atomic.Bool
	Stats     Stats
}

type key struct {
	score venti.Score
	dtype venti.DiskType
}

// A loc is what an index entry says beyond its key: where the clump is.
// Pending entries and the index cache hold hundreds of thousands of
// these, in 16 bytes where a whole vtdisk.IEntry takes 48.
type loc struct {
	addr   uint64
	size   uint16
	blocks uint8
}

func (k key) entry(l loc) vtdisk.IEntry {
	return vtdisk.IEntry{Score: k.score, Type: k.dtype, Addr: l.addr, Size: l.size, Blocks: l.blocks}
}

// split is entry's inverse.
func split(e *vtdisk.IEntry) (key, loc) {
	return key{e.Score, e.Type}, loc{addr: e.Addr, size: e.Size, blocks: e.Blocks}
}

// Stats are counters of the store's work, for the HTTP pages.
type Stats struct {
	Reads, ReadBytes, ReadMisses        atomic.Int64
	Writes, WriteBytes, DupWrites       atomic.Int64
	CacheHits, IndexReads, BloomSkips   atomic.Int64
	Syncs, IndexFlushes, FlushedEntries atomic.Int64
}

// What an index entry costs in memory, for sharing icmem. Go sizes a
// map's tables in powers of two, so a map made for n entries of a
// 21-byte key and a loc takes 63 to 116 bytes an entry, depending on n
// (TestEntryMemory).
const (
	// pendingEntryMemory: a pending entry's share of its map, and its
	// copy (a vtdisk.IEntry) while an index flush sorts it.
	pendingEntryMemory = 116 + 48
	// cachedEntryMemory: an index cache entry's share of its
	// generation's map.
	cachedEntryMemory = 116
)

// Open opens the venti that cfg describes.
func Open(cfg *vtdisk.Config, opt Options) (*Store, error) {
	if opt.LumpCache == 0 {
		opt.LumpCache = 16 << 20
	}
	if opt.IndexCache == 0 {
		opt.IndexCache = 16 << 20
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	// icmem is shared, as the C venti's index cache holds clean and
	// dirty entries: three quarters for pending entries, which an
	// index flush writes the more at once the more there are, and a
	// quarter for the index cache of entries read from buckets or just
	// flushed. Pending's map is made room for at once: growing it would
	// copy it with the store's lock held, and double it.
	s := &Store{opt: opt, pendingMax: max(int(opt.IndexCache*3/4/pendingEntryMemory), 64)}
	s.pending = newPending(s.pendingMax)
	s.files.ro = opt.ReadOnly
	s.cache = newLumpCache(opt.LumpCache)
	s.icache = newICache(int(opt.IndexCache / 4 / cachedEntryMemory))
	if err := s.open(cfg); err != nil {
		s.files.closeAll()
		return nil, err
	}
	if !opt.ReadOnly && len(s.pending) > s.pendingMax*3/4 {
		// Recovery found more unindexed clumps than pending's room.
		s.flushInBackground()
	}
	return s, nil
}

// flushInBackground starts an index flush unless one is running.
func (s *Store) flushInBackground() {
	if !s.flushing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.flushing.Store(false)
		if err := s.flushIndexOver(0); err != nil {
			s.logf("venti: index flush: %v", err)
		}
	}()
}

func (s *Store) logf(format string, args ...any) {
	if s.opt.Logf != nil {
		s.opt.Logf(format, args...)
	}
}

func (s *Store) open(cfg *vtdisk.Config) error {
	if len(cfg.Arenas) == 0 || len(cfg.ISects) == 0 {
		return errors.New("venti: config names no arenas or no index sections")
	}
	// Index sections first: the index map says which arenas we serve.
	var sects []*vtdisk.IndexSection
	for _, name := range cfg.ISects {
		p, err := s.files.open(name)
		if err != nil {
			return fmt.Errorf("isect %s: %w", name, err)
		}
		sect, err := vtdisk.OpenIndexSection(p, p.size)
		if err != nil {
			return fmt.Errorf("isect %s: %w", name, err)
		}
		s.isects = append(s.isects, p)
		sects = append(sects, sect)
	}
	ix, err := vtdisk.OpenIndex(sects...)
	if err != nil {
		return err
	}
	if cfg.Index != "" && ix.Map.Name != cfg.Index {
		return fmt.Errorf("venti: config names index %q, the sections hold index %q", cfg.Index, ix.Map.Name)
	}
	s.index = ix

	// Arenas, matched by name with the index map.
	byName := make(map[string]*arena)
	for _, name := range cfg.Arenas {
		p, err := s.files.open(name)
		if err != nil {
			return fmt.Errorf("arenas %s: %w", name, err)
		}
		ap, err := vtdisk.OpenArenaPartition(p, p.size)
		if err != nil {
			return fmt.Errorf("arenas %s: %w", name, err)
		}
		for i := range ap.Map {
			va, err := ap.Arena(i)
			if err != nil {
				return fmt.Errorf("arenas %s: %w", name, err)
			}
			if byName[va.Name()] != nil {
				return fmt.Errorf("venti: two arenas named %s", va.Name())
			}
			a := &arena{Arena: va, part: p, tail: va.Tail, written: va.Tail}
			a.cond.L = &a.mu
			byName[va.Name()] = a
		}
	}
	for i, m := range ix.Map.Arenas {
		a := byName[m.Name]
		if a == nil {
			return fmt.Errorf("venti: index %s names arena %s, which no arena partition holds", ix.Map.Name, m.Name)
		}
		if m.Stop-m.Start < a.DataSize() {
			return fmt.Errorf("venti: index map gives arena %s %d addresses, it holds %d bytes", m.Name, m.Stop-m.Start, a.DataSize())
		}
		a.base, a.index = m.Start, i
		delete(byName, m.Name)
		s.arenas = append(s.arenas, a)
	}
	for name := range byName {
		s.logf("venti: arena %s is not in the index map; not used (fmtindex -a adds it)", name)
	}

	if cfg.Bloom != "" {
		p, err := s.files.open(cfg.Bloom)
		if err != nil {
			return fmt.Errorf("bloom %s: %w", cfg.Bloom, err)
		}
		if s.bloom, err = vtdisk.ReadBloom(p); err != nil {
			return fmt.Errorf("bloom %s: %w", cfg.Bloom, err)
		}
		s.bloomPt = p
	}

	s.cur = len(s.arenas)
	for i, a := range s.arenas {
		if err := s.recover(a); err != nil {
			return err
		}
		if s.cur == len(s.arenas) && !a.tail.Mem.Sealed {
			s.cur = i
		}
		if a.tail.Disk.Sealed && a.tail.Score == (venti.Score{}) && !s.files.ro {
			// Sealed by a venti that died before writing the
			// score: the C venti computes such scores in the
			// background too.
			s.sealWG.Add(1)
			go s.scoreArena(a)
		}
	}
	return nil
}

// scoreArena writes the score of an arena sealed without one.
func (s *Store) scoreArena(a *arena) {
	defer s.sealWG.Done()
	if err := a.scoreSeal(); err != nil {
		s.logf("venti: arena %s: seal score: %v", a.Name(), err)
		return
	}
	s.logf("venti: arena %s: seal score written", a.Name())
}

// recover makes pending entries of the clumps the trailer says are in
// the log but the index does not cover yet (rule 3), and sets the write
// position. A directory entry that disagrees with its clump's header
// ends the log there: whatever follows was never synced.
func (s *Store) recover(a *arena) error {
	t := &a.tail
	a.onDisk, a.synced = t.Mem.Used, t.Mem.Used
	a.dirDone = t.Mem.Clumps
	if t.Mem.Clumps < t.Disk.Clumps || t.Mem.Used < t.Disk.Used {
		return fmt.Errorf("arena %s: trailer: memory statistics behind disk statistics", a.Name())
	}
	n := t.Mem.Clumps - t.Disk.Clumps
	if n == 0 {
		return nil
	}
	infos, err := a.ReadClumpInfos(t.Disk.Clumps, int(n))
	if err != nil {
		return err
	}
	aa := t.Disk.Used
	st := t.Disk
	for i, ci := range infos {
		c, _, err := a.ReadClump(aa, t.Disk.Clumps+uint32(i))
		if err != nil || c.ClumpInfo != ci {
			s.logf("venti: arena %s: clump %d at %#x does not match its directory entry; the log ends there", a.Name(), t.Disk.Clumps+uint32(i), aa)
			break
		}
		s.addPending(a, aa, &ci)
		if s.bloom != nil {
			// The filter on disk may predate this clump: without its
			// bits, the block would vanish once its entry left pending.
			s.bloom.Add(ci.Score)
		}
		st.Clumps++
		if c.Encoding == vtdisk.EncodingWhack {
			st.CClumps++
		}
		st.Used += vtdisk.ClumpSize + uint64(ci.Size)
		st.UncSize += uint64(ci.UncSize)
		aa = st.Used
	}
	st.Sealed = t.Mem.Sealed
	if st != t.Mem {
		t.Mem = st
		a.onDisk, a.synced, a.dirDone = st.Used, st.Used, st.Clumps
	}
	s.logf("venti: arena %s: %d clumps to index", a.Name(), st.Clumps-t.Disk.Clumps)
	return nil
}

// addPending records the index entry of a clump at arena address aa.
func (s *Store) addPending(a *arena, aa uint64, ci *vtdisk.ClumpInfo) {
	s.pending[key{ci.Score, ci.Type}] = loc{addr: a.base + aa, size: ci.UncSize, blocks: ci.Blocks()}
}

// newPending makes the map of pending entries with room for max and a
// few writers more (each appends before it looks whether to wait).
func newPending(max int) map[key]loc {
	return make(map[key]loc, max+pendingSlack)
}

// pendingSlack is the room for writers past pendingMax; more (many
// writers at once as a flush begins) grow the map, and the flush makes
// it anew.
const pendingSlack = 64

// lookup finds the index entry of (score, type). A block the bloom
// filter has never seen is neither indexed nor pending, since a pending
// entry's bits are set with it, under s.mu: so a new block, the common
// case of a write, is known new without taking s.mu, which Write then
// takes once to append it; there the pending entries are looked at
// again, for a block another writer appended meanwhile, and the block
// is looked up again if an index flush has moved entries out of
// pending since.
func (s *Store) lookup(k key) (vtdisk.IEntry, bool, error) {
	if s.bloom != nil && !s.bloomTest(k.score) {
		s.Stats.BloomSkips.Add(1)
		return vtdisk.IEntry{}, false, nil
	}
	s.mu.Lock()
	l, ok := s.pending[k]
	s.mu.Unlock()
	if ok {
		return k.entry(l), true, nil
	}
	if l, ok := s.icache.get(k); ok {
		return k.entry(l), true, nil
	}
	s.Stats.IndexReads.Add(1)
	s.bucketsMu.RLock()
	e2, found, err := s.index.Lookup(k.score, k.dtype, false)
	s.bucketsMu.RUnlock()
	if found {
		_, l := split(&e2)
		s.icache.put(k, l)
	}
	return e2, found, err
}

// afterLookupHook, set only by tests, runs in Write between the lookup
// that finds a block new and its append.
var afterLookupHook func()

func (s *Store) bloomTest(score venti.Score) bool {
	s.bloomMu.RLock()
	defer s.bloomMu.RUnlock()
	return s.bloom.Test(score)
}

// ErrNotFound is the error of a read of a block the store does not hold.
var ErrNotFound = errors.New("no block")

// Read implements venti.Handler.
func (s *Store) Read(ctx context.Context, score venti.Score, t venti.Type, count int) ([]byte, error) {
	s.Stats.Reads.Add(1)
	d, ok := t.Disk()
	if !ok {
		return nil, fmt.Errorf("bad block type %d", t)
	}
	k := key{score, d}
	if b, ok := s.cache.get(k); ok {
		s.Stats.CacheHits.Add(1)
		s.Stats.ReadBytes.Add(int64(len(b)))
		return b, nil
	}
	e, found, err := s.lookup(k)
	if err != nil {
		return nil, err
	}
	if !found {
		s.Stats.ReadMisses.Add(1)
		return nil, fmt.Errorf("no block with score %v/%d exists", score, t)
	}
	a, aa, err := s.locate(e.Addr)
	if err != nil {
		return nil, err
	}
	c, data, err := a.readData(aa, e.Blocks)
	if err != nil {
		return nil, err
	}
	if c.Score != score || c.Type != d {
		return nil, fmt.Errorf("arena %s: clump at %#x holds %v/%d, the index says %v/%d", a.Name(), aa, c.Score, c.Type, score, d)
	}
	s.cache.put(k, data)
	s.Stats.ReadBytes.Add(int64(len(data)))
	return data, nil
}

// locate maps an index address to an arena and an arena address.
func (s *Store) locate(addr uint64) (*arena, uint64, error) {
	i, aa, ok := s.index.ArenaAt(addr)
	if !ok || i >= len(s.arenas) {
		return nil, 0, fmt.Errorf("venti: index address %#x is in no arena", addr)
	}
	return s.arenas[i], aa, nil
}

// Write implements venti.Handler.
func (s *Store) Write(ctx context.Context, t venti.Type, data []byte) (venti.Score, error) {
	if s.opt.ReadOnly {
		return venti.Score{}, errors.New("venti is read-only")
	}
	if len(data) > venti.MaxLumpSize {
		return venti.Score{}, venti.ErrLumpTooLarge
	}
	d, ok := t.Disk()
	if !ok {
		return venti.Score{}, fmt.Errorf("bad block type %d", t)
	}
	score := venti.Fingerprint(data)
	k := key{score, d}
	s.Stats.Writes.Add(1)
	s.Stats.WriteBytes.Add(int64(len(data)))
	if _, ok := s.cache.get(k); ok {
		s.Stats.DupWrites.Add(1)
		return score, nil
	}
	moves := s.unpended.Load()
	if _, found, err := s.lookup(k); err != nil {
		return venti.Score{}, err
	} else if found {
		// Not copied into the cache: a block written again is no more
		// likely to be read, and its index entry, now in the index
		// cache or pending, answers the next such write as quickly.
		s.Stats.DupWrites.Add(1)
		return score, nil
	}
	c, stored := encode(data, d, score, uint32(s.opt.Now().Unix()))
	if afterLookupHook != nil {
		afterLookupHook()
	}

	s.mu.Lock()
	for {
		if _, dup := s.pending[k]; dup {
			// Another writer stored it while we compressed.
			s.mu.Unlock()
			s.Stats.DupWrites.Add(1)
			return score, nil
		}
		if s.unpended.Load() == moves {
			break
		}
		// An index flush has moved entries out of pending since lookup
		// looked: the block may be among them, in the index cache or
		// (the flush moving more than the cache holds) only in its
		// bucket. Look again, everywhere.
		moves = s.unpended.Load()
		s.mu.Unlock()
		if _, found, err := s.lookup(k); err != nil {
			return venti.Score{}, err
		} else if found {
			s.Stats.DupWrites.Add(1)
			return score, nil
		}
		s.mu.Lock()
	}
	var (
		err     error
		a       *arena
		backlog bool
	)
	for {
		if s.cur >= len(s.arenas) {
			err = fmt.Errorf("venti: arenas full: no arena has room for a %d-byte clump", len(stored))
			break
		}
		a = s.arenas[s.cur]
		var aa uint64
		aa, backlog, err = a.appendClump(&c, stored)
		if err == errArenaFull {
			s.cur++
			s.sealWG.Add(1)
			go s.sealArena(a)
			continue
		}
		if err == nil {
			fault.Point("vtstore.write.appended")
			s.addPending(a, aa, &c.ClumpInfo)
			if s.bloom != nil {
				s.bloomMu.Lock()
				s.bloom.Add(score)
				s.bloomMu.Unlock()
			}
		}
		break
	}
	npending := len(s.pending)
	s.mu.Unlock()
	if err != nil {
		return venti.Score{}, err
	}
	if backlog {
		a.throttle()
	}
	// Not cached: recent writes are found through their pending entries,
	// and a copy of every block written would only churn the cache.
	// The background flush starts with a quarter of pending's room
	// left, for the writes that arrive while it runs.
	switch {
	case npending > s.pendingMax:
		// Writes outrun the background flush: wait for it, so that
		// pending entries stay within their share of memory.
		if err := s.flushIndexOver(s.pendingMax * 3 / 4); err != nil {
			return venti.Score{}, err
		}
	case npending > s.pendingMax*3/4:
		s.flushInBackground()
	}
	return score, nil
}

// encode makes the clump for data: whack-compressed when that is
// smaller, as the C venti stores it. Data that a quick probe finds
// hopeless (random-looking, as encrypted or already compressed data is)
// is stored raw at once: trying to compress it would cost more than
// hashing it, for nothing. (The C venti reads either.)
func encode(data []byte, d venti.DiskType, score venti.Score, now uint32) (vtdisk.Clump, []byte) {
	c := vtdisk.Clump{
		ClumpInfo: vtdisk.ClumpInfo{Type: d, UncSize: uint16(len(data)), Score: score},
		Time:      now,
	}
	c.Encoding, c.Size = vtdisk.EncodingNone, uint16(len(data))
	if whack.Hopeless(data) {
		return c, data
	}
	buf := make([]byte, len(data))
	if n, ok := whack.Compress(buf, data); ok && n < len(data) {
		c.Encoding, c.Size = vtdisk.EncodingWhack, uint16(n)
		return c, buf[:n]
	}
	return c, data
}

// sealArena seals a full arena in the background: its index entries go
// to their buckets first, so that the sealed trailer is final.
func (s *Store) sealArena(a *arena) {
	defer s.sealWG.Done()
	if err := s.FlushIndex(); err != nil {
		s.logf("venti: sealing arena %s: index flush: %v", a.Name(), err)
		return
	}
	if err := a.seal(); err != nil {
		s.logf("venti: sealing arena %s: %v", a.Name(), err)
		return
	}
	s.logf("venti: arena %s sealed", a.Name())
}

// Sync implements venti.Handler: every clump written before it is on
// disk when it returns.
func (s *Store) Sync(ctx context.Context) error {
	s.Stats.Syncs.Add(1)
	for _, a := range s.arenas {
		if err := a.flush(nil); err != nil {
			return err
		}
	}
	return nil
}

// FlushIndex writes the pending index entries into their buckets (rule
// 2): it syncs the arenas, writes the buckets and the bloom filter, and
// then raises the arenas' disk statistics.
func (s *Store) FlushIndex() error {
	return s.flushIndexOver(-1)
}

// flushIndexOver flushes the index if more than limit entries are
// pending once no other flush runs. A writer that finds pending full
// waits thus for the flush under way, and flushes again only if the
// writes during that flush filled pending anew: each flush of a busy
// store rewrites much of the index, so one per writer would be a
// waste.
func (s *Store) flushIndexOver(limit int) error {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	if limit >= 0 && s.closed.Load() {
		return nil // Close has flushed, or is about to
	}
	s.mu.Lock()
	n := len(s.pending)
	s.mu.Unlock()
	if n <= limit {
		return nil
	}
	if err := s.Sync(context.Background()); err != nil {
		return err
	}
	// The entries and statistics as of now; writes may go on meanwhile.
	s.mu.Lock()
	entries := make([]vtdisk.IEntry, 0, len(s.pending))
	for k, l := range s.pending {
		entries = append(entries, k.entry(l))
	}
	covered := make([]vtdisk.TailStats, len(s.arenas))
	for i, a := range s.arenas {
		covered[i] = a.memStats()
	}
	s.mu.Unlock()
	// Entries appended after the Sync above may not be on disk yet (even
	// if written out in the background); they must wait for the next
	// flush.
	onDisk := make([]uint64, len(s.arenas))
	for i, a := range s.arenas {
		a.mu.Lock()
		onDisk[i] = a.synced
		a.mu.Unlock()
	}
	kept := entries[:0]
	for _, e := range entries {
		a, aa, err := s.locate(e.Addr)
		if err != nil {
			return err
		}
		if aa < onDisk[a.index] {
			kept = append(kept, e)
		}
	}
	entries = kept
	for i, a := range s.arenas {
		if covered[i].Used > onDisk[i] {
			// Cover only what is on disk: recompute from the trailer
			// as last flushed.
			covered[i] = a.diskCovered(onDisk[i])
		}
	}
	if err := s.writeBuckets(entries); err != nil {
		return err
	}
	if s.bloom != nil {
		// Like the C venti, the header is packed over the filter's
		// first bytes, where a few hash bits may also land.
		s.bloomMu.Lock()
		err := s.bloom.BloomHead.Pack(s.bloom.Data)
		if err == nil {
			_, err = s.bloomPt.WriteAt(s.bloom.Data, 0)
		}
		s.bloomMu.Unlock()
		if err == nil {
			err = s.bloomPt.Sync()
		}
		if err != nil {
			return fmt.Errorf("bloom: %w", err)
		}
	}
	fault.Point("vtstore.index.buckets")
	for i, a := range s.arenas {
		t := a.trailer()
		if t.Disk != covered[i] && !t.Disk.Sealed {
			if err := a.flush(&covered[i]); err != nil {
				return err
			}
		}
	}
	s.mu.Lock()
	s.unpended.Add(1)
	grown := len(s.pending) > s.pendingMax+pendingSlack
	for i := range entries {
		k, flushed := split(&entries[i])
		if l, ok := s.pending[k]; ok && l == flushed {
			// Into the index cache before leaving pending, so that a
			// lookup that does not find it pending finds it there,
			// or, once the cache has forgotten it, in its bucket.
			s.icache.put(k, l)
			delete(s.pending, k)
		}
	}
	// The entries left (written during the flush) go back into an
	// emptied map. Go's maps grow when deletions' markers fill them,
	// however few entries they hold, and never give memory back; clear
	// drops the markers and keeps the memory, unless the map had
	// outgrown its room (recovery at open, many writers at once), when
	// a new one is made.
	left := entries[:0]
	for k, l := range s.pending {
		left = append(left, k.entry(l))
	}
	if grown {
		s.pending = newPending(s.pendingMax)
	} else {
		clear(s.pending)
	}
	for i := range left {
		k, l := split(&left[i])
		s.pending[k] = l
	}
	s.mu.Unlock()
	s.Stats.IndexFlushes.Add(1)
	s.Stats.FlushedEntries.Add(int64(len(entries)))
	return nil
}

// diskCovered returns the log statistics of the clumps that end at or
// before byte end of the log, as known from the trailer in memory.
// Used only when writes raced an index flush; rare, so it walks.
func (a *arena) diskCovered(end uint64) vtdisk.TailStats {
	a.mu.Lock()
	st := a.tail.Disk
	a.mu.Unlock()
	for st.Used < end {
		c, _, err := a.ReadClump(st.Used, st.Clumps)
		if err != nil {
			break
		}
		st.Clumps++
		if c.Encoding == vtdisk.EncodingWhack {
			st.CClumps++
		}
		st.Used += vtdisk.ClumpSize + uint64(c.Size)
		st.UncSize += uint64(c.UncSize)
	}
	return st
}

// bucketRun is the most bytes of buckets an index flush reads and
// writes at once, and bucketGap the most untouched buckets it reads and
// writes back unchanged to keep a run going: a flush of a busy store
// touches most buckets of a small index, and one read and one write of a
// megabyte cost far less than a hundred of a bucket each.
const (
	bucketRun = 1 << 20
	bucketGap = 4
)

// writeBuckets merges entries into their buckets, a run of neighbouring
// buckets at a time, and syncs the sections.
func (s *Store) writeBuckets(entries []vtdisk.IEntry) error {
	ix := s.index
	// A bucket is a range of scores, so in score order the entries
	// come bucket by bucket.
	slices.SortFunc(entries, entryOrder)
	now := uint32(s.opt.Now().Unix())
	touched := make(map[*part]bool)
	var run []byte
	for i := 0; i < len(entries); {
		first := ix.Bucket(entries[i].Score)
		sect, ok := ix.Section(first)
		if !ok {
			return fmt.Errorf("venti: index %s: no section keeps bucket %d", ix.Map.Name, first)
		}
		h := &sect.Header
		most := max(1, bucketRun/h.BlockSize)
		last, j := first, i
		for ; j < len(entries); j++ {
			b := ix.Bucket(entries[j].Score)
			if b >= h.Stop || b-first >= most || b-last > bucketGap+1 {
				break
			}
			last = b
		}
		p := s.isectPart(sect)
		bs := int(h.BlockSize)
		run = slices.Grow(run[:0], int(last-first+1)*bs)[:int(last-first+1)*bs]
		off := h.BucketOffset(first)
		if _, err := p.ReadAt(run, off); err != nil {
			return fmt.Errorf("isect %s: buckets %d-%d: %w", h.Name, first, last, err)
		}
		for k := i; k < j; {
			b := ix.Bucket(entries[k].Score)
			m := k + 1
			for m < j && ix.Bucket(entries[m].Score) == b {
				m++
			}
			block := run[int(b-first)*bs:][:bs]
			if err := s.mergeBucket(h, b, block, entries[k:m], now); err != nil {
				return err
			}
			k = m
		}
		// Lookups read buckets as this writes them: a bucket read half
		// written could miss an entry it holds.
		s.bucketsMu.Lock()
		_, err := p.WriteAt(run, off)
		s.bucketsMu.Unlock()
		if err != nil {
			return fmt.Errorf("isect %s: buckets %d-%d: %w", h.Name, first, last, err)
		}
		touched[p] = true
		fault.Point("vtstore.index.bucket")
		i = j
	}
	for p := range touched {
		if err := p.Sync(); err != nil {
			return fmt.Errorf("isect %s: sync: %w", p.name, err)
		}
	}
	return nil
}

// mergeBucket adds entries, sorted and all of bucket b, to the bucket
// block as read from section h, in place.
func (s *Store) mergeBucket(h *vtdisk.ISect, b uint32, block []byte, entries []vtdisk.IEntry, now uint32) error {
	var bk vtdisk.Bucket
	if err := bk.Unpack(block, h.BucketMagic); err != nil {
		return fmt.Errorf("isect %s: bucket %d: %w", h.Name, b, err)
	}
	// A bucket of a version 2 section never written since formatting
	// (another magic) holds nothing.
	bk.Magic = h.BucketMagic
	// Both lists are sorted: merge them. An entry already on disk
	// comes again when a crash fell between the bucket writes and the
	// trailers that record them: it must not go in twice (the crash
	// campaign found it did).
	old := bk.Entries
	if !slices.IsSortedFunc(old, entryOrder) {
		// Only a bucket torn by a crash (its count written, not all
		// its entries) is out of order: sorted again, a lookup's
		// search by halves finds what it holds.
		slices.SortFunc(old, entryOrder)
	}
	merged := make([]vtdisk.IEntry, 0, len(old)+len(entries))
	for i, e := range entries {
		if i > 0 && e.Compare(&entries[i-1]) == 0 {
			continue
		}
		for len(old) > 0 && old[0].Compare(&e) < 0 {
			merged, old = append(merged, old[0]), old[1:]
		}
		if len(old) > 0 && old[0].Compare(&e) == 0 {
			if old[0].Addr != e.Addr {
				s.logf("venti: %v/%d is in the index at %#x; keeping that copy, not %#x", e.Score, e.Type, old[0].Addr, e.Addr)
			}
			continue
		}
		e.WTime = now
		merged = append(merged, e)
	}
	bk.Entries = append(merged, old...)
	if len(bk.Entries) > h.BucketMax() {
		return fmt.Errorf("venti: index section %s: bucket %d is full (%d entries, room for %d): the index needs more sections", h.Name, b, len(bk.Entries), h.BucketMax())
	}
	if err := bk.Pack(block); err != nil {
		return err
	}
	clear(block[bk.PackedSize():])
	return nil
}

// entryOrder is the order buckets keep their entries in (by score,
// then type), for the slices package.
func entryOrder(a, b vtdisk.IEntry) int { return a.Compare(&b) }

func (s *Store) isectPart(sect *vtdisk.IndexSection) *part {
	for i, x := range s.index.Sects {
		if x == sect {
			return s.isects[i]
		}
	}
	panic("vtstore: section not in the index")
}

// Close flushes everything, waits for arenas being sealed, and closes
// the partitions.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	var err error
	if !s.opt.ReadOnly {
		s.sealWG.Wait()
		err = s.FlushIndex()
	}
	if cerr := s.files.closeAll(); err == nil {
		err = cerr
	}
	return err
}

// Resident is the memory the store holds whatever it is asked: the
// bloom filter (read whole into memory) and the arenas' write-behind
// queues at their fullest. The caches come on top.
func (s *Store) Resident() int64 {
	var n int64
	if s.bloom != nil {
		n += int64(len(s.bloom.Data))
	}
	return n + WriteBehindMemory
}
