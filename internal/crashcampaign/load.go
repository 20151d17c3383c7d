//go:build linux

package main

import (
	"context"
	"fmt"
	"math/rand"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"
)

// A worker writes into a directory of its own over a 9P connection of
// its own, one message at a time, and keeps the states its directory
// went through: the state after each message is a step. After a crash
// the directory must be in one of the states from the last sync on.
type worker struct {
	id  int
	dir string // its directory, from the attach root
	rnd *rand.Rand

	mu       sync.Mutex
	cur      *tree    // the state after the last step; never changed in place
	log      []digest // the digest after each step of the generation
	done     int      // the last step whose reply came
	doneTree *tree    // the state after step done
	// The state at the last completed sync: log[syncMark] is on disk.
	syncMark int
	syncTree *tree
	// cands are the states the directory may be found in at the next
	// start, from the end of the last cycle; nil: not yet set.
	cands []digest

	errs []string // 9P errors the server should not have sent
	ops  int
}

func newWorker(id int, seed int64) *worker {
	w := &worker{id: id, dir: fmt.Sprintf("/cc/w%d", id), rnd: rand.New(rand.NewSource(seed))}
	w.cur = newTree()
	w.adopt(w.cur)
	return w
}

// adopt makes t, found on disk, the state of the directory: a step of
// its own, synced.
func (w *worker) adopt(t *tree) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cur = t
	w.log = append(w.log, t.digest())
	w.done = len(w.log) - 1
	w.doneTree = t
	w.syncMark, w.syncTree = w.done, t
	w.cands = nil
}

// begin makes the next step: change applied to a copy of the state.
func (w *worker) begin(change func(t *tree)) (idx int, prev *tree) {
	w.mu.Lock()
	defer w.mu.Unlock()
	prev = w.cur
	next := w.cur.clone()
	change(next)
	w.cur = next
	w.log = append(w.log, next.digest())
	return len(w.log) - 1, prev
}

// ok records that step idx's reply came.
func (w *worker) ok(idx int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = idx
	w.doneTree = w.cur
}

// undo takes back a step the server refused: the state before it is
// the next step.
func (w *worker) undo(prev *tree, what string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cur = prev
	w.log = append(w.log, prev.digest())
	w.done = len(w.log) - 1
	w.doneTree = prev
	if !strings.Contains(err.Error(), "full") {
		w.errs = append(w.errs, fmt.Sprintf("%s: %v", what, err))
	}
}

// refused records an error of a call that changes nothing.
func (w *worker) refused(what string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !strings.Contains(err.Error(), "full") {
		w.errs = append(w.errs, fmt.Sprintf("%s: %v", what, err))
	}
}

// mark returns the last step whose reply came and its state.
func (w *worker) mark() (int, *tree) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done, w.doneTree
}

// synced records a completed sync that was issued after step idx.
func (w *worker) synced(idx int, t *tree) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if idx > w.syncMark {
		w.syncMark, w.syncTree = idx, t
	}
}

// last returns the index of the newest step.
func (w *worker) last() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.log) - 1
}

// settle sets the states the directory may be found in next time: all
// from the last sync on, or only the last one after a clean stop.
func (w *worker) settle(clean bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if clean {
		w.cands = []digest{w.log[len(w.log)-1]}
		w.syncMark, w.syncTree = len(w.log)-1, w.cur
		return
	}
	w.cands = append([]digest(nil), w.log[w.syncMark:]...)
}

// verify checks the state found at a start against the candidates.
func (w *worker) verify(t *tree) error {
	w.mu.Lock()
	cands, want := w.cands, w.syncTree
	w.mu.Unlock()
	if cands == nil {
		return nil
	}
	d := t.digest()
	for _, c := range cands {
		if c == d {
			return nil
		}
	}
	return fmt.Errorf("worker %d: %s after restart is in none of the %d states from the last sync on; against the synced state:\n\t%s",
		w.id, w.dir, len(cands), t.describe(want))
}

// dial opens a 9P connection with a deadline on every call.
type conn9P struct {
	nc   net.Conn
	c    *client.Conn
	fsys *client.Fsys
}

