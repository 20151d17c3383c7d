//go:build !plan9

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"
)

// fossilCacheBlocks is the block cache the bench opens fossil with
// (fsys open -c), as ./run does: 3000 blocks of 8 KiB.
const fossilCacheBlocks = 3000

// A fossil is a fossil/fossil process with its console on standard
// input and output (-t), serving 9P on tcp!ip!port.
type fossil struct {
	*server
	addr  string // host:port for 9P
	part  string
	in    io.WriteCloser
	out   *logBuf // the console's output
	mu    sync.Mutex
	marks int
	snaps int // snapshots taken, for their names
}

// formatFossil makes a partition of size bytes in dir with flfmt.
func formatFossil(bin, dir string, size int64) (string, error) {
	part := filepath.Join(dir, "fossil.part")
	if err := os.WriteFile(part, nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Truncate(part, size); err != nil {
		return "", err
	}
	if _, err := runCmd(filepath.Join(bin, "flfmt"), "-y", "-l", "bench", part); err != nil {
		return "", err
	}
	return part, nil
}

// startFossil starts fossil on the partition with venti at vaddr.
// profile, if not empty, names the CPU profile file fossil writes when
// it stops.
func startFossil(bin, part, ip, vaddr, profile string) (*fossil, error) {
	port, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(bin, "fossil"), "-t",
		"-c", "fsys main config "+part,
		"-c", "fsys main venti "+vaddr,
		"-c", fmt.Sprintf("fsys main open -A -c %d", fossilCacheBlocks),
		"-c", "create /active/b glenda glenda d775", // fails harmlessly when there
		"-c", fmt.Sprintf("listen tcp!%s!%d", ip, port))
	cmd.Env = append(os.Environ(), "FOSSIL_FOREGROUND=1")
	if profile != "" {
		cmd.Env = append(cmd.Env, "FOSSIL_CPUPROFILE="+profile)
	}
	out := newLogBuf()
	cmd.Stdout = out
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	s, err := startServer("fossil", cmd)
	if err != nil {
		return nil, err
	}
	f := &fossil{server: s, addr: fmt.Sprintf("%s:%d", ip, port), part: part, in: in, out: out}
	err = s.waitFor("9P listener", 60*time.Second, s.log, func() bool {
		fsys, closer, err := mount(f.addr, 8192)
		if err != nil {
			return false
		}
		defer closer()
		_, err = fsys.Stat("b")
		return err == nil
	})
	if err != nil {
		s.stop()
		return nil, err
	}
	return f, nil
}

// console runs a console command and returns what it printed and how
// long it took, from the typed line to the output of an echo typed
// after it.
func (f *fossil) console(line string) (string, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.marks++
	mark := fmt.Sprintf("bench-mark-%d", f.marks)
	from := len(f.out.String())
	start := time.Now()
	if _, err := fmt.Fprintf(f.in, "%s\necho %s\n", line, mark); err != nil {
		return "", 0, err
	}
	var out string
	err := f.waitFor("console answer to "+line, 10*time.Minute, f.out, func() bool {
		s := f.out.String()[from:]
		i := strings.Index(s, mark+"\n")
		if i < 0 {
			return false
		}
		out = s[:i]
		return true
	})
	return out, time.Since(start), err
}

var archiveRe = regexp.MustCompile(`archive vac:[0-9a-f]{40}`)

// archive runs snap -a and waits for the archiver to print its score.
func (f *fossil) archive() (time.Duration, error) {
	n := len(archiveRe.FindAllString(f.out.String(), -1))
	start := time.Now()
	if out, _, err := f.console("snap -a"); err != nil {
		return 0, err
	} else if s := strings.TrimSpace(archiveRe.ReplaceAllString(strings.ReplaceAll(out, "main:", ""), "")); s != "" {
		return 0, fmt.Errorf("snap -a: %s", s)
	}
	err := f.waitFor("archive vac:", 30*time.Minute, f.out, func() bool {
		return len(archiveRe.FindAllString(f.out.String(), -1)) > n
	})
	return time.Since(start), err
}

var dfRe = regexp.MustCompile(`([0-9,]+) used \+ ([0-9,]+) free`)

// used is the partition's bytes in use, as df says.
func (f *fossil) used() (int64, error) {
	out, _, err := f.console("df")
	if err != nil {
		return 0, err
	}
	m := dfRe.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("df: %q", out)
	}
	return strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
}

