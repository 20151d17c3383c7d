package whack

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

const (
	hashBits = 14

	// maxTries bounds the hash-chain walk per position, and a match
	// longer than it ends the walk early. The C venti compresses at level
	// 6, which it turns into 1<<6 - 1<<6>>2 = 48.
	maxTries = 48

	// startTime is the position counter's value at the first byte, as in
	// the C venti. The counter is 16 bits wide and wraps, so an empty
	// slot (0) reads as the position 1<<16 - startTime; that never yields
	// a false match (candidates are compared byte by byte) and does not
	// change the output, but starting where the C venti starts keeps the
	// chain walk step for step the same as the C compressor's.
	startTime = 2 * window
)

// encoder holds the match finder's hash chains. Positions are stored as
// 16-bit "times" (startTime + offset in the block, mod 2^16), as in the C
// compressor, whose output we reproduce exactly.
type encoder struct {
	head  [1 << hashBits]uint16 // newest time with a given hash
	chain [window]uint16        // time&(window-1) -> previous time with the same hash
}

var encoders = sync.Pool{New: func() any { return new(encoder) }}

// Compress compresses src into dst (len(dst) >= len(src) is enough) and
// returns the compressed length. ok is false when compression would not
// make the data smaller (the caller then stores it raw), exactly the
// condition under which the C venti stores a clump uncompressed: blocks
// shorter than 3 bytes, output not shorter than the input, and blocks
// that still look incompressible halfway through (more than 4 literals per
// 5 bytes). ok is also false if len(src) > MaxBlock or the output does not
// fit in dst. The output is byte for byte what the C venti produces.
func Compress(dst, src []byte) (n int, ok bool) {
	if len(src) < minMatch || len(src) > MaxBlock {
		return 0, false
	}
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	return e.encode(dst[:min(len(dst), len(src)-1)], src, true)
}

// hash3 hashes the 3 bytes at the start of p (Knuth's multiplicative
// hashing, as in the C venti).
func hash3(p []byte) uint32 {
	_ = p[2]
	return (uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2])) * 0x6b43a9b5 >> (32 - hashBits)
}

// encode compresses src into dst and reports whether it fit. If giveUp is
// set, it also stops at the first literal past the middle of src when
// more than 4/5 of the bytes so far were literals, as the C venti does;
// tests and benchmarks clear it to get streams for incompressible data.
func (e *encoder) encode(dst, src []byte, giveUp bool) (int, bool) {
	clear(e.head[:])
	clear(e.chain[:])
	var w bitWriter
	w.dst = dst

	n := len(src)
	checked := !giveUp
	lits := 0
	hist := ^uint32(0) // literal history, as in Decompress
	now := uint16(startTime)
	for p := 0; p < n; {
		var h uint32
		if p+minMatch <= n {
			h = hash3(src[p:])
		}
		dist, length := e.longest(src, p, now, h)

		if length == 0 {
			c := src[p]
			hist <<= 1
			if c < 0x20 || c > 0x7f {
				hist |= 1
			}
			switch {
			case hist&0x1e != 0: // an earlier one of the last four was not printable
				w.put(uint64(c), 9)
			case hist&1 != 0: // text mode, this one is not printable
				if t := c + 64; t < 0x60 {
					w.put(uint64(t), 10)
				} else {
					w.put(uint64(t), 11)
				}
			default:
				w.put(uint64(c), 8)
			}
			lits++
			if !checked && p > n>>1 {
				checked = true
				if 4*p < 5*lits {
					return 0, false
				}
			}
			if p+minMatch <= n {
				e.insert(h, now)
			}
			p++
			now++
		} else {
			code := lenEnc[length]
			w.put(uint64(code&(1<<24-1)), uint(code>>24))
			v := dist - 1
			b := offBucket[v>>5]
			extra := uint(offExtra[b])
			w.put(uint64(b)<<extra|uint64(v-int(offBase[b])), 4+extra)
			for end := p + length; p < end; p++ {
				if p+minMatch <= n {
					e.insert(hash3(src[p:]), now)
				}
				now++
			}
		}
		if !w.flush() {
			return 0, false
		}
	}
	// Fill the last byte with zero bits.
	w.put(0, (8-w.nbits%8)%8)
	if !w.flush() {
		return 0, false
	}
	return w.n, true
}

func (e *encoder) insert(h uint32, now uint16) {
	e.chain[now&(window-1)] = e.head[h]
	e.head[h] = now
}

// longest returns the longest match for src[p:] among the first maxTries
// earlier positions on p's hash chain (the first one found if several are
// equally long), or length 0 if there is none of at least minMatch bytes.
func (e *encoder) longest(src []byte, p int, now uint16, h uint32) (dist, length int) {
	end := min(len(src), p+maxMatch)
	if end-p < minMatch {
		return 0, 0
	}
	src = src[:end] // nothing at or past end may take part in a match
	first3 := uint32(src[p]) | uint32(src[p+1])<<8 | uint32(src[p+2])<<16
	var last uint16
	then := e.head[h]
	for tries := maxTries; tries > 0; tries-- {
		off := now - then
		// Chains run from near to far; stop at the first entry that is
		// not farther than the previous one (a stale or empty slot) or
		// is outside the window.
		if off <= last || off > window || int(off) > p {
			break
		}
		i := p - int(off)
		// The C compressor only extends a candidate that could beat
		// the best so far: it must agree at index length too.
		if uint32(src[i])|uint32(src[i+1])<<8|uint32(src[i+2])<<16 == first3 &&
			(length == 0 || p+length < end && src[i+length] == src[p+length]) {
			if l := minMatch + matchLen(src[p+minMatch:], src[i+minMatch:]); l > length {
				dist, length = int(off), l
				if length > maxTries {
					break
				}
			}
		}
		last = off
		then = e.chain[then&(window-1)]
	}
	return dist, length
}

// matchLen returns the length of the common prefix of a and b;
// len(b) >= len(a).
func matchLen(a, b []byte) int {
	n := 0
	for len(a) >= 8 {
		x := binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b)
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		a, b = a[8:], b[8:]
		n += 8
	}
	for i := range a {
		if a[i] != b[i] {
			return n + i
		}
	}
	return n + len(a)
}

// bitWriter packs codes most significant bit first.
type bitWriter struct {
	dst   []byte
	n     int    // bytes written to dst
	acc   uint64 // pending bits, right-aligned
	nbits uint
}

// put appends the low k bits of v; at most 64-7 bits may be pending.
func (w *bitWriter) put(v uint64, k uint) {
	w.acc = w.acc<<k | v
	w.nbits += k
}

// flush writes all complete pending bytes, reporting false if dst is full.
func (w *bitWriter) flush() bool {
	for w.nbits >= 8 {
		if w.n >= len(w.dst) {
			return false
		}
		w.nbits -= 8
		w.dst[w.n] = byte(w.acc >> w.nbits)
		w.n++
	}
	return true
}
