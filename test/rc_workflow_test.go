//go:build !plan9

package test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// TestBackupWorkflow is the seed's backup workflow (man/8/fossilize,
// EXAMPLES) on real servers: our venti/venti, our fossil/fossil and the
// toolkit of rc/, driven by 9base's rc in the private namespace of
// rc_test.go (its own /srv and /n/9fat), with partitions in files.
//
// The grid: the venti server, whose venti (the primary) is on
// 127.0.0.1 and whose 9fat holds wrcmd and rootscor; gridfour, the
// main fossil server, whose fossil archives to that venti and which
// has a 9fat of its own; three replica ventis on 127.0.0.2 to
// 127.0.0.4, on one port, as ventiprog wants them. Only rx, which Linux
// lacks, is stood in for (test/rc/workflow/rx: it runs the command
// here, with the machine's own 9fat on /n/9fat). gridfour's fossil is
// booted as Plan 9 boots it: fossilconf writes the config block and
// test/rc/workflow/boot runs fossil -f partition -c 'srv -p fscons';
// the config names no venti, so fossil uses $venti, as fossilstart
// has it. (fossilstart itself is not used: it has fossil listen on
// tcp!*!564, beyond the loopback these tests keep to.)
//
// Twice: files are written into gridfour's fossil over 9P (through
// /srv/fossil), then the nightly job runs (test/rc/workflow/nightly:
// the seed's lines, with a wait for the console's "archive vac:" in
// place of sleep 600): snap -a through /srv/fscons, fossilize through
// rx into both 9fats' rootscor, ventiprog to the three replicas, and a
// copy of rootscor to /n/backup. Each step is checked by its effect:
// the archive on the primary holds the files written; both rootscor
// files got fossilize's line with that archive's score; ventiprog sent
// every clump written since its last run, no more, to each replica,
// and saved the new offset; every replica then serves the whole
// archive, block for block.
//
// Then the primary venti is stopped, and the scores are taken from the
// backup copy of rootscor: for each replica, fosreset restores the
// newest archive on a new partition, which, read with fsdisk's Reader
// and blocks from that replica alone, is the archived tree entry for
// entry and byte for byte; the first archive comes back too. Last, our
// fossil is booted on one restored partition with the replica as its
// venti: it serves the files over 9P, takes new ones, and archives to
// the replica, as the seed promises ("re-rooted to a new venti/new
// fossil and still keep working").
func TestBackupWorkflow(t *testing.T) {
	began := time.Now()
	w := newRC(t)
	if !w.ns {
		t.Skip("the workflow needs a private namespace (unshare -rm) for /srv and /n/9fat")
	}
	wf := filepath.Join(root(), "test/rc/workflow")
	w.path = []string{wf}
	rel := func(name string) string {
		r, err := filepath.Rel(w.scripts, filepath.Join(wf, name))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	machines := filepath.Join(w.dir, "machines")
	gridFat := filepath.Join(machines, "gridfour", "9fat")
	backup := filepath.Join(w.root, "n", "backup")
	for _, d := range []string{gridFat, backup} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A 9fat is never empty (fossilize takes an empty /n/9fat for one
	// not mounted).
	os.WriteFile(filepath.Join(gridFat, "plan9.ini"), []byte("bootfile=sdC0!9fat!9pcf\n"), 0o644)

	// The ventis.
	conf, arenas := newVenti(t, "grid")
	primary := startVenti(t, conf, "127.0.0.1")
	port := freePortOn(t, "127.0.0.2", "127.0.0.3", "127.0.0.4")
	var replicas []*ventiServer
	for i, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		c, _ := newVenti(t, fmt.Sprintf("r%d", i+2))
		v, _ := startVentiAt(t, c, ip, port)
		replicas = append(replicas, v)
	}

	// gridfour's fossil, on a partition fresh from flfmt.
	part := newPart(t, 64<<20)
	if r := run(t, nil, nil, "fossil/flfmt", "-y", part); !r.ok {
		t.Fatalf("flfmt: %+v", r)
	}
	w.env = []string{"venti=" + primary.addr, "fossil=" + part, "rxhosts=" + machines}
	// The configuration fossilstart sends, but for listen and snaptime
	// (no timed snapshots or archives: the test takes them).
	config := "fsys main config\nfsys main open -c 3000\nsrv -A fossil\n"
	if r := w.run([]byte(config), "fossilconf", "-w", part); r.status != "" {
		t.Fatalf("fossilconf -w: %+v", r)
	}
	gridfour := wfBoot(t, w, rel("boot"), part, "fscons", "fossil")
	for _, c := range []string{
		"fsys main create /active/usr sys sys d775",
		"fsys main create /active/usr/glenda glenda glenda d775",
	} {
		// The console says nothing but the command it read.
		out := gridfour.console(t, c)
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if strings.TrimPrefix(l, gridfour.prompt()) != c {
				t.Fatalf("console: %s: %q", c, out)
			}
		}
	}
	fsys := wfMount(t, filepath.Join(w.srv, "fossil"), "glenda")

	// The operator writes wrcmd once, as the seed's example has it.
	aoff := arenaOffsets(t, arenas)["grid.0"]
	if aoff == "" {
		t.Fatalf("no arena grid.0 in %s", arenas)
	}
	wrcmd := fmt.Sprintf("wrarena -h %s -o %s %s 0", replicas[0].addr, aoff, arenas)
	if err := os.WriteFile(filepath.Join(w.fat, "wrcmd"), []byte(wrcmd+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The first night's files.
	m := &wfModel{files: map[string][]byte{}, dirs: map[string]bool{}}
	home := "/usr/glenda"
	for _, d := range []string{"lib", "src", "tmp"} {
		m.mkdir(t, fsys, home+"/"+d)
	}
	m.create(t, fsys, home+"/notes", []byte(strings.Repeat("the first night's notes\n", 100)))
	m.create(t, fsys, home+"/empty", nil)
	m.create(t, fsys, home+"/lib/profile", []byte("bind -a $home/bin/rc /bin\n"))
	// Big enough for two levels of pointer blocks.
	m.create(t, fsys, home+"/src/big", randBytes(1, 3500000))
	m.create(t, fsys, home+"/src/mid", randBytes(2, 100000))

	var (
		state    = wfState{wrcmd: wrcmd}
		archives []map[string]wfEntry // the archived trees, as the primary serves them
		models   []*wfModel           // what had been written then
		scores   []string
	)
	night := func(n int) {
		t.Helper()
		clumps0 := wfClumps(t, primary)
		r := w.run(nil, rel("nightly"))
		logText := string(readFile(t, gridfour.log))
		if r.status != "" {
			if strings.Contains(logText, "no venti server") {
				t.Errorf("night %d: gridfour's fossil has no venti: its config names none, so fsys main open should have dialled $venti (%s), as the C fossil's does", n, primary.addr)
			}
			t.Fatalf("night %d: nightly: %+v\nconsole log:\n%s", n, r, logText)
		}

		// snap -a: one more archive, and it holds the files written.
		all := regexp.MustCompile(`archive vac:([0-9a-f]{40})`).FindAllStringSubmatch(logText, -1)
		if len(all) != n {
			t.Fatalf("night %d: the console printed %d archives, want %d:\n%s", n, len(all), n, logText)
		}
		score := all[n-1][1]
		if slices.Contains(scores, score) {
			t.Fatalf("night %d: archive vac:%s again", n, score)
		}
		tree := wfArchive(t, primary.addr, score)
		m.check(t, fmt.Sprintf("night %d: archive on the primary", n), tree)

		// fossilize: the line in gridfour's 9fat and, through rx's
		// output, in the venti server's.
		line := "vac:" + score + " " + part + " " + primary.addr
		state.gridLog += line + "\n"
		if got := string(readFile(t, filepath.Join(gridFat, "rootscor"))); got != state.gridLog {
			t.Errorf("night %d: gridfour's rootscor:\n%s\nwant:\n%s", n, got, state.gridLog)
		}

		// ventiprog: each venti got every clump written since the
		// last run, and the new offset is saved.
		clumps := wfClumps(t, primary)
		sent := clumps - clumps0
		if sent <= 0 {
			t.Fatalf("night %d: the primary stored no clumps (%d, then %d)", n, clumps0, clumps)
		}
		reports, old, cmd := ventiprogOutput(t, rcResult{stdout: r.stdout})
		var want []string
		for _, v := range append(replicas[:1:1], replicas...) {
			want = append(want, fmt.Sprintf("%s: grid.0: sent %d clumps", v.addr, sent))
		}
		if !sameReports(reports, want) {
			t.Errorf("night %d: ventiprog reported %q, want %q", n, reports, want)
		}
		prefix := strings.TrimSuffix(state.wrcmd, endOffsetArg.FindString(state.wrcmd)) + " "
		if old != state.wrcmd || !strings.HasPrefix(cmd, prefix) || wfOffset(t, cmd) <= wfOffset(t, old) {
			t.Errorf("night %d: ventiprog: old %q new %q, want old %q and a later offset", n, old, cmd, state.wrcmd)
		}
		if got := w.fatFile("wrcmd"); got != cmd+"\n" {
			t.Errorf("night %d: wrcmd %q, want %q", n, got, cmd)
		}
		state.fatLog += line + "\n" + old + "\n" + cmd + "\n"
		state.wrcmd = cmd
		if got := w.fatFile("rootscor"); got != state.fatLog {
			t.Errorf("night %d: the venti server's rootscor:\n%s\nwant:\n%s", n, got, state.fatLog)
		}
		if got, _ := os.ReadFile(filepath.Join(backup, "rootscor")); string(got) != state.fatLog {
			t.Errorf("night %d: /n/backup/rootscor:\n%s\nwant:\n%s", n, got, state.fatLog)
		}

		// Every replica holds what the primary holds, and serves the
		// archive whole.
		for _, v := range replicas {
			if c := wfClumps(t, v); c != clumps {
				t.Errorf("night %d: %s holds %d clumps, the primary %d", n, v.addr, c, clumps)
			}
			wfSame(t, fmt.Sprintf("night %d: archive on %s", n, v.addr), wfArchive(t, v.addr, score), tree)
		}
		archives = append(archives, tree)
		models = append(models, m.copy())
		scores = append(scores, score)
	}
	night(1)

	// The second day: more files, some changed, one gone.
	m.write(t, fsys, home+"/notes", int64(len(m.files[home+"/notes"])), []byte("and the second's\n"))
	m.write(t, fsys, home+"/src/mid", 50000, randBytes(3, 10000))
	m.remove(t, fsys, home+"/lib/profile")
	m.mkdir(t, fsys, home+"/doc")
	m.create(t, fsys, home+"/doc/day2", randBytes(4, 500000))
	night(2)
	if t.Failed() {
		t.FailNow()
	}

	// The disaster: the primary is gone. Bring the trees back from the
	// replicas, with the scores of the backup of rootscor.
	primary.cmd.Process.Kill()
	primary.cmd.Wait()
	var vacs [][]string
	for _, l := range strings.Split(string(readFile(t, filepath.Join(backup, "rootscor"))), "\n") {
		if f := strings.Fields(l); len(f) == 3 && strings.HasPrefix(f[0], "vac:") {
			vacs = append(vacs, f)
		}
	}
	if len(vacs) != 2 || vacs[0][0] != "vac:"+scores[0] || vacs[1][0] != "vac:"+scores[1] {
		t.Fatalf("the backup of rootscor records %q, want the scores %q", vacs, scores)
	}
	restore := func(v *ventiServer, score string, archive map[string]wfEntry, model *wfModel) string {
		t.Helper()
		p := newPart(t, 64<<20)
		r := w.run(nil, "fosreset", score, p, v.addr)
		if r.status != "" || r.stdout != "" {
			t.Fatalf("fosreset %s %s %s: %+v", score, p, v.addr, r)
		}
		if r := run(t, nil, nil, "fossil/last", p); r.stdout != score+"\n" {
			t.Errorf("fossil/last after fosreset from %s: %+v", v.addr, r)
		}
		tree := wfRestored(t, p, v.addr)
		wfSame(t, "tree restored from "+v.addr, tree, archive)
		model.check(t, "tree restored from "+v.addr, tree)
		return p
	}
	var last string
	for _, v := range replicas {
		last = restore(v, vacs[1][0], archives[1], models[1])
	}
	restore(replicas[1], vacs[0][0], archives[0], models[0])

	// The new gridfour: our fossil on the partition last restored, with
	// that replica as its venti, serves the tree and goes on working.
	v := replicas[2]
	text := "fsys main config\nfsys main open -c 3000\nsrv -A fossil.new\n"
	if r := w.run([]byte(text), "fossilconf", "-w", last); r.status != "" {
		t.Fatalf("fossilconf -w: %+v", r)
	}
	w.env = []string{"venti=" + v.addr}
	newgrid := wfBoot(t, w, rel("boot"), last, "fscons.new", "fossil.new")
	fsys = wfMount(t, filepath.Join(w.srv, "fossil.new"), "glenda")
	models[1].check9P(t, fsys, "the new gridfour")
	m = models[1].copy()
	m.create(t, fsys, home+"/after", []byte("written after the disaster\n"))
	newgrid.console(t, "fsys main snap -a")
	sc := newgrid.waitLog(t, `archive vac:([0-9a-f]{40})`)[1]
	m.check(t, "the new gridfour's archive on "+v.addr, wfArchive(t, v.addr, sc))

	t.Logf("the workflow took %v", time.Since(began).Round(time.Millisecond))
}

// wfState is what the 9fats should hold.
type wfState struct {
	wrcmd   string // the venti server's wrcmd
	fatLog  string // the venti server's rootscor
	gridLog string // gridfour's rootscor
}

// wfBoot boots fossil on part with test/rc/workflow/boot, its console
// posted as /srv/cons and its 9P service as /srv/nine (named in the
// partition's config), and makes sure it is stopped when the test ends.
func wfBoot(t *testing.T, w *rcWorld, boot, part, cons, nine string) *fossilServer {
	t.Helper()
	r := w.run(nil, boot, part, cons)
	pids := wfFossils(part)
	t.Cleanup(func() {
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if r.status != "" || len(pids) != 1 {
		t.Fatalf("boot %s: %+v; fossils %v", part, r, pids)
	}
	f := &fossilServer{
		cons:   filepath.Join(w.srv, cons),
		log:    filepath.Join(w.srv, cons+".log"),
		srv:    filepath.Join(w.srv, nine),
		stderr: &bytes.Buffer{},
	}
	for _, p := range []string{f.cons, f.log, f.srv} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("boot %s: %v; it printed %+v", part, err, r)
		}
	}
	return f
}

// wfFossils returns the ids of the fossil processes that were given
// part as an argument.
func wfFossils(part string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		args, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if string(comm) == "fossil\n" && slices.Contains(strings.Split(string(args), "\x00"), part) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// wfMount attaches to a fossil's posted 9P service.
func wfMount(t *testing.T, path, user string) *client.Fsys {
	t.Helper()
	fsys, err := dialNet9P(t, "unix", path).Attach(nil, user, "")
	if err != nil {
		t.Fatalf("attach %s as %s: %v", path, user, err)
	}
	return fsys
}

// wfClumps is how many clumps a venti holds, from its /storage page.
func wfClumps(t *testing.T, v *ventiServer) int {
	t.Helper()
	page := v.get(t, "/storage")
	mm := regexp.MustCompile(`(?m)^clumps=([0-9,]+) `).FindStringSubmatch(page)
	if mm == nil {
		t.Fatalf("%s: no clumps= in /storage:\n%s", v.addr, page)
	}
	n, _ := strconv.Atoi(strings.ReplaceAll(mm[1], ",", ""))
	return n
}

// wfOffset is the clump offset at the end of a wrarena command.
func wfOffset(t *testing.T, cmd string) int64 {
	t.Helper()
	mm := endOffsetArg.FindStringSubmatch(cmd)
	if mm == nil {
		t.Fatalf("no clump offset in %q", cmd)
	}
	n, err := strconv.ParseInt(mm[1], 0, 64)
	if err != nil {
		t.Fatalf("%q: %v", cmd, err)
	}
	return n
}

// A wfEntry is a file or directory of a tree read with fsdisk: its
// directory entry and a file's contents.
type wfEntry struct {
	dir  vac.DirEntry
	data []byte
}

// wfFlatten reads every file and directory under f into a map by path.
func wfFlatten(t *testing.T, what string, f *fsdisk.File, path string, into map[string]wfEntry) {
	t.Helper()
	ds, err := f.ReadDir()
	if err != nil {
		t.Fatalf("%s: %s: %v", what, path, err)
	}
	for _, d := range ds {
		p := path + "/" + d.Elem
		c, err := f.Walk(d.Elem)
		if err != nil {
			t.Fatalf("%s: %s: %v", what, p, err)
		}
		e := wfEntry{dir: d}
		if c.IsDir() {
			wfFlatten(t, what, c, p, into)
		} else if e.data, err = io.ReadAll(c.Reader()); err != nil {
			t.Fatalf("%s: %s: %v", what, p, err)
		}
		into[p] = e
	}
}

// wfArchive reads the active tree of the archive score from the venti
// at addr, and nothing else.
func wfArchive(t *testing.T, addr, score string) map[string]wfEntry {
	t.Helper()
	z, err := venti.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	sc, _, err := venti.ParseScore(score)
	if err != nil {
		t.Fatal(err)
	}
	what := "vac:" + score + " on " + addr
	top, err := fsdisk.NewVentiReader(ventiReader{z}).OpenVac(sc)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	active, err := top.Walk("active")
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	tree := map[string]wfEntry{}
	wfFlatten(t, what, active, "", tree)
	return tree
}

// wfRestored reads the active tree of a fossil partition, its archived
// blocks from the venti at addr.
func wfRestored(t *testing.T, part, addr string) map[string]wfEntry {
	t.Helper()
	z, err := venti.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	d, s := openSuper(t, part)
	what := part + " with " + addr
	top, err := fsdisk.NewReader(d, ventiReader{z}).Root(s.Active)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	active, err := top.Walk("active")
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	tree := map[string]wfEntry{}
	wfFlatten(t, what, active, "", tree)
	return tree
}

// wfSame compares two trees entry for entry and byte for byte.
func wfSame(t *testing.T, what string, got, want map[string]wfEntry) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("%s: nothing to compare", what)
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: %s is missing", what, p)
		case !sameDirEntry(g.dir, want[p].dir):
			t.Errorf("%s: %s: entry %+v, want %+v", what, p, g.dir, want[p].dir)
		case !bytes.Equal(g.data, want[p].data):
			t.Errorf("%s: %s: %d bytes differ from the %d archived", what, p, len(g.data), len(want[p].data))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: %s should not be there", what, p)
		}
	}
}

