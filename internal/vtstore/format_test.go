package vtstore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/plan9fossil/fossil/internal/vtdisk"
)

// formatVenti lays out a fresh venti in dir as fmtarenas, fmtisect,
// fmtbloom and fmtindex would: arenas of arenaSize in a partition of
// arenasSize bytes, one index section of isectSize, a 1 MiB bloom
// filter.
func formatVenti(t testing.TB, dir string, arenasSize, arenaSize, isectSize int64) *vtdisk.Config {
	t.Helper()
	return formatVentiSects(t, dir, arenasSize, arenaSize, isectSize)
}

// formatVentiSects is formatVenti with an index section of each size.
func formatVentiSects(t testing.TB, dir string, arenasSize, arenaSize int64, isectSizes ...int64) *vtdisk.Config {
	t.Helper()
	cfg := &vtdisk.Config{
		Index:  "main",
		Arenas: []string{filepath.Join(dir, "arenas")},
		Bloom:  filepath.Join(dir, "bloom"),
	}
	sizes := map[string]int64{cfg.Arenas[0]: arenasSize, cfg.Bloom: 1 << 20}
	for i, size := range isectSizes {
		name := filepath.Join(dir, fmt.Sprintf("isect%d", i))
		if i == 0 {
			name = filepath.Join(dir, "isect")
		}
		cfg.ISects = append(cfg.ISects, name)
		sizes[name] = size
	}
	for f, size := range sizes {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(f, size); err != nil {
			t.Fatal(err)
		}
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ap, err := vtdisk.OpenPartition(cfg.Arenas[0], true)
	check(err)
	defer ap.Close()
	l, err := vtdisk.LayoutArenaPart(ap.Size, 8192, vtdisk.DefaultTableSize, uint64(arenaSize), "arenas")
	check(err)
	for _, m := range l.Map {
		check(vtdisk.FormatArena(ap, int64(m.Start), &vtdisk.ArenaHead{
			Version: vtdisk.ArenaVersion5, Name: m.Name, BlockSize: 8192,
			Size: m.Stop - m.Start, ClumpMagic: vtdisk.NewClumpMagic(),
		}))
	}
	check(vtdisk.WriteArenaPart(ap, &l.Header, l.Map))
	apart, err := vtdisk.OpenArenaPartition(ap, ap.Size)
	check(err)
	var arenas []*vtdisk.Arena
	for i := range apart.Map {
		a, err := apart.Arena(i)
		check(err)
		arenas = append(arenas, a)
	}

	var sects []*vtdisk.ISect
	for i, name := range cfg.ISects {
		ip, err := vtdisk.OpenPartition(name, true)
		check(err)
		is, err := vtdisk.NewISect(ip.Size, fmt.Sprintf("isect%d", i), 8192, vtdisk.DefaultTableSize, vtdisk.ISectVersion2)
		check(err)
		ip.Close()
		sects = append(sects, is)
	}
	smap, err := vtdisk.LayoutIndex("main", sects)
	check(err)
	amap, err := vtdisk.LayoutIndexArenas(nil, arenas)
	check(err)
	for i, name := range cfg.ISects {
		ip, err := vtdisk.OpenPartition(name, true)
		check(err)
		check(vtdisk.WriteIndexMap(ip, sects[i], &vtdisk.IndexMap{
			Version: vtdisk.IndexVersion, Name: "main", BlockSize: 8192, Sects: smap, Arenas: amap,
		}))
		check(vtdisk.WriteISect(ip, sects[i])) // LayoutIndex gave it its index and buckets
		check(ip.Close())
	}

	bp, err := vtdisk.OpenPartition(cfg.Bloom, true)
	check(err)
	defer bp.Close()
	b, err := vtdisk.BlankBloom(vtdisk.BloomHead{NHash: 24, Size: 1 << 20})
	check(err)
	check(b.Store(bp))
	return cfg
}

// TestFormattedVenti writes into a venti laid out by the format
// functions, reopens it and checks it with the vtdisk readers.
func TestFormattedVenti(t *testing.T) {
	cfg := formatVenti(t, t.TempDir(), 64<<20, 16<<20, 4<<20)
	s := open(t, cfg)
	for i := 0; i < 100; i++ {
		if _, err := s.Write(t.Context(), 0, block(uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	verifyDisk(t, cfg, 100)
}
