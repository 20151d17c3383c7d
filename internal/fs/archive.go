package fs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/plan9fossil/fossil/internal/fault"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// The archiver copies the snapshot named by the super block's next root
// to venti, in the background, bottom-up: a block goes to venti after
// everything it points at, with local addresses replaced by the venti
// scores. It marks the local blocks it wrote BsVenti, ends with a
// venti.Root whose Prev is the previous archive, records the root's score
// in the super block's last, and replaces the /archive entries of the
// snapshot by venti entries, so that the snapshot no longer holds its
// epoch and snapclean can free its blocks.
type archiver struct {
	once   sync.Once
	kick   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	// scores of local blocks already on venti, so that the next archive
	// of an unchanged tree sends nothing.
	mu     sync.Mutex
	scores map[uint32]archived
	// Done, if set, is told each archive's score (the console prints
	// "archive vac:SCORE").
	done func(venti.Score)
}

type archived struct {
	epoch uint32
	score venti.Score
}

func (a *archiver) init() {
	a.once.Do(func() {
		a.kick = make(chan struct{}, 1)
		a.ctx, a.cancel = context.WithCancel(context.Background())
		a.scores = make(map[uint32]archived)
	})
}

func (a *archiver) kickArchiver() {
	a.init()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// StartArchiver starts the background archiver; done is told the score
// of each archive it finishes.
func (fs *Fs) StartArchiver(done func(venti.Score)) {
	fs.arch.init()
	fs.arch.done = done
	fs.wg.Add(1)
	go func() {
		defer fs.wg.Done()
		fs.arch.kickArchiver()
		// An archive that fails (venti went away, say) is tried again
		// while its snapshot is pending, after a pause that doubles
		// from archRetryFirst to archRetryMax; a kick tries at once.
		// The blocks a failed attempt got venti to sync are not sent
		// again (see archWalk.unsynced), so the archive resumes.
		var retry *time.Timer
		var retryC <-chan time.Time
		var pause time.Duration
		defer func() {
			if retry != nil {
				retry.Stop()
			}
		}()
		for {
			select {
			case <-fs.stop:
				return
			case <-fs.arch.kick:
			case <-retryC:
			}
			retryC = nil
			score, ok, err := fs.ArchiveNow()
			if err != nil {
				if errors.Is(err, ErrNoVenti) || !fs.archivePending() {
					fs.opt.Logf("archive: %v", err)
					continue
				}
				pause = min(max(2*pause, archRetryFirst), archRetryMax)
				fs.opt.Logf("archive: %v; trying again in %v", err, pause)
				if retry == nil {
					retry = time.NewTimer(pause)
				} else {
					retry.Reset(pause)
				}
				retryC = retry.C
				continue
			}
			pause = 0
			if ok && fs.arch.done != nil {
				fs.arch.done(score)
			}
		}
	}()
}

// The pauses between attempts at an archive that failed.
const (
	archRetryFirst = time.Second
	archRetryMax   = 30 * time.Second
)

// archivePending reports whether a snapshot waits to be archived.
func (fs *Fs) archivePending() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.super.Current != fsdisk.NilBlock || fs.super.Next != fsdisk.NilBlock
}

