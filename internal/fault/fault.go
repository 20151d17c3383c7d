// Package fault kills the process at chosen points of the code, for crash
// tests: when the environment variable FAULT is name or name:n, the n-th
// time (1 if not given) the program reaches Point(name), it dies at once
// with SIGKILL, as a machine that loses power or a kill -9 at that very
// instant would leave it. Without FAULT, Point costs a test of a boolean.
//
// The points, with where they are:
//
//	fs.commit.afterdata     internal/fs, a commit (commitment.sync): the fresh
//	                        blocks and the labels written, before the first
//	                        sync (step 2 of the package doc)
//	fs.commit.beforesuper   a commit: after the first sync, before the super
//	                        block is written (step 3)
//	fs.commit.aftersuper    a commit: the super block written, before the
//	                        second sync (step 4)
//	fs.commit.close         finishCommit: closing the blocks the committed tree
//	                        no longer uses, once per block (step 5)
//	fs.commit.label         writeLabels: after each label block is written, in
//	                        steps 1 and 5 alike
//	fs.archive.beforelast   internal/fs ArchiveNow: every block of the archive
//	                        written to venti and synced, before super.Last
//	                        records it
//	vtstore.write.appended  internal/vtstore, Store.Write: a clump appended to
//	                        the arena's log (in memory), before its pending
//	                        index entry
//	vtstore.flush.clumps    arena flush: the clumps and their directory
//	                        written and synced, before the trailer claims them
//	vtstore.index.bucket    FlushIndex (writeBuckets): after each run of index
//	                        buckets is written
//	vtstore.index.buckets   FlushIndex: buckets and bloom filter on disk,
//	                        before the trailers' disk statistics are raised
//	vtstore.seal.flushed    seal: the sealed trailer written, before the
//	                        arena's score is summed and recorded
//	vtstore.seal.done       seal: the trailer with the arena's score written
//
// Points lists them; a test checks that the list and the calls in the
// source agree.
package fault

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Points are the names of every Point in the programs.
var Points = []string{
	"fs.commit.afterdata",
	"fs.commit.beforesuper",
	"fs.commit.aftersuper",
	"fs.commit.close",
	"fs.commit.label",
	"fs.archive.beforelast",
	"vtstore.write.appended",
	"vtstore.flush.clumps",
	"vtstore.index.bucket",
	"vtstore.index.buckets",
	"vtstore.seal.flushed",
	"vtstore.seal.done",
}

// Env is the environment variable that arms a point.
const Env = "FAULT"

var (
	armed  bool // set once, before main runs
	target string
	nth    int64 = 1
	hits   atomic.Int64
)

func init() { arm(os.Getenv(Env)) }

// arm sets the point from a FAULT value: name or name:n.
func arm(v string) {
	armed, target, nth = false, "", 1
	hits.Store(0)
	if v == "" {
		return
	}
	name, count, ok := strings.Cut(v, ":")
	if ok {
		n, err := strconv.ParseInt(count, 10, 64)
		if err != nil || n < 1 {
			n = 1
		}
		nth = n
	}
	armed, target = name != "", name
}

// Point kills the process if FAULT names this point and this is the
// time it asks for.
func Point(name string) {
	if armed && name == target {
		hit()
	}
}

// dieFunc is how hit ends the process; tests replace it.
var dieFunc = die

func hit() {
	if hits.Add(1) == nth {
		dieFunc()
	}
}
