package whack

import "testing"

// Benchmark inputs: 8 KiB blocks (a typical fossil block size).
//
//	text:   English-like words (compresses to about 40%)
//	lines:  the fixture's numbered "quick brown fox" lines (about 8%)
//	random: incompressible
//
// Compressing random data stops at the half (the C venti's give-up
// rule), as it does in venti. Random data would not be stored
// compressed, so its decompression benchmark decodes an all-literal
// stream made with the give-up rule off: the decoder's worst case.
var benchInputs = []struct {
	name string
	data []byte
}{
	{"text", textBytes(100, 8192)},
	{"lines", linesBytes("b04", 8192)},
	{"random", randomBytes(101, 8192)},
}

func BenchmarkCompress(b *testing.B) {
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			dst := make([]byte, len(in.data))
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				Compress(dst, in.data)
			}
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			dst := make([]byte, len(in.data))
			n, ok := Compress(dst, in.data)
			src := dst[:n]
			if !ok {
				src = forceEncode(in.data)
			}
			out := make([]byte, len(in.data))
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Decompress(out, src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
