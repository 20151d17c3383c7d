package fs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/plan9fossil/fossil/internal/fsck"
	"github.com/plan9fossil/fossil/internal/fsdisk"
)

// cached counts the blocks the cache holds, of every kind.
func cached(fs *Fs) (local, labels, venti int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.c.blocks), len(fs.c.labels), fs.c.vlru.Len()
}

// checkBudget fails the test if the cache holds more than -c blocks.
func checkBudget(t *testing.T, fs *Fs, when string) {
	t.Helper()
	l, lb, v := cached(fs)
	if n := l + lb + v; n > fs.opt.CacheBlocks {
		t.Fatalf("%s: %d blocks cached (%d local, %d label, %d venti), -c %d", when, n, l, lb, v, fs.opt.CacheBlocks)
	}
}

// TestCacheBudget: -c bounds every block in memory, local, label and
// venti blocks together, as the C fossil's cache does, while files are
// written (dirty blocks included), archived, and read back from venti.
func TestCacheBudget(t *testing.T) {
	v, _ := serveVenti(t)
	name := format(t, 64<<20)
	const ncache = 200
	fs := open(t, name, Options{CacheBlocks: ncache, Venti: v})
	mkdir(t, fs, "/active/d")
	files := map[string][]byte{}
	for i := range 4 {
		path := fmt.Sprintf("/active/d/f%d", i)
		files[path] = random(int64(100+i), 1<<20+i*777)
		f := create(t, fs, path, 0o664)
		data := files[path]
		for off := 0; off < len(data); off += 8000 {
			if _, err := f.WriteAt(data[off:min(off+8000, len(data))], int64(off), "glenda"); err != nil {
				t.Fatal(err)
			}
			checkBudget(t, fs, fmt.Sprintf("writing %s at %d", path, off))
		}
		f.Close()
	}
	if _, err := fs.Snapshot("", "", true); err != nil {
		t.Fatal(err)
	}
	score, ok, err := fs.ArchiveNow()
	if err != nil || !ok {
		t.Fatalf("archive: %v %v", ok, err)
	}
	checkBudget(t, fs, "after the archive")
	if err := fs.Close(); err != nil {
		t.Fatal(err)
	}

	// A partition restored from the archive holds only its root: every
	// other block is read from venti through the cache.
	const size = 64 << 20
	fm, err := fsdisk.NewVentiFormat(size, fsdisk.FormatOptions{Label: "restored"}, score, connReader{v}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rname := filepath.Join(t.TempDir(), "restored")
	pf, err := os.Create(rname)
	if err != nil {
		t.Fatal(err)
	}
	if err := pf.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := fm.Write(pf); err != nil {
		t.Fatal(err)
	}
	pf.Close()
	const small = 64
	rs := open(t, rname, Options{CacheBlocks: small, Venti: v, ReadOnly: true})
	defer rs.Close()
	for path, want := range files {
		f, err := rs.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 8192)
		var got []byte
		for off := int64(0); ; off += int64(len(buf)) {
			n, err := f.ReadAt(buf, off)
			got = append(got, buf[:n]...)
			checkBudget(t, rs, fmt.Sprintf("reading %s at %d", path, off))
			if n == 0 || err != nil {
				break
			}
		}
		f.Close()
		if !bytes.Equal(got, want) {
			t.Fatalf("%s from venti: %d bytes, wrong", path, len(got))
		}
	}
	if _, _, nv := cached(rs); rs.c.ventiReads <= int64(nv) || nv == 0 {
		t.Errorf("%d venti reads, %d venti blocks cached: the venti share was never full", rs.c.ventiReads, nv)
	}
}

// TestDroppedBuffersBounded: an operation that reads far more blocks
// than the cache holds (a check reads them all under the lock) keeps
// no more dropped buffers for reuse than may be spare; the rest are
// left to the collector at once.
func TestDroppedBuffersBounded(t *testing.T) {
	name := format(t, 64<<20)
	fs := open(t, name, Options{CacheBlocks: 100})
	defer fs.Close()
	writeFile(t, fs, "/active/big", random(7, 8<<20))
	if err := fs.Sync(); err != nil {
		t.Fatal(err)
	}
	var held, read int
	err := fs.Check(func(src fsck.BlockSource, _ fsck.Fixer) error {
		for a := uint32(0); a < src.NumBlocks(); a++ {
			if l, err := src.ReadLabel(a); err != nil || l.State == fsdisk.BsFree {
				continue
			}
			if _, err := src.ReadData(a); err != nil {
				return err
			}
			read++
		}
		held = len(fs.c.evicted) + len(fs.c.spare) // the lock is held
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if read < 1000 {
		t.Fatalf("the check read only %d blocks", read)
	}
	if held > maxSpare {
		t.Errorf("after reading %d blocks through a 100-block cache, %d dropped buffers held (at most %d)", read, held, maxSpare)
	}
}
