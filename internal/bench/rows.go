//go:build !plan9

package main

import (
	"fmt"
	"math"
	"time"
)

// Results is everything one run measured.
type Results struct {
	Machine Machine
	Limits  Limits
	C       CFigures
	Quick   bool
	SizeMiB int64 // the sequential size, per figure
	Files   int
	Clients int
	Venti   ventiResults
	Fossil  fossilResults
	Flchk   time.Duration // flchk -f
	FlchkV  time.Duration // flchk walking the archive on venti too
	// FlchkErrors counts the errors flchk reported: a finding about
	// the file system, not a failure of the bench.
	FlchkErrors int
	VentiRSS    int64
	Profiles    []Profile
	Elapsed     time.Duration
	Notes       []string
}

// A Row is one figure of the report: its value beside the physical
// limit it compares to and the C program's figure.
type Row struct {
	Name      string
	Label     string // short, for the chart
	Value     float64
	Unit      string
	LimitName string  // what the limit is
	Limit     float64 // in Unit; 0 when there is none
	Ratio     float64 // to the limit, as a fraction of it; NaN when none
	C         float64 // the C figure in Unit; 0 when there is none
	CNote     string
	Target    string
	Met       int // 0 no target, 1 met, -1 missed
	Chart     bool
}

// RatioC is the figure as a multiple of the C figure.
func (r Row) RatioC() float64 {
	if r.C == 0 {
		return math.NaN()
	}
	return r.Value / r.C
}

func met(ok bool) int {
	if ok {
		return 1
	}
	return -1
}

