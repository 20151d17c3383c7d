//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/plan9fossil/fossil/internal/fault"
	"github.com/plan9fossil/fossil/venti"
)

// Config is a campaign's setting.
type Config struct {
	Cycles  int
	Seed    int64
	Dir     string        // work directory: generations, and the failures kept
	Bin     string        // holds venti/venti, venti/checkarenas, ..., fossil/fossil, fossil/flchk
	Load    time.Duration // the longest load of a cycle
	Workers int           // 9P writers
	Log     io.Writer     // a line per cycle, and the failures
	Verbose bool          // more: every process's output on failures, checks
	// StopOnFailure ends the campaign at the first failing cycle.
	StopOnFailure bool
}

// Summary counts what a campaign did and found.
type Summary struct {
	Cycles, Failures, Generations int
	// Leaked is the number of leaked blocks flchk reported, summed over
	// the checks; LeakChecks the checks that found any.
	Leaked, LeakChecks, MaxLeaked int
	// IndexLag counts the index entries found missing after a crash
	// for clumps beyond what the trailer says the index covers (the
	// next start indexes them).
	IndexLag int
	// Unclaimed counts the clumps checkarenas found in arena logs
	// beyond what the trailers claim, summed over the checks: left by
	// writes that no sync acknowledged.
	Unclaimed int
	Kills     map[string]int // victims of random kills: fossil, venti, both
	Fired     map[string]int // fault points reached
	Missed    map[string]int // fault points armed but not reached in the cycle
	Starting  int            // deaths at a fault point while starting or recovering
	Clean     map[string]int // clean stops (SIGTERM) checked strictly

	// Lost counts the cycles that found synced data lost (a tree, an
	// archive or a venti block); Duplicates the duplicate index entries
	// checkindex found (see checkIndex).
	Lost, Duplicates int

	Ops, Syncs, Snaps, Archives, ArchivesVerified int
	Blocks, BlocksVerified, TreesVerified         int
	Refused                                       int // 9P calls refused for a full file system
	Failed                                        []string
	Elapsed                                       time.Duration
}

func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "crash campaign: %d cycles, %d failures, %d generations, %v\n", s.Cycles, s.Failures, s.Generations, s.Elapsed.Round(time.Second))
	fmt.Fprintf(&b, "kills: random %s; fault points reached %d, armed but not reached %d; deaths while starting %d\n",
		counts(s.Kills), total(s.Fired), total(s.Missed), s.Starting)
	var names []string
	for _, p := range fault.Points {
		names = append(names, fmt.Sprintf("%s %d/%d", p, s.Fired[p], s.Fired[p]+s.Missed[p]))
	}
	fmt.Fprintf(&b, "fault points (reached/armed):\n\t%s\n", strings.Join(names, "\n\t"))
	fmt.Fprintf(&b, "clean stops checked strictly: %s\n", counts(s.Clean))
	fmt.Fprintf(&b, "load: %d 9P operations, %d syncs, %d snap -a, %d archives reported, %d verified; %d venti blocks synced, %d verified; %d trees verified after restart\n",
		s.Ops, s.Syncs, s.Snaps, s.Archives, s.ArchivesVerified, s.Blocks, s.BlocksVerified, s.TreesVerified)
	fmt.Fprintf(&b, "leaked blocks: %d in %d checks (at most %d); index entries behind after crashes: %d; unacknowledged clumps beyond arena trailers: %d\n",
		s.Leaked, s.LeakChecks, s.MaxLeaked, s.IndexLag, s.Unclaimed)
	fmt.Fprintf(&b, "failing cycles: %d; of which synced data lost: %d; duplicate index entries found: %d\n", s.Failures, s.Lost, s.Duplicates)
	for _, f := range s.Failed {
		fmt.Fprintf(&b, "FAILED %s\n", f)
	}
	return b.String()
}

