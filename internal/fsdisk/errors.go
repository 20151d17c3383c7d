package fsdisk

import (
	"errors"

	"github.com/plan9fossil/fossil/internal/diskerr"
)

// Errors that an *Error wraps; test for them with errors.Is. Where the
// C fossil has a message for the same fault, the text is the C one.
var (
	// ErrBadMagic: a structure does not start with its magic number.
	ErrBadMagic = errors.New("bad magic")
	// ErrVersion: a structure has a version this package does not know.
	ErrVersion = errors.New("unknown version")
	// ErrShort: a buffer or a partition is too small for what should be in it.
	ErrShort = errors.New("truncated")
	// ErrCorrupt: fields are individually readable but impossible.
	ErrCorrupt = errors.New("corrupt")
	// ErrTooLarge: a value does not fit where it has to be written.
	ErrTooLarge = errors.New("does not fit")
	// ErrBadSuper: the super block's epochs or qid are impossible.
	ErrBadSuper = errors.New("corrupted super block")
	// ErrBadLabel: a label's state, type or close epoch is impossible.
	ErrBadLabel = errors.New("corrupted block label")
	// ErrLabelMismatch: a block's label is not the type and tag its
	// parent expects.
	ErrLabelMismatch = errors.New("block label mismatch")
	// ErrBadEntry: an entry cannot describe a tree of blocks.
	ErrBadEntry = errors.New("corrupted file entry")
	// ErrBadAddr: a block address or block number is out of range.
	ErrBadAddr = errors.New("illegal block address")
	// ErrScore: a block read from venti does not hash to its score.
	ErrScore = errors.New("score mismatch")
	// ErrRemoved: a directory entry points at an entry of another
	// generation.
	ErrRemoved = errors.New("file has been removed")
	// ErrNotDir: a path walks through a file.
	ErrNotDir = errors.New("not a directory")
	// ErrNotFound: no file of that name.
	ErrNotFound = errors.New("file does not exist")
	// ErrSnapOld: an entry enters a snapshot older than the low epoch,
	// whose blocks may have been reused.
	ErrSnapOld = errors.New("snapshot has been deleted")
	// ErrNoVenti: a block is on venti and the reader has no BlockReader.
	ErrNoVenti = errors.New("no venti")
	// ErrConfig: the config block does not start with "fossil config".
	ErrConfig = errors.New("bad config magic")
)

// pkg names this package in its errors.
const pkg = "fsdisk"

// Error is the error of the format packages: it names the package, the
// structure and its place, and wraps one of the Err* values above.
type Error = diskerr.Error

func errorf(where string, kind error, format string, args ...any) error {
	return diskerr.Errorf(pkg, where, kind, format, args...)
}

func within(outer string, err error) error { return diskerr.Within(pkg, outer, err) }

func short(where string, have, need int) error {
	return diskerr.Short(pkg, where, ErrShort, have, need)
}

func badMagic(where string, got, want uint32) error {
	return diskerr.BadMagic(pkg, where, ErrBadMagic, got, want)
}
