package whack

// An independent, deliberately naive coder for the bit format, written
// from the package comment and sharing no code or tables with the
// package. Tests use it to check Compress's output with a second decoder,
// to build streams by hand, and as the oracle for differential fuzzing of
// Decompress.

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// refLenWord returns the code word for a match length as a string of
// '0' and '1', following the package comment's description: one canonical
// prefix code in which "0" is the literal and the number of length code
// words per bit length is 1 (2 bits), 1, 0, 2, 1, 2, 2 (8 bits), then
// 4, 4, 8, 8, ... 512, 512 (24 bits).
func refLenWord(length int) string {
	counts := map[int]int{1: 1, 2: 1, 3: 1, 4: 0, 5: 2, 6: 1, 7: 2, 8: 2}
	for b, c := 9, 4; b <= 24; b += 2 {
		counts[b], counts[b+1] = c, c
		c *= 2
	}
	word, next := 0, 3 // next: length of the first word of this bit length
	for bits := 1; bits <= 24; bits++ {
		if bits > 1 {
			word = (word + counts[bits-1]) << 1
			if bits > 2 {
				next += counts[bits-1]
			}
		}
		if bits >= 2 && length >= next && length < next+counts[bits] {
			return fmt.Sprintf("%0*b", bits, word+length-next)
		}
	}
	panic(fmt.Sprintf("no code word for length %d", length))
}

// refOffset returns the offset code for a distance, per the bucket table.
func refOffset(dist int) string {
	v := dist - 1
	base := []int{0, 0x20, 0x40, 0x60, 0x80, 0xc0, 0x100, 0x180, 0x200, 0x300, 0x400, 0x600, 0x800, 0xc00, 0x1000, 0x2000, 0x4000}
	extra := []int{5, 5, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 12, 13}
	for b := 0; b < 16; b++ {
		if v >= base[b] && v < base[b+1] {
			if v-base[b] >= 1<<extra[b] {
				panic("bucket table inconsistent")
			}
			return fmt.Sprintf("%04b%0*b", b, extra[b], v-base[b])
		}
	}
	panic(fmt.Sprintf("distance %d out of range", dist))
}

func printable(c byte) bool { return c >= 0x20 && c <= 0x7f }

// refStream builds a stream token by token, as bits.
type refStream struct {
	bits strings.Builder
	hist []bool // printable, per literal so far
}

func (s *refStream) textMode() bool {
	n := len(s.hist)
	if n < 4 {
		return false
	}
	for _, p := range s.hist[n-4:] {
		if !p {
			return false
		}
	}
	return true
}

func (s *refStream) literal(c byte) {
	switch {
	case !s.textMode():
		fmt.Fprintf(&s.bits, "0%08b", c)
	case printable(c):
		fmt.Fprintf(&s.bits, "0%07b", c)
	case c < 0x20 || c >= 0xc0:
		fmt.Fprintf(&s.bits, "0%09b", byte(c+64))
	default:
		fmt.Fprintf(&s.bits, "0%010b", byte(c+64))
	}
	s.hist = append(s.hist, printable(c))
}

func (s *refStream) match(length, dist int) {
	s.bits.WriteString(refLenWord(length))
	s.bits.WriteString(refOffset(dist))
}

func (s *refStream) bytes() []byte { return packBits(s.bits.String()) }

// packBits packs a string of '0' and '1' (spaces ignored) MSB first,
// filling the last byte with zeros.
func packBits(bits string) []byte {
	bits = strings.ReplaceAll(bits, " ", "")
	out := make([]byte, (len(bits)+7)/8)
	for i, c := range bits {
		switch c {
		case '1':
			out[i/8] |= 0x80 >> (i % 8)
		case '0':
		default:
			panic("bad bit " + string(c))
		}
	}
	return out
}

var errRef = errors.New("refDecode: corrupt")

// refLenWords is the decoding table for match lengths: code word -> length.
var refLenWords = sync.OnceValue(func() map[string]int {
	words := map[string]int{}
	for l := 3; l <= 2051; l++ {
		words[refLenWord(l)] = l
	}
	return words
})

// refDecode decodes src bit by bit into a buffer of n bytes, with the
// semantics of the C venti's decoder: decode while 8 or more unread bits
// remain; a token running past the end, an offset before the start, a
// length code longer than 24 bits or output past n are errors, and so is
// producing fewer than n bytes.
func refDecode(src []byte, n int) ([]byte, error) {
	total := 8 * len(src)
	pos := 0
	bit := func() int { // zero past the end; overrun is checked per token
		if pos >= total {
			pos++
			return 0
		}
		b := int(src[pos/8]>>(7-pos%8)) & 1
		pos++
		return b
	}
	read := func(k int) int {
		v := 0
		for range k {
			v = v<<1 | bit()
		}
		return v
	}

	words := refLenWords()
	base := []int{0, 0x20, 0x40, 0x60, 0x80, 0xc0, 0x100, 0x180, 0x200, 0x300, 0x400, 0x600, 0x800, 0xc00, 0x1000, 0x2000}
	extra := []int{5, 5, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 12, 13}

	var out []byte
	var hist []bool
	for total-pos >= 8 {
		if bit() == 0 {
			text := len(hist) >= 4 && hist[len(hist)-1] && hist[len(hist)-2] && hist[len(hist)-3] && hist[len(hist)-4]
			var c byte
			if !text {
				c = byte(read(8))
			} else if v := read(7); v >= 32 {
				c = byte(v)
			} else if v < 24 {
				c = byte(v<<2|read(2)) - 64
			} else {
				c = byte(v<<3|read(3)) - 64
			}
			if pos > total {
				return nil, fmt.Errorf("%w: truncated literal", errRef)
			}
			if len(out) >= n {
				return nil, fmt.Errorf("%w: too much output", errRef)
			}
			out = append(out, c)
			hist = append(hist, printable(c))
			continue
		}
		w := "1"
		length, ok := 0, false
		for !ok {
			if len(w) > 24 {
				return nil, fmt.Errorf("%w: length code too long", errRef)
			}
			w += fmt.Sprint(bit())
			length, ok = words[w]
		}
		b := read(4)
		dist := base[b] + read(extra[b]) + 1
		if pos > total {
			return nil, fmt.Errorf("%w: truncated match", errRef)
		}
		if dist > len(out) {
			return nil, fmt.Errorf("%w: offset before start", errRef)
		}
		if len(out)+length > n {
			return nil, fmt.Errorf("%w: too much output", errRef)
		}
		for range length {
			out = append(out, out[len(out)-dist])
		}
	}
	if len(out) != n {
		return nil, fmt.Errorf("%w: %d bytes, want %d", errRef, len(out), n)
	}
	return out, nil
}
