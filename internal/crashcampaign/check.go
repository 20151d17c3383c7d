//go:build linux

package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// checkDisks runs the checkers on the stopped servers' partitions:
// venti/checkarenas, venti/checkindex and fossil/flchk -f.
func (c *campaign) checkDisks(st *cycleState) {
	g := c.g
	tails, err := arenaTails(g.conf)
	if err != nil {
		st.fail("reading the arena trailers: %v", err)
		return
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		// -a: every clump of every arena, and the seal scores.
		o, e, ok, err := runTool(2*time.Minute, c.bin("venti/checkarenas"), "-a", g.arenas)
		if err != nil {
			st.fail("checkarenas -a: %v\n%s%s", err, o, e)
			return
		}
		if ok {
			return
		}
		extra, bad := arenasResult(e, tails)
		if len(bad) > 0 || extra == 0 {
			st.fail("checkarenas -a:\n\t%s", strings.Join(bad, "\n\t"))
			return
		}
		st.unclaimed = extra
	}()
	go func() {
		defer wg.Done()
		c.checkIndex(st)
	}()
	go func() {
		defer wg.Done()
		o, e, ok, err := runTool(2*time.Minute, c.bin("fossil/flchk"), "-f", g.part)
		if err != nil || !ok {
			st.fail("flchk -f: %v\n%s%s", err, o, e)
			return
		}
		leaked, used, bad := flchkResult(o)
		if len(bad) > 0 {
			st.fail("flchk -f found more than leaked blocks:\n\t%s", strings.Join(bad, "\n\t"))
		}
		st.leaked = leaked
		g.fossilUsed = used
	}()
	wg.Wait()
	c.sum.Unclaimed += st.unclaimed
	if st.leaked > 0 {
		c.sum.Leaked += st.leaked
		c.sum.LeakChecks++
		c.sum.MaxLeaked = max(c.sum.MaxLeaked, st.leaked)
	}
}

var (
	flchkSummary = regexp.MustCompile(`^fsys blocks: total=(\d+) used=(\d+)\(`)
	flchkLeak    = regexp.MustCompile(`^error: unreachable block 0x[0-9a-f]+: label `)
	flchkBfree   = regexp.MustCompile(`^# bfree 0x[0-9a-f]+$`)
	flchkQuiet   = regexp.MustCompile(`^(checking epoch \d+\.\.\.|check: visited \d+/\d+ blocks \(\d+%\))$`)
)

// flchkResult reads flchk's output: the leaked blocks, the share of
// blocks in use, and the lines that say more is wrong than leaks.
func flchkResult(out string) (leaked int, used float64, bad []string) {
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		switch {
		case flchkLeak.MatchString(l):
			leaked++
		case flchkBfree.MatchString(l), flchkQuiet.MatchString(l), l == "":
		case flchkSummary.MatchString(l):
			m := flchkSummary.FindStringSubmatch(l)
			t, _ := strconv.ParseFloat(m[1], 64)
			u, _ := strconv.ParseFloat(m[2], 64)
			if t > 0 {
				used = u / t
			}
		default:
			bad = append(bad, l)
		}
	}
	return leaked, used, bad
}

var (
	caProgress = regexp.MustCompile(`^arena (\S+): fix=0 flush=0 (\d+)->(\d+) (\d+)->(\d+) \d+->\d+ \d+->\d+$`)
	caHeader   = regexp.MustCompile(`^(\S+): incorrect arena header fields$`)
	caDir      = regexp.MustCompile(`^(\S+): (unwritten|bad) clump info for clump=(\d+)$`)
	caClump    = regexp.MustCompile(`^(\S+): (?:clump=(\d+)[ :]|illegal clump magic number=0x[0-9a-f]+ at clump=(\d+)$)`)
	caQuiet    = regexp.MustCompile(`^(arena='[^']*' \[\d+,\d+\)|\t(version|score|clumps|expected score|found score)=.*|venti/checkarenas: errors found|)$`)
)

