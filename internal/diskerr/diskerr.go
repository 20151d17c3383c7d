// Package diskerr is the error of the packages that read on-disk
// formats (vtdisk, fsdisk, vac): it names the package, the structure and
// its place, and wraps the package's sentinel error that says what is
// wrong, as in
//
//	vtdisk: arena arenas0.0: clump at 0x1234: bad magic 0x12345678 (want 0x8c81fb1d)
//
// so that an operator sees where, and code tests what with errors.Is.
package diskerr

import (
	"errors"
	"fmt"
)

// An Error reports a problem with an on-disk structure.
type Error struct {
	Pkg   string // the package that found it: "vtdisk"
	Where string // the structure and its place: "arena arenas0.0: clump at 0x1234"
	Err   error  // what is wrong, wrapping a sentinel error (or an I/O error)
}

func (e *Error) Error() string { return e.Pkg + ": " + e.Where + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error at where wrapping kind, with a detail message
// (none if format is empty).
func Errorf(pkg, where string, kind error, format string, args ...any) error {
	if format == "" {
		return &Error{Pkg: pkg, Where: where, Err: kind}
	}
	return &Error{Pkg: pkg, Where: where, Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)}
}

// Within puts the place of err inside outer ("outer: inner"), whichever
// package's Error it is; other errors (I/O) are wrapped whole.
func Within(pkg, outer string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Pkg: pkg, Where: outer + ": " + e.Where, Err: e.Err}
	}
	return &Error{Pkg: pkg, Where: outer, Err: err}
}

// Relocate replaces the place of err, if it is an *Error, by where;
// other errors are wrapped with where.
func Relocate(pkg, where string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Pkg: pkg, Where: where, Err: e.Err}
	}
	return &Error{Pkg: pkg, Where: where, Err: err}
}

// BadMagic reports a structure that does not start with its magic.
func BadMagic(pkg, where string, kind error, got, want uint32) error {
	return &Error{Pkg: pkg, Where: where, Err: fmt.Errorf("%w 0x%08x (want 0x%08x)", kind, got, want)}
}

// Short reports a buffer or partition too small for what it must hold.
func Short(pkg, where string, kind error, have, need int) error {
	return &Error{Pkg: pkg, Where: where, Err: fmt.Errorf("%w: %d bytes, need %d", kind, have, need)}
}
