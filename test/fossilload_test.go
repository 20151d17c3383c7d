//go:build !plan9

package test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"

	"github.com/plan9fossil/fossil/venti"
)

// Load tests: many clients at once against the real servers, for a
// bounded time, checking every answer, timing every operation and
// watching the server's memory.
//
//	go test -count=1 -run Load -v ./test/
//	FOSSIL_LOAD_SECONDS=300 go test -count=1 -run Load -v -timeout 30m ./test/
//
// Each runs for FOSSIL_LOAD_SECONDS seconds (10 if unset) and logs the
// latency percentiles of each operation.

// loadDuration is how long a load test drives its server.
func loadDuration(t *testing.T) time.Duration {
	s := os.Getenv("FOSSIL_LOAD_SECONDS")
	if s == "" {
		return 10 * time.Second
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		t.Fatalf("FOSSIL_LOAD_SECONDS=%q: want a number of seconds", s)
	}
	return time.Duration(n * float64(time.Second))
}

// latencies collects how long each kind of operation took.
type latencies struct {
	mu sync.Mutex
	d  map[string][]time.Duration
}

func (l *latencies) add(op string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.d == nil {
		l.d = map[string][]time.Duration{}
	}
	l.d[op] = append(l.d[op], d)
}

// time runs f and records its duration under op.
func (l *latencies) time(op string, f func() error) error {
	start := time.Now()
	err := f()
	l.add(op, time.Since(start))
	return err
}

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// log prints one line per operation: count, p50, p90, p99 and max.
func (l *latencies) log(t *testing.T, what string, el time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ops := make([]string, 0, len(l.d))
	total := 0
	for op, ds := range l.d {
		ops = append(ops, op)
		slices.Sort(ds)
		total += len(ds)
	}
	slices.Sort(ops)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d operations in %v (%.0f/s)\n", what, total, el.Round(time.Millisecond), float64(total)/el.Seconds())
	fmt.Fprintf(&b, "  %-10s %8s %10s %10s %10s %10s\n", "op", "n", "p50", "p90", "p99", "max")
	r := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	for _, op := range ops {
		ds := l.d[op]
		fmt.Fprintf(&b, "  %-10s %8d %10v %10v %10v %10v\n", op, len(ds),
			r(percentile(ds, 50)), r(percentile(ds, 90)), r(percentile(ds, 99)), r(ds[len(ds)-1]))
	}
	t.Log(b.String())
}

// max returns the longest duration recorded under op.
func (l *latencies) max(op string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var m time.Duration
	for _, d := range l.d[op] {
		m = max(m, d)
	}
	return m
}

// procStatus reads the fields of /proc/PID/status that say how much
// memory and how many threads a process has: VmHWM and VmRSS in bytes,
// Threads as a count.
func procStatus(t testing.TB, pid int) map[string]int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n <<= 10
		}
		out[k] = n
	}
	return out
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// The load test's server: the cache of -c loadCache blocks of 8 KiB.
const (
	loadCache     = 1000
	loadBlockSize = 8192
	loadClients   = 64
)

// fossilMemLimit is what the fossil of the load and fault tests may
// reach at its peak (VmHWM) serving conns connections with cache blocks
// of bs bytes in its cache:
//
//   - the cache: up to cache clean blocks, as many dirty ones before a
//     commit, and half as many venti blocks (internal/fs trim), so
//     2.5 × cache × bs;
//   - each connection: its 16 KiB reader and, at worst, a request and a
//     reply of the largest msize (128 KiB) at each of the 32 requests
//     msg -m lets it have outstanding; the clients here keep one
//     request outstanding, so 2 × 136 KiB + 16 KiB;
//   - twice both of those, since Go's collector lets the heap grow to
//     twice what is live (GOGC=100) before it collects;
//   - 48 MiB for the rest: the program's text and data, goroutine
//     stacks, the runtime's own structures and the partition's pages
//     the kernel counts while they are written (about 20 MiB idle).
func fossilMemLimit(cache, bs, conns int) int64 {
	cacheBytes := int64(cache) * int64(bs) * 5 / 2
	connBytes := int64(conns) * (2*(128<<10+24) + 16<<10)
	return 2*(cacheBytes+connBytes) + 48<<20
}

