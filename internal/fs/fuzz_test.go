package fs

import (
	"encoding/binary"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/plan9fossil/fossil/internal/vac"
)

// memPart is a partition in memory.
type memPart struct{ b []byte }

func (m *memPart) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memPart) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, io.ErrShortWrite
	}
	return copy(m.b[off:], p), nil
}

func (m *memPart) Sync() error { return nil }

var (
	fuzzOnce  sync.Once
	fuzzImage []byte
)

// fuzzBase is a small file system with a few files and a snapshot.
func fuzzBase(t testing.TB) []byte {
	fuzzOnce.Do(func() {
		name := format(t, 2<<20)
		fs := open(t, name, Options{})
		mkdir(t, fs, "/active/d")
		writeFile(t, fs, "/active/d/a", random(1, 20000))
		writeFile(t, fs, "/active/b", []byte("hello"))
		fs.Snapshot("", "/snapshot/s", false)
		writeFile(t, fs, "/active/d/a", random(2, 9000))
		fs.Close()
		fuzzImage, _ = os.ReadFile(name)
	})
	return fuzzImage
}

// walkAll reads every file of a tree and tries a change, ignoring
// errors: the fuzzer looks for panics and hangs.
func walkAll(f *File, depth int) {
	if depth > 8 {
		return
	}
	des, err := f.ReadDir()
	if err != nil {
		return
	}
	for _, de := range des {
		g, err := f.walk(de.Elem)
		if err != nil {
			continue
		}
		if g.IsDir() {
			walkAll(g, depth+1)
		} else {
			buf := make([]byte, 4096)
			g.ReadAt(buf, 0)
			g.ReadAt(buf, int64(de.Size)-100)
			g.WriteAt([]byte("x"), 10, "fuzz")
		}
		g.Close()
	}
	if g, err := f.create("new", 0o664, "fuzz"); err == nil {
		g.WriteAt([]byte("data"), 0, "fuzz")
		g.Remove("fuzz")
		g.Close()
	}
}

// FuzzCorruptPartition damages a partition at chosen places (the
// header, super block, labels and data blocks all live in the first
// 2 MiB) and uses it: every problem must be an error, never a panic.
func FuzzCorruptPartition(f *testing.F) {
	base := fuzzBase(f)
	f.Add(uint32(128<<10), []byte{0xff})
	f.Add(uint32(18*8192+10), []byte{0, 0, 0, 9})
	f.Add(uint32(19*8192), []byte{1, 8, 0, 0, 0, 1})
	f.Add(uint32(26*8192), []byte{0xde, 0xad})
	f.Add(uint32(28*8192+40), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7})
	f.Fuzz(func(t *testing.T, off uint32, patch []byte) {
		img := append([]byte(nil), base...)
		o := int(off) % len(img)
		copy(img[o:], patch)
		if len(patch) >= 4 {
			// A second change, derived, so that two structures can
			// disagree.
			o2 := int(binary.BigEndian.Uint32(patch)) % len(img)
			img[o2] ^= patch[len(patch)-1]
		}
		fs, err := Open(&memPart{img}, int64(len(img)), Options{CacheBlocks: 64})
		if err != nil {
			return
		}
		defer fs.Close()
		root, err := fs.Root()
		if err != nil {
			return
		}
		walkAll(root, 0)
		root.Close()
		fs.Snapshot("", "", false)
		fs.Sync()
	})
}

var _ = vac.ModeDir