func dial9P(addr string) (*conn9P, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	c, err := client.NewConn(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	fsys, err := c.Attach(nil, "glenda", "")
	if err != nil {
		c.Close()
		return nil, err
	}
	return &conn9P{nc: nc, c: c, fsys: fsys}, nil
}

func (c *conn9P) close() { c.c.Close() }

// run writes until ctx ends or the server goes; it returns the error
// that ended it, nil at the end of ctx.
func (w *worker) run(ctx context.Context, c *conn9P) error {
	for ctx.Err() == nil {
		c.nc.SetDeadline(time.Now().Add(60 * time.Second))
		if err := w.op(c.fsys); err != nil {
			return err
		}
		w.ops++
	}
	return nil
}

// A failed call either is refused by the server (the step is taken
// back) or shows the server gone (the step stays a candidate).
func (w *worker) call(idx int, prev *tree, what string, err error) (bool, error) {
	if err == nil {
		w.ok(idx)
		return true, nil
	}
	if isConnErr(err) {
		return false, err
	}
	w.undo(prev, what, err)
	return false, nil
}

const maxFiles = 24

// op does one random operation, of one or more steps.
func (w *worker) op(fsys *client.Fsys) error {
	w.mu.Lock()
	cur := w.cur
	w.mu.Unlock()
	var files, dirs []string
	for p := range cur.files {
		files = append(files, p)
	}
	dirs = append(dirs, "")
	for p := range cur.dirs {
		dirs = append(dirs, p)
	}
	// Sorted, so that a seed replays the same choices.
	slices.Sort(files)
	slices.Sort(dirs)
	pick := func(l []string) string { return l[w.rnd.Intn(len(l))] }
	r := w.rnd.Intn(100)
	if len(files) == 0 || len(files) < maxFiles && r < 25 {
		return w.createFile(fsys, pick(dirs))
	}
	if len(files) >= maxFiles && r < 40 {
		r = 90 // make room
	}
	f := pick(files)
	switch {
	case r < 45:
		return w.overwrite(fsys, f, cur.files[f], false)
	case r < 55:
		return w.overwrite(fsys, f, cur.files[f], true)
	case r < 65:
		return w.rewrite(fsys, f)
	case r < 73:
		return w.truncate(fsys, f, cur.files[f])
	case r < 80:
		return w.rename(fsys, f, cur)
	case r < 85 && len(dirs) < 5:
		return w.mkdir(fsys, pick(dirs), cur)
	case r < 87 && len(dirs) > 1:
		return w.rmdir(fsys, pick(dirs[1:]), cur)
	}
	return w.remove(fsys, f)
}

// content makes data of a random size: random bytes, or text that
// compresses.
func (w *worker) content() []byte {
	var n int
	switch r := w.rnd.Intn(100); {
	case r < 70:
		n = w.rnd.Intn(12 << 10)
	case r < 95:
		n = 12<<10 + w.rnd.Intn(52<<10)
	default:
		n = 64<<10 + w.rnd.Intn(192<<10)
	}
	b := make([]byte, n)
	if w.rnd.Intn(2) == 0 {
		w.rnd.Read(b)
		return b
	}
	words := []string{"fossil ", "venti ", "arena ", "clump ", "epoch ", "snapshot ", "archive\n", "9P ", "glenda "}
	for i := 0; i < n; {
		i += copy(b[i:], words[w.rnd.Intn(len(words))])
	}
	return b
}

// newName returns a name not used in dir.
func (w *worker) newName(cur *tree, dir, prefix string) string {
	for {
		p := join(dir, fmt.Sprintf("%s%d", prefix, w.rnd.Intn(1000)))
		if _, ok := cur.files[p]; !ok && !cur.dirs[p] {
			return p
		}
	}
}

// write writes data at off in chunks of random sizes, each a step.
func (w *worker) write(fid *client.Fid, p string, off int, data []byte) error {
	for len(data) > 0 {
		n := 8192
		if w.rnd.Intn(3) == 0 {
			n = 1 + w.rnd.Intn(8192)
		}
		n = min(n, len(data))
		chunk := data[:n]
		at := off
		idx, prev := w.begin(func(t *tree) {
			old := t.files[p]
			nb := make([]byte, max(len(old), at+len(chunk)))
			copy(nb, old)
			copy(nb[at:], chunk)
			t.files[p] = nb
		})
		got, err := fid.WriteAt(chunk, int64(at))
		if err == nil && got != len(chunk) {
			err = fmt.Errorf("short write: %d of %d bytes", got, len(chunk))
			w.undo(prev, "write "+p, err)
			return nil
		}
		if ok, err := w.call(idx, prev, "write "+p, err); !ok {
			return err
		}
		data, off = data[n:], off+n
	}
	return nil
}

func (w *worker) createFile(fsys *client.Fsys, dir string) error {
	w.mu.Lock()
	p := w.newName(w.cur, dir, "f")
	w.mu.Unlock()
	idx, prev := w.begin(func(t *tree) { t.files[p] = nil })
	fid, err := fsys.Create(join(w.dir, p), plan9.OWRITE, 0o664)
	if ok, err := w.call(idx, prev, "create "+p, err); !ok {
		return err
	}
	defer fid.Close()
	return w.write(fid, p, 0, w.content())
}

func (w *worker) overwrite(fsys *client.Fsys, p string, old []byte, appendTo bool) error {
	fid, err := fsys.Open(join(w.dir, p), plan9.OWRITE)
	if err != nil {
		if isConnErr(err) {
			return err
		}
		w.refused("open "+p, err)
		return nil
	}
	defer fid.Close()
	off := len(old)
	if !appendTo && len(old) > 0 {
		off = w.rnd.Intn(len(old) + 1)
	}
	data := w.content()
	if !appendTo {
		data = data[:min(len(data), 1+w.rnd.Intn(32<<10))]
	}
	return w.write(fid, p, off, data)
}

func (w *worker) rewrite(fsys *client.Fsys, p string) error {
	idx, prev := w.begin(func(t *tree) { t.files[p] = nil })
	fid, err := fsys.Open(join(w.dir, p), plan9.OWRITE|plan9.OTRUNC)
	if ok, err := w.call(idx, prev, "open -t "+p, err); !ok {
		return err
	}
	defer fid.Close()
	return w.write(fid, p, 0, w.content())
}

func (w *worker) truncate(fsys *client.Fsys, p string, old []byte) error {
	n := 0
	if len(old) > 0 && w.rnd.Intn(3) > 0 {
		n = w.rnd.Intn(len(old))
	}
	idx, prev := w.begin(func(t *tree) { t.files[p] = old[:n:n] })
	d := nullDir()
	d.Length = uint64(n)
	err := fsys.Wstat(join(w.dir, p), &d)
	_, err = w.call(idx, prev, "truncate "+p, err)
	return err
}

func (w *worker) rename(fsys *client.Fsys, p string, cur *tree) error {
	dir, _ := splitPath(p)
	q := w.newName(cur, dir, "r")
	_, qname := splitPath(q)
	idx, prev := w.begin(func(t *tree) {
		t.files[q] = t.files[p]
		delete(t.files, p)
	})
	d := nullDir()
	d.Name = qname
	err := fsys.Wstat(join(w.dir, p), &d)
	_, err = w.call(idx, prev, "rename "+p, err)
	return err
}

func (w *worker) mkdir(fsys *client.Fsys, dir string, cur *tree) error {
	if strings.Count(dir, "/") >= 1 {
		dir = ""
	}
	p := w.newName(cur, dir, "d")
	idx, prev := w.begin(func(t *tree) { t.dirs[p] = true })
	fid, err := fsys.Create(join(w.dir, p), plan9.OREAD, plan9.DMDIR|0o775)
	if ok, err := w.call(idx, prev, "mkdir "+p, err); !ok {
		return err
	}
	fid.Close()
	return nil
}

func (w *worker) rmdir(fsys *client.Fsys, p string, cur *tree) error {
	for q := range cur.files {
		if strings.HasPrefix(q, p+"/") {
			return nil
		}
	}
	for q := range cur.dirs {
		if strings.HasPrefix(q, p+"/") {
			return nil
		}
	}
	idx, prev := w.begin(func(t *tree) { delete(t.dirs, p) })
	err := fsys.Remove(join(w.dir, p))
	_, err = w.call(idx, prev, "rmdir "+p, err)
	return err
}

func (w *worker) remove(fsys *client.Fsys, p string) error {
	idx, prev := w.begin(func(t *tree) { delete(t.files, p) })
	err := fsys.Remove(join(w.dir, p))
	_, err = w.call(idx, prev, "remove "+p, err)
	return err
}

func splitPath(p string) (dir, name string) {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

// nullDir is a Dir that changes nothing in a wstat.
func nullDir() plan9.Dir {
	var d plan9.Dir
	d.Null()
	return d
}