// wfModel is what the test wrote into the fossil under /usr/glenda.
type wfModel struct {
	files map[string][]byte
	dirs  map[string]bool
}

func (m *wfModel) copy() *wfModel {
	c := &wfModel{files: map[string][]byte{}, dirs: map[string]bool{}}
	for p, b := range m.files {
		c.files[p] = slices.Clone(b)
	}
	for p := range m.dirs {
		c.dirs[p] = true
	}
	return c
}

func (m *wfModel) mkdir(t *testing.T, fsys *client.Fsys, name string) {
	t.Helper()
	fid, err := fsys.Create(name, plan9.OREAD, plan9.DMDIR|0o775)
	if err != nil {
		t.Fatalf("mkdir %s: %v", name, err)
	}
	fid.Close()
	m.dirs[name] = true
}

func (m *wfModel) create(t *testing.T, fsys *client.Fsys, name string, data []byte) {
	t.Helper()
	fid, err := fsys.Create(name, plan9.OWRITE, 0o664)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	writeFid(t, fid, data)
	fid.Close()
	m.files[name] = slices.Clone(data)
}

// write writes data into an existing file at off.
func (m *wfModel) write(t *testing.T, fsys *client.Fsys, name string, off int64, data []byte) {
	t.Helper()
	fid, err := fsys.Open(name, plan9.OWRITE)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	for done := 0; done < len(data); {
		n, err := fid.WriteAt(data[done:min(done+8192, len(data))], off+int64(done))
		if err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
		done += n
	}
	fid.Close()
	b := m.files[name]
	if end := int(off) + len(data); end > len(b) {
		b = append(b, make([]byte, end-len(b))...)
	}
	copy(b[off:], data)
	m.files[name] = b
}

