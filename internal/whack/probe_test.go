package whack

import "testing"

// TestHopeless checks the probe against the compressor: what it calls
// hopeless must not compress, and random data must be called hopeless.
func TestHopeless(t *testing.T) {
	for _, in := range testInputs() {
		dst := make([]byte, len(in.data))
		n, ok := Compress(dst, in.data)
		h := Hopeless(in.data)
		t.Logf("%s: hopeless %v, compresses %v (%d of %d)", in.name, h, ok, n, len(in.data))
		if h && ok {
			t.Errorf("%s: hopeless, but compresses to %d of %d bytes", in.name, n, len(in.data))
		}
	}
	// Repeats shorter than a sample are always seen, and so are zeros
	// after random bytes (a pointer block, partly filled).
	for period := 1; period <= probeWindow; period++ {
		if b := repeatBytes(uint64(period), period, 8192); Hopeless(b) {
			t.Errorf("period %d: hopeless", period)
		}
	}
	for n := 0; n < 8192; n += 20 * 37 {
		b := make([]byte, 8192)
		copy(b, randomBytes(uint64(n), n))
		if n < 8192-1024 && Hopeless(b) {
			t.Errorf("%d random bytes then zeros: hopeless", n)
		}
	}
	for seed := uint64(0); seed < 100; seed++ {
		for _, n := range []int{1024, 8192, 8193, MaxBlock} {
			if b := randomBytes(seed, n); !Hopeless(b) {
				t.Errorf("random block (seed %d, %d bytes) not hopeless", seed, n)
			}
		}
	}
}

func BenchmarkHopeless(b *testing.B) {
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			for b.Loop() {
				Hopeless(in.data)
			}
		})
	}
}

// BenchmarkHopelessVaried probes a different random block each time, as
// a venti receiving new data does: a benchmark of one block lets the
// processor learn its branches, which made the probe look three times
// cheaper than it was inside venti.
func BenchmarkHopelessVaried(b *testing.B) {
	blocks := make([][]byte, 1024)
	for i := range blocks {
		blocks[i] = randomBytes(uint64(1000+i), 8192)
	}
	i := 0
	for b.Loop() {
		Hopeless(blocks[i%len(blocks)])
		i++
	}
}

func FuzzHopeless(f *testing.F) {
	for _, in := range testInputs() {
		f.Add(in.data)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h := Hopeless(b)
		if len(b) < 1024 && h {
			t.Fatalf("%d bytes: hopeless", len(b))
		}
		if len(b) > MaxBlock && !h {
			t.Fatalf("%d bytes: not hopeless", len(b))
		}
	})
}
