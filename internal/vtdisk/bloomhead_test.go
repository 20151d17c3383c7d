package vtdisk

import (
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// TestBloomHeaderBits: a score whose bits all land in the header area
// (as the C hashing allows) must never test negative, since writing the
// filter packs the header over those bits.
func TestBloomHeaderBits(t *testing.T) {
	const size = 1 << 20
	var s venti.Score
	s[6] = 0x80 // a = 0x00800000 = size*8: masked to bit 0; b = 0
	f := &Bloom{BloomHead: BloomHead{NHash: 32, Size: size}, Data: make([]byte, size)}
	for _, x := range BloomBits(s, 32, size) {
		if x >= BloomHeadSize*8 {
			t.Fatalf("bit %d is outside the header; the test's score is wrong", x)
		}
	}
	f.Add(s)
	if err := f.BloomHead.Pack(f.Data); err != nil {
		t.Fatal(err)
	}
	if !f.Test(s) {
		t.Error("score with bits in the header tests negative after the header was written")
	}
	var other venti.Score
	other[4], other[8] = 1, 3
	if f.Test(other) {
		t.Error("empty filter holds an unrelated score")
	}
}
