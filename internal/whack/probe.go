package whack

import "encoding/binary"

const (
	probeSpan   = 8192 // the probe samples each span of this size alike
	probeWindow = 48   // bytes per sample
	probeBits   = 10   // hash table size of the probe
)

// probeMarks place the samples in a span: a Golomb ruler (an optimal one
// of 12 marks), so that no two pairs of samples are the same distance
// apart and a string repeated at a distance has many chances to be seen
// twice.
var probeMarks = [...]int{0, 2, 6, 24, 29, 40, 43, 55, 68, 75, 76, 85}

// Hopeless reports whether a quick look at src finds so few repeated
// strings that Compress would not make it smaller, so that the caller
// can store it raw without paying for a compression that fails.
//
// Whack saves space only through matches (repeated strings of three
// bytes or more): a literal costs at least the 8 bits of its byte. So
// the probe looks for matches, greedily and through one small hash
// table, in short samples spread over src (576 bytes of every 8 KiB); a
// match in one sample may refer to an earlier one. In random data a
// sample almost never holds one (two given 3-byte strings agree with
// probability 2^-24); in data that compresses they are common, whether
// it is text, a table of small numbers or a block padded with zeros.
// src is called hopeless when matches cover less than 1/16 of the
// sampled bytes: with that few the C compressor usually gives up too (it
// stops when more than 4 in 5 of the first half are literals).
//
// It is a heuristic: data whose repeats all fall between the samples can
// be misjudged, which costs only space (the clump is stored raw, which
// the C venti reads as well). Blocks shorter than 1 KiB are never
// hopeless: compressing them is cheap. Blocks longer than MaxBlock always
// are: Compress does not take them.
func Hopeless(src []byte) bool {
	if len(src) < 1024 {
		return false
	}
	if len(src) > MaxBlock {
		return true
	}
	// The position of the last string with each hash. An empty slot
	// reads as position 0, and comparing with the string there costs
	// less than a test for emptiness, which random data makes the
	// processor guess wrong half the time (that test tripled the
	// probe's cost in venti). It finds no other matches: position 0 is
	// the first string entered, in its own hash's slot, so an empty
	// slot's 0 is another hash's string and never equal; c < p only
	// keeps position 0 from matching itself.
	var table [1 << probeBits]uint16
	covered, sampled := 0, 0
	last := probeMarks[len(probeMarks)-1]
	for base := 0; base < len(src); base += probeSpan {
		span := min(probeSpan, len(src)-base)
		if span < 1024 {
			break
		}
		prev := base // the end of the previous sample: samples never overlap
		for _, m := range probeMarks {
			p := max(base+m*(span-probeWindow)/last, prev)
			end := p + probeWindow
			if end > base+span {
				break
			}
			prev = end
			sampled += probeWindow
			for p+4 <= end {
				v := binary.LittleEndian.Uint32(src[p:]) & 0xffffff
				h := v * 0x9e3779b1 >> (32 - probeBits)
				c := int(table[h])
				table[h] = uint16(p)
				if binary.LittleEndian.Uint32(src[c:])&0xffffff == v && c < p {
					l := minMatch + matchLen(src[p+minMatch:end], src[c+minMatch:])
					covered += l
					p += l
					continue
				}
				p++
			}
		}
	}
	return 16*covered < sampled
}
