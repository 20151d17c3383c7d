package fsdisk

import (
	"errors"
	"fmt"

	"github.com/plan9fossil/fossil/internal/vac"
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

// An Error reports a problem with an on-disk structure. Where names the
// structure and, when known, its place, as in "block 0xfa" or
// "/active/usr: entry 3"; Err says what is wrong and wraps one of the
// Err* values above (or an I/O error).
type Error struct {
	Where string
	Err   error
}

func (e *Error) Error() string { return "fsdisk: " + e.Where + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// errorf returns an *Error at where wrapping kind, with a detail message.
func errorf(where string, kind error, format string, args ...any) error {
	if format == "" {
		return &Error{Where: where, Err: kind}
	}
	return &Error{Where: where, Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)}
}

// within puts the place of err inside outer: "outer: inner". The places
// of vac's errors join in the same way; other errors (I/O) are wrapped
// whole.
func within(outer string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Where: outer + ": " + e.Where, Err: e.Err}
	}
	var ve *vac.Error
	if errors.As(err, &ve) {
		return &Error{Where: outer + ": " + ve.Where, Err: ve.Err}
	}
	return &Error{Where: outer, Err: err}
}

func short(where string, have, need int) error {
	return &Error{Where: where, Err: fmt.Errorf("%w: %d bytes, need %d", ErrShort, have, need)}
}

func badMagic(where string, got, want uint32) error {
	return &Error{Where: where, Err: fmt.Errorf("%w %#08x (want %#08x)", ErrBadMagic, got, want)}
}
