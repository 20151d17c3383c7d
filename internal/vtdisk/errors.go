package vtdisk

import (
	"errors"
	"fmt"
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

// An Error reports a problem with an on-disk structure. Where names
// the structure and, when known, its place, as in
// "arena arenas0.0: clump at 0x1234"; Err says what is wrong and wraps
// one of the Err* values above.
type Error struct {
	Where string
	Err   error
}

func (e *Error) Error() string { return "vtdisk: " + e.Where + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// errorf returns an *Error at where wrapping kind, with a detail message.
func errorf(where string, kind error, format string, args ...any) error {
	if format == "" {
		return &Error{Where: where, Err: kind}
	}
	return &Error{Where: where, Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)}
}

// relocate replaces the place of err, if it is an *Error, by where;
// other errors (I/O errors) are wrapped with where.
func relocate(err error, where string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Where: where, Err: e.Err}
	}
	return &Error{Where: where, Err: err}
}

// within puts the place of err inside outer: "outer: inner".
func within(outer string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Where: outer + ": " + e.Where, Err: e.Err}
	}
	return &Error{Where: outer, Err: err}
}

func badMagic(where string, got, want uint32) error {
	return &Error{Where: where, Err: fmt.Errorf("%w 0x%08x (want 0x%08x)", ErrBadMagic, got, want)}
}

func short(where string, have, need int) error {
	return &Error{Where: where, Err: fmt.Errorf("%w: %d bytes, need %d", ErrShort, have, need)}
}
