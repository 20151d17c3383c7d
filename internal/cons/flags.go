package cons

import (
	"errors"
	"unicode/utf8"
)

// Flags parses a console command's flags the way Plan 9's ARGBEGIN
// does (arg(2)): flags clustered (-APW), values attached or separate
// (-c1000, -c 1000), "--" ending the flags, a lone "-" being an
// argument. Unlike package arg it never exits: a bad flag is an error
// that the command returns, and the console prints it.
//
//	f := cons.NewFlags(argv, "usage: msg [-m nmsg] [-p nproc]")
//	for f.Next() {
//		switch f.Flag() {
//		case 'm':
//			v, err := f.Value()
//			...
//		default:
//			return f.Usage()
//		}
//	}
//	args := f.Args()
type Flags struct {
	usage string
	args  []string
	rest  string // the letters after the current flag in its word
	flag  rune
}

// NewFlags starts parsing argv, whose first word is the command name.
// usage is the whole usage message, "usage: cmd ...".
func NewFlags(argv []string, usage string) *Flags {
	f := &Flags{usage: usage}
	if len(argv) > 0 {
		f.args = argv[1:]
	}
	return f
}

// Next moves to the next flag letter and reports whether there is one.
func (f *Flags) Next() bool {
	if f.rest == "" {
		if len(f.args) == 0 {
			return false
		}
		a := f.args[0]
		if a == "--" {
			f.args = f.args[1:]
			return false
		}
		if len(a) < 2 || a[0] != '-' {
			return false
		}
		f.args = f.args[1:]
		f.rest = a[1:]
	}
	r, n := utf8.DecodeRuneInString(f.rest)
	f.rest = f.rest[n:]
	f.flag = r
	return true
}

// Flag is the current flag letter.
func (f *Flags) Flag() rune { return f.flag }

// Value returns the current flag's value: the rest of its word, else
// the next word. A missing value is the usage error.
func (f *Flags) Value() (string, error) {
	if f.rest != "" {
		v := f.rest
		f.rest = ""
		return v, nil
	}
	if len(f.args) == 0 {
		return "", f.Usage()
	}
	v := f.args[0]
	f.args = f.args[1:]
	return v, nil
}

// Usage returns the usage message as an error.
func (f *Flags) Usage() error { return errors.New(f.usage) }

// Args returns the arguments after the flags.
func (f *Flags) Args() []string { return f.args }