func counts(m map[string]int) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var out []string
	for _, k := range ks {
		out = append(out, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// A generation is a venti and a fossil formatted afresh, and what the
// campaign knows they must hold.
type generation struct {
	n                                     int
	dir                                   string
	conf, arenas, isect, bloom, tmp, part string
	ventiAddr                             string
	fossilPort                            int
	workers                               []*worker
	snaps                                 []*snapRec
	archives                              []string // reported, not yet verified
	verified                              []string // archives verified once
	blocks                                []venti.Score
	checked                               int // blocks[:checked] were read back once
	cycles                                int
	fossilUsed, ventiUsed                 float64 // shares of the partitions in use
}

// A snapRec is a snap -a: the steps of each worker it may have caught.
type snapRec struct {
	lo, hi []int
}

type campaign struct {
	cfg Config
	rnd *rand.Rand
	ip  string
	sum *Summary
	g   *generation
	// processes of the current cycle
	venti  *proc
	fossil *fossilProc
	logf   func(format string, args ...any)
}

// Run runs a campaign.
func Run(cfg Config) (*Summary, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Load <= 0 {
		cfg.Load = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	c := &campaign{
		cfg: cfg,
		rnd: rand.New(rand.NewSource(cfg.Seed)),
		sum: &Summary{Kills: map[string]int{}, Fired: map[string]int{}, Missed: map[string]int{}, Clean: map[string]int{}},
	}
	c.logf = func(format string, args ...any) { fmt.Fprintf(cfg.Log, format+"\n", args...) }
	c.ip = fmt.Sprintf("127.0.%d.%d", 1+c.rnd.Intn(250), 2+c.rnd.Intn(250))
	if l, err := net.Listen("tcp", c.ip+":0"); err != nil {
		c.ip = "127.0.0.1"
	} else {
		l.Close()
	}
	start := time.Now()
	defer func() { c.sum.Elapsed = time.Since(start) }()
	defer c.killAll()
	for i := 0; i < cfg.Cycles; i++ {
		if c.g == nil {
			if err := c.newGeneration(); err != nil {
				return c.sum, err
			}
		}
		err := c.cycle(i)
		c.sum.Cycles++
		var f *failure
		if errors.As(err, &f) {
			c.sum.Failures++
			c.sum.Failed = append(c.sum.Failed, fmt.Sprintf("cycle %d (seed %d): %s", i, cfg.Seed, firstLine(f.Error())))
			c.logf("cycle %d FAILED: %v", i, f)
			c.saveFailure(i, f)
			c.g = nil
			if cfg.StopOnFailure {
				return c.sum, nil
			}
			continue
		}
		if err != nil {
			return c.sum, fmt.Errorf("cycle %d: %w", i, err)
		}
		if c.g.fossilUsed > 0.5 || c.g.ventiUsed > 0.7 {
			c.dropGeneration()
		}
	}
	if c.g != nil {
		c.dropGeneration()
	}
	return c.sum, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// A failure is an inconsistency or a loss: what the campaign looks for.
type failure struct {
	msgs []string
	logs string
}

func (f *failure) Error() string { return strings.Join(f.msgs, "\n") }

func (c *campaign) killAll() {
	if c.fossil != nil {
		c.fossil.kill()
		c.fossil.wait(10 * time.Second)
	}
	if c.venti != nil {
		c.venti.kill()
		c.venti.wait(10 * time.Second)
	}
}

func (c *campaign) bin(name string) string { return filepath.Join(c.cfg.Bin, name) }

func (c *campaign) freePort() int {
	l, err := net.Listen("tcp", c.ip+":0")
	if err != nil {
		return 20000 + c.rnd.Intn(30000)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newGeneration formats a venti and a fossil, and makes the workers'
// directories.
func (c *campaign) newGeneration() error {
	c.sum.Generations++
	n := c.sum.Generations
	g := &generation{n: n, dir: filepath.Join(c.cfg.Dir, fmt.Sprintf("gen%d", n))}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return err
	}
	g.arenas = filepath.Join(g.dir, "arenas")
	g.isect = filepath.Join(g.dir, "isect")
	g.bloom = filepath.Join(g.dir, "bloom")
	g.tmp = filepath.Join(g.dir, "tmp")
	g.part = filepath.Join(g.dir, "fossil")
	g.conf = filepath.Join(g.dir, "venti.conf")
	for f, size := range map[string]int64{g.arenas: 48 << 20, g.isect: 4 << 20, g.bloom: 1 << 20, g.tmp: 8 << 20, g.part: 32 << 20} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			return err
		}
		if err := os.Truncate(f, size); err != nil {
			return err
		}
	}
	// A small index cache makes venti flush its index often.
	conf := fmt.Sprintf("index main\narenas %s\nisect %s\nbloom %s\nmem 1m\nbcmem 1m\nicmem 12k\n", g.arenas, g.isect, g.bloom)
	if err := os.WriteFile(g.conf, []byte(conf), 0o644); err != nil {
		return err
	}
	for _, cmd := range [][]string{
		{"venti/fmtarenas", "-a", "2M", fmt.Sprintf("g%d.", n), g.arenas},
		{"venti/fmtisect", fmt.Sprintf("g%disect", n), g.isect},
		{"venti/fmtbloom", g.bloom},
		{"venti/fmtindex", g.conf},
		{"fossil/flfmt", "-y", "-l", "crash", g.part},
	} {
		if o, e, ok, err := runTool(time.Minute, c.bin(cmd[0]), cmd[1:]...); err != nil || !ok {
			return fmt.Errorf("%v: %v %s %s", cmd, err, o, e)
		}
	}
	g.ventiAddr = fmt.Sprintf("tcp!%s!%d", c.ip, c.freePort())
	g.fossilPort = c.freePort()
	c.g = g
	// The workers' directories.
	v, err := startVenti(c.bin("venti/venti"), g.conf, g.ventiAddr, "")
	if err != nil {
		return fmt.Errorf("venti: %v: %s", err, v.out.String())
	}
	c.venti = v
	f, err := startFossil(c.bin("fossil/fossil"), g.part, g.ventiAddr, c.ip, g.fossilPort, "")
	if err != nil {
		return fmt.Errorf("fossil: %v: %s", err, f.out.String())
	}
	c.fossil = f
	cmds := []string{"fsys main create /active/cc glenda glenda d775"}
	for i := 0; i < c.cfg.Workers; i++ {
		cmds = append(cmds, fmt.Sprintf("fsys main create /active/cc/w%d glenda glenda d775", i))
	}
	cmds = append(cmds, "fsys main sync")
	for _, cmd := range cmds {
		out, err := f.console(cmd, time.Minute)
		if err != nil {
			return fmt.Errorf("console %s: %v", cmd, err)
		}
		for _, l := range out {
			if l != cmd && !strings.Contains(l, "sync: wrote") {
				return fmt.Errorf("console %s: %q", cmd, out)
			}
		}
	}
	if err := f.stop(30 * time.Second); err != nil {
		return err
	}
	if err := v.stop(30 * time.Second); err != nil {
		return err
	}
	c.fossil, c.venti = nil, nil
	for i := 0; i < c.cfg.Workers; i++ {
		w := newWorker(i, c.rnd.Int63())
		w.settle(true)
		g.workers = append(g.workers, w)
	}
	return nil
}

func (c *campaign) dropGeneration() {
	if c.g != nil {
		os.RemoveAll(c.g.dir)
		c.g = nil
	}
}

// A plan is what a cycle does to the servers.
type plan struct {
	point  string // a fault point, or "" for a kill at a random moment
	nth    int
	victim string // fossil, venti, both
	load   time.Duration
	killAt time.Duration
}

func (p plan) String() string {
	if p.point != "" {
		s := fmt.Sprintf("FAULT=%s:%d", p.point, p.nth)
		if p.victim == "both" {
			s += " and kill the other"
		}
		return s
	}
	return fmt.Sprintf("kill %s at %v of %v", p.victim, p.killAt.Round(time.Millisecond), p.load.Round(time.Millisecond))
}

// armed says which server the fault point is in.
func (p plan) armed() string {
	switch {
	case strings.HasPrefix(p.point, "fs."):
		return "fossil"
	case strings.HasPrefix(p.point, "vtstore."):
		return "venti"
	}
	return ""
}

func (c *campaign) plan() plan {
	r := c.rnd
	p := plan{load: c.cfg.Load/4 + time.Duration(r.Int63n(int64(c.cfg.Load*3/4)+1))}
	switch v := r.Intn(100); {
	case v < 45:
		p.victim = "fossil"
	case v < 65:
		p.victim = "venti"
	default:
		p.victim = "both"
	}
	if r.Intn(100) < 45 {
		p.point = fault.Points[r.Intn(len(fault.Points))]
		most := map[string]int{
			"fs.commit.afterdata": 6, "fs.commit.beforesuper": 6, "fs.commit.aftersuper": 6,
			"fs.commit.close": 30, "fs.commit.label": 30, "fs.archive.beforelast": 1,
			"vtstore.write.appended": 60, "vtstore.flush.clumps": 8,
			"vtstore.index.bucket": 100, "vtstore.index.buckets": 3,
			"vtstore.seal.flushed": 1, "vtstore.seal.done": 1,
		}[p.point]
		p.nth = 1 + r.Intn(max(most, 1))
		if p.victim != "both" {
			p.victim = p.armed()
		}
		return p
	}
	p.killAt = time.Duration(r.Int63n(int64(p.load) + 1))
	return p
}

// cycleState is what one cycle saw.
type cycleState struct {
	plan         plan
	msgs         []string // failures
	notes        []string
	ventiEnd     string
	fossilEnd    string
	fossilRan    bool // fossil started and served
	leaked       int
	lostData     bool
	unclaimed    int
	startedDeath bool
	unsynced     []venti.Score
	mu           sync.Mutex
}

func (s *cycleState) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, fmt.Sprintf(format, args...))
}

// lose records synced data found lost.
func (s *cycleState) lose(format string, args ...any) {
	s.fail(format, args...)
	s.mu.Lock()
	s.lostData = true
	s.mu.Unlock()
}

func (s *cycleState) note(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// cycle starts the servers (recovering from the last crash), checks
// what they serve, loads them, crashes them and checks the disks.
func (c *campaign) cycle(n int) error {
	began := time.Now()
	g := c.g
	g.cycles++
	st := &cycleState{plan: c.plan()}
	p := st.plan
	ventiFault, fossilFault := "", ""
	if p.armed() == "venti" {
		ventiFault = fmt.Sprintf("%s:%d", p.point, p.nth)
	} else if p.armed() == "fossil" {
		fossilFault = fmt.Sprintf("%s:%d", p.point, p.nth)
	}

	// Start, recovering.
	v, err := startVenti(c.bin("venti/venti"), g.conf, g.ventiAddr, ventiFault)
	if v == nil {
		return err
	}
	c.venti = v
	if err != nil && err != errDied {
		st.fail("venti did not start: %v", err)
	}
	ventiUp := err == nil
	fossilUp := false
	if ventiUp {
		f, err := startFossil(c.bin("fossil/fossil"), g.part, g.ventiAddr, c.ip, g.fossilPort, fossilFault)
		if f == nil || f.proc == nil {
			return err
		}
		c.fossil = f
		if err != nil && err != errDied {
			st.fail("fossil did not start: %v", err)
		}
		fossilUp = err == nil
	}
	if !ventiUp || c.fossil != nil && !fossilUp {
		st.startedDeath = true
	}

	// What the servers serve after the restart.
	if fossilUp && len(st.msgs) == 0 {
		st.fossilRan = true
		if !c.verifyTrees(st) {
			fossilUp = false
		}
	}
	if ventiUp && len(st.msgs) == 0 {
		c.verifyVenti(st)
	}

	// The load, and the crash.
	if len(st.msgs) == 0 && (ventiUp || fossilUp) {
		c.load(st, fossilUp, ventiUp)
	}
	c.stopAll(st)

	// The disks.
	if len(st.msgs) == 0 {
		c.checkDisks(st)
	}
	c.account(st)
	took := time.Since(began).Round(10 * time.Millisecond)
	status := "ok"
	if len(st.msgs) > 0 {
		status = "FAILED"
	}
	leak := ""
	if st.leaked > 0 {
		leak = fmt.Sprintf(", %d leaked", st.leaked)
	}
	line := fmt.Sprintf("cycle %d gen %d: %s; venti %s, fossil %s%s; %s (%v)", n, g.n, p, st.ventiEnd, st.fossilEnd, leak, status, took)
	c.logf("%s%s", line, noteText(st, c.cfg.Verbose))
	c.history(line, st)
	if len(st.msgs) > 0 {
		if st.lostData {
			c.sum.Lost++
		}
		f := &failure{msgs: append([]string{p.String()}, st.msgs...)}
		if c.venti != nil {
			f.logs += "venti output:\n" + c.venti.out.String() + "\n"
		}
		if c.fossil != nil {
			f.logs += "fossil output:\n" + c.fossil.out.String() + "\n"
		}
		c.venti, c.fossil = nil, nil
		return f
	}
	c.venti, c.fossil = nil, nil
	return nil
}

// history appends the cycle's line and the servers' output to the
// generation's log, kept with the partitions if a cycle fails.
func (c *campaign) history(line string, st *cycleState) {
	f, err := os.OpenFile(filepath.Join(c.g.dir, "log.txt"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "=== %s\n", line)
	for _, n := range st.notes {
		fmt.Fprintf(f, "note: %s\n", n)
	}
	if c.venti != nil {
		fmt.Fprintf(f, "--- venti:\n%s", c.venti.out.String())
	}
	if c.fossil != nil {
		fmt.Fprintf(f, "--- fossil:\n%s", c.fossil.out.String())
	}
}

func noteText(st *cycleState, verbose bool) string {
	if !verbose || len(st.notes) == 0 {
		return ""
	}
	return "\n\t" + strings.Join(st.notes, "\n\t")
}

// verifyTrees reads every worker's directory and checks it against
// the states it may be in; it reports whether fossil still serves.
func (c *campaign) verifyTrees(st *cycleState) bool {
	conn, err := dial9P(c.fossil.addr)
	if err != nil {
		if c.fossil.stillUp() {
			st.fail("9P: %v", err)
		}
		return false
	}
	defer conn.close()
	for _, w := range c.g.workers {
		t, err := read9P(conn.fsys, w.dir)
		if err != nil {
			if isConnErr(err) && c.fossil.stillUp() {
				st.fail("reading %s: %v", w.dir, err)
			} else if !isConnErr(err) {
				st.fail("reading %s after restart: %v", w.dir, err)
			}
			return false
		}
		if err := w.verify(t); err != nil {
			st.lose("%v", err)
			return false
		}
		c.sum.TreesVerified++
		w.adopt(t)
	}
	return true
}

// verifyVenti reads back the archives fossil reported and the blocks
// written and synced to venti directly.
func (c *campaign) verifyVenti(st *cycleState) {
	g := c.g
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	z, err := venti.DialContext(ctx, g.ventiAddr)
	if err != nil {
		if c.venti.stillUp() {
			st.fail("venti: %v", err)
		}
		return
	}
	defer z.Close()
	todo := g.archives
	if len(g.verified) > 0 {
		todo = append(todo, g.verified[c.rnd.Intn(len(g.verified))])
	}
	for _, s := range todo {
		if err := c.verifyArchive(ctx, z, s); err != nil {
			if !c.venti.stillUp() {
				return
			}
			st.lose("archive vac:%s: %v", s, err)
			return
		}
	}
	for _, s := range g.archives {
		if !slices.Contains(g.verified, s) {
			g.verified = append(g.verified, s)
			c.sum.ArchivesVerified++
		}
	}
	g.archives = nil
	check := func(s venti.Score) bool {
		b, err := z.Read(ctx, s, venti.DataType, venti.MaxLumpSize)
		if err == nil && venti.Fingerprint(b) != s {
			err = fmt.Errorf("read a block hashing to %v", venti.Fingerprint(b))
		}
		if err != nil {
			if c.venti.stillUp() {
				st.lose("venti block %v, written and synced: %v", s, err)
			}
			return false
		}
		return true
	}
	for _, s := range g.blocks[g.checked:] {
		if !check(s) {
			return
		}
		c.sum.BlocksVerified++
	}
	g.checked = len(g.blocks)
	for i := 0; i < 10 && len(g.blocks) > 0; i++ {
		if !check(g.blocks[c.rnd.Intn(len(g.blocks))]) {
			return
		}
	}
}

// load runs the workers and the console, venti writes, and the kill.
func (c *campaign) load(st *cycleState, fossilUp, ventiUp bool) {
	p := st.plan
	g := c.g
	ctx, cancel := context.WithTimeout(context.Background(), p.load)
	defer cancel()
	var wg sync.WaitGroup
	// The kill.
	victims := func() []*proc {
		var out []*proc
		if p.victim != "venti" && c.fossil != nil {
			out = append(out, c.fossil.proc)
		}
		if p.victim != "fossil" {
			out = append(out, c.venti)
		}
		return out
	}
	stopKill := make(chan struct{})
	killDone := make(chan struct{})
	go func() {
		defer close(killDone)
		if p.point == "" {
			select {
			case <-time.After(p.killAt):
				for _, v := range victims() {
					v.kill()
				}
			case <-stopKill:
			}
			return
		}
		// A fault point: when the armed server dies, kill the other
		// too if the plan says so.
		armed := c.venti
		if p.armed() == "fossil" {
			armed = c.fossil.proc
		}
		select {
		case <-armed.exit:
			if p.victim == "both" {
				for _, v := range victims() {
					v.kill()
				}
			}
		case <-stopKill:
		}
	}()
	if fossilUp {
		for _, w := range g.workers {
			conn, err := dial9P(c.fossil.addr)
			if err != nil {
				if c.fossil.stillUp() {
					st.fail("9P: %v", err)
				}
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.close()
				if err := w.run(ctx, conn); err != nil && c.fossil.stillUp() {
					st.fail("worker %d: %v while fossil runs", w.id, err)
				}
			}()
		}
	}
	c.drive(ctx, st, fossilUp, ventiUp)
	wg.Wait()
	close(stopKill)
	<-killDone
}

// drive issues console commands and venti writes until ctx ends.
func (c *campaign) drive(ctx context.Context, st *cycleState, fossilUp, ventiUp bool) {
	g := c.g
	rnd := rand.New(rand.NewSource(c.rnd.Int63()))
	var z *venti.Conn
	if ventiUp {
		var err error
		if z, err = venti.DialContext(ctx, g.ventiAddr); err != nil {
			ventiUp = false
		} else {
			defer z.Close()
		}
	}
	p := st.plan
	bigBlocks := strings.HasPrefix(p.point, "vtstore.seal")
	first := true
	for ctx.Err() == nil && (fossilUp || ventiUp) {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(20+rnd.Intn(120)) * time.Millisecond):
			}
		}
		r := rnd.Intn(100)
		if first && p.point == "fs.archive.beforelast" {
			r = 65
		}
		if bigBlocks && ventiUp {
			r = 90
		}
		first = false
		switch {
		case r < 55 && fossilUp:
			fossilUp = c.sync(st)
		case r < 70 && fossilUp:
			fossilUp = c.snap(st)
		case ventiUp:
			ventiUp = c.ventiWrites(ctx, st, z, rnd, bigBlocks)
		}
	}
}

