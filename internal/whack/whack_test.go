package whack

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Test data.

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// textBytes is English-like text: random words from a small vocabulary,
// with punctuation and line breaks.
func textBytes(seed uint64, n int) []byte {
	words := strings.Fields(`the of and to in is that it was for on are as with his they
		at be this from have or by one had not but what all were when we there can an
		your which their said if do will each about how up out them then she many some
		so these would other into has more her two like him see time could no make than
		first been its who now people my made over did down only way find use may water
		long little very after words called just where most know venti fossil arena
		clump index score block archive server plan nine bell labs`)
	r := rand.New(rand.NewPCG(seed, 2))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		switch r.IntN(12) {
		case 0:
			b.WriteString(".\n")
		case 1:
			b.WriteString(", ")
		default:
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

// linesBytes is like the fixture's "text" blocks.
func linesBytes(name string, n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%s line %06d: the quick brown fox jumps over the lazy dog\n", name, i)
	}
	return b.Bytes()[:n]
}

func rampBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// repeatBytes repeats a random pattern of the given period, with a few
// random changes so that matches have varied lengths.
func repeatBytes(seed uint64, period, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	pat := randomBytes(seed, period)
	b := make([]byte, n)
	for i := range b {
		b[i] = pat[i%period]
		if r.IntN(200) == 0 {
			b[i] ^= byte(r.Uint32())
		}
	}
	return b
}

type testInput struct {
	name string
	data []byte
}

func testInputs() []testInput {
	ins := []testInput{
		{"empty", nil},
		{"1byte", []byte{'x'}},
		{"2bytes", []byte("ab")},
		{"3same", []byte("aaa")},
		{"4same", []byte("aaaa")},
		{"short-text", []byte("hello, hello, hello world")},
		{"text-8k", textBytes(1, 8192)},
		{"text-56000", textBytes(2, 56000)},
		{"lines-8k", linesBytes("b04", 8192)},
		{"lines-1000", linesBytes("b13", 1000)},
		{"zeros-8k", make([]byte, 8192)},
		{"zeros-max", make([]byte, MaxBlock)},
		{"ramp-256", rampBytes(256)},
		{"ramp-56000", rampBytes(56000)},
		{"ramp-max", rampBytes(MaxBlock)},
		{"random-8k", randomBytes(3, 8192)},
		{"random-56000", randomBytes(4, 56000)},
		{"random-max", randomBytes(5, MaxBlock)},
		{"all-bytes", bytes.Repeat(rampBytes(256), 3)},
		{"binary-text-mix", append(append(textBytes(6, 3000), randomBytes(7, 2000)...), textBytes(8, 3000)...)},
	}
	for _, period := range []int{1, 2, 3, 7, 100, 1000, 5000, 16383, 16384, 16385, 20000} {
		ins = append(ins, testInput{fmt.Sprintf("period-%d", period), repeatBytes(uint64(period), period, MaxBlock)})
	}
	return ins
}

// forceEncode encodes src without the give-up rule or output limit, so
// that incompressible data also yields a stream (used for testing the
// decoder on all-literal streams).
func forceEncode(src []byte) []byte {
	dst := make([]byte, 2*len(src)+16)
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	n, ok := e.encode(dst, src, false)
	if !ok {
		panic("forceEncode: output did not fit")
	}
	return dst[:n]
}

// checkDecodes checks that stream decodes to want with both Decompress
// and the reference decoder.
func checkDecodes(t *testing.T, stream, want []byte) {
	t.Helper()
	got := make([]byte, len(want))
	if err := Decompress(got, stream); err != nil {
		t.Fatalf("Decompress: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Decompress: wrong output; first difference at %d", firstDiff(got, want))
	}
	ref, err := refDecode(stream, len(want))
	if err != nil {
		t.Fatalf("reference decoder: %v", err)
	}
	if !bytes.Equal(ref, want) {
		t.Fatalf("reference decoder: wrong output; first difference at %d", firstDiff(ref, want))
	}
}

func TestRoundTrip(t *testing.T) {
	for _, in := range testInputs() {
		t.Run(in.name, func(t *testing.T) {
			dst := make([]byte, len(in.data))
			n, ok := Compress(dst, in.data)
			t.Logf("%d -> %d bytes, ok=%v", len(in.data), n, ok)
			if !ok {
				if n != 0 {
					t.Errorf("Compress returned n=%d with ok=false", n)
				}
				// Compressible inputs must compress.
				if strings.HasPrefix(in.name, "text") || strings.HasPrefix(in.name, "zeros") ||
					strings.HasPrefix(in.name, "lines") || strings.HasPrefix(in.name, "ramp-5") {
					t.Errorf("%s did not compress", in.name)
				}
			} else {
				if n >= len(in.data) {
					t.Errorf("ok with %d bytes for %d", n, len(in.data))
				}
				checkDecodes(t, dst[:n], in.data)
			}
			if len(in.data) <= MaxBlock {
				checkDecodes(t, forceEncode(in.data), in.data)
			}
		})
	}
}

func TestCompressLimits(t *testing.T) {
	// Fewer than 3 bytes: never compressed (as in the C venti).
	for _, s := range []string{"", "a", "aa"} {
		if n, ok := Compress(make([]byte, 10), []byte(s)); ok || n != 0 {
			t.Errorf("Compress(%q) = %d, %v", s, n, ok)
		}
	}
	// Larger than MaxBlock: refused.
	big := make([]byte, MaxBlock+1)
	if n, ok := Compress(make([]byte, len(big)), big); ok || n != 0 {
		t.Errorf("Compress(MaxBlock+1 zeros) = %d, %v", n, ok)
	}
	// A dst too small for the output: ok=false, no panic, dst untouched
	// beyond its length.
	src := textBytes(9, 8192)
	full := make([]byte, len(src))
	n, ok := Compress(full, src)
	if !ok {
		t.Fatal("text did not compress")
	}
	for _, size := range []int{0, 1, n / 2, n - 1} {
		buf := make([]byte, size, size+64)
		if m, ok := Compress(buf, src); ok || m != 0 {
			t.Errorf("Compress into %d bytes = %d, %v; need %d", size, m, ok, n)
		}
		if tail := buf[size : size+64]; !bytes.Equal(tail, make([]byte, 64)) {
			t.Errorf("Compress into %d bytes wrote past len(dst)", size)
		}
	}
	if m, ok := Compress(make([]byte, n), src); !ok || m != n {
		t.Errorf("Compress into exactly %d bytes = %d, %v", n, m, ok)
	}
	// Output must be strictly shorter than the input: 3 distinct
	// printable bytes take 27 bits, 4 bytes, so they are not compressed.
	if n, ok := Compress(make([]byte, 100), []byte("abc")); ok {
		t.Errorf(`Compress("abc") = %d, true`, n)
	}
	// Random data gives up: the C venti's "more than 4 literals in 5
	// bytes at the half" rule, even though dst has room.
	if n, ok := Compress(make([]byte, 2*8192), randomBytes(10, 8192)); ok {
		t.Errorf("random data compressed to %d bytes", n)
	}
}

// TestHandBuilt pins the bit format with streams written out bit by bit
// from the package comment's description.
func TestHandBuilt(t *testing.T) {
	tests := []struct {
		name string
		bits string // tokens separated by spaces inside, "|" between tokens
		want []byte
	}{{
		// Literal 'a' in binary mode (start of block): 0 then 8 bits.
		// Match length 9 (7-bit word 1111011), distance 1 (bucket 0000,
		// 5 extra bits 00000). 25 bits, padded to 4 bytes.
		name: "run",
		bits: "0 01100001 | 1111011 0000 00000",
		want: []byte("aaaaaaaaaa"),
	}, {
		// Four literals in binary mode, then text mode: 'e' in 8 bits;
		// '\n' (0x0a) as 0x0a+64 in 9 bits after the 0; then four more
		// in binary mode because '\n' is among the last four; then text
		// mode again: 0x90 as 0x90+64 = 0xd0 in 10 bits after the 0;
		// then binary mode: 0xe5 in 9 bits.
		name: "text-mode",
		bits: "0 01100001 | 0 01100010 | 0 01100011 | 0 01100100 |" +
			"0 1100101 | 0 001001010 |" +
			"0 01110111 | 0 01111000 | 0 01111001 | 0 01111010 |" +
			"0 0011010000 | 0 11100101",
		want: []byte("abcde\nwxyz\x90\xe5"),
	}, {
		// 0x7f and ' ' count as printable; 0xf0 in text mode is
		// 0xf0+64-256 = 0x30 in 9 bits after the 0. A match between
		// literals does not disturb the literal history: after "ABCD" and
		// a match, 0x7f is still coded in text mode.
		name: "text-edges",
		bits: "0 01000001 | 0 01000010 | 0 01000011 | 0 01000100 |" +
			"10 0000 00011 |" + // length 3, distance 4: "ABC"
			"0 1111111 | 0 0100000 | 0 1000101 | 0 1000110 | 0 000110000",
		want: []byte("ABCDABC\x7f EF\xf0"),
	}, {
		// Length codes: 3 = 10, 4 = 110, 5 = 11100, 6 = 11101,
		// 7 = 111100, 12 = 111110100 (first 9-bit word),
		// 16 = 1111110000 (first 10-bit word). All at distance 1.
		name: "lengths",
		bits: "0 00000111 | 10 0000 00000 | 110 0000 00000 | 11100 0000 00000 |" +
			"11101 0000 00000 | 111100 0000 00000 | 111110100 0000 00000 |" +
			"1111110000 0000 00000",
		want: bytes.Repeat([]byte{7}, 1+3+4+5+6+7+12+16),
	}, {
		// The longest length, 2051: the last 24-bit word.
		name: "length-2051",
		bits: "0 00000000 | 111111111111100111111111 0000 00000",
		want: make([]byte, 2052),
	}, {
		// Distance 34: distance-1 = 33 = 0x21, bucket 1 (base 0x20) with
		// extra bits 00001. Length 32 is 28+4: the fifth 12-bit word,
		// 111111100000+100.
		name: "distance-34",
		bits: "0 01010000 | 0 01010001 |" + // "PQ"
			"111111100100 0000 00000 |" + // length 32 at distance 1: 32 'Q'
			"10 0001 00001", // length 3 at distance 34: "PQQ"
		want: []byte("P" + strings.Repeat("Q", 33) + "PQQ"),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := packBits(strings.ReplaceAll(tc.bits, "|", ""))
			checkDecodes(t, stream, tc.want)
		})
	}

	// The first test's exact bytes, as a check on packBits itself.
	if got := packBits("0 01100001 1111011 0000 00000"); !bytes.Equal(got, []byte{0x30, 0xfb, 0x00, 0x00}) {
		t.Errorf("packBits = % x", got)
	}
}

