// Package fs is the fossil engine: the block cache over a partition in
// the C fossil's format (package fsdisk), copy-on-write by epoch, files
// and directories, snapshots and the archiver that copies them to venti.
// The 9P server (package ninep) and the console sit on top of it.
//
// # Blocks
//
// Every block of a tree is named by a score: a local address (fsdisk
// LocalScore) or a venti score. A block may be changed in place only
// while it is fresh: allocated since the last commit, so that nothing on
// the disk's committed tree points at it yet. Changing any other block
// copies it to a fresh one first and puts the copy's address in the
// parent, which is made writable the same way, up to the root block whose
// address goes into the super block. The old block is closed (its label
// gets the current epoch as close epoch) only after the commit that stops
// referencing it; a block closed in the epoch it was made in is free at
// once, one made in an older epoch when the low epoch passes its close
// epoch, that is, when the last snapshot that may use it is gone. This is
// the C fossil's rule for labels; we apply it to every change, not only to
// the first one after a snapshot, and that is what makes a crash safe.
//
// # Commit and crash safety
//
// Changes stay in memory until a commit (sync, the periodic flush, a
// snapshot, or too many dirty blocks). A commit
//
//  1. writes the fresh blocks and the label blocks that changed,
//  2. syncs the partition,
//  3. writes the super block, whose active root is the commit point,
//  4. syncs again, and only then
//  5. closes the blocks the new tree no longer uses (in memory; their
//     labels reach the disk with the next commit).
//
// A crash before step 3 leaves the previous tree intact, because fresh
// blocks only ever take blocks that were free in it; the fresh blocks
// whose labels were written are leaked until the next open sweeps them
// (Open frees every block of the current epoch that is allocated, open and
// unreachable from the active root). A crash after step 3 loses nothing
// committed. So everything that Sync returned for survives kill -9 and
// power loss, and the disk is consistent at every instant.
//
// The commit that too many dirty blocks start runs steps 2 to 4 in the
// background, without the engine lock (commitment in cache.go): after
// step 1 the blocks it wrote are no longer fresh, so a change to them
// copies them into the next commit, and the super block it writes is the
// one of step 1. Writers wait only if the fresh blocks of the next commit
// reach twice the cache's size first; any other commit waits for the one
// in flight, so super blocks reach the disk in order. A background sync
// that fails leaves the disk at the last good commit and the file system
// refusing changes with that error.
//
// # Full disk
//
// A few blocks are kept in reserve: ordinary writes fail with "file
// system is full" when only the reserve is left, while removal,
// truncation, snapshot cleanup and archival, which all need a few fresh
// blocks to copy the path above what they free, may use it. So a full
// file system can always be emptied again.
//
// # Locking
//
// One mutex guards the whole engine; requests are short. Disk reads are
// done under it; the archiver talks to venti and the background commit
// syncs without it.
package fs
