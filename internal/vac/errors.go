package vac

import (
	"errors"

	"github.com/plan9fossil/fossil/internal/diskerr"
)

// Errors that an *Error wraps; test for them with errors.Is.
var (
	// ErrBadMeta: a meta block or a directory entry is malformed. The
	// text is the C code's ("corrupted meta data"), which flchk prints.
	ErrBadMeta = errors.New("corrupted meta data")
	// ErrShort: a buffer is too small for what should be in it.
	ErrShort = errors.New("truncated")
	// ErrTooLarge: a value does not fit where it has to be written.
	ErrTooLarge = errors.New("does not fit")
	// ErrNotFound: no entry of a meta block has the name looked up.
	ErrNotFound = errors.New("file does not exist")
	// ErrExists: an entry with the name being added is already there.
	ErrExists = errors.New("file already exists")
	// ErrFull: a meta block has no room (index slot or bytes) for an entry.
	ErrFull = errors.New("meta block full")
)

// pkg names this package in its errors.
const pkg = "vac"

// Error is the error of the format packages: it names the package, the
// structure and its place, and wraps one of the Err* values above.
type Error = diskerr.Error

func errorf(where string, kind error, format string, args ...any) error {
	return diskerr.Errorf(pkg, where, kind, format, args...)
}

func within(outer string, err error) error { return diskerr.Within(pkg, outer, err) }