func (m *wfModel) remove(t *testing.T, fsys *client.Fsys, name string) {
	t.Helper()
	if err := fsys.Remove(name); err != nil {
		t.Fatalf("remove %s: %v", name, err)
	}
	delete(m.files, name)
	delete(m.dirs, name)
}

// check compares a tree's /usr/glenda with what was written there.
func (m *wfModel) check(t *testing.T, what string, tree map[string]wfEntry) {
	t.Helper()
	home := "/usr/glenda"
	if e, ok := tree[home]; !ok || e.dir.Mode&vac.ModeDir == 0 || e.dir.UID != "glenda" {
		t.Errorf("%s: no %s of glenda's: %+v", what, home, e.dir)
	}
	for p, e := range tree {
		if !strings.HasPrefix(p, home+"/") {
			continue
		}
		if e.dir.UID != "glenda" {
			t.Errorf("%s: %s belongs to %q", what, p, e.dir.UID)
		}
		data, isFile := m.files[p]
		switch {
		case e.dir.Mode&vac.ModeDir != 0:
			if !m.dirs[p] {
				t.Errorf("%s: directory %s should not be there", what, p)
			}
		case !isFile:
			t.Errorf("%s: file %s should not be there", what, p)
		case !bytes.Equal(e.data, data):
			t.Errorf("%s: %s holds %d bytes, not the %d written", what, p, len(e.data), len(data))
		}
	}
	for p := range m.files {
		if _, ok := tree[p]; !ok {
			t.Errorf("%s: file %s is missing", what, p)
		}
	}
	for p := range m.dirs {
		if e, ok := tree[p]; !ok || e.dir.Mode&vac.ModeDir == 0 {
			t.Errorf("%s: directory %s is missing", what, p)
		}
	}
}

// check9P compares what a fossil serves under /usr/glenda with what
// was written there.
func (m *wfModel) check9P(t *testing.T, fsys *client.Fsys, what string) {
	t.Helper()
	dirs := []string{"/usr/glenda"}
	for p := range m.dirs {
		dirs = append(dirs, p)
	}
	for _, d := range dirs {
		var want []string
		for p := range m.files {
			if filepath.Dir(p) == d {
				want = append(want, filepath.Base(p))
			}
		}
		for p := range m.dirs {
			if filepath.Dir(p) == d {
				want = append(want, filepath.Base(p))
			}
		}
		slices.Sort(want)
		if got := dirNames(listFsys(t, fsys, d)); !slices.Equal(got, want) {
			t.Errorf("%s: %s lists %q, want %q", what, d, got, want)
		}
	}
	for p, data := range m.files {
		if got := readFsys(t, fsys, p); !bytes.Equal(got, data) {
			t.Errorf("%s: %s reads %d bytes, not the %d written", what, p, len(got), len(data))
		}
	}
}
