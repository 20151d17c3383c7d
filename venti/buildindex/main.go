// Buildindex rebuilds a venti's index from its arenas; see venti-fmt(8).
//
//	venti/buildindex [-b] [-i isect]... [-M imem] venti.conf
//
// It reads the directory of every arena the index maps, makes the
// index entry of every clump (but those marked corrupt), and writes
// every bucket of the index anew: the entries that belong in it, sorted
// by score and type, stamped with the section's bucket magic; a bucket
// with no entries is written as zeros, as fmtisect leaves it. With -i
// only the named sections are written ("none" names none: the arenas
// are only read). With -b, or when no -i is given and the venti has a
// bloom filter, the filter is rebuilt too.
//
// The entries are held in memory, at most about imem bytes of them
// (default 256M) at a time: a larger index is written in several
// passes over the arena directories, each for a range of buckets.
// Progress goes to standard error.
package main

import (
	"bufio"
	"fmt"
	"github.com/plan9fossil/fossil/internal/report"
	"os"
	"slices"
	"time"
	"unsafe"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

var (
	cmd    = arg.New("venti/buildindex", "[-b] [-i isect]... [-M imem] venti.conf")
	stderr = bufio.NewWriter(os.Stderr)
)

func logf(format string, args ...any) {
	fmt.Fprintf(stderr, "%s ", time.Now().Format("2006/0102 15:04:05"))
	fmt.Fprintf(stderr, format, args...)
	stderr.Flush()
}

func fatalf(format string, args ...any) {
	stderr.Flush()
	cmd.Fatalf(format, args...)
}

func main() {
	bloom := false
	var isects []string
	imem := uint64(256 << 20)
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'b':
			bloom = true
		case 'd':
			// The C program's "dumb" mode, running all three of its
			// passes; this one has no passes to skip.
		case 'i':
			isects = append(isects, cmd.Arg())
		case 'M':
			v, err := vtdisk.ParseSize(cmd.Arg())
			if err != nil {
				cmd.UsageExit()
			}
			imem = v
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 1 {
		cmd.UsageExit()
	}
	v, err := vtdisk.OpenVenti(args[0], true)
	if err != nil {
		cmd.Fatalf("can't init venti: %v", err)
	}
	defer v.Close()
	ix := v.Index
	if len(isects) == 0 && v.Bloom != nil {
		bloom = true
	}
	if bloom && v.Bloom == nil {
		cmd.Fatalf("-b specified but no bloom filter")
	}

	b := &builder{v: v, write: make([]bool, len(ix.Sects))}
	for _, name := range isects {
		found := name == "none"
		for i, s := range ix.Sects {
			if s.Header.Name == name {
				b.write[i], found = true, true
			}
		}
		if !found {
			fmt.Fprintf(stderr, "warning: did not find index section %s\n", name)
		}
	}
	if len(isects) == 0 {
		for i := range b.write {
			b.write[i] = true
		}
	}
	if bloom {
		b.bloom, _ = vtdisk.BlankBloom(v.Bloom.BloomHead)
	}

	var clumps, blocks uint64
	for _, a := range v.Arenas {
		clumps += uint64(a.Tail.Disk.Clumps)
		b.total += uint64(a.Tail.Mem.Clumps)
	}
	for _, s := range ix.Sects {
		blocks += uint64(s.Header.Blocks)
	}
	fmt.Fprintf(stderr, "%s clumps, %s buckets\n", report.Commas(clumps), report.Commas(blocks))
	logf("read index\n")

	// Each pass keeps the entries of a range of buckets in memory.
	const entrySize = uint64(unsafe.Sizeof(vtdisk.IEntry{}))
	perPass := max(imem/entrySize, 1)
	passes := max((b.total+perPass-1)/perPass, 1)
	nb := uint64(ix.Buckets())
	passes = min(passes, max(nb, 1))
	start := time.Now()
	for p := uint64(0); p < passes; p++ {
		lo, hi := uint32(nb*p/passes), uint32(nb*(p+1)/passes)
		if passes > 1 {
			logf("pass %d of %d: buckets [%d,%d)\n", p+1, passes, lo, hi)
		}
		b.pass(p == 0, lo, hi)
	}
	if b.bloom != nil {
		if err := b.bloom.Store(v.BloomPart); err != nil {
			fmt.Fprintf(stderr, "writing bloom filter: %v\n", err)
			b.errors = true
		}
	}
	for i, p := range v.SectParts {
		if b.write[i] {
			if err := p.Sync(); err != nil {
				fatalf("sync %s: %v", p.Name, err)
			}
		}
	}
	if b.bloom != nil {
		if err := v.BloomPart.Sync(); err != nil {
			fatalf("sync %s: %v", v.BloomPart.Name, err)
		}
	}
	logf("done arenaentries=%s indexed=%s (nskip=%s) in %v\n",
		report.Commas(b.entries), report.Commas(b.indexed), report.Commas(b.skipped), time.Since(start).Round(time.Millisecond))
	if b.errors {
		fatalf("errors found")
	}
}

type builder struct {
	v     *vtdisk.Venti
	write []bool        // the sections to write, by position in the index
	bloom *vtdisk.Bloom // the filter to rebuild, or nil
	total uint64        // clumps in the arenas

	entries, skipped uint64 // clumps indexed, clumps marked corrupt (first pass)
	indexed          uint64 // entries written into buckets
	errors           bool
}

// pass reads every arena directory and writes the buckets [lo,hi) of
// the sections being written. The first pass also counts the entries
// and marks the bloom filter.
func (b *builder) pass(first bool, lo, hi uint32) {
	v, ix := b.v, b.v.Index
	var list []vtdisk.IEntry
	read := uint64(0)
	last := time.Now()
	started := last
	for i, a := range v.Arenas {
		n := a.Tail.Mem.Clumps
		if first && n > 0 {
			logf("arena %s: %d entries\n", a.Name(), n)
		}
		addr := ix.Map.Arenas[i].Start
		const batch = 32 * 1024
		for c := uint32(0); c < n; c += batch {
			cis, err := a.ReadClumpInfos(c, int(min(batch, n-c)))
			if err != nil {
				logf("arena %s: directory read: %v\n", a.Name(), err)
				b.errors = true
				break
			}
			for _, ci := range cis {
				e := ci.IEntry(addr)
				addr += vtdisk.ClumpSize + uint64(ci.Size)
				if first {
					if b.bloom != nil {
						b.bloom.Add(ci.Score)
					}
					if ci.Type == vtdisk.CorruptType {
						b.skipped++
					} else {
						b.entries++
					}
				}
				if ci.Type == vtdisk.CorruptType {
					continue
				}
				bk := ix.Bucket(ci.Score)
				if bk < lo || bk >= hi {
					continue
				}
				if s, ok := ix.Section(bk); ok && b.write[slices.Index(ix.Sects, s)] {
					list = append(list, e)
				}
			}
			read += uint64(len(cis))
			if now := time.Now(); now.Sub(last) >= 5*time.Second {
				last = now
				logf("read %s of %s entries (%s/s)\n", report.Commas(read), report.Commas(b.total),
					report.Commas(uint64(float64(read)/now.Sub(started).Seconds())))
			}
		}
	}
	slices.SortFunc(list, func(x, y vtdisk.IEntry) int {
		if c := x.Compare(&y); c != 0 {
			return c
		}
		// Copies of a clump: the later one first, as the C
		// buildindex orders them (the earlier is likely bad).
		switch {
		case x.Addr > y.Addr:
			return -1
		case x.Addr < y.Addr:
			return 1
		}
		return 0
	})
	for i, s := range ix.Sects {
		if !b.write[i] {
			continue
		}
		h := &s.Header
		from, to := max(lo, h.Start), min(hi, h.Stop)
		if from >= to {
			continue
		}
		b.writeBuckets(s, v.SectParts[i], from, to, list)
	}
}

// writeBuckets writes buckets [from,to) of section s, taking their
// entries from the sorted list, in large writes.
func (b *builder) writeBuckets(s *vtdisk.IndexSection, part *vtdisk.Partition, from, to uint32, list []vtdisk.IEntry) {
	ix := b.v.Index
	h := &s.Header
	bs := int64(h.BlockSize)
	per := max(int64(1<<20)/bs, 1) // buckets per write
	buf := make([]byte, per*bs)
	// The entries of the buckets before from.
	i, _ := slices.BinarySearchFunc(list, from, func(e vtdisk.IEntry, b uint32) int {
		return int(int64(ix.Bucket(e.Score)) - int64(b))
	})
	n, written := uint64(0), 0
	start := time.Now()
	for bk := from; bk < to; {
		k := min(int64(to-bk), per)
		batch := buf[:k*bs]
		clear(batch)
		for j := int64(0); j < k; j++ {
			first := i
			for i < len(list) && ix.Bucket(list[i].Score) == bk+uint32(j) {
				i++
			}
			es := list[first:i]
			if len(es) == 0 {
				continue
			}
			if len(es) > h.BucketMax() {
				fatalf("bucket overflow - make index bigger: bucket %d of %s needs %d entries, holds %d",
					bk+uint32(j), h.Name, len(es), h.BucketMax())
			}
			bucket := vtdisk.Bucket{Magic: h.BucketMagic, Entries: es}
			if err := bucket.Pack(batch[j*bs : (j+1)*bs]); err != nil {
				fatalf("%s: bucket %d: %v", h.Name, bk+uint32(j), err)
			}
			n += uint64(len(es))
		}
		if _, err := part.WriteAt(batch, h.BucketOffset(bk)); err != nil {
			fmt.Fprintf(stderr, "write %s: %v\n", part.Name, err)
			b.errors = true
		}
		bk += uint32(k)
		written += int(k)
	}
	b.indexed += n
	secs := time.Since(start).Seconds()
	rate := ""
	if secs > 0 {
		rate = fmt.Sprintf(" (%.1f MB/s)", float64(written)*float64(bs)/secs/1e6)
	}
	logf("%s: wrote %s buckets [%d,%d) with %s entries%s\n", part.Name, report.Commas(uint64(written)), from, to, report.Commas(n), rate)
}