// rows turns the results into the report's table.
func (res *Results) rows() []Row {
	l, c, v, f := res.Limits, res.C, res.Venti, res.Fossil
	var rows []Row
	// throughput adds a MB/s figure whose limit is the smaller of the
	// SHA-1 rate (if hashed) and the disk rate.
	throughput := func(name, label string, val float64, hashed, write bool, cval float64, cnote string) *Row {
		lim, lname := l.DiskR, "disk read (page cache)"
		if write {
			lim, lname = l.DiskW, "disk write+fsync"
		}
		if hashed && l.SHA1One < lim {
			lim, lname = l.SHA1One, "SHA-1, one core"
		}
		rows = append(rows, Row{Name: name, Label: label, Value: val, Unit: "MB/s",
			LimitName: lname, Limit: lim, Ratio: val / lim, C: cval, CNote: cnote, Chart: true})
		return &rows[len(rows)-1]
	}
	ops := func(name, label string, val float64, rpcs int) {
		lim := l.RTT / float64(rpcs)
		rows = append(rows, Row{Name: name, Label: label, Value: val, Unit: "/s",
			LimitName: fmt.Sprintf("loopback round trips / %d", rpcs), Limit: lim, Ratio: val / lim, Chart: true})
	}
	// The target: half the machine's SHA-1 rate, which the
	// fixtures measured with sha1sum (542 MB/s there, so "six times
	// the C venti"); crypto/sha1's rate where there is no sha1sum. The
	// C figure was one connection, where eight client threads were no
	// faster than one: it stands beside the figure with several
	// requests at once on one connection.
	ventiTarget := func(r *Row) {
		hash, hname := l.SHA1Sum, "sha1sum"
		if hash == 0 {
			hash, hname = l.SHA1One, "SHA-1"
		}
		half, six := hash/2, 6*c.VentiUnique
		r.Target = fmt.Sprintf("≥ ½ %s (%.0f) and ≥ 6× C (%.0f)", hname, half, six)
		r.Met = met(r.Value >= half && r.Value >= six)
	}
	w := fmt.Sprintf("%d", v.Workers)
	ventiTarget(throughput("venti unique 8 KiB writes, "+w+" at once on one connection", "V UNIQ W "+w, v.Unique16, true, true, c.VentiUnique, "one connection"))
	dq := fmt.Sprint(deepQueue)
	ventiTarget(throughput("venti unique 8 KiB writes, "+dq+" at once on one connection", "V UNIQ W "+dq, v.UniqueDeep, true, true, c.VentiUnique, "one connection"))
	throughput("venti unique 8 KiB writes, one at a time", "V UNIQ W 1", v.Unique1, true, true, c.VentiUnique, "one connection")
	throughput("venti duplicate 8 KiB writes, "+w+" at once", "V DUP W "+w, v.Dup16, true, false, c.VentiDup, "")
	throughput("venti duplicate 8 KiB writes, one at a time", "V DUP W 1", v.Dup1, true, false, c.VentiDup, "")
	throughput("venti sequential 8 KiB reads, verified, one at a time", "V SEQ R 1", v.SeqRead1, true, false, c.VentiRead, "reads of just-written blocks")
	throughput("venti sequential 8 KiB reads, verified, "+w+" at once", "V SEQ R "+w, v.SeqRead16, true, false, c.VentiRead, "reads of just-written blocks")
	throughput("venti random 8 KiB reads, verified, one at a time", "V RND R 1", v.RandRead1, true, false, c.VentiRead, "reads of just-written blocks")
	throughput("venti random 8 KiB reads, verified, "+w+" at once", "V RND R "+w, v.RandRead16, true, false, c.VentiRead, "reads of just-written blocks")

	fw := throughput(fmt.Sprintf("fossil 9P sequential write, %d MiB, 8 KiB requests", res.SizeMiB), "F W 8K", f.Write8K, false, true, c.FossilWrite, "same client")
	fw.Target = fmt.Sprintf("≥ 1.5× C (%.0f)", 1.5*c.FossilWrite)
	fw.Met = met(f.Write8K >= 1.5*c.FossilWrite)
	fr := throughput(fmt.Sprintf("fossil 9P sequential read, %d MiB, 8 KiB requests", res.SizeMiB), "F R 8K", f.Read8K, false, false, c.FossilRead, "same client")
	fr.Target = fmt.Sprintf("≥ 1.5× C (%.0f)", 1.5*c.FossilRead)
	fr.Met = met(f.Read8K >= 1.5*c.FossilRead)
	throughput(fmt.Sprintf("fossil 9P sequential write, %d MiB, 64 KiB requests", res.SizeMiB), "F W 64K", f.Write64K, false, true, 0, "")
	throughput(fmt.Sprintf("fossil 9P sequential read, %d MiB, 64 KiB requests", res.SizeMiB), "F R 64K", f.Read64K, false, false, 0, "")
	throughput(fmt.Sprintf("fossil 9P, %d clients each writing its own file, 8 KiB requests", res.Clients), fmt.Sprintf("F W %d CL", res.Clients), f.ParWrite, false, true, 0, "")
	throughput(fmt.Sprintf("fossil 9P, %d clients each reading its own file, 8 KiB requests", res.Clients), fmt.Sprintf("F R %d CL", res.Clients), f.ParRead, false, false, 0, "")
	ops(fmt.Sprintf("fossil 9P small file create+write+clunk, %d files", res.Files), "F CREATE", f.Creates, 4)
	ops("fossil 9P Tstat of an open fid", "F STAT", f.Stats, 1)
	ops("fossil 9P walk of 4 names + Tstat + Tclunk", "F WALK", f.Walks, 3)

	echo := ms(res.Fossil.ConsoleRTT)
	snap := func(name string, d time.Duration) *Row {
		rows = append(rows, Row{Name: name, Value: ms(d), Unit: "ms",
			LimitName: "console echo round trip", Limit: echo, Ratio: echo / ms(d)})
		return &rows[len(rows)-1]
	}
	snap("fossil snapshot (console snap), tree of 100 files", f.SnapSmall)
	big := snap(fmt.Sprintf("fossil snapshot (console snap), tree of %d more files", res.Files), f.SnapLarge)
	big.Target = "≤ 2× the 100-file time"
	big.Met = met(f.SnapLarge > 0 && f.SnapSmall > 0 && f.SnapLarge <= 2*f.SnapSmall)

	throughput(fmt.Sprintf("fossil archive to venti (snap -a until archive vac:), %d MiB of files", f.ArchiveBytes>>20), "F ARCHIVE", f.Archive, true, true, c.VacUnique, "C vac(1) of a random file, not fossil")

	readTime := float64(f.Used) / 1e6 / l.DiskR // seconds to read what is in use
	rows = append(rows, Row{Name: fmt.Sprintf("flchk -f of the partition (%d MiB in use)", f.Used>>20), Value: res.Flchk.Seconds(), Unit: "s",
		LimitName: "reading the blocks in use", Limit: readTime, Ratio: readTime / res.Flchk.Seconds(),
		Target: "no errors found", Met: met(res.Flchk > 0 && res.FlchkErrors == 0)})
	if res.FlchkV > 0 {
		rows = append(rows, Row{Name: "flchk walking the archive on venti too", Value: res.FlchkV.Seconds(), Unit: "s",
			LimitName: "reading the blocks in use", Limit: readTime, Ratio: readTime / res.FlchkV.Seconds()})
	}

	// Memory: the peak beside what the server was configured to use,
	// with 32 MiB for the program itself and the collector's room
	// (package memlimit).
	mem := func(name string, rss, configured int64) {
		lim := float64(configured) / (1 << 20)
		val := float64(rss) / (1 << 20)
		allow := lim + memAllowance>>20
		rows = append(rows, Row{Name: name, Value: val, Unit: "MiB", LimitName: "configured memory", Limit: lim, Ratio: val / lim,
			Target: fmt.Sprintf("≤ configured + %d MiB (%.0f)", memAllowance>>20, allow), Met: met(rss > 0 && val <= allow)})
	}
	mem(fmt.Sprintf("fossil peak RSS (VmHWM) serving 9P, cache %d blocks", fossilCacheBlocks), f.FossilRSS, fossilCacheBlocks*8192)
	mem(fmt.Sprintf("fossil peak RSS (VmHWM) archiving, cache %d blocks", fossilCacheBlocks), f.ArchiveRSS, fossilCacheBlocks*8192)
	mem("venti peak RSS (VmHWM); caches, bloom filter, write-behind", res.VentiRSS, ventiConfigured)
	return rows
}

// memAllowance is what a server may use beyond its configured memory:
// the Go runtime, the program's code and stacks, and garbage between
// collections.
const memAllowance = 32 << 20

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
