// Package vac reads and writes the directory metadata that vac(1)
// archives and fossil(4) file systems share: directory entries
// (DirEntry) packed into meta blocks (MetaBlock), byte for byte as the
// C code lays them out.
//
// A directory of a vac or fossil tree is two trees of blocks (see
// venti.Entry): one holds the entries (40-byte venti.Entry structures)
// of the directory's files, the other, the directory's meta data, is a
// sequence of meta blocks. A file's DirEntry names it and gives the
// indices of its entries in the first tree: Entry for its data (a
// directory's own list of entries) and, for a directory, MEntry for its
// meta data. The root of a tree is three entries: the root directory's
// entries, its meta data, and a meta block holding the root's own
// DirEntry.
//
// All integers are big-endian. Strings are a 2-byte length and that
// many bytes, with no NUL.
//
// # Meta block
//
//	off        size  field
//	0          4     magic: MetaMagic 0x5656fc7a, or MetaMagicOld 0x5656fc79
//	4          2     size: bytes in use, the end of the last entry
//	6          2     free: bytes in holes below size
//	8          2     maxindex: slots in the index
//	10         2     nindex: slots in use
//	12         4*maxindex  the index: offset[2] size[2] of each entry,
//	                 the first nindex slots in use, sorted by name
//	12+4*maxindex    the packed entries, in any order, with holes
//
// The two magics differ in the order of the index only: MetaMagic
// (fossil, and vac's newer blocks) sorts names by their bytes with a
// name before the longer names it is a prefix of; MetaMagicOld (vac)
// puts it after them. Lookups are binary searches in that order.
//
// Fossil gives a new block of n bytes n/100 index slots (BytesPerEntry)
// and stops adding entries to a block that is FullPercentage (80%) full.
// An entry goes off the end of the used bytes if it fits, else into the
// first hole big enough, else the entries are compacted down to the
// index, in order of offset, and it goes off the end (the bytes the
// compaction vacates are not cleared). A deleted entry is zeroed; if it
// was the last, size shrinks, else free grows. An entry that is written
// back stays where it is if it is no bigger, or if the zero bytes after
// it make room.
//
// # Directory entry
//
//	magic[4]    DirMagic 0x1c4d9072
//	version[2]  7, 8 or 9 (DirVersion)
//	elem[s]     name
//	entry[4]    index of the data entry
//	gen[4]      its generation                   version 9 only
//	mentry[4]   index of the meta entry           version 9 only
//	mgen[4]     its generation                   version 9 only
//	qid[8]
//	score[20]   unused                           version 7 only
//	uid[s] gid[s] mid[s]
//	mtime[4] mcount[4] ctime[4] atime[4] mode[4]
//	optional fields to the end: type[1] length[2] data[length]
//
// Versions 7 and 8 keep no generations; their meta entry is the one
// after the data entry. Optional fields: 1 (DirPlan9Entry) Plan 9
// path[8] and version[4], read in versions 7 and 8 only; 2 (NT)
// never read; 3 (DirQidSpaceEntry) qid offset[8] and max[8]; 4
// (DirGenEntry) a generation[4] vac writes in versions 7 and 8 and no
// reader uses. Fossil writes version 9 with only the qid space field;
// vac writes version 9 (version 8 before generations were added). The entry must end exactly where its
// optional fields do. The file's size is not in the entry but in its
// data entry.
//
// # Errors
//
// Errors are *Error values naming the structure and place, as
// "vac: meta block: entry 2 at 0x199: dir entry: corrupted meta data:
// unknown version 12"; they wrap ErrBadMeta, ErrShort, ErrTooLarge,
// ErrNotFound, ErrExists or ErrFull. Nothing here panics on bad input.
package vac