// ArchiveNow archives the pending snapshot, if any, and returns the
// score of the archive's venti.Root.
func (fs *Fs) ArchiveNow() (_ venti.Score, _ bool, err error) {
	fs.arch.init()
	v := fs.opt.Venti
	fs.mu.Lock()
	if fs.super.Current == fsdisk.NilBlock {
		if fs.super.Next == fsdisk.NilBlock {
			fs.mu.Unlock()
			return venti.Score{}, false, nil
		}
		fs.super.Current, fs.super.Next = fs.super.Next, fsdisk.NilBlock
		if err := fs.commit(); err != nil {
			fs.mu.Unlock()
			return venti.Score{}, false, err
		}
	}
	rootAddr := fs.super.Current
	rb, err := fs.local(rootAddr, fsdisk.BtDir, fsdisk.RootTag)
	if err != nil {
		fs.mu.Unlock()
		return venti.Score{}, false, err
	}
	rl, _ := fs.label(rootAddr)
	top, err := fsdisk.UnpackEntry(rb.data)
	fs.mu.Unlock()
	if err != nil {
		return venti.Score{}, false, err
	}
	if v == nil {
		return venti.Score{}, false, ErrNoVenti
	}
	w := &archWalk{fs: fs, v: v, ctx: fs.arch.ctx, epoch: rl.Epoch, patch: make(map[venti.Score]func([]byte) error)}
	defer func() {
		if err != nil {
			w.forgetUnsynced()
		}
	}()
	// A sync before anything is sent: a venti that cannot vouch for
	// what it acknowledged before (a restarted server, see
	// venti.DialRedial) fails it, and this attempt ends before it
	// costs anything.
	if err := v.Sync(w.ctx); err != nil {
		return venti.Score{}, false, fmt.Errorf("venti sync: %w", err)
	}
	if err := w.patchRoot(top); err != nil {
		return venti.Score{}, false, err
	}
	vtop, err := w.entry(top)
	if err != nil {
		return venti.Score{}, false, err
	}
	dir := make([]byte, fsdisk.EntrySize)
	if err := vtop.Pack(dir); err != nil {
		return venti.Score{}, false, err
	}
	dirScore, err := w.write(venti.DirType, dir)
	if err != nil {
		return venti.Score{}, false, err
	}
	fs.mu.Lock()
	prev := fs.super.Last
	fs.mu.Unlock()
	// The first archive's Prev is the zero-length block's score, as
	// the C fossil writes it (fixture fossil-b).
	r := venti.Root{Name: "fossil", Type: "vac", Score: dirScore, BlockSize: uint16(fs.bs), Prev: prev}
	rbuf := make([]byte, venti.RootSize)
	if err := r.Pack(rbuf); err != nil {
		return venti.Score{}, false, err
	}
	rootScore, err := w.write(venti.RootType, rbuf)
	if err != nil {
		return venti.Score{}, false, err
	}
	if err := v.Sync(w.ctx); err != nil {
		return venti.Score{}, false, fmt.Errorf("venti sync: %w", err)
	}
	fs.arch.mu.Lock()
	w.unsynced = nil // all synced now
	fs.arch.mu.Unlock()
	fault.Point("fs.archive.beforelast")

	fs.mu.Lock()
	defer fs.unlock()
	fs.super.Last = rootScore
	fs.super.Current = fsdisk.NilBlock
	if err := fs.publishArchive(rl.Epoch, w); err != nil {
		fs.opt.Logf("archive: publish: %v", err)
	}
	root, err := fs.rootAt(fsdisk.NilBlock, false)
	if err != nil {
		return rootScore, true, err
	}
	defer root.decref()
	if err := fs.raiseEpochLow(root); err != nil {
		return rootScore, true, err
	}
	return rootScore, true, fs.commit()
}

// publishArchive replaces the local entries of the archive snapshot of
// epoch in /archive by the venti entries the archiver made for the same
// trees.
func (fs *Fs) publishArchive(epoch uint32, w *archWalk) error {
	root, err := fs.rootAt(fsdisk.NilBlock, false)
	if err != nil {
		return err
	}
	defer root.decref()
	d, err := root.walkPath("archive")
	if err != nil {
		return err
	}
	defer d.decref()
	return d.visitSnapshots("", func(p *File, de vac.DirEntry, _ string) error {
		for _, i := range []uint32{de.Entry, de.MEntry} {
			e, err := p.src.entryAt(i)
			if err != nil || !e.IsLocal() || e.Snap != epoch || e.Archive == 0 {
				continue
			}
			ve, ok := w.byTop[e.Score]
			if !ok {
				continue
			}
			ve.Gen = e.Gen
			if err := p.setEntryAt(i, ve); err != nil {
				return err
			}
		}
		return nil
	})
}

