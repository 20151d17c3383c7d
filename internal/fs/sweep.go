package fs

import (
	"fmt"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/venti"
)

// sweep frees the blocks a crash leaked: blocks of the current epoch
// whose labels say allocated and open but that the active tree does not
// reach. Blocks of the current epoch can only be reached from blocks of
// the current epoch (older blocks are never changed to point at newer
// ones), so the walk stays inside the part of the tree written since the
// last snapshot. Any error stops the sweep before it frees anything.
func (fs *Fs) sweep() error {
	ehi := fs.super.EpochHigh
	n := fs.h.NumData()
	seen := make([]uint64, (n+63)/64)
	var walk func(s venti.Score, t fsdisk.BlockType, tag uint32) error
	walk = func(s venti.Score, t fsdisk.BlockType, tag uint32) error {
		a, ok := fsdisk.LocalAddr(s)
		if !ok || a >= n {
			return nil
		}
		l, err := fs.label(a)
		if err != nil {
			return err
		}
		if l.Epoch > ehi && l.State != fsdisk.BsFree {
			// A damaged tree (flchk's business): what is below
			// such a block cannot be judged, so free nothing.
			return fmt.Errorf("block 0x%x is from a future epoch %d", a, l.Epoch)
		}
		if l.Epoch != ehi || l.State == fsdisk.BsFree || seen[a/64]&(1<<(a%64)) != 0 {
			return nil
		}
		seen[a/64] |= 1 << (a % 64)
		if t.Level() == 0 && t != fsdisk.BtDir {
			return nil
		}
		b, err := fs.local(a, t, tag)
		if err != nil {
			return err
		}
		data := append([]byte(nil), b.data...)
		fs.trim()
		if t.Level() > 0 {
			for i := 0; i+venti.ScoreSize <= len(data); i += venti.ScoreSize {
				var cs venti.Score
				copy(cs[:], data[i:])
				if err := walk(cs, t-1, tag); err != nil {
					return err
				}
			}
			return nil
		}
		for i := 0; i+fsdisk.EntrySize <= len(data); i += fsdisk.EntrySize {
			e, err := fsdisk.UnpackEntry(data[i:])
			if err != nil || !e.IsActive() || !e.IsLocal() {
				continue
			}
			if err := walk(e.Score, e.BlockType(), e.Tag); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(fsdisk.LocalScore(fs.super.Active), fsdisk.BtDir, fsdisk.RootTag); err != nil {
		fs.opt.Logf("fs: leak sweep skipped: %v", err)
		return nil
	}
	freed := 0
	for a := uint32(0); a < n; a++ {
		if seen[a/64]&(1<<(a%64)) != 0 || a == fs.super.Next || a == fs.super.Current {
			continue
		}
		l, err := fs.label(a)
		if err != nil {
			return err
		}
		if l.State&fsdisk.BsAlloc != 0 && l.State&fsdisk.BsClosed == 0 && l.State != fsdisk.BsBad && l.Epoch == ehi {
			fs.setLabel(a, fsdisk.Label{State: fsdisk.BsFree})
			freed++
		}
	}
	if freed > 0 {
		fs.opt.Logf("fs: freed %d blocks leaked by a crash", freed)
		if err := fs.writeLabels(); err != nil {
			return err
		}
		if err := fs.part.Sync(); err != nil {
			return err
		}
	}
	fs.trim()
	return nil
}
