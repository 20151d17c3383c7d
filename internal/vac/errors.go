package vac

import (
	"errors"
	"fmt"
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

// An Error reports a problem with a meta block or directory entry.
// Where names the structure and, when known, the place, as in
// "meta block: entry 3 at 0x150"; Err says what is wrong and wraps one
// of the Err* values above.
type Error struct {
	Where string
	Err   error
}

func (e *Error) Error() string { return "vac: " + e.Where + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// errorf returns an *Error at where wrapping kind, with a detail message.
func errorf(where string, kind error, format string, args ...any) error {
	if format == "" {
		return &Error{Where: where, Err: kind}
	}
	return &Error{Where: where, Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)}
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
