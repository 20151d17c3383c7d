package whack

// The length code and the offset buckets described in the package
// comment. Both coder directions are derived from these few numbers so
// they cannot drift apart.

// lenCodeCount returns how many match lengths have a code word of the
// given bit length.
func lenCodeCount(bits int) int {
	switch {
	case bits < 2 || bits > maxLenBits:
		return 0
	case bits <= 8:
		return [...]int{2: 1, 3: 1, 4: 0, 5: 2, 6: 1, 7: 2, 8: 2}[bits]
	default:
		// 4, 4, 8, 8, 16, 16, ...: doubles every second bit length.
		return 4 << ((bits - 9) / 2)
	}
}

var (
	// For each code-word bit length: the first code word (as an integer
	// of that many bits), how many there are, and the match length of the
	// first one. Canonical code: the first word of length b+1 is
	// (first[b]+count[b])<<1. The literal "0" is the one word of length 1.
	lenFirst [maxLenBits + 1]uint32
	lenCount [maxLenBits + 1]uint32
	lenBase  [maxLenBits + 1]uint32

	// lenFast maps the first 8 bits of a match token to length<<4 | bits
	// for code words of at most 8 bits, and to 0 for longer ones.
	lenFast [256]uint16

	// lenEnc maps a match length to its code word (bits<<24 | word).
	lenEnc [maxMatch + 1]uint32
)

// Offset buckets: distance-1 = offBase[b] + next offExtra[b] bits.
var (
	offBase  = [16]uint16{0, 0x20, 0x40, 0x60, 0x80, 0xc0, 0x100, 0x180, 0x200, 0x300, 0x400, 0x600, 0x800, 0xc00, 0x1000, 0x2000}
	offExtra = [16]uint8{5, 5, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 12, 13}

	// offBucket maps (distance-1)>>5 to its bucket; every bucket
	// boundary is a multiple of 32.
	offBucket [window >> 5]uint8
)

func init() {
	first, length := uint32(0), uint32(minMatch)
	count := uint32(1) // the literal code word "0"
	for bits := 2; bits <= maxLenBits; bits++ {
		first = (first + count) << 1
		count = uint32(lenCodeCount(bits))
		lenFirst[bits], lenCount[bits], lenBase[bits] = first, count, length
		for i := uint32(0); i < count; i++ {
			word := first + i
			lenEnc[length+i] = uint32(bits)<<24 | word
			if bits <= 8 {
				// Every 8-bit prefix that starts with word.
				lo := word << (8 - bits)
				for j := lo; j < lo+1<<(8-bits); j++ {
					lenFast[j] = uint16(length+i)<<4 | uint16(bits)
				}
			}
		}
		length += count
	}
	if length != maxMatch+1 {
		panic("whack: length code table is inconsistent")
	}

	for b := range offBase {
		lo := int(offBase[b]) >> 5
		hi := (int(offBase[b]) + 1<<offExtra[b]) >> 5
		for i := lo; i < hi; i++ {
			offBucket[i] = uint8(b)
		}
	}
}