// archWalk is one archive's walk of a snapshot.
type archWalk struct {
	fs    *Fs
	v     *venti.Conn
	ctx   context.Context
	epoch uint32
	patch map[venti.Score]func([]byte) error // changes to blocks on their way
	// byTop maps the local top score of each tree archived to its
	// venti entry. The blocks of a directory with more than a block of
	// entries are archived several at a time (pointers), so it has a
	// lock.
	byTopMu sync.Mutex
	byTop   map[venti.Score]fsdisk.Entry

	// The blocks written to venti and recorded in fs.arch.scores whose
	// writes no Sync has covered yet, under fs.arch.mu. A venti that
	// dies may lose them, so when the archive fails they are forgotten
	// and the next attempt sends them again; a Sync every
	// archSyncEvery blocks keeps what a failed attempt must redo
	// short.
	unsynced []uint32
	syncMu   sync.Mutex // one periodic sync at a time
}

// archSyncEvery is how many blocks the archiver writes between syncs.
const archSyncEvery = 1024

// wrote records that the block at a went to venti as vs and syncs
// venti when enough such blocks have gone since the last sync.
func (w *archWalk) wrote(a uint32, epoch uint32, vs venti.Score) error {
	fs := w.fs
	fs.arch.mu.Lock()
	fs.arch.scores[a] = archived{epoch, vs}
	w.unsynced = append(w.unsynced, a)
	n := len(w.unsynced)
	fs.arch.mu.Unlock()
	if n < archSyncEvery || !w.syncMu.TryLock() {
		return nil
	}
	defer w.syncMu.Unlock()
	// The sync covers the writes acknowledged before it is sent: those
	// recorded now.
	fs.arch.mu.Lock()
	n = len(w.unsynced)
	fs.arch.mu.Unlock()
	if err := w.v.Sync(w.ctx); err != nil {
		return fmt.Errorf("venti sync: %w", err)
	}
	fs.arch.mu.Lock()
	w.unsynced = append(w.unsynced[:0], w.unsynced[n:]...)
	fs.arch.mu.Unlock()
	return nil
}

// forgetUnsynced drops the blocks no sync covered from fs.arch.scores,
// so that the next archive writes them again.
func (w *archWalk) forgetUnsynced() {
	fs := w.fs
	fs.arch.mu.Lock()
	defer fs.arch.mu.Unlock()
	for _, a := range w.unsynced {
		delete(fs.arch.scores, a)
	}
	w.unsynced = nil
}

// entry returns the venti form of an entry, archiving its tree.
func (w *archWalk) entry(e fsdisk.Entry) (fsdisk.Entry, error) {
	if !e.IsActive() {
		return e, nil
	}
	if e.IsLocal() && e.Snap != 0 && e.Archive == 0 {
		// A temporary snapshot inside the archive: it goes to venti
		// empty, as in the C fossil.
		ve := e
		ve.Flags &^= venti.EntryLocal
		ve.Score = venti.ZeroScore
		ve.Type = ve.Type.Base()
		ve.Size = 0
		ve.Snap, ve.Archive, ve.Tag = 0, 0, 0
		return ve, nil
	}
	if !e.IsLocal() {
		return e, nil
	}
	s, err := w.block(e.Score, e.BlockType(), e.Tag)
	if err != nil {
		return e, err
	}
	ve := e
	ve.Flags &^= venti.EntryLocal
	ve.Score = s
	ve.Snap, ve.Archive, ve.Tag = 0, 0, 0
	w.byTopMu.Lock()
	if w.byTop == nil {
		w.byTop = make(map[venti.Score]fsdisk.Entry)
	}
	w.byTop[e.Score] = ve
	w.byTopMu.Unlock()
	return ve, nil
}

