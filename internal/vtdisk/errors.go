package vtdisk

import (
	"errors"

	"github.com/plan9fossil/fossil/internal/diskerr"
)

// Errors that an *Error wraps; test for them with errors.Is.
var (
	// ErrBadMagic: a structure does not start with its magic number.
	ErrBadMagic = errors.New("bad magic")
	// ErrVersion: a structure has a version this package does not know.
	ErrVersion = errors.New("unknown version")
	// ErrShort: a buffer or a partition is too small for what should be in it.
	ErrShort = errors.New("truncated")
	// ErrCorrupt: fields are individually readable but impossible
	// (sizes, offsets, names, counts out of range or inconsistent).
	ErrCorrupt = errors.New("corrupt")
	// ErrTooLarge: a value does not fit where it has to be written.
	ErrTooLarge = errors.New("does not fit")
	// ErrScore: data does not hash to the score recorded for it.
	ErrScore = errors.New("score mismatch")
	// ErrSyntax: a line of venti.conf is not understood.
	ErrSyntax = errors.New("syntax error")
)

// pkg names this package in its errors.
const pkg = "vtdisk"

// Error is the error of the format packages: it names the package, the
// structure and its place, and wraps one of the Err* values above.
type Error = diskerr.Error

func errorf(where string, kind error, format string, args ...any) error {
	return diskerr.Errorf(pkg, where, kind, format, args...)
}

func within(outer string, err error) error { return diskerr.Within(pkg, outer, err) }

func relocate(err error, where string) error { return diskerr.Relocate(pkg, where, err) }

func short(where string, have, need int) error {
	return diskerr.Short(pkg, where, ErrShort, have, need)
}

func badMagic(where string, got, want uint32) error {
	return diskerr.BadMagic(pkg, where, ErrBadMagic, got, want)
}
