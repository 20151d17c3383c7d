// Fmtindex makes the index sections named in a venti configuration
// into an index; see venti-fmt(8).
//
//	venti/fmtindex [-a] venti.conf
//
// The configuration is a file, or a partition holding a configuration
// block (see venti/conf). Its index sections, formatted by fmtisect,
// share the index's buckets in the order they are listed, and its
// arenas, in the order of their partitions, get consecutive index
// addresses starting at 1 MiB. That index map is written into every
// section, each section's header is stamped with the index name and
// its bucket range, and the result reported on standard error as the
// C program does:
//
//	fmtindex: 6 arenas, 927 index buckets, 99,770,368 bytes storage
//
// With -a the index exists already and keeps its buckets and the
// addresses of its arenas: arenas added to the configuration after
// them are added to the map.
package main

import (
	"fmt"
	"github.com/plan9fossil/fossil/internal/report"
	"os"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

func main() {
	cmd := arg.New("venti/fmtindex", "[-a] venti.conf")
	add := false
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'a':
			add = true
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 1 {
		cmd.UsageExit()
	}
	file := args[0]
	fail := func(err error) {
		cmd.Fatalf("can't initialize config %s: %v", file, err)
	}

	conf, err := loadConfig(file)
	if err != nil {
		fail(err)
	}
	if conf.Index == "" {
		cmd.Fatalf("no index specified in %s", file)
	}

	// The arenas, in the order of the configuration.
	var arenas []*vtdisk.Arena
	for _, name := range conf.Arenas {
		part, err := vtdisk.OpenPartition(name, false)
		if err != nil {
			fail(err)
		}
		defer part.Close()
		ap, err := vtdisk.OpenArenaPartition(part, part.Size)
		if err != nil {
			fail(fmt.Errorf("%s: %v", name, err))
		}
		for i := range ap.Map {
			a, err := ap.Arena(i)
			if err != nil {
				fail(fmt.Errorf("%s: %v", name, err))
			}
			arenas = append(arenas, a)
		}
	}

	// The sections, opened for writing.
	if len(conf.ISects) == 0 {
		fail(fmt.Errorf("no index sections"))
	}
	var parts []*vtdisk.Partition
	var sects []*vtdisk.IndexSection
	var heads []*vtdisk.ISect
	for _, name := range conf.ISects {
		part, err := vtdisk.OpenPartition(name, true)
		if err != nil {
			fail(err)
		}
		defer part.Close()
		s, err := vtdisk.OpenIndexSection(part, part.Size)
		if err != nil {
			fail(fmt.Errorf("%s: %v", name, err))
		}
		parts = append(parts, part)
		sects = append(sects, s)
		heads = append(heads, &s.Header)
	}

	// The C venti checks the bloom filter's header along with the rest.
	if conf.Bloom != "" {
		if err := checkBloom(conf.Bloom); err != nil {
			fail(err)
		}
	}

	var smap, old []vtdisk.AMap
	if add {
		ix, err := vtdisk.OpenIndex(sects...)
		if err != nil {
			cmd.Fatalf("can't initialize index %s: %v", conf.Index, err)
		}
		if ix.Map.Name != conf.Index {
			cmd.Fatalf("can't initialize index %s: mismatched index name: found %s", conf.Index, ix.Map.Name)
		}
		smap, old = ix.Map.Sects, ix.Map.Arenas
	} else {
		smap, err = vtdisk.LayoutIndex(conf.Index, heads)
		if err != nil {
			cmd.Fatalf("can't create new index %s: %v", conf.Index, err)
		}
	}
	amap, err := vtdisk.LayoutIndexArenas(old, arenas)
	if err != nil {
		cmd.Fatalf("can't lay out index %s: %v", conf.Index, err)
	}
	m := &vtdisk.IndexMap{
		Version:   vtdisk.IndexVersion,
		Name:      conf.Index,
		BlockSize: heads[0].BlockSize,
		Sects:     smap,
		Arenas:    amap,
	}
	// Check that the map fits before writing it anywhere.
	if err := m.Pack(make([]byte, heads[0].TableSize())); err != nil {
		cmd.Fatalf("can't make index configuration: %v", err)
	}

	storage := uint64(0)
	if len(amap) > 0 {
		storage = amap[len(amap)-1].Stop - vtdisk.IndexBase
	}
	fmt.Fprintf(os.Stderr, "fmtindex: %s arenas, %s index buckets, %s bytes storage\n",
		report.Commas(uint64(len(amap))), report.Commas(uint64(m.Buckets())), report.Commas(storage))

	for i, part := range parts {
		if err := vtdisk.WriteIndexMap(part, heads[i], m); err != nil {
			cmd.Fatalf("can't write index: %s: %v", part.Name, err)
		}
	}
	for i, part := range parts {
		if err := vtdisk.WriteISect(part, heads[i]); err != nil {
			cmd.Fatalf("can't write index section header: %s: %v", part.Name, err)
		}
		if err := part.Sync(); err != nil {
			cmd.Fatalf("sync %s: %v", part.Name, err)
		}
	}
}

// loadConfig reads and parses the configuration in file: a venti.conf,
// or a partition holding a configuration block.
func loadConfig(file string) (*vtdisk.Config, error) {
	part, err := vtdisk.OpenPartition(file, false)
	if err != nil {
		return nil, err
	}
	defer part.Close()
	text, err := vtdisk.LoadConfig(part, part.Size)
	if err != nil {
		return nil, err
	}
	return vtdisk.ParseConfig(text)
}

// checkBloom reads the header of the bloom filter partition name.
func checkBloom(name string) error {
	part, err := vtdisk.OpenPartition(name, false)
	if err != nil {
		return err
	}
	defer part.Close()
	buf := make([]byte, vtdisk.BloomHeadSize)
	if _, err := part.ReadAt(buf, 0); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	var h vtdisk.BloomHead
	if err := h.Unpack(buf); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	return nil
}