// sync runs the console's sync; when it returns, the workers' states
// at its start are on disk.
func (c *campaign) sync(st *cycleState) bool {
	type m struct {
		idx int
		t   *tree
	}
	var marks []m
	for _, w := range c.g.workers {
		i, t := w.mark()
		marks = append(marks, m{i, t})
	}
	out, err := c.fossil.console("fsys main sync", time.Minute)
	if err != nil {
		if c.fossil.stillUp() {
			st.fail("sync: %v", err)
		}
		return false
	}
	ok := false
	for _, l := range out {
		if strings.Contains(l, "main sync: wrote") {
			ok = true
		}
	}
	if !ok {
		st.note("sync: %q", out)
		return true
	}
	c.sum.Syncs++
	for i, w := range c.g.workers {
		w.synced(marks[i].idx, marks[i].t)
	}
	return true
}

// snap runs snap -a, recording the steps it may have caught.
func (c *campaign) snap(st *cycleState) bool {
	s := &snapRec{}
	for _, w := range c.g.workers {
		i, _ := w.mark()
		s.lo = append(s.lo, i)
		s.hi = append(s.hi, -1)
	}
	c.g.snaps = append(c.g.snaps, s)
	c.sum.Snaps++
	out, err := c.fossil.console("fsys main snap -a", time.Minute)
	for i, w := range c.g.workers {
		s.hi[i] = w.last()
	}
	if err != nil {
		if c.fossil.stillUp() {
			st.fail("snap -a: %v", err)
		}
		return false
	}
	for _, l := range out {
		if l != "" && !archiveRE.MatchString(l) {
			st.note("snap -a: %s", l)
		}
	}
	return true
}

