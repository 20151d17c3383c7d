//go:build !plan9

// Bench measures venti and fossil as they are run, as separate
// processes over TCP loopback, sets each figure beside the machine's
// physical limits (SHA-1 and disk rates, loopback round trips) and the
// C programs' figures from the fixtures, and writes a report:
//
//	go run ./internal/bench [-quick] [-o docs/bench] [-size MiB] [-files n] [-cpuprofile dir]
//
// It builds the commands with go build, formats a venti with the
// venti-fmt tools and starts venti/venti on a 127.0.0.x address, then
// measures venti's writes and reads with package venti's client,
// formats a fossil with fossil/flfmt and starts fossil/fossil with its
// console on a pipe, measures it over 9P with the 9fans.net/go client,
// takes snapshots and an archive through the console, stops it and runs
// fossil/flchk. The report is report.md with chart.png in the output
// folder.
//
// -quick uses small sizes (a few seconds; the test runs it); -size sets
// the size of each sequential figure in MiB (256 by default); -files
// the number of small files (10,000);
// -cpuprofile dir writes CPU profiles there (fossil's through
// FOSSIL_CPUPROFILE, venti's through VENTI_CPUPROFILE of a second
// venti, so that the measured one runs unprofiled) and puts the top of
// each in the report.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// options are the command line's.
type options struct {
	out        string
	quick      bool
	sizeMiB    int64
	profileDir string
	files      int
	log        func(format string, args ...any)
}

