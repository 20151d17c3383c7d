package fs

import (
	"fmt"
	"testing"

	"github.com/plan9fossil/fossil/internal/vac"
)

// The engine's benchmarks, on a partition in a file (so in the page
// cache, with the syncs of each commit): sequential write and read of a
// 256 MiB file, creating 10,000 small files, a snapshot of a large tree
// and archiving 256 MiB to an in-memory venti on loopback.

const benchFile = 256 << 20

func benchFs(b *testing.B, size int64) *Fs {
	b.Helper()
	fs := open(b, format(b, size), Options{CacheBlocks: 4096})
	b.Cleanup(func() { fs.Close() })
	return fs
}

func writeBig(b *testing.B, fs *Fs, path string, n int) {
	b.Helper()
	dir, elem := splitPath(path)
	p, err := fs.OpenFile(dir)
	if err != nil {
		b.Fatal(err)
	}
	f, err := p.create(elem, 0o664, "glenda")
	p.Close()
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := random(1, 8192)
	for off := 0; off < n; off += len(buf) {
		if _, err := f.WriteAt(buf, int64(off), "glenda"); err != nil {
			b.Fatal(err)
		}
	}
	if err := fs.Sync(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkWrite256M(b *testing.B) {
	b.SetBytes(benchFile)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fs := benchFs(b, 2*benchFile)
		b.StartTimer()
		writeBig(b, fs, "/active/big", benchFile)
	}
}

func BenchmarkRead256M(b *testing.B) {
	fs := benchFs(b, 2*benchFile)
	writeBig(b, fs, "/active/big", benchFile)
	f, _ := fs.OpenFile("/active/big")
	defer f.Close()
	buf := make([]byte, 8192)
	b.SetBytes(benchFile)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for off := 0; off < benchFile; off += len(buf) {
			if _, err := f.ReadAt(buf, int64(off)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkCreate10000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fs := benchFs(b, 256<<20)
		d, _ := fs.OpenFile("/active")
		b.StartTimer()
		for j := 0; j < 10000; j++ {
			f, err := d.create(fmt.Sprintf("file%05d", j), 0o664, "glenda")
			if err != nil {
				b.Fatal(err)
			}
			f.WriteAt([]byte("small file\n"), 0, "glenda")
			f.Close()
		}
		if err := fs.Sync(); err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
}

// BenchmarkSnapshot takes snapshots of trees of 100 and 10,000 files:
// the time must not grow with the tree.
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			fs := benchFs(b, 512<<20)
			d, _ := fs.OpenFile("/active")
			for j := 0; j < n; j++ {
				f, err := d.create(fmt.Sprintf("file%05d", j), 0o664, "glenda")
				if err != nil {
					b.Fatal(err)
				}
				f.WriteAt([]byte("x"), 0, "glenda")
				f.Close()
			}
			defer d.Close()
			f0, _ := d.walk("file00000")
			defer f0.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := fs.Snapshot("", fmt.Sprintf("/snapshot/s%d", i), false); err != nil {
					b.Fatal(err)
				}
				// A change, so that each snapshot has something to
				// copy on write.
				f0.WriteAt([]byte("y"), 0, "glenda")
			}
		})
	}
}

func BenchmarkArchive256M(b *testing.B) {
	b.SetBytes(benchFile)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		v, _ := serveVenti(b)
		fs := open(b, format(b, 2*benchFile), Options{CacheBlocks: 4096, Venti: v})
		writeBig(b, fs, "/active/big", benchFile)
		b.StartTimer()
		if _, err := fs.Snapshot("", "", true); err != nil {
			b.Fatal(err)
		}
		if _, ok, err := fs.ArchiveNow(); err != nil || !ok {
			b.Fatal(ok, err)
		}
		b.StopTimer()
		fs.Close()
	}
}

var _ = vac.ModeDir
