package fs

import (
	"fmt"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// Vac writes the directory at path to venti as a vac(1) archive and
// returns its root's score, as the console's vac does: a venti.Root
// named after the directory whose directory block holds the
// directory's entries, its meta data, and a meta block of its own
// directory entry. Whatever of the tree is still local goes to venti
// first, as the archiver would send it.
func (fs *Fs) Vac(path string) (venti.Score, error) {
	v := fs.opt.Venti
	if v == nil {
		return venti.Score{}, ErrNoVenti
	}
	fs.mu.Lock()
	f, err := fs.rootAt(fsdisk.NilBlock, fs.opt.ReadOnly)
	if err == nil {
		var g *File
		g, err = f.walkPath(path)
		f.decref()
		f = g
	}
	if err != nil {
		fs.mu.Unlock()
		return venti.Score{}, err
	}
	defer func() {
		fs.mu.Lock()
		f.decref()
		fs.mu.Unlock()
	}()
	if f.msrc == nil {
		fs.mu.Unlock()
		return venti.Score{}, ErrNotDir
	}
	de := f.de
	var ents [2]fsdisk.Entry
	if ents[0], err = f.src.entry(); err == nil {
		ents[1], err = f.msrc.entry()
	}
	fs.mu.Unlock()
	if err != nil {
		return venti.Score{}, err
	}
	w := &archWalk{fs: fs, v: v, ctx: fs.arch.ctx, patch: map[venti.Score]func([]byte) error{}}
	dir := make([]byte, 3*fsdisk.EntrySize)
	for i, e := range ents {
		ve, err := w.entry(e)
		if err != nil {
			return venti.Score{}, err
		}
		ve.Gen = 0
		if err := ve.Pack(dir[i*fsdisk.EntrySize:]); err != nil {
			return venti.Score{}, err
		}
	}
	de.Entry, de.Gen, de.MEntry, de.MGen = 0, 0, 1, 0
	meta := make([]byte, 12+4+de.PackedSize())
	mb, err := vac.NewMetaBlock(meta, 1)
	if err != nil {
		return venti.Score{}, err
	}
	if _, err := mb.Insert(&de); err != nil {
		return venti.Score{}, err
	}
	ms, err := w.write(venti.DataType, meta)
	if err != nil {
		return venti.Score{}, err
	}
	var me fsdisk.Entry
	me.PSize, me.DSize = uint16(fs.bs), uint16(fs.bs)
	me.Type = venti.DataType
	me.Flags = venti.EntryActive
	me.Size = uint64(len(meta))
	me.Score = ms
	if err := me.Pack(dir[2*fsdisk.EntrySize:]); err != nil {
		return venti.Score{}, err
	}
	ds, err := w.write(venti.DirType, dir)
	if err != nil {
		return venti.Score{}, err
	}
	r := venti.Root{Name: de.Elem, Type: "vac", Score: ds, BlockSize: uint16(fs.bs)}
	rb := make([]byte, venti.RootSize)
	if err := r.Pack(rb); err != nil {
		return venti.Score{}, err
	}
	rs, err := w.write(venti.RootType, rb)
	if err != nil {
		return venti.Score{}, err
	}
	if err := v.Sync(w.ctx); err != nil {
		return venti.Score{}, fmt.Errorf("venti sync: %w", err)
	}
	return rs, nil
}
