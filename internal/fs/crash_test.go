package fs

import (
	"bufio"
	"crypto/sha1"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vac"
	"github.com/plan9fossil/fossil/venti"
)

// The crash test runs a write load in a child process (this test binary
// with FS_CRASH_CHILD set), kills it with SIGKILL at a random moment,
// and checks the partition: consistent, and holding everything the
// child had synced. FS_CRASH_CYCLES sets the number of cycles (default
// 10; 200 or more for a real campaign).

type crashOp struct {
	kind byte // 'w' write a new version, 'r' remove
	file int
	seed int64
	size int
}

// crashOps is the child's load in cycle c, the same in both processes.
func crashOps(c int) []crashOp {
	r := rand.New(rand.NewSource(int64(c)))
	var ops []crashOp
	live := map[int]bool{}
	for i := 0; i < 400; i++ {
		f := r.Intn(12)
		if live[f] && r.Intn(5) == 0 {
			ops = append(ops, crashOp{kind: 'r', file: f})
			delete(live, f)
			continue
		}
		size := r.Intn(64 << 10)
		if r.Intn(8) == 0 {
			size = r.Intn(600 << 10)
		}
		ops = append(ops, crashOp{kind: 'w', file: f, seed: int64(c*100000 + i), size: size})
		live[f] = true
	}
	return ops
}

func crashName(c, f int) string { return fmt.Sprintf("/active/c%d/f%d", c, f) }

func crashChild() {
	name := os.Getenv("FS_CRASH_PART")
	c, _ := strconv.Atoi(os.Getenv("FS_CRASH_CHILD"))
	fs, err := OpenFile(name, Options{CacheBlocks: 200})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	root, _ := fs.OpenFile("/active")
	// Make room: the files of three cycles ago go.
	if old, err := root.walk(fmt.Sprintf("c%d", c-3)); err == nil {
		for f := 0; f < 12; f++ {
			if g, err := old.walk(fmt.Sprintf("f%d", f)); err == nil {
				g.Remove("glenda")
				g.Close()
			}
		}
		old.Remove("glenda")
		old.Close()
	}
	d, err := root.create(fmt.Sprintf("c%d", c), vac.ModeDir|0o775, "glenda")
	if err != nil {
		fmt.Println("mkdir:", err)
		os.Exit(1)
	}
	for i, op := range crashOps(c) {
		name := fmt.Sprintf("f%d", op.file)
		f, err := d.walk(name)
		switch op.kind {
		case 'w':
			if errors.Is(err, ErrNotFound) {
				f, err = d.create(name, 0o664, "glenda")
			}
			if err == nil {
				err = f.Truncate("glenda")
			}
			if err == nil {
				_, err = f.WriteAt(random(op.seed, op.size), 0, "glenda")
			}
		case 'r':
			if err == nil {
				err = f.Remove("glenda")
			}
		}
		if f != nil {
			f.Close()
		}
		if err != nil {
			fmt.Println("op", i, err)
			os.Exit(1)
		}
		if i%7 == 6 {
			if err := fs.Sync(); err != nil {
				fmt.Println("sync:", err)
				os.Exit(1)
			}
			fmt.Println("synced", i+1)
		}
	}
	fmt.Println("done")
	time.Sleep(time.Hour)
}

func TestCrash(t *testing.T) {
	cycles := 10
	if n, err := strconv.Atoi(os.Getenv("FS_CRASH_CYCLES")); err == nil {
		cycles = n
	}
	if testing.Short() {
		cycles = 3
	}
	name := format(t, 48<<20)
	final := map[string][20]byte{} // files of finished cycles
	rnd := rand.New(rand.NewSource(time.Now().UnixNano()))
	for c := 0; c < cycles; c++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "FS_CRASH_CHILD="+strconv.Itoa(c), "FS_CRASH_PART="+name)
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1000)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		time.Sleep(time.Duration(rnd.Intn(400)+10) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		synced := 0
		for l := range lines {
			if n, ok := strings.CutPrefix(l, "synced "); ok {
				synced, _ = strconv.Atoi(n)
			} else if l != "done" {
				t.Fatalf("cycle %d: child: %s", c, l)
			}
		}
		t.Logf("cycle %d: killed after %d synced operations", c, synced)
		crashCheck(t, name, c, synced, final)
	}
}