// arenasResult reads what checkarenas -a said of arenas whose trailers
// are tails: the clumps found in logs beyond what the trailers claim
// (left by writes never acknowledged by a sync, which venti writes
// over; the C venti would take them in) and the lines that say more.
func arenasResult(out string, tails map[string]vtdisk.TailStats) (extra int, bad []string) {
	found := map[string][2]uint64{} // used, clumps the scan reached
	var header []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if m := caProgress.FindStringSubmatch(l); m != nil {
			used, _ := strconv.ParseUint(m[3], 10, 64)
			clumps, _ := strconv.ParseUint(m[5], 10, 64)
			found[m[1]] = [2]uint64{used, clumps}
			continue
		}
		if m := caHeader.FindStringSubmatch(l); m != nil {
			header = append(header, m[1])
			continue
		}
		if m := caClump.FindStringSubmatch(l); m != nil {
			// A clump past the trailer's end that does not read:
			// a write cut short by the crash.
			n, _ := strconv.ParseUint(m[2]+m[3], 10, 64)
			if t, ok := tails[m[1]]; ok && n >= uint64(t.Clumps) {
				continue
			}
			bad = append(bad, l)
			continue
		}
		if m := caDir.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseUint(m[3], 10, 64)
			if t, ok := tails[m[1]]; ok && n >= uint64(t.Clumps) {
				continue // the directory entry of an unclaimed clump
			}
			bad = append(bad, l)
			continue
		}
		if !caQuiet.MatchString(l) {
			bad = append(bad, l)
		}
	}
	for _, name := range header {
		t, ok := tails[name]
		f, scanned := found[name]
		if !ok || !scanned || f[0] < t.Used || f[1] < uint64(t.Clumps) || f[1] == uint64(t.Clumps) {
			bad = append(bad, fmt.Sprintf("%s: the trailer claims %d clumps in %d bytes, the log holds %d clumps in %d bytes", name, t.Clumps, t.Used, f[1], f[0]))
			continue
		}
		extra += int(f[1] - uint64(t.Clumps))
	}
	return extra, bad
}

// arenaTails reads the arenas' trailers: their memory statistics by name.
func arenaTails(conf string) (map[string]vtdisk.TailStats, error) {
	v, err := vtdisk.OpenVenti(conf, false)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	out := map[string]vtdisk.TailStats{}
	for _, a := range v.Arenas {
		out[a.Name()] = a.Tail.Mem
	}
	return out, nil
}

var (
	ciSummary = regexp.MustCompile(`^checkindex: (\d+) spurious entries, (\d+) missing, (\d+) wrong$`)
	ciBloom   = regexp.MustCompile(`^bloom filter: (\d+) spurious bits, (\d+) missing bits$`)
	ciQuiet   = regexp.MustCompile(`^(checkindex: building entry list|constructing entry list|\tarena .*: \d+ entries|(\[[^]]*\] )*sorting \d+ entries|checkindex: checking \d+ entries at \d+|bloom filter: correct|checkindex: index is correct|checkbloom: missing bits|venti/checkindex: errors found)$`)
	ciEntry   = regexp.MustCompile(`^([<>]) ([0-9a-f]{40}) +(\d+) `)
	ciBucket  = regexp.MustCompile(`^(# diff actual correct|\S+ block 0x[0-9a-f]+)$`)
)

// checkIndex runs checkindex. After a clean stop the index must be
// correct; after a crash it may lack the entries of clumps beyond what
// the arena trailers say the index covers (venti indexes them when it
// starts again), and the bloom filter their bits, but nothing else.
func (c *campaign) checkIndex(st *cycleState) {
	g := c.g
	o, e, ok, err := runTool(2*time.Minute, c.bin("venti/checkindex"), g.conf, g.tmp)
	if err != nil {
		st.fail("checkindex: %v", err)
		return
	}
	clean := st.ventiEnd == endClean
	covered, used, bloomLacks, verr := ventiCovered(g.conf)
	if verr != nil {
		st.fail("reading the venti partitions: %v", verr)
		return
	}
	g.ventiUsed = used
	if len(bloomLacks) > 0 {
		st.fail("the bloom filter lacks clumps the index covers: %s", strings.Join(bloomLacks, ", "))
	}
	if ok {
		return
	}
	var bad []string
	missing, lag := 0, 0
	for _, l := range strings.Split(strings.TrimSuffix(e, "\n"), "\n") {
		if m := ciSummary.FindStringSubmatch(l); m != nil {
			if m[1] != "0" || m[3] != "0" {
				bad = append(bad, l)
			}
			missing, _ = strconv.Atoi(m[2])
			continue
		}
		if m := ciBloom.FindStringSubmatch(l); m != nil {
			// Bits of clumps the index does not cover yet may be
			// missing (venti sets them again when it starts);
			// ventiCovered looked for the others.
			if clean && m[2] != "0" {
				bad = append(bad, l)
			}
			continue
		}
		if !ciQuiet.MatchString(l) && l != "" {
			bad = append(bad, l)
		}
	}
	for _, l := range strings.Split(strings.TrimSuffix(o, "\n"), "\n") {
		if m := ciEntry.FindStringSubmatch(l); m != nil {
			addr, _ := strconv.ParseUint(m[3], 10, 64)
			if m[1] == ">" && !clean && behind(covered, addr) {
				lag++
				continue
			}
			if m[1] == "<" && duplicated(g.conf, m[2], addr) {
				c.sum.Duplicates++
				bad = append(bad, l+"   (the bucket holds this entry twice)")
				continue
			}
			bad = append(bad, l)
			continue
		}
		if !ciBucket.MatchString(l) && l != "" {
			bad = append(bad, l)
		}
	}
	if lag != missing {
		bad = append(bad, fmt.Sprintf("%d entries missing, %d of them for clumps the index need not cover yet", missing, lag))
	}
	if len(bad) > 0 {
		what := "after a crash"
		if clean {
			what = "after a clean stop"
		}
		st.fail("checkindex %s:\n\t%s", what, strings.Join(bad, "\n\t"))
		return
	}
	c.sum.IndexLag += lag
}