// fossilSizes are the amounts the fossil figures move.
type fossilSizes struct {
	File       int64 // bytes of each sequential file
	Files      int   // small files created
	Small      int   // files of the small tree for the snapshot
	Clients    int
	Snaps      int           // snapshots timed per tree
	OpsTime    time.Duration // how long stat and walk are timed
	ClientFile int64         // bytes each client writes
}

// fossilResults are the fossil figures.
type fossilResults struct {
	Write8K, Read8K, Write64K, Read64K float64 // MB/s
	ParWrite, ParRead                  float64 // MB/s, all clients together
	Creates, Stats, Walks              float64 // a second
	SnapSmall, SnapLarge               time.Duration
	ConsoleRTT                         time.Duration // an echo on the console
	Archive                            float64       // MB/s of file data
	ArchiveBytes                       int64
	ArchiveTime                        time.Duration
	Used                               int64 // bytes in use on the partition after the archive
	FossilRSS                          int64 // while serving 9P
	ArchiveRSS                         int64 // while archiving
}

// benchFossil runs the 9P and snapshot figures on a running fossil.
func benchFossil(f *fossil, z fossilSizes) (fossilResults, error) {
	var r fossilResults
	fsys, closer, err := mount(f.addr, 8192)
	if err != nil {
		return r, err
	}
	defer closer()
	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("fossil %s: %v", what, err)
		}
		return nil
	}

	// The console's own round trip, to read the snapshot times against.
	var rtts []time.Duration
	for range 5 {
		_, d, err := f.console("echo")
		if err != nil {
			return r, step("console", err)
		}
		rtts = append(rtts, d)
	}
	r.ConsoleRTT = median(rtts)

	// Snapshot of a small tree.
	if err := mkdir(fsys, "b/small"); err != nil {
		return r, step("mkdir", err)
	}
	for i := range z.Small {
		if err := smallFile(fsys, fmt.Sprintf("b/small/f%05d", i)); err != nil {
			return r, step("small tree", err)
		}
	}
	if r.SnapSmall, err = timeSnaps(f, fsys, z.Snaps, "b/small"); err != nil {
		return r, step("snapshot", err)
	}

	// Many small files, then the snapshot of the larger tree.
	if err := mkdir(fsys, "b/many"); err != nil {
		return r, step("mkdir", err)
	}
	start := time.Now()
	for i := range z.Files {
		if err := smallFile(fsys, fmt.Sprintf("b/many/f%05d", i)); err != nil {
			return r, step("create", err)
		}
	}
	r.Creates = float64(z.Files) / time.Since(start).Seconds()
	if r.SnapLarge, err = timeSnaps(f, fsys, z.Snaps, "b/many"); err != nil {
		return r, step("snapshot", err)
	}

	// Stat on an open fid, and walk-stat-clunk of four names.
	path := "b"
	for _, d := range []string{"d1", "d2", "d3"} {
		path += "/" + d
		if err := mkdir(fsys, path); err != nil {
			return r, step("mkdir", err)
		}
	}
	if err := smallFile(fsys, path+"/file"); err != nil {
		return r, step("create", err)
	}
	fid, err := fsys.Open(path+"/file", plan9.OREAD)
	if err != nil {
		return r, step("open", err)
	}
	r.Stats, err = rate(z.OpsTime, func() error { _, err := fid.Stat(); return err })
	fid.Close()
	if err != nil {
		return r, step("stat", err)
	}
	if r.Walks, err = rate(z.OpsTime, func() error { _, err := fsys.Stat(path + "/file"); return err }); err != nil {
		return r, step("walk", err)
	}

	// Sequential files, 8 KiB and 64 KiB requests.
	for _, s := range []struct {
		iosize int
		w, r   *float64
	}{{8192, &r.Write8K, &r.Read8K}, {65536, &r.Write64K, &r.Read64K}} {
		fs, closer, err := mount(f.addr, s.iosize)
		if err != nil {
			return r, step("mount", err)
		}
		start := time.Now()
		if err := writeFile(fs, "b/big", z.File, s.iosize, 7); err != nil {
			closer()
			return r, step("write", err)
		}
		*s.w = mbs(z.File, time.Since(start))
		start = time.Now()
		if err := readFile(fs, "b/big", z.File, s.iosize); err != nil {
			closer()
			return r, step("read", err)
		}
		*s.r = mbs(z.File, time.Since(start))
		closer()
	}

	// Clients at once, each on its connection with its own file.
	var mounts []func()
	defer func() {
		for _, c := range mounts {
			c()
		}
	}()
	var all []*clientFsys
	for i := range z.Clients {
		fs, closer, err := mount(f.addr, 8192)
		if err != nil {
			return r, step("mount", err)
		}
		mounts = append(mounts, closer)
		all = append(all, &clientFsys{fs, fmt.Sprintf("b/p%02d", i)})
	}
	total := z.ClientFile * int64(z.Clients)
	d, err := together(all, func(c *clientFsys, i int) error {
		return writeFile(c.Fsys, c.name, z.ClientFile, 8192, uint64(100+i))
	})
	if err != nil {
		return r, step("clients writing", err)
	}
	r.ParWrite = mbs(total, d)
	if d, err = together(all, func(c *clientFsys, i int) error {
		return readFile(c.Fsys, c.name, z.ClientFile, 8192)
	}); err != nil {
		return r, step("clients reading", err)
	}
	r.ParRead = mbs(total, d)

	if _, _, err := f.console("sync"); err != nil {
		return r, step("sync", err)
	}
	if r.Used, err = f.used(); err != nil {
		return r, step("df", err)
	}
	r.ArchiveBytes = z.File + total + int64(z.Files+z.Small+z.Snaps*2+1)*13
	r.FossilRSS = f.peakRSS()
	return r, nil
}

