// Package whack implements the block compression used by the C venti
// (Plan 9 and plan9port venti/srv) to store clumps: a small LZ77 variant
// called "whack". It exists so that our venti can read every clump the C
// venti wrote and write clumps the C venti can read.
//
// No manual page describes the bit format, so it is written down here.
//
// # Framing
//
// A compressed block has no header, length field or end marker: the
// uncompressed size lives in the clump header, outside the stream. The
// stream is a sequence of tokens, each either a literal byte or a
// back-reference (match), packed most-significant-bit first into bytes.
// The last byte is filled up with zero bits. A decoder keeps decoding while
// at least 8 unread bits remain; no token is shorter than 8 bits, so the
// (at most 7) fill bits are never mistaken for a token. A token that needs
// bits beyond the end of the stream makes the stream corrupt.
//
// # Token prefix
//
// Every token starts with a prefix-free code: the single bit 0 introduces
// a literal, and every other code word is the length of a match. Read as
// one canonical prefix code, the code words are assigned in order of
// increasing length and, within a length, increasing value:
//
//	0                  literal
//	10                 match length 3
//	110                length 4
//	1110x              lengths 5-6
//	111100             length 7
//	111101x            lengths 8-9
//	1111100x           lengths 10-11
//	9 bits ≥ 111110100 lengths 12-15 (4 code words)
//	10 bits            lengths 16-19 (4)
//	11 bits            lengths 20-27 (8)
//	12 bits            lengths 28-35 (8)
//	...                the number of code words doubles every second
//	                   length: 16, 16, 32, 32, ... 512, 512
//	24 bits            lengths 1540-2051 (512)
//
// So matches are 3 to 2051 bytes long. The 24-bit code words do not use
// the whole code space (a run of 24 one bits is not a code word); the C
// compressor never emits anything longer, and this package rejects it.
//
// # Match offsets
//
// A length code is followed by the distance back into the already
// decoded output, 1 to 16384 bytes, stored as distance-1 in a 4-bit bucket
// number followed by a bucket-specific number of extra bits that are added
// to the bucket's base:
//
//	bucket  0    1    2    3    4    5    6     7     8     9     10    11    12    13    14     15
//	base    0    0x20 0x40 0x60 0x80 0xc0 0x100 0x180 0x200 0x300 0x400 0x600 0x800 0xc00 0x1000 0x2000
//	extra   5    5    5    5    6    6    7     7     8     8     9     9     10    10    12     13
//
// Equivalently, for distance-1 of at least 64 the bucket records the
// value's bit length and the bit after its leading one, and the extra bits
// are the rest. The distance may be smaller than the length: the copy then
// runs forward byte by byte over bytes it has just produced, which is how
// runs are encoded (a run of zeros is one literal and matches at distance 1).
//
// # Literals
//
// Literals are coded adaptively, depending on whether the four previous
// literals (matches do not count) were all "printable", that is in
// 0x20-0x7f. At the start of a block the history counts as not printable.
//
// If any of the previous four literals was not printable, the literal is
// the bit 0 followed by the byte itself: 9 bits.
//
// If all four were printable ("text mode"), a printable byte is sent as 0
// and its low 7 bits (8 bits in all), and other bytes are sent as 0 and
// (byte+64) mod 256 in 9 or 10 bits, chosen so the decoder can tell them
// apart from printable ones by the first 7 bits after the 0:
//
//	byte          sent as               bits after the 0   total
//	0x20-0x7f     byte                  7                  8
//	0x00-0x1f     byte+64 = 0x40-0x5f   9                  10
//	0xc0-0xff     byte-192 = 0x00-0x3f  9                  10
//	0x80-0xbf     byte+64 = 0xc0-0xff   10                 11
//
// A text-mode decoder reads 7 bits v: v ≥ 32 is the printable byte v;
// v < 24 means 2 more bits follow, v in 24-31 means 3 more bits follow;
// either way it subtracts 64 (mod 256) from the assembled value.
//
// # Compressor
//
// Compress reproduces the C venti's compressor (whack.c with the level
// venti uses): the same 3-byte hash (Knuth multiplicative hashing into
// 2^14 buckets), the same hash chains over a 16 KiB window, at most 48
// candidates per position with an early stop once a match is longer than
// 48, greedy parsing, and the same give-up rules. Its output is therefore
// byte for byte what the C venti would store, and it reports "not
// compressible" in exactly the cases where the C venti stores a clump raw.
package whack

// MaxBlock is the largest block whack handles: venti's maximum lump size,
// 56 KiB.
const MaxBlock = 56 * 1024

const (
	minMatch = 3    // shortest match
	maxMatch = 2051 // longest match: longest length code word is 24 bits
	window   = 1 << 14

	minTokenBits = 8 // shortest token (a text-mode literal)

	// maxLenBits is the longest length code word. A match token is at most
	// maxLenBits + 4 + 13 bits.
	maxLenBits   = 24
	maxTokenBits = maxLenBits + 4 + 13
)