// TestReferenceTables checks the reference coder's tables, built from
// the package comment, against facts stated there.
func TestReferenceTables(t *testing.T) {
	for l, w := range map[int]string{3: "10", 4: "110", 5: "11100", 6: "11101", 7: "111100",
		8: "1111010", 9: "1111011", 10: "11111000", 11: "11111001", 12: "111110100",
		16: "1111110000", 32: "111111100100",
		2051: "111111111111100111111111"} {
		if got := refLenWord(l); got != w {
			t.Errorf("refLenWord(%d) = %s, want %s", l, got, w)
		}
	}
	for d, w := range map[int]string{1: "000000000", 32: "000011111", 33: "000100000",
		65: "0010" + "00000", 129: "0100" + "000000", 4097: "1110" + "000000000000",
		16384: "1111" + "1111111111111"} {
		if got := refOffset(d); got != w {
			t.Errorf("refOffset(%d) = %s, want %s", d, got, w)
		}
	}
}

// TestAllCodes decodes streams using every match length and every
// distance, built with the reference coder.
func TestAllCodes(t *testing.T) {
	var s refStream
	var want []byte
	lit := func(c byte) {
		s.literal(c)
		want = append(want, c)
	}
	match := func(length, dist int) {
		s.match(length, dist)
		for range length {
			want = append(want, want[len(want)-dist])
		}
	}
	flush := func() {
		t.Helper()
		checkDecodes(t, s.bytes(), want)
		s, want = refStream{}, nil
	}

	// Every length, at distance 1 and 2.
	lit('x')
	lit('y')
	for l := minMatch; l <= maxMatch; l++ {
		match(l, 1+l%2)
		if len(want) > 40000 {
			flush()
			lit('x')
			lit('y')
		}
	}
	flush()

	// Every distance: a 16 KiB random prefix (as literals, so every
	// byte value in both literal modes), then a 3-byte match at each
	// distance, most recent window included.
	prefix := append(textBytes(11, 8192), randomBytes(12, window-8192)...)
	for _, c := range prefix {
		lit(c)
	}
	for d := 1; d <= window; d++ {
		match(3, d)
	}
	flush()
}