// ventiWrites writes a few blocks to venti and syncs.
func (c *campaign) ventiWrites(ctx context.Context, st *cycleState, z *venti.Conn, rnd *rand.Rand, big bool) bool {
	n := 1 + rnd.Intn(4)
	if big {
		n = 8
	}
	var written []venti.Score
	for range n {
		size := 1 + rnd.Intn(16<<10)
		if big {
			size = 56 << 10
		}
		b := make([]byte, size)
		rnd.Read(b)
		if rnd.Intn(2) == 0 {
			for i := range b {
				b[i] = "venti\n"[i%6] + byte(rnd.Intn(2))
			}
		}
		s, err := z.Write(ctx, venti.DataType, b)
		if err != nil {
			c.ventiGone(ctx, st, "write", err)
			st.unsynced = append(st.unsynced, written...)
			return false
		}
		written = append(written, s)
	}
	if err := z.Sync(ctx); err != nil {
		c.ventiGone(ctx, st, "sync", err)
		st.unsynced = append(st.unsynced, written...)
		return false
	}
	c.g.blocks = append(c.g.blocks, written...)
	c.sum.Blocks += len(written)
	return true
}

func (c *campaign) ventiGone(ctx context.Context, st *cycleState, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	if c.venti.stillUp() {
		st.fail("venti %s: %v while venti runs", what, err)
	}
}

