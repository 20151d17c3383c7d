package vtdisk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
)

var be = binary.BigEndian

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// getName reads a NUL-terminated name from a NameSize field.
func getName(where string, b []byte) (string, error) {
	b = b[:NameSize]
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", errorf(where, ErrCorrupt, "name not terminated")
	}
	s := string(b[:i])
	if !ValidName(s) {
		return "", errorf(where, ErrCorrupt, "bad name %q", s)
	}
	return s, nil
}

// putName stores s, which must satisfy nameOK, NUL-padded in a
// NameSize field.
func putName(b []byte, s string) {
	b = b[:NameSize]
	n := copy(b, s)
	clear(b[n:])
}

func isPow2(v uint64) bool { return v != 0 && v&(v-1) == 0 }

// okBlockSize reports whether bs is a block size this package handles.
func okBlockSize(bs uint32) bool {
	return isPow2(uint64(bs)) && bs >= MinBlockSize && bs <= MaxBlockSize
}

// roundUp rounds v up to a multiple of the power of two bs.
func roundUp(v, bs uint64) uint64 { return (v + bs - 1) &^ (bs - 1) }

// tableBase is where the map table of an arena partition or index
// section starts: the first block boundary after the header.
func tableBase(blockSize uint32) uint64 {
	return roundUp(PartBlank+HeadSize, uint64(blockSize))
}

// commas formats v with a comma every three digits, as Plan 9's %,d does.
func commas(v uint64) string {
	s := itoa(v)
	if len(s) <= 3 {
		return s
	}
	var b []byte
	pre := len(s) % 3
	if pre > 0 {
		b = append(b, s[:pre]...)
	}
	for i := pre; i < len(s); i += 3 {
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = append(b, s[i:i+3]...)
	}
	return string(b)
}

// readAt reads exactly len(buf) bytes at off, naming where on failure.
func readAt(r io.ReaderAt, buf []byte, off int64, where string) error {
	if off < 0 {
		return errorf(where, ErrCorrupt, "negative offset %d", off)
	}
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf(where, ErrShort, "read %d of %d bytes at %#x", n, len(buf), off)
	}
	return &Error{Where: where, Err: fmt.Errorf("read at %#x: %w", off, err)}
}

// SizeOf returns the size of a partition opened as r, for readers that
// can tell it: *os.File and anything with Stat (the length of a file or
// of a Plan 9 #S partition), anything with Size (bytes.Reader,
// io.SectionReader), or an io.Seeker.
func SizeOf(r io.ReaderAt) (int64, error) {
	switch v := r.(type) {
	case interface{ Size() int64 }:
		return v.Size(), nil
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err := v.Stat()
		if err != nil {
			return 0, err
		}
		if s, ok := r.(io.Seeker); ok && fi.Size() == 0 {
			return seekSize(s) // a Unix block device
		}
		return fi.Size(), nil
	case io.Seeker:
		return seekSize(v)
	}
	return 0, errors.New("vtdisk: cannot tell the size of the partition")
}

// seekSize finds the size of a device by seeking to its end.
func seekSize(v io.Seeker) (int64, error) {
	cur, err := v.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	end, err := v.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	_, err = v.Seek(cur, io.SeekStart)
	return end, err
}

// ValidName reports whether s may be stored in a name field (of an
// arena, an index section, an index): printable ASCII, shorter than
// NameSize bytes (the C venti's nameok).
func ValidName(s string) bool {
	if len(s) >= NameSize {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// CheckBlockSize reports an error unless n is a block size the
// formatters accept: a power of two from MinBlockSize to MaxBlockSize.
func CheckBlockSize(n uint64) error {
	if n&(n-1) != 0 || n < MinBlockSize || n > MaxBlockSize {
		return fmt.Errorf("illegal block size %d: want a power of two from %d to %d", n, MinBlockSize, MaxBlockSize)
	}
	return nil
}
