package fs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// Snapshot freezes the directory src (default /active) as the console's
// snap does: it bumps the epoch, so that every block of the tree becomes
// copy-on-write, and names the frozen tree dst, by default
// /snapshot/yyyy/mmdd/hhmm or, with archive, /archive/yyyy/mmdd (.1, .2
// for later ones the same day), which the archiver then copies to venti.
// It costs a few blocks whatever the size of the tree. It returns dst.
func (fs *Fs) Snapshot(src, dst string, archive bool) (string, error) {
	fs.mu.Lock()
	defer fs.unlock()
	if err := fs.writeCheck(); err != nil {
		return "", err
	}
	if archive && fs.opt.Venti == nil {
		return "", ErrNoVenti
	}
	if src == "" {
		src = "/active"
	}
	t := fs.opt.Now()
	if err := fs.commit(); err != nil {
		return "", err
	}
	root, err := fs.rootAt(fsdisk.NilBlock, false)
	if err != nil {
		return "", err
	}
	defer root.decref()
	sf, err := root.walkPath(src)
	if err != nil {
		return "", fmt.Errorf("snap: %s: %w", src, err)
	}
	defer sf.decref()
	if sf.msrc == nil {
		return "", fmt.Errorf("snap: %s: %w", src, ErrNotDir)
	}
	sde := sf.de
	var ents [2]fsdisk.Entry
	if ents[0], err = sf.src.entry(); err != nil {
		return "", err
	}
	if ents[1], err = sf.msrc.entry(); err != nil {
		return "", err
	}

	// Bump the epoch: a new root block in the new epoch, pointing
	// back at the old one.
	old := fs.super.Active
	oldEpoch := fs.super.EpochHigh
	ob, err := fs.local(old, fsdisk.BtDir, fsdisk.RootTag)
	if err != nil {
		return "", err
	}
	fs.super.EpochHigh++
	nb, err := fs.alloc(fsdisk.BtDir, fsdisk.RootTag, ob.data, true)
	if err != nil {
		fs.super.EpochHigh--
		return "", err
	}
	prev := fsdisk.Entry{Snap: oldEpoch, Tag: fsdisk.RootTag}
	prev.PSize = uint16(fs.bs / venti.ScoreSize * venti.ScoreSize)
	prev.DSize = uint16(fs.bs)
	prev.Type = venti.DirType
	prev.Flags = venti.EntryActive | venti.EntryLocal
	prev.Score = fsdisk.LocalScore(old)
	if archive {
		prev.Archive = 1
	}
	if err := prev.Pack(nb.data[fsdisk.EntrySize:]); err != nil {
		return "", err
	}
	fs.super.Active = nb.addr
	fs.unlink(fsdisk.LocalScore(old))
	if archive {
		fs.super.Next = old
	}

	// Name the frozen tree.
	if dst == "" {
		if archive {
			dst = fmt.Sprintf("/archive/%04d/%02d%02d", t.Year(), t.Month(), t.Day())
		} else {
			dst = fmt.Sprintf("/snapshot/%04d/%02d%02d/%02d%02d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute())
		}
	}
	dir, elem := splitPath(dst)
	pf, err := root.mkdirAll(dir)
	if err != nil {
		return "", fmt.Errorf("snap: %s: %w", dir, err)
	}
	defer pf.decref()
	if archive {
		base := elem
		for n := 1; ; n++ {
			if _, _, _, err := pf.lookup(elem); errors.Is(err, ErrNotFound) {
				break
			}
			elem = base + "." + strconv.Itoa(n)
		}
	} else if _, _, _, err := pf.lookup(elem); err == nil {
		return "", fmt.Errorf("snap: %s: %w", dst, ErrExists)
	}
	slots, gens, err := pf.freeSlots(2)
	if err != nil {
		return "", err
	}
	for k := range ents {
		e := ents[k]
		e.Gen = gens[k]
		if e.IsLocal() {
			e.Snap = oldEpoch
			if archive {
				e.Archive = 1
			}
		}
		if err := pf.setEntryAt(slots[k], e); err != nil {
			return "", err
		}
	}
	de := sde
	de.Elem = elem
	de.Entry, de.Gen, de.MEntry, de.MGen = slots[0], gens[0], slots[1], gens[1]
	de.Mode |= vac.ModeSnapshot | vac.ModeDir
	de.Mode &^= 0o222
	de.QidSpace, de.QidOffset, de.QidMax = true, 0, fs.super.Qid
	if _, err := pf.insertEntry(&de, true); err != nil {
		return "", err
	}
	pf.modified("adm")
	if err := fs.commit(); err != nil {
		return "", err
	}
	if archive {
		fs.arch.kickArchiver()
	}
	return dir + "/" + elem, nil
}

func splitPath(p string) (dir, elem string) {
	p = strings.TrimRight(p, "/")
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// walkPath walks a path from f.
func (f *File) walkPath(p string) (*File, error) {
	f.ref++
	for _, elem := range strings.Split(p, "/") {
		if elem == "" || elem == "." {
			continue
		}
		g, err := f.walkLocked(elem)
		f.decref()
		if err != nil {
			return nil, err
		}
		f = g
	}
	return f, nil
}

// mkdirAll walks p from f, making the directories that are missing, as
// adm, mode 0555.
func (f *File) mkdirAll(p string) (*File, error) {
	f.ref++
	for _, elem := range strings.Split(p, "/") {
		if elem == "" || elem == "." {
			continue
		}
		g, err := f.walkLocked(elem)
		if errors.Is(err, ErrNotFound) {
			g, err = f.createLocked(elem, vac.ModeDir|0o555, "adm", true)
		}
		f.decref()
		if err != nil {
			return nil, err
		}
		f = g
	}
	return f, nil
}

// Snapclean removes the temporary snapshots older than timeout and
// moves the low epoch up, which frees the blocks only they used.
func (fs *Fs) Snapclean(timeout time.Duration) error {
	fs.mu.Lock()
	defer fs.unlock()
	if err := fs.writeCheck(); err != nil {
		return err
	}
	root, err := fs.rootAt(fsdisk.NilBlock, false)
	if err != nil {
		return err
	}
	defer root.decref()
	now := fs.opt.Now()
	if timeout > 0 {
		snaps, err := root.walkPath("snapshot")
		if err != nil {
			return err
		}
		err = snaps.visitSnapshots("", func(p *File, de vac.DirEntry, name string) error {
			t, err := time.ParseInLocation("2006/0102/1504", strings.TrimPrefix(name, "/"), now.Location())
			if err != nil || now.Sub(t) < timeout {
				return nil
			}
			g, err := p.child(de, 0)
			if err != nil {
				return nil
			}
			defer g.decref()
			return g.removeLocked("adm")
		})
		snaps.decref()
		if err != nil {
			return err
		}
	}
	return fs.raiseEpochLow(root)
}

// visitSnapshots calls fn for every snapshot below f (directories with
// the snapshot mode bit), naming them by their path from f.
func (f *File) visitSnapshots(path string, fn func(p *File, de vac.DirEntry, name string) error) error {
	des, err := f.readDirLocked()
	if err != nil {
		return err
	}
	for _, de := range des {
		if !de.IsDir() {
			continue
		}
		name := path + "/" + de.Elem
		if de.Mode&vac.ModeSnapshot != 0 {
			if err := fn(f, de, name); err != nil {
				return err
			}
			continue
		}
		g, err := f.child(de, 0)
		if err != nil {
			continue
		}
		err = g.visitSnapshots(name, fn)
		g.decref()
		if err != nil {
			return err
		}
	}
	return nil
}

// raiseEpochLow sets the low epoch to the oldest epoch a snapshot still
// uses, and counts the blocks that frees.
func (fs *Fs) raiseEpochLow(root *File) error {
	return fs.raiseEpochLowTo(root, fs.super.EpochHigh)
}

// raiseEpochLowTo raises the low epoch towards limit, but never past
// the oldest epoch a snapshot (or a snapshot waiting to be archived)
// still uses: the low epoch decides which closed blocks are free, and a
// snapshot's blocks must stay.
func (fs *Fs) raiseEpochLowTo(root *File, limit uint32) error {
	low := limit
	for _, dir := range []string{"snapshot", "archive"} {
		d, err := root.walkPath(dir)
		if err != nil {
			continue
		}
		err = d.visitSnapshots("", func(p *File, de vac.DirEntry, _ string) error {
			for _, i := range []uint32{de.Entry, de.MEntry} {
				e, err := p.src.entryAt(i)
				if err == nil && e.IsLocal() && e.Snap != 0 && e.Snap < low {
					low = e.Snap
				}
			}
			return nil
		})
		d.decref()
		if err != nil {
			return err
		}
	}
	for _, r := range []uint32{fs.super.Next, fs.super.Current} {
		if r == fsdisk.NilBlock {
			continue
		}
		if l, err := fs.label(r); err == nil && l.Epoch < low {
			low = l.Epoch
		}
	}
	if low <= fs.super.EpochLow {
		return nil
	}
	fs.super.EpochLow = low
	if err := fs.commit(); err != nil {
		return err
	}
	return fs.countFree()
}

// readDirLocked lists directory f.
func (f *File) readDirLocked() ([]vac.DirEntry, error) {
	e, err := f.msrc.entry()
	if err != nil {
		return nil, err
	}
	var out []vac.DirEntry
	nb := (e.Size + uint64(e.DSize) - 1) / uint64(e.DSize)
	for bn := uint64(0); bn < nb; bn++ {
		data, err := f.msrc.blockOf(&e, bn)
		if err != nil {
			return nil, err
		}
		mb, err := vac.UnpackMetaBlock(data)
		if err != nil {
			return nil, err
		}
		des, err := mb.DirEntries()
		if err != nil {
			return nil, err
		}
		out = append(out, des...)
	}
	return out, nil
}

// A SnapshotEpoch is a snapshot that holds blocks of an epoch: its path
// (from the root, e.g. /snapshot/2026/1123/0942) and that epoch.
type SnapshotEpoch struct {
	Path  string
	Epoch uint32
}

// EpochReport is what SetEpochLow did, for the console's epoch.
type EpochReport struct {
	OldLow, NewLow, High uint32
	// Older are the snapshots older than the requested low epoch
	// (removed when asked to).
	Older []SnapshotEpoch
	// Removed are the paths of the snapshots removed.
	Removed []string
}

// SetEpochLow raises the low epoch to n (console epoch n): the blocks
// closed before n become free. The snapshots that still use blocks of
// older epochs are listed; with remove those in /snapshot are removed
// first (an /archive tree waiting for the archiver never is); the others
// hold the low epoch back (a snapshot's blocks are never freed
// under it, unlike the C fossil's epoch -y, which leaves such snapshots
// unreadable). With dryRun nothing changes.
func (fs *Fs) SetEpochLow(n uint32, remove, dryRun bool) (EpochReport, error) {
	fs.mu.Lock()
	defer fs.unlock()
	r := EpochReport{OldLow: fs.super.EpochLow, NewLow: fs.super.EpochLow, High: fs.super.EpochHigh}
	if n > fs.super.EpochHigh {
		return r, fmt.Errorf("low epoch %d would be above the high epoch %d", n, fs.super.EpochHigh)
	}
	root, err := fs.rootAt(fsdisk.NilBlock, false)
	if err != nil {
		return r, err
	}
	defer root.decref()
	for _, dir := range []string{"snapshot", "archive"} {
		d, err := root.walkPath(dir)
		if err != nil {
			continue
		}
		err = d.visitSnapshots("/"+dir, func(p *File, de vac.DirEntry, name string) error {
			for _, i := range []uint32{de.Entry, de.MEntry} {
				e, err := p.src.entryAt(i)
				if err == nil && e.IsLocal() && e.Snap != 0 && e.Snap < n {
					r.Older = append(r.Older, SnapshotEpoch{Path: name, Epoch: e.Snap})
					break
				}
			}
			return nil
		})
		d.decref()
		if err != nil {
			return r, err
		}
	}
	if dryRun || n <= fs.super.EpochLow {
		return r, nil
	}
	if err := fs.writeCheck(); err != nil {
		return r, err
	}
	if remove {
		for _, s := range r.Older {
			// A local tree in /archive is waiting for the archiver:
			// it stays until it is on venti.
			if strings.HasPrefix(s.Path, "/archive/") {
				continue
			}
			g, err := root.walkPath(s.Path)
			if err == nil {
				err = g.removeLocked("adm")
				g.decref()
			}
			if err != nil {
				return r, fmt.Errorf("remove %s: %w", s.Path, err)
			}
			r.Removed = append(r.Removed, s.Path)
		}
	}
	err = fs.raiseEpochLowTo(root, n)
	r.NewLow = fs.super.EpochLow
	return r, err
}