// stopAll ends the cycle's servers: the armed one that did not reach
// its point is killed, the others not killed are stopped cleanly.
func (c *campaign) stopAll(st *cycleState) {
	p := st.plan
	if p.point != "" {
		var armed *proc
		if p.armed() == "fossil" && c.fossil != nil {
			armed = c.fossil.proc
		} else if p.armed() == "venti" {
			armed = c.venti
		}
		if armed != nil && armed.alive() {
			armed.kill()
		}
	}
	if c.fossil != nil {
		if err := c.fossil.stop(30 * time.Second); err != nil {
			st.fail("%v", err)
		}
		st.fossilEnd = c.fossil.end()
	} else {
		st.fossilEnd = "not started"
	}
	if err := c.venti.stop(30 * time.Second); err != nil {
		st.fail("%v", err)
	}
	st.ventiEnd = c.venti.end()
	for _, e := range []struct{ name, end string }{{"fossil", st.fossilEnd}, {"venti", st.ventiEnd}} {
		if e.end == endOther {
			st.fail("%s ended on its own: %s", e.name, map[string]*proc{"fossil": c.fossilProc(), "venti": c.venti}[e.name].state)
		}
	}
}

func (c *campaign) fossilProc() *proc {
	if c.fossil == nil {
		return nil
	}
	return c.fossil.proc
}