// loadFossil starts a fossil on a fresh partition of size bytes, with
// authentication off, no venti, a cache of loadCache blocks and a
// directory /load glenda may write; it returns the server and the
// partition.
func loadFossil(t *testing.T, size int64, extra ...string) (*fossilServer, string) {
	t.Helper()
	part := filepath.Join(t.TempDir(), "fossil")
	if err := os.WriteFile(part, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(part, size); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, nil, "fossil/flfmt", "-y", "-b", strconv.Itoa(loadBlockSize), "-l", "load", part); !r.ok {
		t.Fatalf("flfmt: %s", r.stderr)
	}
	args := append([]string{
		"-c", fmt.Sprintf("fsys main open -A -V -c %d", loadCache),
		"-c", "create /active/load glenda glenda d775",
	}, extra...)
	return startFossil(t, part, args...), part
}

// flchkClean runs flchk on a stopped fossil's partition and fails the
// test unless it finds nothing wrong.
func wantFlchkClean(t *testing.T, part string) {
	t.Helper()
	r := run(t, nil, nil, "fossil/flchk", part)
	if !r.ok || !flchkClean(r.stdout+r.stderr) {
		t.Errorf("flchk %s: ok=%v\n%s%s", part, r.ok, r.stdout, r.stderr)
	}
}

// loadFile is what a client knows of one of its files: its content is
// randBytes(seed, size).
type loadFile struct {
	seed int64
	size int
}

// loadClient is one of the load test's clients, with its own
// connection, directory and model of that directory.
type loadClient struct {
	id    int
	fsys  *client.Fsys
	dir   string
	rng   *rand.Rand
	files map[string]loadFile
	next  int
	lat   *latencies
	// expected counts the errors of the shared directories that races
	// between clients explain.
	expected map[string]int
}

// sharedRaces are the errors an operation on a name other clients
// create, rename and remove at the same time may meet.
// (The 9fans client says "file 'NAME' not found" of a walk that stops
// short.)
var sharedRaces = []string{"file already exists", "file does not exist", "file has been removed", "not found"}

func (c *loadClient) newName() string {
	c.next++
	return fmt.Sprintf("f%d", c.next)
}

// pick returns one of the client's files, or "" if it has none.
func (c *loadClient) pick() string {
	if len(c.files) == 0 {
		return ""
	}
	names := make([]string, 0, len(c.files))
	for n := range c.files {
		names = append(names, n)
	}
	slices.Sort(names)
	return names[c.rng.Intn(len(names))]
}