func main() {
	var o options
	flag.StringVar(&o.out, "o", "docs/bench", "output `folder` for report.md and chart.png")
	flag.BoolVar(&o.quick, "quick", false, "small sizes, a few seconds: a check that the bench works")
	flag.Int64Var(&o.sizeMiB, "size", 0, "`MiB` moved by each sequential figure (default 256, 8 with -quick)")
	flag.IntVar(&o.files, "files", 0, "`number` of small files created (default 10,000, 200 with -quick)")
	flag.StringVar(&o.profileDir, "cpuprofile", "", "write CPU profiles into `folder`")
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	o.log = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// sizes are what the figures move in a full and a quick run.
func sizes(o options) (size int64, z fossilSizes, limitTime time.Duration, diskBytes int64) {
	if o.quick {
		size = 8 << 20
		z = fossilSizes{Files: 200, Small: 20, Clients: 4, Snaps: 3, OpsTime: 100 * time.Millisecond}
		limitTime, diskBytes = 100*time.Millisecond, 16<<20
	} else {
		size = 256 << 20
		z = fossilSizes{Files: 10000, Small: 100, Clients: 16, Snaps: 5, OpsTime: time.Second}
		limitTime, diskBytes = time.Second, 256<<20
	}
	if o.sizeMiB > 0 {
		size = o.sizeMiB << 20
	}
	if o.files > 0 {
		z.Files = o.files
	}
	z.File = size
	z.ClientFile = max(size/int64(z.Clients)/8192*8192, 8192)
	return
}

// run does the whole bench and writes the report.
func run(o options) error {
	begin := time.Now()
	size, z, limitTime, diskBytes := sizes(o)
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
		if o.profileDir, err = filepath.Abs(o.profileDir); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "fossil-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bin")

	res := &Results{Quick: o.quick, SizeMiB: size >> 20, Files: z.Files, Clients: z.Clients}
	res.Machine = measureMachine()
	res.C = loadCFigures(fixturesDir(root))
	o.log("building the commands")
	if err := buildPrograms(root, bin); err != nil {
		return err
	}
	o.log("measuring the machine's limits")
	if res.Limits, err = measureLimits(tmp, limitTime, diskBytes); err != nil {
		return fmt.Errorf("limits: %v", err)
	}
	o.log("%v", res.Limits)

	ip := loopbackIP()
	conf, err := formatVenti(bin, tmp, "bench", ventiArenas(size), 2<<30-1<<20, 256<<20)
	if err != nil {
		return err
	}
	v, vaddr, err := startVenti(bin, conf, ip)
	if err != nil {
		return err
	}
	defer v.stop()
	// A figure that fails is reported as failed and the others are
	// still measured; run fails at the end.
	var failed []string
	fail := func(err error) {
		o.log("%v", err)
		msg := err.Error()
		if i := strings.Index(msg, "\n"); i >= 0 {
			msg = msg[:i] + " ..."
		}
		if len(msg) > 400 {
			msg = msg[:400] + " ..."
		}
		failed = append(failed, msg)
		res.Notes = append(res.Notes, "**Failed:** "+strings.ReplaceAll(msg, "|", "\\|"))
	}
	o.log("venti on %s: writes and reads of %d MiB", vaddr, size>>20)
	if res.Venti, err = benchVenti(vaddr, size); err != nil {
		fail(err)
	}

	// fossil: the 9P figures in one process, the archive in a second
	// on the same partition, so that each has its own profile and
	// peak memory, and a failing archive leaves the 9P figures whole.
	part, err := formatFossil(bin, tmp, 4*size+256<<20)
	if err != nil {
		return err
	}
	prof := func(name string) string {
		if o.profileDir == "" {
			return ""
		}
		return filepath.Join(o.profileDir, name)
	}
	fossilProfiles := []Profile{
		{Name: "fossil/fossil serving 9P", File: prof("fossil.cpu.pprof"),
			What: "FOSSIL_CPUPROFILE of the fossil process over the 9P and snapshot figures"},
		{Name: "fossil/fossil archiving", File: prof("fossil-archive.cpu.pprof"),
			What: "FOSSIL_CPUPROFILE of the fossil process restarted on the same partition for the archive"},
	}
	for phase := range 2 {
		f, err := startFossil(bin, part, ip, vaddr, fossilProfiles[phase].File)
		if err != nil {
			return err
		}
		if phase == 0 {
			o.log("fossil on %s: 9P and snapshots", f.addr)
			if res.Fossil, err = benchFossil(f, z); err != nil {
				fail(err)
				if rss := f.peakRSS(); rss > 0 {
					res.Fossil.FossilRSS = rss
				}
			}
		} else {
			o.log("fossil on %s: archive", f.addr)
			if err := benchArchive(f, &res.Fossil); err != nil {
				fail(err)
			}
			if rss := f.peakRSS(); rss > 0 {
				res.Fossil.ArchiveRSS = rss
			}
		}
		if err := f.stop(); err != nil {
			fail(err)
		}
	}
	o.log("flchk")
	for _, c := range []struct {
		what, vaddr string
		out         *time.Duration
	}{{"flchk -f", "", &res.Flchk}, {"flchk -h venti", vaddr, &res.FlchkV}} {
		d, errs, err := flchk(bin, part, c.vaddr)
		if err != nil {
			fail(err)
			continue
		}
		*c.out = d
		if len(errs) > 0 {
			o.log("%s: %d errors", c.what, len(errs))
			ex := errs[:min(len(errs), 3)]
			res.Notes = append(res.Notes, fmt.Sprintf("**%s reported %d errors** on the partition after fossil stopped, for example: `%s`.",
				c.what, len(errs), strings.Join(ex, "`; `")))
			res.FlchkErrors += len(errs)
		}
	}
	res.VentiRSS = v.peakRSS()
	if err := v.stop(); err != nil {
		fail(err)
	}
	if o.profileDir != "" {
		for _, p := range fossilProfiles {
			if fi, err := os.Stat(p.File); err != nil || fi.Size() == 0 {
				os.Remove(p.File) // fossil died before writing it
				continue
			}
			p.Top = pprofTop(p.File, 35)
			p.File = filepath.Base(p.File)
			res.Profiles = append(res.Profiles, p)
		}
		res.Notes = append(res.Notes, "fossil ran with its CPU profile on (FOSSIL_CPUPROFILE), which costs it a few per cent.")
		o.log("profiling a second venti's writes")
		p, err := profileVenti(bin, tmp, ip, filepath.Join(o.profileDir, "venti.cpu.pprof"), size)
		if err != nil {
			fail(err)
		} else {
			res.Profiles = append(res.Profiles, p)
		}
	}
	res.notes()
	res.Machine.LoadEnd = loadAvg()
	res.Elapsed = time.Since(begin)

	rows := res.rows()
	png, err := chart(rows)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.out, "chart.png"), png, 0o644); err != nil {
		return err
	}
	md := markdown(res, rows, "chart.png")
	if err := os.WriteFile(filepath.Join(o.out, "report.md"), md, 0o644); err != nil {
		return err
	}
	o.log("wrote %s and chart.png in %v", filepath.Join(o.out, "report.md"), res.Elapsed.Round(time.Second))
	if len(failed) > 0 {
		return fmt.Errorf("%d failures, reported in the notes: %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}

// notes adds what the figures need said beside them.
func (res *Results) notes() {
	f := res.Fossil
	res.Notes = append(res.Notes,
		fmt.Sprintf("The console's own round trip (an `echo`) took %.2f ms; the snapshot times include one.", ms(f.ConsoleRTT)),
		"Reads of the disk are from the page cache: without root the cache cannot be dropped, and the C figures were measured the same way.",
	)
	if f.ArchiveTime > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("The archive moved %d MiB of file data in %v; after it the partition had %d MiB in use.",
			f.ArchiveBytes>>20, f.ArchiveTime.Round(time.Millisecond), f.Used>>20))
	}
}