// coverage is where, in the index's address space, an arena's clumps
// stop being covered by the index, and where the arena ends.
type coverage struct{ from, end uint64 }

// ventiCovered reads the arena trailers: the index addresses from which
// the index need not cover the clumps yet, per arena, and how much of
// the arenas is used. It also checks that the bloom filter has the bits
// of every clump the index covers, and returns those it lacks.
func ventiCovered(conf string) (cov []coverage, usedShare float64, bloomLacks []string, err error) {
	v, err := vtdisk.OpenVenti(conf, false)
	if err != nil {
		return nil, 0, nil, err
	}
	defer v.Close()
	var used, size float64
	for i, a := range v.Arenas {
		m := v.Index.Map.Arenas[i]
		cov = append(cov, coverage{from: m.Start + a.Tail.Disk.Used, end: m.Stop})
		used += float64(a.Tail.Mem.Used)
		size += float64(m.Stop - m.Start)
		if v.Bloom == nil || a.Tail.Disk.Clumps == 0 {
			continue
		}
		cis, err := a.ReadClumpInfos(0, int(a.Tail.Disk.Clumps))
		if err != nil {
			return nil, 0, nil, fmt.Errorf("arena %s: %w", a.Name(), err)
		}
		for n, ci := range cis {
			if !v.Bloom.Test(ci.Score) && len(bloomLacks) < 10 {
				bloomLacks = append(bloomLacks, fmt.Sprintf("%s clump %d (%v)", a.Name(), n, ci.Score))
			}
		}
	}
	if size > 0 {
		usedShare = used / size
	}
	return cov, usedShare, bloomLacks, nil
}

// duplicated reports whether the bucket of score holds its entry at
// addr more than once: what writeBuckets in internal/vtstore does when
// it merges entries into a bucket that holds some of them already (it
// searches by halves a bucket it has appended to, unsorted).
func duplicated(conf, score string, addr uint64) bool {
	s, _, err := venti.ParseScore(score)
	if err != nil {
		return false
	}
	v, err := vtdisk.OpenVenti(conf, false)
	if err != nil {
		return false
	}
	defer v.Close()
	b := v.Index.Bucket(s)
	sect, ok := v.Index.Section(b)
	if !ok {
		return false
	}
	bk, err := sect.ReadBucket(b)
	if err != nil {
		return false
	}
	n := 0
	for _, e := range bk.Entries {
		if e.Score == s && e.Addr == addr {
			n++
		}
	}
	return n > 1
}

func behind(cov []coverage, addr uint64) bool {
	for _, c := range cov {
		if addr >= c.from && addr < c.end {
			return true
		}
	}
	return false
}

// blockReader reads venti blocks for fsdisk's Reader.
type blockReader struct {
	ctx context.Context
	z   *venti.Conn
}

func (r blockReader) ReadVenti(s venti.Score, t venti.Type) ([]byte, error) {
	return r.z.Read(r.ctx, s, t, venti.MaxLumpSize)
}

// verifyArchive reads an archive fossil reported, the whole of it, and
// checks that each worker's directory in it is in a state the same snap
// -a may have caught.
func (c *campaign) verifyArchive(ctx context.Context, z *venti.Conn, score string) error {
	s, _, err := venti.ParseScore(score)
	if err != nil {
		return err
	}
	r := fsdisk.NewVentiReader(blockReader{ctx, z})
	root, err := r.OpenVac(s)
	if err != nil {
		return err
	}
	var ds []digest
	for _, w := range c.g.workers {
		t, err := readArchive(root, "active"+w.dir)
		if err != nil {
			return err
		}
		ds = append(ds, t.digest())
	}
	for _, sn := range c.g.snaps {
		match := true
		for i, w := range c.g.workers {
			w.mu.Lock()
			found := false
			for k := sn.lo[i]; k <= sn.hi[i] && k < len(w.log); k++ {
				if w.log[k] == ds[i] {
					found = true
					break
				}
			}
			w.mu.Unlock()
			if !found {
				match = false
				break
			}
		}
		if match {
			return nil
		}
	}
	return fmt.Errorf("the archive's directories match no snap -a taken (%d taken)", len(c.g.snaps))
}
