// Checkindex checks a venti's index against its arenas; see
// venti-fmt(8).
//
//	venti/checkindex [-f] [-B blockcachesize] venti.conf tmp
//
// It builds the list of index entries the arenas' directories imply,
// sorts it, and compares it with every bucket of the index, printing
// the buckets that differ on standard output in the C program's form:
//
//	# diff actual correct
//	/dev/sdC0/isect block 0x1234000
//	< score addr type size blocks     (an entry the index has)
//	> score addr type size blocks     (the entry it should have)
//
// It then rebuilds the bloom filter, if the configuration has one, and
// compares it with the one on disk. With -f the buckets that differ are
// rewritten, and so is a bloom filter that differs.
//
// The entries are sorted as the C program sorts them: spread by the
// first byte of their scores into runs of 64 KiB chunks, of which the
// full ones go to the scratch partition tmp.
package main

import (
	"bufio"
	"fmt"
	"math/bits"
	"os"
	"slices"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/vtdisk"
)

func main() {
	cmd := arg.New("venti/checkindex", "[-f] [-B blockcachesize] venti.conf tmp")
	fix, skipEmpty := false, false
	args := cmd.Parse(os.Args[1:], func(f rune) {
		switch f {
		case 'B':
			// The C program's block cache; this one has none.
			if _, err := vtdisk.ParseSize(cmd.Arg()); err != nil {
				cmd.UsageExit()
			}
		case 'f':
			fix = true
		case 'Z':
			skipEmpty = true // check only the buckets that should hold entries
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 2 {
		cmd.UsageExit()
	}
	tmp, err := vtdisk.OpenPartition(args[1], true)
	if err != nil {
		cmd.Fatalf("can't initialize temporary partition: %v", err)
	}
	defer tmp.Close()
	v, err := vtdisk.OpenVenti(args[0], fix)
	if err != nil {
		cmd.Fatalf("can't init venti: %v", err)
	}
	defer v.Close()

	stderr := bufio.NewWriter(os.Stderr)
	stdout := bufio.NewWriter(os.Stdout)
	flush := func() {
		stdout.Flush()
		stderr.Flush()
	}
	fail := func(format string, args ...any) {
		flush()
		cmd.Fatalf(format, args...)
	}

	fmt.Fprintf(stderr, "checkindex: building entry list\n")
	var newBloom *vtdisk.Bloom
	if v.Bloom != nil {
		if newBloom, err = vtdisk.BlankBloom(v.Bloom.BloomHead); err != nil {
			fail("can't load bloom filter: %v", err)
		}
	}
	list, err := buildList(v, tmp, newBloom, stderr)
	if err != nil {
		fail("can't build sorted index: %v", err)
	}
	fmt.Fprintf(stderr, "checkindex: checking %d entries at %d\n", list.n, list.base())

	ok := true
	ck := &indexCheck{v: v, out: stdout, errw: stderr, fix: fix}
	if err := ck.run(list, skipEmpty); err != nil {
		fmt.Fprintf(stderr, "checkindex: %v\n", err)
		ok = false
	}
	if ck.extra+ck.missing+ck.wrong+ck.unreadable > 0 {
		fmt.Fprintf(stderr, "checkindex: %d spurious entries, %d missing, %d wrong\n", ck.extra, ck.missing, ck.wrong)
		if fix && ck.unfixed == 0 {
			fmt.Fprintf(stderr, "checkindex: rewrote %d buckets\n", ck.rewritten)
		} else {
			ok = false
		}
	}
	if v.Bloom != nil {
		if err := checkBloom(v, newBloom, fix, stderr); err != nil {
			fmt.Fprintf(stderr, "checkbloom: %v\n", err)
			ok = false
		}
	}
	if fix {
		for _, p := range append(v.SectParts, v.BloomPart) {
			if p != nil {
				if err := p.Sync(); err != nil {
					fail("sync %s: %v", p.Name, err)
				}
			}
		}
	}
	if !ok {
		fail("errors found")
	}
	fmt.Fprintf(stderr, "checkindex: index is correct\n")
	flush()
}

const (
	sortBits  = 8        // the entries are spread by this many bits of their scores
	chunkSize = 64 << 10 // into runs of chunks of this size
	// perChunk entries fit in a chunk, with the four bytes the C program
	// uses to chain them.
	perChunk = (chunkSize - 4) / vtdisk.IEntrySize
)

// entryList is the list of index entries the arenas imply, spread over
// 1<<sortBits groups by the first bits of their scores. Full chunks of
// a group are in the scratch partition, the rest in memory.
type entryList struct {
	tmp    *vtdisk.Partition
	chunks int64 // chunks written to tmp
	groups [1 << sortBits]group
	n      int64 // entries
}

type group struct {
	chunks []int64 // chunk numbers in tmp, in order
	buf    []byte  // entries not yet written
}

// base is where the C program would have put the sorted list in tmp:
// after every chunk, counting the last partial chunk of each group,
// which it writes out too. It is printed only to match its report.
func (l *entryList) base() int64 {
	n := l.chunks
	for i := range l.groups {
		if len(l.groups[i].buf) > 0 {
			n++
		}
	}
	return n * chunkSize
}

func (l *entryList) add(e *vtdisk.IEntry) error {
	g := &l.groups[e.Score[0]>>(8-sortBits)]
	if g.buf == nil {
		g.buf = make([]byte, 0, perChunk*vtdisk.IEntrySize)
	}
	var b [vtdisk.IEntrySize]byte
	e.Pack(b[:])
	g.buf = append(g.buf, b[:]...)
	l.n++
	if len(g.buf) < perChunk*vtdisk.IEntrySize {
		return nil
	}
	chunk := make([]byte, chunkSize)
	copy(chunk, g.buf)
	off := l.chunks * chunkSize
	if _, err := l.tmp.WriteAt(chunk, off); err != nil {
		return fmt.Errorf("can't write sorting bucket to %s: %v", l.tmp.Name, err)
	}
	g.chunks = append(g.chunks, l.chunks)
	l.chunks++
	g.buf = g.buf[:0]
	return nil
}

// sorted returns the entries of group i, sorted.
func (l *entryList) sorted(i int) ([]vtdisk.IEntry, error) {
	g := &l.groups[i]
	es := make([]vtdisk.IEntry, 0, len(g.chunks)*perChunk+len(g.buf)/vtdisk.IEntrySize)
	chunk := make([]byte, chunkSize)
	for _, c := range g.chunks {
		if _, err := l.tmp.ReadAt(chunk, c*chunkSize); err != nil {
			return nil, fmt.Errorf("can't read index sort bucket: %v", err)
		}
		es = unpackEntries(es, chunk[:perChunk*vtdisk.IEntrySize])
	}
	es = unpackEntries(es, g.buf)
	sortEntries(es)
	return es, nil
}

func unpackEntries(es []vtdisk.IEntry, b []byte) []vtdisk.IEntry {
	for ; len(b) >= vtdisk.IEntrySize; b = b[vtdisk.IEntrySize:] {
		var e vtdisk.IEntry
		e.Unpack(b)
		es = append(es, e)
	}
	return es
}

// sortEntries sorts entries as buckets keep them, by score and type;
// copies of a clump come in the order of decreasing address, as
// buildindex writes them.
func sortEntries(es []vtdisk.IEntry) {
	slices.SortFunc(es, func(a, b vtdisk.IEntry) int {
		if c := a.Compare(&b); c != 0 {
			return c
		}
		switch {
		case a.Addr > b.Addr:
			return -1
		case a.Addr < b.Addr:
			return 1
		}
		return 0
	})
}

// buildList reads the directory of every arena of the index and makes
// the list of the entries it should hold; it marks their scores in
// bloom if that is not nil.
func buildList(v *vtdisk.Venti, tmp *vtdisk.Partition, bloom *vtdisk.Bloom, w *bufio.Writer) (*entryList, error) {
	l := &entryList{tmp: tmp}
	fmt.Fprintf(w, "constructing entry list\n")
	for i, a := range v.Arenas {
		n := a.Tail.Mem.Clumps
		if n > 0 {
			fmt.Fprintf(w, "\tarena %s: %d entries\n", a.Name(), n)
		} else {
			fmt.Fprintf(w, "[%s] ", a.Name())
		}
		w.Flush()
		addr := v.Index.Map.Arenas[i].Start
		const batch = 32 * 1024
		for c := uint32(0); c < n; c += batch {
			cis, err := a.ReadClumpInfos(c, int(min(batch, n-c)))
			if err != nil {
				return nil, fmt.Errorf("arena directory read failed: %v", err)
			}
			for _, ci := range cis {
				e := ci.IEntry(addr)
				addr += vtdisk.ClumpSize + uint64(ci.Size)
				if bloom != nil {
					bloom.Add(ci.Score)
				}
				if ci.Type == vtdisk.CorruptType {
					continue
				}
				if err := l.add(&e); err != nil {
					return nil, err
				}
			}
		}
	}
	fmt.Fprintf(w, "sorting %d entries\n", l.n)
	return l, nil
}

// indexCheck compares the buckets of an index with the entry list.
type indexCheck struct {
	v    *vtdisk.Venti
	out  *bufio.Writer // the differences
	errw *bufio.Writer // buckets that cannot be read
	fix  bool

	header                bool // "# diff actual correct" printed
	extra, missing, wrong int
	unreadable            int // buckets
	rewritten, unfixed    int // buckets
}

// run goes through the buckets in order, with the sorted entries that
// belong in each. With skipEmpty, buckets that should be empty are not
// read.
func (ck *indexCheck) run(l *entryList, skipEmpty bool) error {
	ix := ck.v.Index
	nb := ix.Buckets()
	var pending []vtdisk.IEntry // sorted entries not yet checked
	next := uint32(0)           // the next bucket to check
	var firstErr error
	check := func(b uint32, want []vtdisk.IEntry) {
		if err := ck.bucket(b, want); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for g := 0; g <= len(l.groups); g++ {
		if g < len(l.groups) {
			es, err := l.sorted(g)
			if err != nil {
				return err
			}
			pending = append(pending, es...)
		}
		// Every bucket below the one holding the last pending entry
		// is complete once this group is in; after the last group,
		// every bucket is.
		limit := nb
		if g < len(l.groups) {
			if len(pending) == 0 {
				continue
			}
			limit = ix.Bucket(pending[len(pending)-1].Score)
		}
		for len(pending) > 0 && ix.Bucket(pending[0].Score) < limit {
			b := ix.Bucket(pending[0].Score)
			if b >= nb {
				return fmt.Errorf("internal error: bucket out of range")
			}
			if !skipEmpty {
				for ; next < b; next++ {
					check(next, nil)
				}
			}
			k := 1
			for k < len(pending) && ix.Bucket(pending[k].Score) == b {
				k++
			}
			check(b, pending[:k])
			next = b + 1
			pending = pending[k:]
		}
		pending = slices.Clip(pending)
		if g == len(l.groups) && !skipEmpty {
			for ; next < nb; next++ {
				check(next, nil)
			}
		}
	}
	return firstErr
}

// bucket compares bucket b with want, the entries it should hold.
func (ck *indexCheck) bucket(b uint32, want []vtdisk.IEntry) error {
	ix := ck.v.Index
	s, _ := ix.Section(b)
	var have []vtdisk.IEntry
	bk, err := s.ReadBucket(b)
	if err != nil {
		fmt.Fprintf(ck.errw, "checkindex: %v\n", err)
		ck.unreadable++
		if !ck.fix {
			ck.unfixed++
			return nil
		}
		return ck.rewrite(s, b, want)
	}
	have = bk.Entries
	sortEntries(have) // as they come, apart from the order of copies
	hdr := false
	show := func(c byte, e *vtdisk.IEntry) {
		if !ck.header {
			ck.header = true
			fmt.Fprintf(ck.out, "# diff actual correct\n")
		}
		if !hdr {
			hdr = true
			sect := ck.sectPart(s)
			fmt.Fprintf(ck.out, "%s block %#x\n", sect.Name, s.Header.BucketOffset(b))
		}
		fmt.Fprintf(ck.out, "%c %v %22d %3d %5d %3d\n", c, e.Score, e.Addr, vtType(e), e.Size, e.Blocks)
	}
	i, j := 0, 0
	for i < len(want) || j < len(have) {
		c := 0
		switch {
		case i == len(want):
			c = 1
		case j == len(have):
			c = -1
		default:
			c = want[i].Compare(&have[j])
		}
		switch {
		case c == 0:
			if !want[i].SameAddr(&have[j]) {
				ck.wrong++
				show('<', &have[j])
				show('>', &want[i])
			}
			i++
			j++
		case c < 0:
			ck.missing++
			show('>', &want[i])
			i++
		default:
			ck.extra++
			show('<', &have[j])
			j++
		}
	}
	if !hdr {
		return nil
	}
	if !ck.fix {
		ck.unfixed++
		return nil
	}
	return ck.rewrite(s, b, want)
}

// rewrite writes bucket b with the entries it should hold.
func (ck *indexCheck) rewrite(s *vtdisk.IndexSection, b uint32, want []vtdisk.IEntry) error {
	if err := s.WriteBucket(ck.sectPart(s), b, want); err != nil {
		ck.unfixed++
		return err
	}
	ck.rewritten++
	return nil
}

func (ck *indexCheck) sectPart(s *vtdisk.IndexSection) *vtdisk.Partition {
	for i, t := range ck.v.Index.Sects {
		if t == s {
			return ck.v.SectParts[i]
		}
	}
	panic("section without a partition")
}

// vtType is the venti(6) type of an entry, as the C program prints it.
func vtType(e *vtdisk.IEntry) int {
	if t, ok := e.Type.Type(); ok {
		return int(t)
	}
	return 0xff
}

// checkBloom compares the bloom filter on disk with the one rebuilt
// from the arenas. Bits set on disk that the arenas do not explain are
// harmless; bits missing are not.
func checkBloom(v *vtdisk.Venti, want *vtdisk.Bloom, fix bool, w *bufio.Writer) error {
	have := v.Bloom
	extra, missing := 0, 0
	for i := vtdisk.BloomHeadSize; i < len(have.Data); i++ {
		h, n := have.Data[i], want.Data[i]
		extra += bits.OnesCount8(h &^ n)
		missing += bits.OnesCount8(n &^ h)
	}
	if extra > 0 || missing > 0 {
		fmt.Fprintf(w, "bloom filter: %d spurious bits, %d missing bits\n", extra, missing)
	} else {
		fmt.Fprintf(w, "bloom filter: correct\n")
	}
	if fix && (extra > 0 || missing > 0) {
		return want.Store(v.BloomPart)
	}
	if missing > 0 {
		return fmt.Errorf("missing bits")
	}
	return nil
}
