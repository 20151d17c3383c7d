package vtdisk

import (
	"bytes"
	"strconv"
	"strings"
)

// lines reads the text tables the way the C venti's ifile routines do:
// a line ends at '\n', anything from '#' on is a comment, leading
// blanks (space, tab, CR) are dropped and blank lines are skipped.
type lines struct {
	data []byte
	pos  int
	num  int // number of the line last returned, counting from 1
	// lax accepts a last line that has no newline (the C code drops it).
	lax bool
}

func newLines(data []byte, lax bool) *lines {
	return &lines{data: data, lax: lax}
}

func (l *lines) next() (string, bool) {
	for l.pos < len(l.data) {
		rest := l.data[l.pos:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if !l.lax {
				return "", false
			}
			i = len(rest)
		}
		s := string(rest[:i])
		l.pos += i + 1
		l.num++
		if j := strings.IndexByte(s, '#'); j >= 0 {
			s = s[:j]
		}
		s = strings.TrimLeft(s, " \t\r")
		if s != "" {
			return s, true
		}
	}
	return "", false
}

// cText returns b up to its first NUL, as C string routines see it.
func cText(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// parseDecimal parses a whole field of decimal digits without sign or
// base prefix (the C stru32int and stru64int).
func parseDecimal(s string, bits int) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, bits)
	return v, err == nil
}

// An AMap names a range [Start, Stop): in an arena partition's map the
// byte range of an arena on the partition; in an index map the index
// addresses of an arena, or the buckets kept by an index section.
type AMap struct {
	Name        string
	Start, Stop uint64
}

// parseAMap reads a map: a count line, then that many lines of
// name, start and stop separated by single tabs.
func parseAMap(l *lines, where string) ([]AMap, error) {
	s, ok := l.next()
	if !ok {
		return nil, errorf(where, ErrCorrupt, "missing entry count")
	}
	n, ok := parseDecimal(s, 32)
	if !ok {
		return nil, errorf(where, ErrCorrupt, "bad entry count %q", s)
	}
	if n > MaxAMap {
		return nil, errorf(where, ErrCorrupt, "%d entries, more than %d", n, MaxAMap)
	}
	m := make([]AMap, n)
	for i := range m {
		s, ok := l.next()
		if !ok {
			return nil, errorf(where, ErrShort, "ends after %d of %d entries", i, n)
		}
		f := strings.Split(s, "\t")
		if len(f) != 3 {
			return nil, errorf(where, ErrCorrupt, "entry %d: want name, start and stop: %q", i, s)
		}
		if !ValidName(f[0]) {
			return nil, errorf(where, ErrCorrupt, "entry %d: bad name %q", i, f[0])
		}
		start, ok1 := parseDecimal(f[1], 64)
		stop, ok2 := parseDecimal(f[2], 64)
		if !ok1 || !ok2 {
			return nil, errorf(where, ErrCorrupt, "entry %d: bad range %q", i, s)
		}
		m[i] = AMap{Name: f[0], Start: start, Stop: stop}
	}
	return m, nil
}

// appendAMap formats m as parseAMap reads it.
func appendAMap(b []byte, m []AMap, where string) ([]byte, error) {
	if len(m) > MaxAMap {
		return nil, errorf(where, ErrTooLarge, "%d entries, more than %d", len(m), MaxAMap)
	}
	b = strconv.AppendInt(b, int64(len(m)), 10)
	b = append(b, '\n')
	for i, a := range m {
		if !ValidName(a.Name) || a.Name == "" {
			return nil, errorf(where, ErrCorrupt, "entry %d: bad name %q", i, a.Name)
		}
		b = append(b, a.Name...)
		b = append(b, '\t')
		b = strconv.AppendUint(b, a.Start, 10)
		b = append(b, '\t')
		b = strconv.AppendUint(b, a.Stop, 10)
		b = append(b, '\n')
	}
	return b, nil
}

// checkAMap checks that the ranges of m are in order, do not overlap,
// and lie within [lo, hi) (the C okamap).
func checkAMap(m []AMap, lo, hi uint64, where string) error {
	last := lo
	for i, a := range m {
		if a.Start < last {
			if i == 0 {
				return errorf(where, ErrCorrupt, "%s starts at %d, before %d", a.Name, a.Start, lo)
			}
			return errorf(where, ErrCorrupt, "%s at %d overlaps %s", a.Name, a.Start, m[i-1].Name)
		}
		if a.Stop < a.Start {
			return errorf(where, ErrCorrupt, "%s: range [%d,%d) is backwards", a.Name, a.Start, a.Stop)
		}
		last = a.Stop
	}
	if last > hi {
		return errorf(where, ErrCorrupt, "ends at %d, past %d", last, hi)
	}
	return nil
}

// putText stores text NUL-padded in table, refusing text that leaves no
// NUL after it.
func putText(table, text []byte, where string) error {
	if len(text) >= len(table) {
		return errorf(where, ErrTooLarge, "%d bytes of text for a %d-byte table", len(text), len(table))
	}
	n := copy(table, text)
	clear(table[n:])
	return nil
}

// UnpackAMap parses an arena partition's map table: the text that
// follows the partition header, NUL-padded to the first arena.
func UnpackAMap(table []byte) ([]AMap, error) {
	return parseAMap(newLines(cText(table), false), "arena map")
}

// PackAMap formats m into table as fmtarenas writes it, NUL-padded.
// It fails, writing nothing, if the text does not fit.
func PackAMap(table []byte, m []AMap) error {
	text, err := appendAMap(nil, m, "arena map")
	if err != nil {
		return err
	}
	return putText(table, text, "arena map")
}
