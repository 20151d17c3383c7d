package whack

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by every error Decompress returns.
var ErrCorrupt = errors.New("whack: corrupt compressed block")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// Decompress decodes src, a clump compressed by the C venti, into dst.
// len(dst) is the expected uncompressed size (venti stores it in the clump
// header); it returns an error if src is malformed, would write past dst,
// or does not produce exactly len(dst) bytes. It never panics.
//
// It accepts exactly the streams the C venti's unwhack accepts, with one
// exception that the C compressor never produces: a match length code
// longer than 24 bits, which unwhack may or may not accept depending on
// how the token happens to fall in its 32-bit buffer.
func Decompress(dst, src []byte) error {
	var (
		// acc holds the next nacc bits of src, most significant first.
		// Bits below them are either zero or already the following bits
		// of src; past the end of src they are zero, which lets the
		// decoder read ahead freely and check for overrun once per token.
		acc  uint64
		nacc uint
		next int // next byte of src to load into acc

		// Bits of src not yet consumed; < 0 after overrun. 64 bits so
		// that 8*len(src) cannot overflow on 32-bit machines.
		left = 8 * int64(len(src))
		d    int // bytes written to dst

		// One bit per recent literal, 1 if it was not printable. The
		// start of a block counts as four non-printable literals.
		hist uint32 = 0xf
	)
	for left >= minTokenBits {
		if nacc < maxTokenBits {
			if next+8 <= len(src) {
				// Load 8 bytes at once; keep only the whole bytes that
				// fit, the rest are reloaded next time.
				acc |= binary.BigEndian.Uint64(src[next:]) >> nacc
				n := (63 - nacc) >> 3
				next += int(n)
				nacc += n << 3
			} else {
				for nacc <= 56 && next < len(src) {
					acc |= uint64(src[next]) << (56 - nacc)
					next++
					nacc += 8
				}
				if next == len(src) {
					nacc = 64 // zeros from here on
				}
			}
		}

		if acc>>63 == 0 {
			var c byte
			var k uint
			switch {
			case hist&0xf != 0:
				c, k = byte(acc>>55), 9
			case acc>>56 >= 0x20:
				c, k = byte(acc>>56), 8
			case acc>>56 < 0x18:
				c, k = byte(acc>>54)-64, 10
			default:
				c, k = byte(acc>>53)-64, 11
			}
			acc <<= k
			nacc -= k
			left -= int64(k)
			if left < 0 {
				return corrupt("truncated literal at output byte %d", d)
			}
			if d >= len(dst) {
				return corrupt("output longer than %d bytes", len(dst))
			}
			dst[d] = c
			d++
			hist <<= 1
			if c < 0x20 || c > 0x7f {
				hist |= 1
			}
			continue
		}

		var length int
		var k uint
		if e := lenFast[acc>>56]; e != 0 {
			length, k = int(e>>4), uint(e&15)
		} else {
			// A code word longer than 8 bits: find its length in the
			// canonical code.
			for bits := uint(9); ; bits++ {
				if bits > maxLenBits {
					return corrupt("bad match length code at output byte %d", d)
				}
				w := uint32(acc >> (64 - bits))
				if w-lenFirst[bits] < lenCount[bits] {
					length, k = int(lenBase[bits]+w-lenFirst[bits]), bits
					break
				}
			}
		}
		acc <<= k
		bucket := acc >> 60
		extra := uint(offExtra[bucket])
		dist := int(offBase[bucket]) + int(acc<<4>>(64-extra)) + 1
		k += 4 + extra
		acc <<= 4 + extra
		nacc -= k
		left -= int64(k)

		if left < 0 {
			return corrupt("truncated match at output byte %d", d)
		}
		if dist > d {
			return corrupt("match offset %d before start of block at output byte %d", dist, d)
		}
		if length > len(dst)-d {
			return corrupt("output longer than %d bytes", len(dst))
		}
		if dist >= length {
			copy(dst[d:d+length], dst[d-dist:d])
		} else {
			// Overlapping copy: the match repeats the last dist bytes.
			// Copy whole periods, doubling the amount each time.
			for i := 0; i < length; {
				i += copy(dst[d+i:d+length], dst[d-dist:d+i])
			}
		}
		d += length
	}
	if d != len(dst) {
		return corrupt("decoded %d bytes, want %d", d, len(dst))
	}
	return nil
}