// write writes content of the size into fid, 8 KiB at a time.
func (c *loadClient) write(fid *client.Fid, data []byte) error {
	for off := 0; off < len(data); off += 8192 {
		chunk := data[off:min(off+8192, len(data))]
		err := c.lat.time("write", func() error {
			n, err := fid.WriteAt(chunk, int64(off))
			if err == nil && n != len(chunk) {
				err = fmt.Errorf("short write: %d of %d", n, len(chunk))
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// step does one operation, chosen at random, and checks its result.
func (c *loadClient) step(shared []string) error {
	switch op := c.rng.Intn(100); {
	case op < 15 || len(c.files) == 0: // create and write a new file
		name := c.newName()
		f := loadFile{seed: c.rng.Int63(), size: c.rng.Intn(48 << 10)}
		var fid *client.Fid
		err := c.lat.time("create", func() (err error) {
			fid, err = c.fsys.Create(c.dir+"/"+name, plan9.OWRITE, 0o664)
			return err
		})
		if err != nil {
			return fmt.Errorf("create %s/%s: %w", c.dir, name, err)
		}
		err = c.write(fid, randBytes(f.seed, f.size))
		c.lat.time("clunk", fid.Close)
		if err != nil {
			return fmt.Errorf("write %s/%s: %w", c.dir, name, err)
		}
		c.files[name] = f
		if len(c.files) > 24 { // keep the directory small
			return c.remove(c.pick())
		}
	case op < 25: // rewrite a file
		name := c.pick()
		f := loadFile{seed: c.rng.Int63(), size: c.rng.Intn(48 << 10)}
		var fid *client.Fid
		err := c.lat.time("open", func() (err error) {
			fid, err = c.fsys.Open(c.dir+"/"+name, plan9.OWRITE|plan9.OTRUNC)
			return err
		})
		if err != nil {
			return fmt.Errorf("open %s/%s: %w", c.dir, name, err)
		}
		err = c.write(fid, randBytes(f.seed, f.size))
		c.lat.time("clunk", fid.Close)
		if err != nil {
			return fmt.Errorf("rewrite %s/%s: %w", c.dir, name, err)
		}
		c.files[name] = f
	case op < 45: // read a file through and check it
		name := c.pick()
		f := c.files[name]
		var fid *client.Fid
		err := c.lat.time("open", func() (err error) {
			fid, err = c.fsys.Open(c.dir+"/"+name, plan9.OREAD)
			return err
		})
		if err != nil {
			return fmt.Errorf("open %s/%s: %w", c.dir, name, err)
		}
		defer c.lat.time("clunk", fid.Close)
		got := make([]byte, 0, f.size)
		buf := make([]byte, 8192)
		for {
			var n int
			err := c.lat.time("read", func() (err error) {
				n, err = fid.ReadAt(buf, int64(len(got)))
				return err
			})
			got = append(got, buf[:n]...)
			if err == io.EOF || (err == nil && n == 0) {
				break
			}
			if err != nil {
				return fmt.Errorf("read %s/%s at %d: %w", c.dir, name, len(got), err)
			}
		}
		if !bytes.Equal(got, randBytes(f.seed, f.size)) {
			return fmt.Errorf("read %s/%s: %d bytes, not the %d written", c.dir, name, len(got), f.size)
		}
	case op < 55: // stat an open file
		name := c.pick()
		fid, err := c.fsys.Open(c.dir+"/"+name, plan9.OREAD)
		if err != nil {
			return fmt.Errorf("open %s/%s: %w", c.dir, name, err)
		}
		defer fid.Close()
		var d *plan9.Dir
		if err := c.lat.time("stat", func() (err error) { d, err = fid.Stat(); return err }); err != nil {
			return fmt.Errorf("stat %s/%s: %w", c.dir, name, err)
		}
		if d.Name != name || d.Length != uint64(c.files[name].size) || d.Uid != "glenda" {
			return fmt.Errorf("stat %s/%s: %+v", c.dir, name, d)
		}
	case op < 65: // walk five names down, stat, clunk
		p := "/load/deep/a/b/c/d"
		if err := c.lat.time("walk", func() error { _, err := c.fsys.Stat(p); return err }); err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
	case op < 72: // read the directory and check the names
		var ds []*plan9.Dir
		err := c.lat.time("readdir", func() error {
			fid, err := c.fsys.Open(c.dir, plan9.OREAD)
			if err != nil {
				return err
			}
			defer fid.Close()
			ds, err = fid.Dirreadall()
			return err
		})
		if err != nil {
			return fmt.Errorf("readdir %s: %w", c.dir, err)
		}
		want := make([]string, 0, len(c.files))
		for n := range c.files {
			want = append(want, n)
		}
		slices.Sort(want)
		if got := dirNames(ds); !slices.Equal(got, want) {
			return fmt.Errorf("readdir %s: %q, want %q", c.dir, got, want)
		}
	case op < 78: // remove
		return c.remove(c.pick())
	case op < 84: // rename with wstat
		old, name := c.pick(), c.newName()
		d := plan9.Dir{}
		d.Null()
		d.Name = name
		if err := c.lat.time("wstat", func() error { return c.fsys.Wstat(c.dir+"/"+old, &d) }); err != nil {
			return fmt.Errorf("rename %s/%s to %s: %w", c.dir, old, name, err)
		}
		c.files[name] = c.files[old]
		delete(c.files, old)
	default: // the shared directories, where clients race on names
		return c.sharedStep(shared)
	}
	return nil
}

func (c *loadClient) remove(name string) error {
	if err := c.lat.time("remove", func() error { return c.fsys.Remove(c.dir + "/" + name) }); err != nil {
		return fmt.Errorf("remove %s/%s: %w", c.dir, name, err)
	}
	delete(c.files, name)
	return nil
}

// sharedStep creates, writes, reads, renames or removes one of a few
// names in a shared directory, which other clients do too: the errors
// of those races are expected and counted, any other is not.
func (c *loadClient) sharedStep(shared []string) error {
	dir := shared[c.rng.Intn(len(shared))]
	name := fmt.Sprintf("%s/s%d", dir, c.rng.Intn(8))
	var err error
	op := ""
	switch c.rng.Intn(5) {
	case 0:
		op = "create"
		err = c.lat.time("create", func() error {
			fid, err := c.fsys.Create(name, plan9.OWRITE, 0o664)
			if err != nil {
				return err
			}
			defer fid.Close()
			_, err = fid.Write(fmt.Appendf(nil, "written by client %d\n", c.id))
			return err
		})
	case 1:
		op = "read"
		err = c.lat.time("read", func() error {
			fid, err := c.fsys.Open(name, plan9.OREAD)
			if err != nil {
				return err
			}
			defer fid.Close()
			b, err := io.ReadAll(fid)
			if err == nil && len(b) > 0 && !bytes.HasPrefix(b, []byte("written by client ")) {
				return fmt.Errorf("shared file holds %q", b)
			}
			return err
		})
	case 2:
		op = "remove"
		err = c.lat.time("remove", func() error { return c.fsys.Remove(name) })
	case 3:
		op = "wstat"
		d := plan9.Dir{}
		d.Null()
		d.Name = fmt.Sprintf("s%d", c.rng.Intn(8))
		err = c.lat.time("wstat", func() error { return c.fsys.Wstat(name, &d) })
	case 4:
		op = "readdir"
		err = c.lat.time("readdir", func() error {
			fid, err := c.fsys.Open(dir, plan9.OREAD)
			if err != nil {
				return err
			}
			defer fid.Close()
			_, err = fid.Dirreadall()
			return err
		})
	}
	if err == nil {
		return nil
	}
	for _, e := range sharedRaces {
		if strings.Contains(err.Error(), e) {
			c.expected[e]++
			return nil
		}
	}
	return fmt.Errorf("shared %s %s: %w", op, name, err)
}

// loadRun is a set of load clients ready to go.
type loadRun struct {
	clients []*loadClient
	shared  []string
}

// startLoad mounts n load clients of addr, each with a directory of
// its own, /load/cN, and four directories they share, /load/s0 to s3.
func startLoad(t *testing.T, addr string, n int, lat *latencies) *loadRun {
	t.Helper()
	setup := mount9P(t, addr, "glenda", "")
	for _, p := range []string{"/load/s0", "/load/s1", "/load/s2", "/load/s3", "/load/deep", "/load/deep/a", "/load/deep/a/b", "/load/deep/a/b/c"} {
		if fid, err := setup.Create(p, plan9.OREAD, plan9.DMDIR|0o775); err != nil {
			if err.Error() != "file already exists" {
				t.Fatalf("create %s: %v", p, err)
			}
		} else {
			fid.Close()
		}
	}
	if fid, err := setup.Create("/load/deep/a/b/c/d", plan9.OWRITE, 0o664); err == nil {
		fid.Close()
	}
	lr := &loadRun{shared: []string{"/load/s0", "/load/s1", "/load/s2", "/load/s3"}}
	for i := range n {
		c := &loadClient{
			id:       i,
			fsys:     mount9P(t, addr, "glenda", ""),
			dir:      fmt.Sprintf("/load/c%d.%d", i, time.Now().UnixNano()),
			rng:      rand.New(rand.NewSource(int64(i))),
			files:    map[string]loadFile{},
			lat:      lat,
			expected: map[string]int{},
		}
		fid, err := c.fsys.Create(c.dir, plan9.OREAD, plan9.DMDIR|0o775)
		if err != nil {
			t.Fatalf("create %s: %v", c.dir, err)
		}
		fid.Close()
		lr.clients = append(lr.clients, c)
	}
	return lr
}

// drive runs the clients for d. It returns the first unexpected error
// of each client, the count of expected ones, and how many steps the
// clients took.
func (lr *loadRun) drive(d time.Duration) ([]error, map[string]int, int64) {
	errs := make([]error, len(lr.clients))
	var steps atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for i, c := range lr.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := c.step(lr.shared); err != nil {
					errs[i] = err
					return
				}
				steps.Add(1)
			}
		}()
	}
	wg.Wait()
	expected := map[string]int{}
	for _, c := range lr.clients {
		for e, k := range c.expected {
			expected[e] += k
		}
	}
	return errs, expected, steps.Load()
}

// TestFossilLoad has 64 clients, each on its own connection, create,
// write, read, stat, walk, list, rename and remove files for
// FOSSIL_LOAD_SECONDS seconds, in directories of their own and in four
// they share, checking every answer against what they wrote. Nothing
// may fail but the races on shared names; the server's peak memory must
// stay under fossilMemLimit. Then fossil syncs, stops, and flchk finds
// its partition clean.
func TestFossilLoad(t *testing.T) {
	d := loadDuration(t)
	f, part := loadFossil(t, 1<<30)
	pid := f.cmd.Process.Pid
	idle := procStatus(t, pid)
	lat := &latencies{}
	var peak atomic.Int64
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		// VmHWM is the kernel's own peak; this samples RSS and
		// threads as well, for the log.
		defer close(watched)
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					if v, ok := strings.CutPrefix(l, "Threads:"); ok {
						n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
						if n > peak.Load() {
							peak.Store(n)
						}
					}
				}
			}
		}
	}()
	lr := startLoad(t, f.tcp, loadClients, lat)
	start := time.Now()
	errs, expected, steps := lr.drive(d)
	el := time.Since(start)
	close(stopWatch)
	<-watched
	st := procStatus(t, pid)
	lat.log(t, fmt.Sprintf("fossil, %d clients", loadClients), el)
	t.Logf("%d steps; expected errors of the shared names: %v", steps, expected)
	limit := fossilMemLimit(loadCache, loadBlockSize, loadClients+2)
	t.Logf("fossil memory: idle RSS %s; after the load RSS %s, peak (VmHWM) %s, limit %s; threads: idle %d, peak %d",
		mib(idle["VmRSS"]), mib(st["VmRSS"]), mib(st["VmHWM"]), mib(limit), idle["Threads"], peak.Load())
	for i, err := range errs {
		if err != nil {
			t.Errorf("client %d: %v", i, err)
		}
	}
	if st["VmHWM"] > limit {
		t.Errorf("fossil's peak memory %s passed its limit %s", mib(st["VmHWM"]), mib(limit))
	}
	if steps < loadClients {
		t.Errorf("only %d steps in %v", steps, d)
	}
	consOut(t, f, "sync")
	f.stop(t)
	wantFlchkClean(t, part)
}