// account settles the workers' candidate states and counts the cycle.
func (c *campaign) account(st *cycleState) {
	p := st.plan
	g := c.g
	if st.fossilRan {
		for _, w := range g.workers {
			w.settle(st.fossilEnd == endClean)
			c.sum.Ops += w.ops
			w.ops = 0
			for _, e := range w.errs {
				st.fail("worker %d: the server refused: %s", w.id, e)
			}
			w.errs = nil
		}
	}
	for _, s := range g.snaps {
		for i, w := range g.workers {
			if s.hi[i] < 0 {
				s.hi[i] = w.last()
			}
		}
	}
	if c.fossil != nil {
		sc := c.fossil.archiveScores()
		g.archives = append(g.archives, sc...)
		c.sum.Archives += len(sc)
	}
	if st.ventiEnd == endClean {
		// A clean stop writes out everything written before it.
		g.blocks = append(g.blocks, st.unsynced...)
		c.sum.Blocks += len(st.unsynced)
	}
	if st.startedDeath {
		c.sum.Starting++
	}
	if p.point != "" {
		end := st.ventiEnd
		if p.armed() == "fossil" {
			end = st.fossilEnd
		}
		if end == endFault {
			c.sum.Fired[p.point]++
		} else {
			c.sum.Missed[p.point]++
		}
	} else {
		c.sum.Kills[p.victim]++
	}
	if st.fossilEnd == endClean {
		c.sum.Clean["fossil"]++
	}
	if st.ventiEnd == endClean {
		c.sum.Clean["venti"]++
	}
}

// saveFailure keeps the partitions and the logs of a failing cycle.
func (c *campaign) saveFailure(n int, f *failure) {
	if c.g == nil {
		return
	}
	dst := filepath.Join(c.cfg.Dir, fmt.Sprintf("fail-cycle%d", n))
	if err := os.Rename(c.g.dir, dst); err != nil {
		c.logf("keeping %s: %v", c.g.dir, err)
		dst = c.g.dir
	}
	report := fmt.Sprintf("cycle %d of generation %d, seed %d\n\n%s\n\n%s", n, c.g.n, c.cfg.Seed, f.Error(), f.logs)
	os.WriteFile(filepath.Join(dst, "report.txt"), []byte(report), 0o644)
	c.logf("partitions and logs kept in %s (venti.conf names the old paths)", dst)
	if c.cfg.Verbose {
		c.logf("%s", f.logs)
	}
}
