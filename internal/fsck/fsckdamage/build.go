// Package fsckdamage makes fossil partitions to test the checker on:
// Build writes a fresh file system, as flfmt lays it out, with files
// and directories in /active, and the Part methods break one thing at a
// time, as a failing disk, a crash or a bug would: a pointer to a free
// block, a wrong label, a bad entry or directory entry, a leaked block,
// a block from a future epoch, a broken meta block. The Layout says
// where everything is, so that a test knows which repair to expect.
package fsckdamage

import (
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// A File is one file or directory to write into /active.
type File struct {
	// Path below /active, "usr/glenda/lib/profile"; a trailing slash
	// makes an empty directory. Missing parents are made.
	Path string
	// Data is the file's contents; if nil, the file holds Size zero
	// bytes, whose blocks are allocated but not written (Build
	// expects a partition of zeros, as a new file is).
	Data []byte
	Size int64
}

// A Place is where an entry is kept: entry Index of the directory
// block Addr.
type Place struct {
	Addr  uint32
	Index int
}

// A Node is a file or directory Build wrote, with its blocks.
type Node struct {
	Path      string // "/active/usr/glenda"
	Dir       bool
	Entry     Place // its data entry (a directory's entries)
	MetaEntry Place // a directory's meta entry
	Tag       uint32
	MetaTag   uint32
	// Pointers are the pointer blocks of its data tree, the top one
	// first and level by level; Leaves its data blocks (a directory's
	// directory blocks) in order. Both are empty for an empty tree.
	Pointers []uint32
	Leaves   []uint32
	// MetaLeaves are a directory's meta blocks.
	MetaLeaves []uint32
	// DirEntryBlock is the meta block holding its DirEntry.
	DirEntryBlock uint32
}

// Top is the top block of the node's data tree, or fsdisk.NilBlock.
func (n *Node) Top() uint32 {
	if len(n.Pointers) > 0 {
		return n.Pointers[0]
	}
	if len(n.Leaves) > 0 {
		return n.Leaves[0]
	}
	return fsdisk.NilBlock
}

// A Layout describes the file system Build wrote.
type Layout struct {
	Header fsdisk.Header
	Super  fsdisk.Super
	Nodes  map[string]*Node // by path: "/active", "/active/usr", ...
	// Next is the first block Build left free: blocks 0 to Next-1
	// are in use.
	Next uint32
}

// Storage is what Build and the Part methods write: a partition.
type Storage interface {
	io.ReaderAt
	io.WriterAt
}

// Build formats the partition w, of size bytes, as flfmt does (block
// size 8192, epoch 1) and writes files into /active.
func Build(w Storage, size int64, files []File) (*Layout, error) {
	f, err := fsdisk.NewFormat(size, fsdisk.FormatOptions{Label: "fsckdamage", Time: 1700000000})
	if err != nil {
		return nil, err
	}
	if err := f.Write(w); err != nil {
		return nil, err
	}
	b := &builder{
		w:      w,
		h:      f.Header,
		bs:     int(f.Header.BlockSize),
		next:   uint32(len(f.Blocks)),
		labels: make(map[uint32]fsdisk.Label),
		qid:    f.Super.Qid,
		tag:    0x1000,
		lay:    &Layout{Header: f.Header, Nodes: make(map[string]*Node)},
	}
	root := &tnode{name: "active", dir: true, kids: map[string]*tnode{}}
	for _, fl := range files {
		if err := root.add(fl); err != nil {
			return nil, err
		}
	}
	active := &Node{Path: "/active", Dir: true, Entry: Place{3, 0}, MetaEntry: Place{3, 1}, DirEntryBlock: 4}
	de, me, err := b.writeDir(root, active)
	if err != nil {
		return nil, err
	}
	b.lay.Nodes[active.Path] = active

	// The root directory's entries 0 and 1 are /active's, as flfmt
	// numbers them; its DirEntry stays as it is.
	blk3 := f.Blocks[3]
	if err := de.Pack(blk3[0:]); err != nil {
		return nil, err
	}
	if err := me.Pack(blk3[fsdisk.EntrySize:]); err != nil {
		return nil, err
	}
	if err := b.writeBlock(3, blk3); err != nil {
		return nil, err
	}
	if err := b.flushLabels(); err != nil {
		return nil, err
	}
	f.Super.Qid = b.qid
	sb := make([]byte, b.bs)
	if err := f.Super.Pack(sb); err != nil {
		return nil, err
	}
	if _, err := w.WriteAt(sb, int64(f.Header.Super)*int64(b.bs)); err != nil {
		return nil, err
	}
	b.lay.Super = f.Super
	b.lay.Next = b.next
	return b.lay, nil
}

// tnode is the tree of files to write.
type tnode struct {
	name string
	dir  bool
	data []byte
	size int64
	kids map[string]*tnode
}

func (t *tnode) add(f File) error {
	p := strings.Trim(f.Path, "/")
	if p == "" {
		return errors.New("fsckdamage: empty path")
	}
	elems := strings.Split(p, "/")
	isDir := strings.HasSuffix(f.Path, "/")
	n := t
	for i, e := range elems {
		last := i == len(elems)-1
		k, ok := n.kids[e]
		switch {
		case !ok:
			k = &tnode{name: e, dir: !last || isDir, kids: map[string]*tnode{}}
			n.kids[e] = k
		case !k.dir || (last && !isDir):
			return fmt.Errorf("fsckdamage: %s: %s is there already", f.Path, e)
		}
		n = k
	}
	if !isDir {
		n.data, n.size = f.Data, f.Size
		if f.Data != nil {
			n.size = int64(len(f.Data))
		}
	}
	return nil
}

type builder struct {
	w      Storage
	h      fsdisk.Header
	bs     int
	next   uint32
	labels map[uint32]fsdisk.Label
	qid    uint64
	tag    uint32
	lay    *Layout
}

func (b *builder) psize() int { return b.bs / venti.ScoreSize * venti.ScoreSize }

func (b *builder) newTag() uint32 {
	b.tag += 0x101
	return b.tag
}

func (b *builder) alloc(t fsdisk.BlockType, tag uint32) (uint32, error) {
	if b.next >= b.h.NumData() {
		return 0, fmt.Errorf("fsckdamage: partition full: %d blocks", b.h.NumData())
	}
	a := b.next
	b.next++
	b.labels[a] = fsdisk.Label{State: fsdisk.BsAlloc, Type: t, Epoch: 1, EpochClose: fsdisk.NilBlock, Tag: tag}
	return a, nil
}

func (b *builder) writeBlock(addr uint32, data []byte) error {
	off := (int64(b.h.Data) + int64(addr)) * int64(b.bs)
	_, err := b.w.WriteAt(data, off)
	return err
}

// flushLabels writes the labels of the blocks allocated, a label block
// at a time.
func (b *builder) flushLabels() error {
	lpb := uint32(b.h.LabelsPerBlock())
	byBlock := make(map[uint32][]uint32)
	for a := range b.labels {
		byBlock[a/lpb] = append(byBlock[a/lpb], a)
	}
	buf := make([]byte, b.bs)
	for lb, addrs := range byBlock {
		off := (int64(b.h.Label) + int64(lb)) * int64(b.bs)
		if _, err := b.w.ReadAt(buf, off); err != nil {
			return err
		}
		for _, a := range addrs {
			l := b.labels[a]
			if err := l.Pack(buf[(a%lpb)*fsdisk.LabelSize:]); err != nil {
				return err
			}
		}
		if _, err := b.w.WriteAt(buf, off); err != nil {
			return err
		}
	}
	return nil
}

// writeTree writes a tree of size bytes whose data block i is
// leaf(i) (nil: zeros, not written) and returns its entry and blocks.
func (b *builder) writeTree(dir bool, size int64, leaf func(i int) []byte) (fsdisk.Entry, []uint32, []uint32, error) {
	e := fsdisk.Entry{}
	e.PSize = uint16(b.psize())
	e.DSize = uint16(b.bs)
	e.Type = venti.DataType
	bt := fsdisk.BtData
	if dir {
		e.Type = venti.DirType
		bt = fsdisk.BtDir
	}
	e.Flags = venti.EntryActive
	e.Size = uint64(size)
	if size == 0 {
		e.Score = venti.ZeroScore
		return e, nil, nil, nil
	}
	tag := b.newTag()
	nleaves := int((size + int64(b.bs) - 1) / int64(b.bs))
	var leaves []uint32
	for i := 0; i < nleaves; i++ {
		a, err := b.alloc(bt, tag)
		if err != nil {
			return e, nil, nil, err
		}
		if data := leaf(i); data != nil {
			if err := b.writeBlock(a, data); err != nil {
				return e, nil, nil, err
			}
		}
		leaves = append(leaves, a)
	}
	depth := fsdisk.SizeToDepth(uint64(size), int(e.PSize), int(e.DSize))
	np := int(e.PSize) / venti.ScoreSize
	level := leaves
	var levels [][]uint32
	for d := 1; d <= depth; d++ {
		var up []uint32
		for i := 0; i < len(level); i += np {
			a, err := b.alloc(bt+fsdisk.BlockType(d), tag)
			if err != nil {
				return e, nil, nil, err
			}
			pb := make([]byte, b.bs)
			for j := 0; j < np; j++ {
				s := venti.ZeroScore
				if i+j < len(level) {
					s = fsdisk.LocalScore(level[i+j])
				}
				if err := fsdisk.SetPointer(pb[:e.PSize], j, s); err != nil {
					return e, nil, nil, err
				}
			}
			if err := b.writeBlock(a, pb); err != nil {
				return e, nil, nil, err
			}
			up = append(up, a)
		}
		levels = append(levels, up)
		level = up
	}
	var ptrs []uint32
	for i := len(levels) - 1; i >= 0; i-- {
		ptrs = append(ptrs, levels[i]...)
	}
	e.Type += venti.Type(depth)
	e.Flags |= venti.EntryLocal
	e.Tag = tag
	e.Score = fsdisk.LocalScore(level[0])
	return e, ptrs, leaves, nil
}

// writeDir writes the directory t, and everything in it, filling in
// its node; it returns its data and meta entries.
func (b *builder) writeDir(t *tnode, n *Node) (fsdisk.Entry, fsdisk.Entry, error) {
	names := make([]string, 0, len(t.kids))
	for name := range t.kids {
		names = append(names, name)
	}
	sort.Strings(names)
	var entries []fsdisk.Entry
	var des []vac.DirEntry
	var kids []*Node
	for _, name := range names {
		k := t.kids[name]
		kn := &Node{Path: n.Path + "/" + name, Dir: k.dir}
		b.qid++
		d := vac.DirEntry{
			Elem: name, Qid: b.qid, UID: "glenda", GID: "glenda", MID: "glenda",
			MTime: 1700000000, CTime: 1700000000, ATime: 1700000000, Mode: 0o664,
			Entry: uint32(len(entries)),
		}
		if k.dir {
			d.Mode = vac.ModeDir | 0o775
			d.MEntry = d.Entry + 1
			de, me, err := b.writeDir(k, kn)
			if err != nil {
				return de, me, err
			}
			entries = append(entries, de, me)
		} else {
			bs := int64(b.bs)
			e, ptrs, leaves, err := b.writeTree(false, k.size, func(i int) []byte {
				if k.data == nil {
					return nil
				}
				blk := make([]byte, bs)
				copy(blk, k.data[int64(i)*bs:])
				return blk
			})
			if err != nil {
				return e, e, err
			}
			kn.Tag, kn.Pointers, kn.Leaves = e.Tag, ptrs, leaves
			entries = append(entries, e)
		}
		des = append(des, d)
		kids = append(kids, kn)
		b.lay.Nodes[kn.Path] = kn
	}

	// The directory's entries.
	epb := b.bs / fsdisk.EntrySize
	size := int64(len(entries)/epb*b.bs + len(entries)%epb*fsdisk.EntrySize)
	var perr error
	de, ptrs, leaves, err := b.writeTree(true, size, func(i int) []byte {
		blk := make([]byte, b.bs)
		for j := 0; j < epb && i*epb+j < len(entries); j++ {
			if err := entries[i*epb+j].Pack(blk[j*fsdisk.EntrySize:]); err != nil {
				perr = err
			}
		}
		return blk
	})
	if err == nil {
		err = perr
	}
	if err != nil {
		return de, de, err
	}
	n.Tag, n.Pointers, n.Leaves = de.Tag, ptrs, leaves
	place := func(i uint32) Place {
		return Place{Addr: leaves[int(i)/epb], Index: int(i) % epb}
	}
	for i, kn := range kids {
		kn.Entry = place(des[i].Entry)
		if kn.Dir {
			kn.MetaEntry = place(des[i].MEntry)
		}
	}

	// Its meta blocks: as many DirEntries in each as fit, in name
	// order.
	var metas [][]byte
	var metaOf []int
	var mb *vac.MetaBlock
	for i := range des {
		if mb != nil && des[i].PackedSize() > mb.Room() {
			mb = nil
		}
		if mb == nil {
			blk := make([]byte, b.bs)
			if mb, err = vac.NewMetaBlock(blk, b.bs/vac.BytesPerEntry); err != nil {
				return de, de, err
			}
			metas = append(metas, blk)
		}
		if _, err := mb.Insert(&des[i]); err != nil {
			if !errors.Is(err, vac.ErrFull) {
				return de, de, err
			}
			blk := make([]byte, b.bs)
			if mb, err = vac.NewMetaBlock(blk, b.bs/vac.BytesPerEntry); err != nil {
				return de, de, err
			}
			metas = append(metas, blk)
			if _, err := mb.Insert(&des[i]); err != nil {
				return de, de, err
			}
		}
		metaOf = append(metaOf, len(metas)-1)
	}
	me, _, mleaves, err := b.writeTree(false, int64(len(metas)*b.bs), func(i int) []byte { return metas[i] })
	if err != nil {
		return de, me, err
	}
	n.MetaTag, n.MetaLeaves = me.Tag, mleaves
	for i, kn := range kids {
		kn.DirEntryBlock = mleaves[metaOf[i]]
	}
	return de, me, nil
}

// Lookup returns the node of a path, "/active/usr", or nil.
func (l *Layout) Lookup(p string) *Node {
	return l.Nodes[path.Clean(p)]
}
