// Package fsdisk reads and writes the on-disk structures of Plan 9's
// fossil(4) file server exactly as the C fossil lays them out: the
// header, the super block, block labels, fossil's form of the venti
// entry, local block addresses, pointer blocks and the config block;
// and it reads file trees, from the partition and from venti, for
// flchk, fossil/last and tests. Directory entries and meta blocks are
// package vac's.
//
// All integers are big-endian. Offsets are in bytes.
//
// # Partition
//
//	0            unused (a Plan 9 disk label may live here)
//	127 KiB      the config block (ConfigOffset, ConfigSize 1024 bytes):
//	             "fossil config\n", console commands one to a line,
//	             NUL-padded; written by fossil/conf -w, run by fossil -f
//	128 KiB      the Header (HeaderOffset; 24 of HeaderSize 512 bytes)
//	super*bs     the Super block
//	label*bs     label blocks, LabelSize (14) bytes a label,
//	             bs/14 labels a block (585 for 8 KiB blocks)
//	data*bs      data blocks 0 .. end-data-1 ("addresses")
//
// bs is the block size, a multiple of 512 up to 56 KiB (8 KiB by
// default). flfmt puts the super block at (128 KiB + 2 bs)/bs (block 18
// for 8 KiB), the labels right after it, and divides the rest between
// labels and data so that every data block has a label: for n blocks
// in all, ndata = lpb*(n-label)/(lpb+1) with lpb = bs/14. The label of
// data block a is label a%lpb of label block label+a/lpb: fossil-b's
// block 0xfa has its label at byte 159148 and its data at 2260992.
//
// # Header (Header)
//
//	0  magic[4]     0x3776ae89
//	4  version[2]   1
//	6  blocksize[2]
//	8  super[4]     block numbers from the start of the partition
//	12 label[4]
//	16 data[4]      end of the labels
//	20 end[4]       end of the data blocks
//
// # Super block (Super)
//
//	0  magic[4]      0x2340a3b1
//	4  version[2]    1
//	6  epochlow[4]   oldest epoch kept (snapshots below are gone)
//	10 epochhigh[4]  the current epoch
//	14 qid[8]        the next qid
//	22 active[4]     address of the active root block
//	26 next[4]       root of the next snapshot to archive, or ~0
//	30 current[4]    root of the snapshot being archived, or ~0
//	34 last[20]      score of the last archive's venti root, or the
//	                 score of the zero-length block before any archive
//	54 name[128]     flfmt -l label, NUL-terminated
//
// fossil/last prints "vac:" and the last field, reading only the
// header's block size and super block number to find it.
//
// # Labels (Label)
//
//	0  state[1]       BsFree 0, BsBad 0xff, or BsAlloc 1 with BsCopied 2,
//	                  BsVenti 4 (archived), BsClosed 8 (unlinked)
//	1  type[1]        BtData 0 or BtDir 8, plus the pointer level 0-7
//	2  epoch[4]       epoch the block was written in
//	6  epochclose[4]  epoch it was unlinked in; ~0 while open
//	10 tag[4]         the tag of the tree the block belongs to
//
// A block is free for reuse if its state is BsFree, or if it is closed
// and its close epoch is at most the low epoch or equals its epoch.
//
// # Trees
//
// A tree of blocks is described by an Entry (fossil's form of
// venti.Entry, 40 bytes): gen, psize, dsize, flags (active 1, dir 2,
// depth<<2, local 0x20, no-archive 0x40), size, and the score of the
// top block. Data blocks of dsize bytes hold the data (or, in a
// directory tree, Entry structures, dsize/40 to a block); pointer
// blocks of psize bytes hold psize/20 scores of the blocks below. A
// pointer block of type t points at blocks of type t-1; the top block
// has the entry's type (BtDir if the dir flag is set, plus the depth).
//
// A score whose first 16 bytes are zero is a local address: the data
// block numbered by its last 4 bytes (LocalAddr, LocalScore); any other
// score names a venti block, and venti.ZeroScore a block of zeros. A
// local block's label must have the type the parent expects and the
// tag of the entry. When an entry's local flag is set, bytes 20-39
// hold zero[7] archive[1] snap[4] tag[4] address[4] instead of a
// score; snap is the epoch of the snapshot the entry enters and
// archive says that snapshot is to be archived.
//
// The super block's active root is a BtDir block with RootTag (1)
// whose entry 0 is the top of the file system: a directory tree of
// three entries, 0 the root directory's entries, 1 its meta blocks
// (see package vac), 2 a meta block holding the root's own DirEntry
// ("root"). A root block's entry 1, when set, points at the previous
// root (bumpEpoch's hint). The root directory holds active, archive
// and snapshot. A directory's DirEntry gives the indices (and
// generations) of its entries in its parent's directory tree.
//
// The archiver writes the blocks of a snapshot to venti bottom-up,
// replacing local addresses in the live tree by venti scores and
// marking the blocks BsVenti; temporary snapshots inside it go to venti
// as empty entries. It ends with a venti.Root (type "vac", name
// "fossil", the block size, Prev the previous last) whose Score is the
// snapshot's root block, a directory block holding the top entry; the
// Root's own score goes into the super block's last. A vac archive
// (vac(1), the console's vac) holds the three root entries in the
// Root's directory block directly.
//
// # Errors
//
// Errors are *Error values naming the structure and its place, as
// "fsdisk: /active/usr (meta): block 0xfa: block label mismatch: label
// BtData,Free,e=0,0,tag=0x0, want type BtData tag 0x7dac1a86". They
// wrap the Err* values (and vac's, for meta data). Unpack functions and
// readers never panic on bad input.
package fsdisk