// TestCompressIsDecodable cross-checks Compress against the reference
// decoder on many sizes and kinds of data.
func TestCompressIsDecodable(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 42))
	for i := range 300 {
		n := r.IntN(4000)
		if i%10 == 0 {
			n = r.IntN(MaxBlock + 1)
		}
		var data []byte
		switch i % 4 {
		case 0:
			data = textBytes(uint64(i), n)
		case 1:
			data = repeatBytes(uint64(i), 1+r.IntN(300), n)
		case 2:
			data = linesBytes(fmt.Sprint(i), n)
		case 3:
			// Mostly printable with some binary bytes, to exercise
			// both literal modes.
			data = textBytes(uint64(i), n)
			for j := range data {
				if r.IntN(20) == 0 {
					data[j] = byte(r.Uint32())
				}
			}
		}
		dst := make([]byte, n)
		m, ok := Compress(dst, data)
		if !ok {
			continue
		}
		if _, err := refDecode(dst[:m], n); err != nil {
			t.Fatalf("case %d (%d bytes): reference decoder: %v", i, n, err)
		}
		checkDecodes(t, dst[:m], data)
	}
}

func TestMalformed(t *testing.T) {
	good := func(data []byte) []byte {
		dst := make([]byte, len(data))
		n, ok := Compress(dst, data)
		if !ok {
			t.Fatal("test data did not compress")
		}
		return dst[:n]
	}
	text := textBytes(20, 8192)
	textZ := good(text)

	expectErr := func(name string, dstLen int, src []byte) {
		t.Helper()
		err := Decompress(make([]byte, dstLen), src)
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: error %v does not wrap ErrCorrupt", name, err)
		}
		if _, rerr := refDecode(src, dstLen); rerr == nil {
			t.Errorf("%s: reference decoder accepts it", name)
		}
	}

	// Truncated: every prefix of a valid stream fails.
	for n := range len(textZ) {
		expectErr(fmt.Sprintf("truncated to %d", n), len(text), textZ[:n])
	}
	// Trailing garbage: any extra byte either overruns or adds output.
	for _, b := range []byte{0, 0x55, 0xff} {
		expectErr(fmt.Sprintf("extra byte %#x", b), len(text), append(bytes.Clone(textZ), b))
	}
	// Wrong expected size.
	expectErr("dst too small", len(text)-1, textZ)
	expectErr("dst too large", len(text)+1, textZ)
	expectErr("dst empty", 0, textZ)
	expectErr("empty src", 10, nil)
	if err := Decompress(nil, nil); err != nil {
		t.Errorf("empty block: %v", err)
	}

	// Hand-built bad streams, with the error each must give. Note that
	// the fill bits of the last byte are real bits to the decoder: only
	// a token running past the last byte is truncated.
	hand := []struct {
		name, bits string
		dstLen     int
		err        string
	}{
		{"match first", "10 0000 00000", 3, "before start"},
		{"offset before start", "0 01100001 | 10 0000 00001", 4, "before start"}, // distance 2 after 1 byte
		{"far offset", "0 01100001 | 10 1111 1111111111111", 4, "before start"},  // distance 16384
		{"length code too long", "0 00000000 | " + strings.Repeat("1", 25) + " 0000 00000", 5000, "length code"},
		{"length code all ones", "0 00000000 | " + strings.Repeat("1", 31), 5000, "length code"},
		// 17 bits in 3 bytes: the second token has 15 bits, but length 10
		// (11111000) and its offset need 17.
		{"truncated match", "0 01100001 | 11111000", 11, "truncated match"},
		// Eight 9-bit literals (not printable, so the decoder stays in
		// binary mode) fill 9 bytes; the tenth byte holds only 8 of the 9
		// bits of another literal.
		{"truncated literal", strings.Repeat("0 00000001 |", 8) + "0 0000000", 9, "truncated literal"},
		{"literal overflow", "0 01100001 | 0 01100010", 1, "longer than"},
		{"match overflow", "0 01100001 | 1111011 0000 00000", 5, "longer than"},
		{"short output", "0 01100001 | 1111011 0000 00000", 11, "decoded 10 bytes"},
	}
	for _, tc := range hand {
		src := packBits(strings.ReplaceAll(tc.bits, "|", ""))
		expectErr(tc.name, tc.dstLen, src)
		if err := Decompress(make([]byte, tc.dstLen), src); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want one about %q", tc.name, err, tc.err)
		}
	}
	// Zero bytes at the start decode as literals in binary mode (0 then
	// 0x00), so garbage is not always detected early; this must still be
	// an error because the output size is wrong.
	expectErr("zeros", 100, make([]byte, 50))

	// Garbage: no panics, and the same verdict as the reference decoder.
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 2000 {
		src := randomBytes(uint64(i), r.IntN(200))
		if i%3 == 0 && len(textZ) > 0 {
			// Corrupt a valid stream in one place.
			src = bytes.Clone(textZ)
			src[r.IntN(len(src))] ^= byte(1 + r.IntN(255))
		}
		dstLen := r.IntN(2 * len(text))
		if i%3 == 0 {
			dstLen = len(text)
		}
		differential(t, src, dstLen)
	}
}