// block archives the tree below a local score and returns its venti
// score.
func (w *archWalk) block(s venti.Score, t fsdisk.BlockType, tag uint32) (venti.Score, error) {
	fs := w.fs
	a, ok := fsdisk.LocalAddr(s)
	if !ok {
		return s, nil
	}
	fs.arch.mu.Lock()
	done, ok := fs.arch.scores[a]
	fs.arch.mu.Unlock()
	fs.mu.Lock()
	l, err := fs.label(a)
	if err == nil && ok && l.Epoch == done.epoch && l.State&fsdisk.BsVenti != 0 {
		fs.mu.Unlock()
		return done.score, nil
	}
	b, err := fs.local(a, t, tag)
	if err != nil {
		fs.mu.Unlock()
		return s, err
	}
	data := append([]byte(nil), b.data...)
	fs.unlock()

	if p := w.patch[s]; p != nil {
		if err := p(data); err != nil {
			return s, err
		}
	}
	switch {
	case t.Level() > 0:
		if err := w.pointers(data, t, tag); err != nil {
			return s, err
		}
	case t == fsdisk.BtDir:
		for i := 0; i+fsdisk.EntrySize <= len(data); i += fsdisk.EntrySize {
			e, err := fsdisk.UnpackEntry(data[i:])
			if err != nil || !e.IsActive() {
				continue
			}
			ve, err := w.entry(e)
			if err != nil {
				return s, err
			}
			if err := ve.Pack(data[i:]); err != nil {
				return s, err
			}
		}
	}
	vs, err := w.write(t.Venti(), data)
	if err != nil {
		return s, err
	}
	fs.mu.Lock()
	if l, err := fs.label(a); err == nil && l.State != fsdisk.BsFree && l.State&fsdisk.BsVenti == 0 {
		l.State |= fsdisk.BsVenti
		fs.setLabel(a, l)
	}
	fs.mu.Unlock()
	if err := w.wrote(a, l.Epoch, vs); err != nil {
		return s, err
	}
	return vs, nil
}

// pointers archives the children of a pointer block, those of the
// lowest level several at a time, and puts their scores in data.
func (w *archWalk) pointers(data []byte, t fsdisk.BlockType, tag uint32) error {
	n := len(data) / venti.ScoreSize
	if t.Level() > 1 {
		for i := 0; i < n; i++ {
			cs, _ := fsdisk.Pointer(data, i)
			vs, err := w.block(cs, t-1, tag)
			if err != nil {
				return err
			}
			fsdisk.SetPointer(data, i, vs)
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	for i := 0; i < n; i++ {
		cs, _ := fsdisk.Pointer(data, i)
		if _, ok := fsdisk.LocalAddr(cs); !ok {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, cs venti.Score) {
			defer func() { <-sem; wg.Done() }()
			vs, err := w.block(cs, t-1, tag)
			if err != nil {
				errs[i] = err
				return
			}
			fsdisk.SetPointer(data, i, vs)
		}(i, cs)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *archWalk) write(t venti.Type, data []byte) (venti.Score, error) {
	s, err := w.v.Write(w.ctx, t, venti.ZeroTruncate(t, data))
	if err != nil {
		return s, fmt.Errorf("venti write: %w", err)
	}
	return s, nil
}

// patchRoot arranges for the root's own directory entry (block 0 of
// entry 2 of the top directory) to go to venti with a qid space whose
// max is the next qid, which flfmt -v needs to go on giving out qids.
func (w *archWalk) patchRoot(top fsdisk.Entry) error {
	fs := w.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !top.IsLocal() {
		return nil
	}
	b, err := fs.local(mustLocal(top.Score), top.BlockType(), top.Tag)
	if err != nil {
		return err
	}
	e2, err := fsdisk.UnpackEntry(b.data[2*fsdisk.EntrySize:])
	if err != nil || !e2.IsLocal() || e2.Depth() != 0 {
		return nil
	}
	qid := fs.super.Qid
	w.patch[e2.Score] = func(data []byte) error {
		mb, err := vac.UnpackMetaBlock(data)
		if err != nil {
			return err
		}
		de, err := mb.DirEntry(0)
		if err != nil {
			return err
		}
		de.QidSpace, de.QidOffset, de.QidMax = true, 0, qid
		return mb.Update(0, &de)
	}
	return nil
}
