// Package vtdisk reads and writes the on-disk formats of Plan 9's venti
// (venti(6), venti(7), venti(8), venti-fmt(8)) exactly as the C venti
// lays them out: the arena partition with its arenas and clumps, the
// index sections with their buckets, the bloom filter, the index map
// and the configuration block and file.
//
// Each structure has a Go type with Unpack and Pack methods that work
// on byte slices, byte for byte compatible with the C code; small
// readers over an io.ReaderAt (a file, or a Plan 9 #S partition) open
// whole partitions, walk arenas and look scores up in the index. The
// package does no caching and keeps no state beyond what it is given:
// it is the layer under a storage engine, not one.
//
// All integers are big-endian, except the bloom filter's bits (see
// BloomHead). Names are NameSize (64) bytes, NUL-padded, printable
// ASCII. Offsets below are in bytes.
//
// # Arena partition
//
//	0          PartBlank (256 KiB) left alone by the formatters, except
//	248 KiB    the configuration block: "venti config\n", then the
//	           venti.conf text, NUL-padded to 8 KiB (ConfigOffset,
//	           ConfigSize; written by venti/conf -w)
//	256 KiB    ArenaPart header (16 bytes used of a 512-byte HeadSize area)
//	TableBase  the arena map, text (UnpackAMap), NUL-padded up to
//	           ArenaBase: TableBase is the first block boundary after
//	           the header (264 KiB for 8 KiB blocks) and fmtarenas
//	           reserves 512 KiB, so ArenaBase is 776 KiB
//	ArenaBase  the arenas, back to back, as the map lists them
//
// The map is a count line and then one line per arena: name, start and
// stop (partition offsets) separated by tabs. The last arena takes what
// is left of the partition, rounded down to the block size.
//
// # Arena
//
// An arena of Size bytes at partition offset Offset:
//
//	Offset                    ArenaHead block
//	Offset+bs                 the clump log, growing up (arena address 0)
//	  ...                     free space (zero)
//	Offset+Size-bs-k*bs       directory blocks, growing down
//	Offset+Size-bs            ArenaTail block (trailer), score in its last 20 bytes
//
// The clump log is a sequence of clumps: a 38-byte Clump header
// (magic, ClumpInfo, encoding, creator, time) then Size stored bytes,
// raw or whack-compressed. A zero magic (ClumpFreeMagic) where the
// next header would start ends the log; the trailer's Used is the
// log's length. The clump magic is per arena (random for version 5,
// OldClumpMagic for version 4) and recorded in head and trailer.
//
// The directory holds one 25-byte ClumpInfo per clump, BlockSize/25 to
// a block (327 for 8 KiB). Block k of the directory, entries
// k*327..k*327+326 in order, is the k'th block below the trailer. The
// space reserved for n clumps is (n/327+1) blocks; a clump is only
// written if it fits with eight spare bytes (the end marker and four
// more) above the directory for one more clump (CanAppend).
//
// The trailer keeps two sets of statistics (TailStats): the disk set,
// the part of the log the index covers, and the memory set, the whole
// log. The second set is stored only while they differ. The trailer's
// last 20 bytes hold the seal score: zero until the arena is sealed,
// then the SHA-1 of the arena from its head through the trailer with
// those 20 bytes taken as zero (SealScore).
//
// # Index sections and the index
//
//	0          PartBlank, unused
//	256 KiB    ISect header (160 bytes for version 2)
//	TableBase  the index map, text (IndexMap), NUL-padded to BlockBase
//	BlockBase  Blocks bucket blocks of BlockSize bytes
//
// The index divides the 2^32 values of a score's first four bytes
// (big-endian) among its buckets: with N buckets, div = ceil(2^32/N)
// and a score lives in bucket first4/div (Divisor, BucketOf). Each
// section keeps buckets [Start, Stop); bucket b is block b-Start of
// the section that keeps it. A bucket (Bucket) is a 6-byte header
// (entry count, bucket magic) and up to (BlockSize-6)/38 index entries
// (IEntry), sorted by score and then type. Version 2 sections stamp
// each bucket with the section's bucket magic; a bucket with another
// magic has not been written since formatting and is empty.
//
// An entry's address is an index address: the arena's start in the
// index map plus the clump's arena address. The map gives each arena
// DataSize addresses, starting at IndexBase (1 MiB) for the first.
//
// # Bloom filter
//
// BloomHead (16 bytes) at offset 0 of the bloom partition, inside the
// filter's own first bytes; the filter is the first Size bytes
// (a power of two). See BloomHead and BloomBits for the bits a score
// sets.
//
// # Types
//
// Block types are stored in the disk numbering (venti.DiskType), in
// clump headers, the directory and index entries alike. CorruptType
// (0xff) marks a clump known to be bad.
//
// # Errors
//
// Errors are *Error values naming the structure and, when a reader
// knows it, its place: "vtdisk: arena arenas0.0: clump at 0x1234: bad
// magic 0x12345678 (want 0x8c81fb1d)". They wrap ErrBadMagic,
// ErrVersion, ErrShort, ErrCorrupt, ErrTooLarge, ErrScore or ErrSyntax.
// Unpack functions and readers never panic on bad input.
package vtdisk
