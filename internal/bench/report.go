//go:build !plan9

package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"
)

// markdown writes the report: the machine, its limits, the table of
// figures (numbered as the chart's bars are), notes and profiles.
func markdown(res *Results, rows []Row, chart string) []byte {
	var b bytes.Buffer
	m, l := res.Machine, res.Limits
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("# Benchmarks of venti and fossil\n\n")
	p("Made by `go run ./internal/bench` (or `mk bench`)")
	if res.Quick {
		p(" with **-quick**: small sizes, a smoke test, not figures to quote")
	}
	p(". Every figure is set beside the physical limit of this machine that bounds it, ")
	p("and beside the C programs' figure from the fixtures' README where there is one.\n\n")

	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| date | %s |\n", m.Date.Format(time.RFC3339))
	p("| CPU | %s, %d cores |\n", m.CPU, m.Cores)
	if m.MemTotal != "" {
		p("| memory | %s |\n", m.MemTotal)
	}
	p("| Go | %s, %s |\n", m.Go, m.OS)
	p("| load average (1, 5, 15 min) | %s at the start, %s at the end |\n", m.LoadAvg, m.LoadEnd)
	p("| run time | %v |\n", res.Elapsed.Round(time.Second))
	p("| sizes | %d MiB per sequential figure, %d small files, %d clients |\n\n", res.SizeMiB, res.Files, res.Clients)
	p("The machine is shared with other work, so the figures are noisy: the load average says how busy it was.\n\n")

	p("## Limits\n\n")
	p("| limit | value | how |\n|---|---|---|\n")
	p("| SHA-1, one core | %.0f MB/s | crypto/sha1 over 8 KiB blocks (C fixtures' sha1sum: %.0f) |\n", l.SHA1One, res.C.SHA1)
	p("| SHA-1, all %d cores | %.0f MB/s | the same on every core at once |\n", m.Cores, l.SHA1All)
	if l.SHA1Sum > 0 {
		p("| SHA-1, sha1sum | %.0f MB/s | sha1sum(1) of a file in the page cache, as the fixtures measured the hashing limit (C fixtures: %.0f) |\n", l.SHA1Sum, res.C.SHA1)
	}
	p("| disk write+fsync | %.0f MB/s | 1 MiB writes then fsync of the file (C fixtures' dd with fdatasync: %.0f) |\n", l.DiskW, res.C.Disk)
	p("| disk read (page cache) | %.0f MB/s | 1 MiB reads of that file just written: from the page cache, as the benchmarks' partitions are read |\n", l.DiskR)
	if l.DiskRDir > 0 {
		p("| disk read (device) | %.0f MB/s | %s; for information |\n", l.DiskRDir, l.DiskNote)
	} else {
		p("| disk read (device) | — | %s |\n", l.DiskNote)
	}
	p("| loopback round trips | %.0f /s | 64-byte ping-pong over TCP on 127.0.0.1, one at a time: what requests sent one at a time cannot beat |\n\n", l.RTT)

	p("## Figures\n\n")
	p("Ratio to limit is the figure as a fraction of the limit (for times, the limit's time over the figure's; ")
	p("for memory, the peak over the configured memory: fossil's -c blocks; venti's caches, bloom filter and write-behind). C figures are medians from `%s`.\n\n", res.C.Source)
	p("| # | figure | value | unit | limit | ratio to limit | C figure | ratio to C | target | met? |\n")
	p("|---|---|---:|---|---|---:|---:|---:|---|---|\n")
	n := 0
	for _, r := range rows {
		idx := ""
		if r.Chart {
			n++
			idx = fmt.Sprint(n)
		}
		lim := "—"
		if r.Limit > 0 {
			lim = fmt.Sprintf("%s %s", num(r.Limit), r.LimitName)
		}
		cfig, rc := "—", "—"
		if r.C > 0 {
			cfig = num(r.C)
			if r.CNote != "" {
				cfig += " (" + r.CNote + ")"
			}
			rc = fmt.Sprintf("%.2f×", r.RatioC())
		}
		ratio := "—"
		if !math.IsNaN(r.Ratio) && !math.IsInf(r.Ratio, 0) && r.Limit > 0 {
			ratio = fmt.Sprintf("%.0f%%", 100*r.Ratio)
		}
		target, ok := "—", ""
		if r.Met != 0 {
			target = r.Target
			ok = "yes"
			if r.Met < 0 {
				ok = "**no**"
			}
		}
		val := num(r.Value)
		if r.Value == 0 {
			val, ratio, rc = "failed", "—", "—"
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", idx, r.Name, val, r.Unit, lim, ratio, cfig, rc, target, ok)
	}
	p("\n![Each figure as a fraction of its limit, with the C figure beside it](%s)\n\n", chart)
	p("The chart numbers its bars as the table's first column: the dark bar is the figure as a fraction of its limit, ")
	p("the light bar beside it the C program's figure as a fraction of the same limit.\n\n")

	p("## How each figure was measured\n\n")
	for _, s := range methods(res) {
		p("- %s\n", s)
	}
	if len(res.Notes) > 0 {
		p("\n## Notes\n\n")
		for _, s := range res.Notes {
			p("- %s\n", s)
		}
	}
	if len(res.Profiles) > 0 {
		p("\n## Profiles\n\n")
		for _, pr := range res.Profiles {
			p("### %s\n\n`%s`: %s\n\n```\n%s\n```\n\n", pr.Name, pr.File, pr.What, strings.TrimRight(pr.Top, "\n"))
		}
	}
	return b.Bytes()
}

// methods says how the figures were made.
func methods(res *Results) []string {
	return []string{
		"The programs are built with `go build` and run as separate processes: venti/venti on partitions made by venti/fmtarenas, fmtisect, fmtbloom and fmtindex (sparse files), fossil/fossil on a partition made by fossil/flfmt, both on a 127.0.0.x loopback address.",
		fmt.Sprintf("venti: the client is package venti's Conn, one connection; %d goroutines share it (as fossil's archiver does), %d for the unique writes of a deeper queue, or one request waits for the last (as the C figures were measured). Writes end with a sync, counted; unique writes with several at once are the median of %d runs, each of new blocks. Blocks are 8 KiB of random data; duplicates rewrite the blocks just written; reads fetch every block written, in order or shuffled, and check its SHA-1 (Conn.Read refuses a block that does not hash to its score). Caches: -C %d MiB -B %d MiB -I %d MiB.", res.Venti.Workers, deepQueue, uniqueRuns, ventiMem>>20, ventiBCMem>>20, ventiICMem>>20),
		"fossil: the 9fans.net/go/plan9/client over TCP, as glenda with authentication off, msize set to the request size plus the 9P header, one request at a time per connection. The file data is random, unique in every 8 KiB. The 64 KiB figures rewrite the same file. Each of the clients has its own connection and file.",
		"Writes over 9P are timed until the last Rwrite, as a client sees them; fossil writes its dirty blocks out later, so a 9P write figure can pass the disk's write+fsync limit.",
		"Small files: each is four messages (walk, create, write of 13 bytes, clunk); stat is one message on an open fid; walk is walk of four names, stat and clunk.",
		"Snapshots: fossil's console on standard input (-t), `snap` timed from the typed line to the answer of an `echo` typed after it; the median of several, each after one small file is created over 9P, after a `sync`. The larger tree is the smaller one plus the small files.",
		"Archive: fossil is stopped after the 9P figures and started again on the same partition; then `snap -a` on the console until `archive vac:` appears. The bytes are the files' data (the sequential file, the clients' files and the small files), all new to venti.",
		"flchk: fossil/flchk on the partition after fossil stopped; `-f` checks the file system alone, `-h` also walks the archive on venti.",
		"Peak RSS is VmHWM of /proc/PID/status just before each server was stopped (fossil: once for each of its two runs).",
	}
}

// num formats a figure with about three significant digits.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