// benchArchive archives everything on a fossil to its venti: r says how
// much file data that is.
func benchArchive(f *fossil, r *fossilResults) error {
	d, err := f.archive()
	if err != nil {
		return fmt.Errorf("fossil archive: %v", err)
	}
	r.ArchiveTime = d
	r.Archive = mbs(r.ArchiveBytes, d)
	if _, _, err := f.console("sync"); err != nil {
		return fmt.Errorf("fossil sync: %v", err)
	}
	if r.Used, err = f.used(); err != nil {
		return fmt.Errorf("fossil df: %v", err)
	}
	r.ArchiveRSS = f.peakRSS()
	return nil
}

type clientFsys struct {
	*client.Fsys
	name string
}

// timeSnaps takes n snapshots of the tree, each after a small change
// made over 9P (so that each has something new to copy on write), and
// returns the median time of the console's snap. Each is named, as
// snaps of the same minute would otherwise have the same name. The tree is synced
// first so that the first snapshot does not pay for writing out what
// came before.
func timeSnaps(f *fossil, fsys *client.Fsys, n int, dir string) (time.Duration, error) {
	if _, _, err := f.console("sync"); err != nil {
		return 0, err
	}
	var ds []time.Duration
	for i := range n {
		if err := smallFile(fsys, fmt.Sprintf("%s/snap%d", dir, i)); err != nil {
			return 0, err
		}
		f.snaps++
		out, d, err := f.console(fmt.Sprintf("snap -d /snapshot/bench%d", f.snaps))
		if err != nil {
			return 0, err
		}
		if s := strings.TrimSpace(strings.ReplaceAll(out, "main:", "")); s != "" {
			return 0, fmt.Errorf("snap: %s", s)
		}
		ds = append(ds, d)
	}
	return median(ds), nil
}

// rate runs fn for about d and returns its calls a second.
func rate(d time.Duration, fn func() error) (float64, error) {
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		for range 50 {
			if err := fn(); err != nil {
				return 0, err
			}
		}
		n += 50
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// together runs fn for every client at once and returns the time until
// the last is done.
func together(cs []*clientFsys, fn func(c *clientFsys, i int) error) (time.Duration, error) {
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(c, i)
		}()
	}
	wg.Wait()
	d := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return d, err
		}
	}
	return d, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// flchk times fossil/flchk on the partition: with -f, the file system
// alone; without, it walks the archives on venti at vaddr too. It
// returns the lines flchk reported as errors, which are not a failure
// of the measurement but a finding to report.
func flchk(bin, part, vaddr string) (time.Duration, []string, error) {
	start := time.Now()
	args := []string{"-f", part}
	if vaddr != "" {
		args = []string{"-h", vaddr, part}
	}
	out, err := runCmd(filepath.Join(bin, "flchk"), args...)
	d := time.Since(start)
	if err != nil {
		return 0, nil, err
	}
	var errs []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "error") {
			errs = append(errs, line)
		}
	}
	return d, errs, nil
}
