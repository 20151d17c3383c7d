// Package vtstore is venti's storage engine: it keeps blocks in the C
// venti's arenas, finds them through its index and bloom filter, and
// serves them as a venti.Handler.
//
// # Data path
//
// A write hashes the block outside any lock, then checks whether the
// block exists (bloom filter first: most written blocks are new; then
// recent writes, index cache, index bucket). A new block
// is compressed, still outside any lock, unless a quick probe finds it
// incompressible (whack.Hopeless), in which case it is stored raw as the
// C venti stores blocks that do not compress. It is then appended, under
// the store's lock, to the write buffer of the current arena; its index
// entry joins the pending entries, which lookups consult before the
// index. A read finds the block's address (lump cache, pending entries,
// index bucket), reads the clump from the write buffer or the arena and
// checks its score.
//
// The write buffer is a queue of chunks of about a megabyte. A full
// chunk is written to the partition in the background, and every few
// megabytes so written are forced to disk in the background too, so that
// a Sync after a long run of writes has little left to wait for. Writers
// wait when more chunks are queued than the disk keeps up with.
//
// # Durability and the disk's invariants
//
// The arena's clump log is the truth; the index is a derived table that
// can always be rebuilt from it. Three rules keep every crash harmless:
//
//  1. Sync writes the buffered clumps and their directory entries,
//     forces them to disk, and only then writes the arena trailer whose
//     memory statistics (clump count, bytes used) claim them, and forces
//     that. A trailer never claims a clump that is not on disk; clumps
//     beyond the trailer's count were never acknowledged by a sync.
//     Chunks written out in the background change nothing a crash can
//     see, as no trailer claims them yet. Once written they leave
//     memory, so if forcing them to disk fails they may be lost: every
//     later Sync of that arena then fails, and no trailer claims them.
//  2. Index entries are written to their buckets only for clumps already
//     on disk, and the trailer's disk statistics, which say how much of
//     the log the index covers, are raised only after the buckets (and
//     the bloom filter) are on disk.
//  3. On open, the clumps between the disk and the memory statistics are
//     read back from the log and become pending entries again, so the
//     index catches up after any crash. The C venti does the same with
//     an arena we left, and we with one it left.
//
// A full arena is sealed: its index entries are flushed, its trailer
// marked sealed, and the SHA-1 of the whole arena written into the
// trailer, after which the arena never changes. When every arena is
// full, writes fail with a clear error and reads go on.
package vtstore