// TestVentiLoad has 64 writers, each on its own connection, write
// blocks to venti/venti for FOSSIL_LOAD_SECONDS seconds (at most 400
// each): most unique, one in four from a pool all of them write, so that
// the same block arrives on many connections at once. Then every block
// is read back on 64 connections and compared, venti stops, and
// checkarenas and checkindex find its partitions clean.
func TestVentiLoad(t *testing.T) {
	d := loadDuration(t)
	const writers, perWriter = 64, 400
	conf, arenas := newVentiSized(t, "load", "64M", 512<<20, 64<<20)
	v := startVenti(t, conf, "127.0.0.1")
	pid := v.cmd.Process.Pid
	idle := procStatus(t, pid)
	ctx := context.Background()
	pool := make([][]byte, 64)
	for i := range pool {
		pool[i] = randBytes(int64(1e6+i), 1000+i*100)
	}
	type block struct {
		score venti.Score
		data  []byte
	}
	lat := &latencies{}
	wrote := make([][]block, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range writers {
		z, err := venti.Dial(v.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < perWriter && time.Now().Before(deadline); i++ {
				var data []byte
				if rng.Intn(4) == 0 {
					data = pool[rng.Intn(len(pool))]
				} else {
					// Text compresses, random data does not: both
					// paths of the store.
					if rng.Intn(2) == 0 {
						data = randBytes(rng.Int63(), 512+rng.Intn(8192))
					} else {
						data = bytes.Repeat(fmt.Appendf(nil, "writer %d block %d ", w, i), 1+rng.Intn(400))
					}
				}
				var s venti.Score
				err := lat.time("write", func() (err error) {
					s, err = z.Write(ctx, venti.DataType, data)
					return err
				})
				if err == nil && s != venti.Fingerprint(data) {
					err = fmt.Errorf("score %v for block %v", s, venti.Fingerprint(data))
				}
				if err != nil {
					errs[w] = err
					return
				}
				wrote[w] = append(wrote[w], block{s, data})
				if i%100 == 99 {
					if err := lat.time("sync", func() error { return z.Sync(ctx) }); err != nil {
						errs[w] = err
						return
					}
				}
			}
			errs[w] = lat.time("sync", func() error { return z.Sync(ctx) })
		}()
	}
	wg.Wait()
	el := time.Since(start)
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	lat.log(t, fmt.Sprintf("venti, %d writers", writers), el)
	total, bytesW := 0, 0
	for _, bs := range wrote {
		total += len(bs)
		for _, b := range bs {
			bytesW += len(b.data)
		}
	}
	t.Logf("%d blocks, %s written in %v", total, mib(int64(bytesW)), el.Round(time.Millisecond))

	// Read everything back, each writer's blocks on a connection of
	// their own.
	rlat := &latencies{}
	rstart := time.Now()
	var bad atomic.Int64
	for w := range writers {
		z, err := venti.Dial(v.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range wrote[w] {
				var got []byte
				err := rlat.time("read", func() (err error) {
					got, err = z.Read(ctx, b.score, venti.DataType, 0)
					return err
				})
				if err != nil || !bytes.Equal(got, b.data) {
					if bad.Add(1) < 5 {
						t.Errorf("read %v: %d bytes, %v", b.score, len(got), err)
					}
				}
			}
		}()
	}
	wg.Wait()
	rlat.log(t, fmt.Sprintf("venti, %d readers", writers), time.Since(rstart))
	if n := bad.Load(); n > 0 {
		t.Errorf("%d of %d blocks did not read back", n, total)
	}
	st := procStatus(t, pid)
	t.Logf("venti memory: idle RSS %s, peak (VmHWM) %s", mib(idle["VmRSS"]), mib(st["VmHWM"]))
	// venti's caches are sized by its config (none here: the
	// defaults); the bound is loose, to catch growth with the load.
	if st["VmHWM"] > 512<<20 {
		t.Errorf("venti's peak memory %s is more than 512 MiB", mib(st["VmHWM"]))
	}

	stopVenti(t, v)
	wantVentiClean(t, conf, arenas)
}

// stopVenti stops a venti with SIGTERM and waits for it.
func stopVenti(t *testing.T, v *ventiServer) {
	t.Helper()
	v.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- v.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("venti stopped with %v: %s", err, v.log)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("venti did not stop on SIGTERM")
	}
}

// wantVentiClean runs checkarenas and checkindex on a stopped venti.
func wantVentiClean(t *testing.T, conf, arenas string) {
	t.Helper()
	if r := run(t, nil, nil, "venti/checkarenas", arenas); !r.ok || r.stderr != "" {
		t.Errorf("checkarenas: %+v", r)
	}
	tmp := filepath.Join(t.TempDir(), "tmp")
	os.WriteFile(tmp, nil, 0o644)
	os.Truncate(tmp, 16<<20)
	if r := run(t, nil, nil, "venti/checkindex", conf, tmp); !r.ok || !strings.Contains(r.stdout+r.stderr, "index is correct") {
		t.Errorf("checkindex: %+v", r)
	}
}