// differential checks Decompress against the reference decoder.
func differential(t *testing.T, src []byte, dstLen int) {
	t.Helper()
	dst := make([]byte, dstLen)
	err := Decompress(dst, src)
	ref, rerr := refDecode(src, dstLen)
	switch {
	case (err == nil) != (rerr == nil):
		t.Fatalf("src % x, %d bytes: Decompress error %v, reference error %v", src, dstLen, err, rerr)
	case err == nil && !bytes.Equal(dst, ref):
		t.Fatalf("src % x, %d bytes: outputs differ at %d", src, dstLen, firstDiff(dst, ref))
	case err != nil && !errors.Is(err, ErrCorrupt):
		t.Fatalf("error %v does not wrap ErrCorrupt", err)
	}
}

// fuzzSeeds are the test inputs cut to 2 KiB: the fuzzer's minimizer is
// slow on large inputs, and large blocks are covered by the other tests.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, in := range testInputs() {
		seeds = append(seeds, in.data[:min(len(in.data), 2048)])
	}
	return seeds
}

func FuzzDecompress(f *testing.F) {
	for _, data := range fuzzSeeds() {
		dst := make([]byte, len(data))
		if n, ok := Compress(dst, data); ok {
			f.Add(dst[:n], uint16(len(data)))
		}
		if len(data) > 0 {
			f.Add(forceEncode(data), uint16(len(data)))
		}
	}
	f.Add(packBits("0 01100001 1111011 0000 00000"), uint16(10))
	f.Add([]byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, src []byte, n uint16) {
		dstLen := int(n) % (MaxBlock + 1)
		if len(src) > 4096 {
			// Still must not panic on long input, but keep the slow
			// reference decoder to short ones.
			Decompress(make([]byte, dstLen), src)
			return
		}
		differential(t, src, dstLen)
	})
}

func FuzzRoundTrip(f *testing.F) {
	for _, data := range fuzzSeeds() {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > MaxBlock {
			data = data[:MaxBlock]
		}
		dst := make([]byte, len(data))
		n, ok := Compress(dst, data)
		if ok {
			if n >= len(data) {
				t.Fatalf("ok with %d bytes for %d", n, len(data))
			}
			got := make([]byte, len(data))
			if err := Decompress(got, dst[:n]); err != nil {
				t.Fatalf("Decompress: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("round trip differs at %d", firstDiff(got, data))
			}
		} else if n != 0 {
			t.Fatalf("not ok but n=%d", n)
		}
		// The all-literal path too: forced streams of any data.
		forced := forceEncode(data)
		got := make([]byte, len(data))
		if err := Decompress(got, forced); err != nil {
			t.Fatalf("Decompress forced stream: %v", err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("forced round trip differs at %d", firstDiff(got, data))
		}
	})
}
