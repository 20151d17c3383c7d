package vtstore

import (
	"context"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

// TestServeFossilBVenti serves every clump of the venti a C fossil
// archived to (fixture fossil-b), through the index, byte for byte.
func TestServeFossilBVenti(t *testing.T) {
	dir := t.TempDir()
	cfg := &vtdisk.Config{
		Arenas: []string{fixture.Gunzip(t, "fossil-b/venti-after-archive/arenas.gz", dir)},
		ISects: []string{fixture.Gunzip(t, "fossil-b/venti-after-archive/isect.gz", dir)},
		Bloom:  fixture.Gunzip(t, "fossil-b/venti-after-archive/bloom.gz", dir),
	}
	s := open(t, cfg)
	defer s.Close()
	ctx := context.Background()
	n := 0
	for _, a := range s.arenas {
		_, _, err := a.Walk(func(aa uint64, c *vtdisk.Clump, stored []byte) error {
			want, err := c.Decode(stored)
			if err != nil {
				return err
			}
			ty, _ := c.Type.Type()
			got, err := s.Read(ctx, c.Score, ty, 1<<16-1)
			if err != nil {
				return err
			}
			if string(got) != string(want) {
				t.Errorf("%v/%d: served bytes differ", c.Score, ty)
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != 236 {
		t.Errorf("served %d clumps, the fixture holds 236", n)
	}
}
