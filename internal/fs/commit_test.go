package fs

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowSyncPart is a partition file whose syncs wait for a signal, and
// can be made to fail: the background half of a commit in slow motion.
type slowSyncPart struct {
	*os.File
	mu      sync.Mutex
	gate    chan struct{} // if not nil, Sync waits for a value
	fail    error
	started chan struct{} // told when a Sync begins
}

func (p *slowSyncPart) Sync() error {
	p.mu.Lock()
	gate, fail, started := p.gate, p.fail, p.started
	p.mu.Unlock()
	if started != nil {
		select {
		case started <- struct{}{}:
		default:
		}
	}
	if gate != nil {
		<-gate
	}
	if fail != nil {
		return fail
	}
	return p.File.Sync()
}

func openSlow(t *testing.T, name string, cache int) (*Fs, *slowSyncPart) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	p := &slowSyncPart{File: f}
	fs, err := Open(p, st.Size(), Options{CacheBlocks: cache})
	if err != nil {
		t.Fatal(err)
	}
	return fs, p
}

// TestCommitBehind: when the cache fills, the commit's syncs run
// without the engine lock, and writers go on meanwhile; what a later
// Sync reports as synced is all there after a reopen, the blocks the
// background commit wrote included.
func TestCommitBehind(t *testing.T) {
	name := format(t, 32<<20)
	fs, p := openSlow(t, name, 256)
	p.gate = make(chan struct{})
	p.started = make(chan struct{}, 1)
	// 256 cache blocks, 192 of them for local blocks: the first 1 MB
	// starts a commit when 96 blocks are fresh, whose sync then waits
	// at the gate while the writing goes on, up to 192 fresh blocks.
	first := random(1, 1<<20)
	writeFile(t, fs, "/active/first", first)
	select {
	case <-p.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no background commit started after writing 128 blocks into a 256-block cache")
	}
	second := random(2, 400<<10)
	writeFile(t, fs, "/active/second", second) // not blocked by the sync
	// Overwrite what the waiting commit wrote: copies, not changes in
	// place.
	writeFile(t, fs, "/active/first", random(3, 100<<10))
	close(p.gate)
	p.mu.Lock()
	p.gate = nil
	p.mu.Unlock()
	if err := fs.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := fs.Close(); err != nil {
		t.Fatal(err)
	}
	if out := diskCheck(t, name); !isClean(out) {
		t.Errorf("flchk after the commits:\n%s", out)
	}
	fs = open(t, name, Options{})
	defer fs.Close()
	if got := readFile(t, fs, "/active/first"); !bytes.Equal(got, random(3, 100<<10)) {
		t.Errorf("first after reopen: %d bytes, wrong", len(got))
	}
	if got := readFile(t, fs, "/active/second"); !bytes.Equal(got, second) {
		t.Errorf("second after reopen: %d bytes, wrong", len(got))
	}
}

// TestCommitBehindFails: a background commit whose sync fails leaves
// the disk at the last good commit and the file system refusing
// changes, with the error; reads go on.
func TestCommitBehindFails(t *testing.T) {
	name := format(t, 32<<20)
	fs, p := openSlow(t, name, 64)
	kept := random(4, 50<<10)
	writeFile(t, fs, "/active/kept", kept)
	if err := fs.Sync(); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.fail = errors.New("disk on fire")
	p.mu.Unlock()
	f, _ := fs.OpenFile("/active")
	nf, err := f.Create("lost", 0o664, "glenda")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	g := nf.(*File)
	var werr error
	for off := 0; off < 4<<20 && werr == nil; off += 8192 {
		_, werr = g.WriteAt(random(int64(off), 8192), int64(off), "glenda")
	}
	g.Close()
	if werr == nil {
		werr = fs.Sync()
	}
	if werr == nil || !strings.Contains(werr.Error(), "disk on fire") {
		t.Fatalf("writing after a failed sync: %v", werr)
	}
	if err := fs.Sync(); err == nil {
		t.Error("sync after a failed commit succeeded")
	}
	if got := readFile(t, fs, "/active/kept"); !bytes.Equal(got, kept) {
		t.Error("kept file unreadable after the failure")
	}
	fs.Close()
	// Only leaks: the failed commit's blocks, labelled but not in the
	// committed tree, which Open sweeps.
	for _, line := range strings.Split(diskCheck(t, name), "\n") {
		if strings.HasPrefix(line, "error:") && !strings.Contains(line, "unreachable block") {
			t.Errorf("flchk after the failed commit: %s", line)
		}
	}
	fs = open(t, name, Options{})
	defer fs.Close()
	if out := diskCheck(t, name); !isClean(out) {
		t.Errorf("flchk after reopening:\n%s", out)
	}
	if got := readFile(t, fs, "/active/kept"); !bytes.Equal(got, kept) {
		t.Error("kept file lost after reopening")
	}
}