// crashCheck reopens the partition after cycle c's crash and checks it.
func crashCheck(t *testing.T, name string, c, synced int, final map[string][20]byte) {
	t.Helper()
	fs := open(t, name, Options{})
	defer func() {
		fs.Close()
		checkTree(t, name)
	}()
	for p := range final {
		if strings.HasPrefix(p, fmt.Sprintf("/active/c%d/", c-3)) {
			delete(final, p)
		}
	}
	for p, sum := range final {
		if got := sha1.Sum(readFile(t, fs, p)); got != sum {
			t.Fatalf("cycle %d: %s of an earlier cycle changed", c, p)
		}
	}
	ops := crashOps(c)
	// What each file may hold: its state at the last sync, or any
	// later state (commits happen on their own too).
	type state struct {
		exists bool
		sum    [20]byte
	}
	at := map[int]state{}
	later := map[int][]state{}
	for i, op := range ops {
		var s state
		if op.kind == 'w' {
			s = state{true, sha1.Sum(random(op.seed, op.size))}
		}
		if i < synced {
			at[op.file] = s
		} else {
			later[op.file] = append(later[op.file], s)
		}
	}
	if _, err := fs.OpenFile(fmt.Sprintf("/active/c%d", c)); err != nil {
		if synced == 0 {
			return
		}
		t.Fatalf("cycle %d: directory lost after %d synced ops: %v", c, synced, err)
	}
	for f := 0; f < 12; f++ {
		p := crashName(c, f)
		var got state
		if file, err := fs.OpenFile(p); err == nil {
			file.Close()
			got = state{true, sha1.Sum(readFile(t, fs, p))}
		} else if !errors.Is(err, ErrNotFound) {
			t.Fatalf("cycle %d: %s: %v", c, p, err)
		}
		ok := got == at[f]
		for _, s := range later[f] {
			ok = ok || got == s
		}
		if !ok {
			t.Fatalf("cycle %d: %s: state after crash (exists %v) was never synced nor written (synced %d ops)", c, p, got.exists, synced)
		}
		if got.exists {
			final[p] = got.sum
		}
	}
}

// checkTree checks, with the disk reader only, that every block the
// active tree and its snapshots reach is labelled in use with the type
// and tag its parent expects, and reached once.
func checkTree(t *testing.T, name string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := fsdisk.Open(f, -1)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint32]bool{}
	var walk func(s venti.Score, bt fsdisk.BlockType, tag uint32, where string)
	walk = func(s venti.Score, bt fsdisk.BlockType, tag uint32, where string) {
		a, ok := fsdisk.LocalAddr(s)
		if !ok {
			return
		}
		data, l, err := d.ReadLocal(a, bt, tag)
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		free := l.State == fsdisk.BsFree || l.State&fsdisk.BsClosed != 0 && (l.EpochClose <= sb.EpochLow || l.EpochClose == l.Epoch)
		if free {
			t.Fatalf("%s: block 0x%x is in use but its label %v says free", where, a, &l)
		}
		if seen[a] {
			return // shared with a snapshot
		}
		seen[a] = true
		switch {
		case bt.Level() > 0:
			for i := 0; i+venti.ScoreSize <= len(data); i += venti.ScoreSize {
				var cs venti.Score
				copy(cs[:], data[i:])
				walk(cs, bt-1, tag, where)
			}
		case bt == fsdisk.BtDir:
			for i := 0; i+fsdisk.EntrySize <= len(data); i += fsdisk.EntrySize {
				e, err := fsdisk.UnpackEntry(data[i:])
				if err != nil || !e.IsActive() || !e.IsLocal() {
					continue
				}
				if e.Snap != 0 && e.Snap < sb.EpochLow {
					continue
				}
				walk(e.Score, e.BlockType(), e.Tag, fmt.Sprintf("%s/%d", where, i/fsdisk.EntrySize))
			}
		}
	}
	walk(fsdisk.LocalScore(sb.Active), fsdisk.BtDir, fsdisk.RootTag, "root")
	// Nothing leaked: every block in use is reachable (Open swept).
	for a := uint32(0); a < d.NumData(); a++ {
		l, err := d.ReadLabel(a)
		if err != nil {
			t.Fatal(err)
		}
		free := l.State == fsdisk.BsFree || l.State&fsdisk.BsClosed != 0 && (l.EpochClose <= sb.EpochLow || l.EpochClose == l.Epoch)
		if !free && !seen[a] {
			t.Fatalf("block 0x%x leaked: label %v", a, &l)
		}
	}
}
