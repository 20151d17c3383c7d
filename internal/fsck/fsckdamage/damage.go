package fsckdamage

import (
	"encoding/binary"
	"fmt"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// A Part changes the blocks and labels of a partition behind the file
// system's back, one piece of damage at a time.
type Part struct {
	W      Storage
	Header fsdisk.Header
}

// NewPart returns the Part of a partition Build laid out.
func NewPart(w Storage, l *Layout) *Part { return &Part{W: w, Header: l.Header} }

func (p *Part) bs() int { return int(p.Header.BlockSize) }

func (p *Part) dataOffset(addr uint32) int64 {
	return (int64(p.Header.Data) + int64(addr)) * int64(p.bs())
}

func (p *Part) labelOffset(addr uint32) int64 {
	lpb := uint32(p.Header.LabelsPerBlock())
	return (int64(p.Header.Label)+int64(addr/lpb))*int64(p.bs()) + int64(addr%lpb)*fsdisk.LabelSize
}

// Block reads block addr.
func (p *Part) Block(addr uint32) ([]byte, error) {
	if addr >= p.Header.NumData() {
		return nil, fmt.Errorf("fsckdamage: block %#x out of range", addr)
	}
	b := make([]byte, p.bs())
	_, err := p.W.ReadAt(b, p.dataOffset(addr))
	return b, err
}

// WriteBlock writes block addr.
func (p *Part) WriteBlock(addr uint32, b []byte) error {
	if addr >= p.Header.NumData() || len(b) != p.bs() {
		return fmt.Errorf("fsckdamage: bad write of block %#x", addr)
	}
	_, err := p.W.WriteAt(b, p.dataOffset(addr))
	return err
}

// Label reads the label of block addr (even one that does not unpack).
func (p *Part) Label(addr uint32) (fsdisk.Label, error) {
	var b [fsdisk.LabelSize]byte
	if _, err := p.W.ReadAt(b[:], p.labelOffset(addr)); err != nil {
		return fsdisk.Label{}, err
	}
	// Not Label.Unpack, which refuses the labels damage makes.
	be := binary.BigEndian
	return fsdisk.Label{
		State:      fsdisk.BlockState(b[0]),
		Type:       fsdisk.BlockType(b[1]),
		Epoch:      be.Uint32(b[2:]),
		EpochClose: be.Uint32(b[6:]),
		Tag:        be.Uint32(b[10:]),
	}, nil
}

// SetLabel writes the label of block addr, whatever it says.
func (p *Part) SetLabel(addr uint32, l fsdisk.Label) error {
	var b [fsdisk.LabelSize]byte
	if err := l.Pack(b[:]); err != nil {
		return err
	}
	_, err := p.W.WriteAt(b[:], p.labelOffset(addr))
	return err
}

func (p *Part) changeLabel(addr uint32, fn func(*fsdisk.Label)) error {
	l, err := p.Label(addr)
	if err != nil {
		return err
	}
	fn(&l)
	return p.SetLabel(addr, l)
}

// PointAt makes score index of the pointer block addr point at block
// target.
func (p *Part) PointAt(addr uint32, index int, target uint32) error {
	b, err := p.Block(addr)
	if err != nil {
		return err
	}
	if err := fsdisk.SetPointer(b[:p.bs()/venti.ScoreSize*venti.ScoreSize], index, fsdisk.LocalScore(target)); err != nil {
		return err
	}
	return p.WriteBlock(addr, b)
}

// PointToFree makes score index of the pointer block addr point at the
// free block free, as a pointer written after its block was freed and
// reused would, or a bit flip in the address.
func (p *Part) PointToFree(addr uint32, index int, free uint32) error {
	l, err := p.Label(free)
	if err != nil {
		return err
	}
	if l.State != fsdisk.BsFree {
		return fmt.Errorf("fsckdamage: block %#x is not free: %v", free, &l)
	}
	return p.PointAt(addr, index, free)
}

// SetLabelType gives block addr's label the wrong type t.
func (p *Part) SetLabelType(addr uint32, t fsdisk.BlockType) error {
	return p.changeLabel(addr, func(l *fsdisk.Label) { l.Type = t })
}

// FutureEpoch labels block addr as written in an epoch after the
// file system's current one.
func (p *Part) FutureEpoch(addr, epoch uint32) error {
	return p.changeLabel(addr, func(l *fsdisk.Label) { l.Epoch = epoch })
}

// CloseBlock labels block addr, still in use, as closed (unlinked)
// in epoch closed, as a copy-on-write that lost its new copy would.
func (p *Part) CloseBlock(addr, closed uint32) error {
	return p.changeLabel(addr, func(l *fsdisk.Label) {
		l.State |= fsdisk.BsClosed
		l.EpochClose = closed
	})
}

// Leak labels the free block addr allocated and open in epoch, with
// type t and tag, as a crash between allocating a block and linking it
// in leaves it: nothing references it.
func (p *Part) Leak(addr uint32, t fsdisk.BlockType, tag, epoch uint32) error {
	l, err := p.Label(addr)
	if err != nil {
		return err
	}
	if l.State != fsdisk.BsFree {
		return fmt.Errorf("fsckdamage: block %#x is not free: %v", addr, &l)
	}
	return p.SetLabel(addr, fsdisk.Label{State: fsdisk.BsAlloc, Type: t, Epoch: epoch, EpochClose: fsdisk.NilBlock, Tag: tag})
}

// BreakEntry spoils entry pl: its pointer block size becomes 0, which
// no entry can have.
func (p *Part) BreakEntry(pl Place) error {
	b, err := p.Block(pl.Addr)
	if err != nil {
		return err
	}
	o := pl.Index * fsdisk.EntrySize
	b[o+4], b[o+5] = 0, 0 // psize
	return p.WriteBlock(pl.Addr, b)
}

// Entry reads entry pl.
func (p *Part) Entry(pl Place) (fsdisk.Entry, error) {
	b, err := p.Block(pl.Addr)
	if err != nil {
		return fsdisk.Entry{}, err
	}
	return fsdisk.UnpackEntry(b[pl.Index*fsdisk.EntrySize:])
}

// ChangeDirEntry rewrites the directory entry called name in the meta
// block addr.
func (p *Part) ChangeDirEntry(addr uint32, name string, fn func(*vac.DirEntry)) error {
	b, err := p.Block(addr)
	if err != nil {
		return err
	}
	mb, err := vac.UnpackMetaBlock(b)
	if err != nil {
		return err
	}
	d, i, err := mb.Lookup(name)
	if err != nil {
		return err
	}
	fn(&d)
	if err := mb.Update(i, &d); err != nil {
		return err
	}
	return p.WriteBlock(addr, mb.Bytes())
}

// BreakDirEntry gives the directory entry called name in the meta block
// addr a generation its entry does not have, as if it named a file
// removed since.
func (p *Part) BreakDirEntry(addr uint32, name string) error {
	return p.ChangeDirEntry(addr, name, func(d *vac.DirEntry) { d.Gen++ })
}

// BreakMeta spoils the meta block addr: its magic number goes.
func (p *Part) BreakMeta(addr uint32) error {
	b, err := p.Block(addr)
	if err != nil {
		return err
	}
	b[0] ^= 0xff
	return p.WriteBlock(addr, b)
}

// FirstFree returns the first free block at or after addr.
func (p *Part) FirstFree(addr uint32) (uint32, error) {
	for ; addr < p.Header.NumData(); addr++ {
		l, err := p.Label(addr)
		if err != nil {
			return 0, err
		}
		if l.State == fsdisk.BsFree {
			return addr, nil
		}
	}
	return 0, fmt.Errorf("fsckdamage: no free block")
}
