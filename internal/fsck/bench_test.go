package fsck

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/fsck/fsckdamage"
)

// bigPart makes a partition of size bytes in dir holding nfiles files
// of fileSize bytes each, perDir to a directory, whose blocks are
// allocated but not written (zeros): what the check reads is labels,
// pointer blocks, directories and meta blocks.
func bigPart(tb testing.TB, dir string, size int64, nfiles, perDir int, fileSize int64) (*os.File, *fsckdamage.Layout) {
	tb.Helper()
	p := filepath.Join(dir, "fossil.part")
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	if err := f.Truncate(size); err != nil {
		tb.Fatal(err)
	}
	var files []fsckdamage.File
	for i := 0; i < nfiles; i++ {
		files = append(files, fsckdamage.File{Path: fmt.Sprintf("d%02d/f%03d", i/perDir, i%perDir), Size: fileSize})
	}
	l, err := fsckdamage.Build(f, size, files)
	if err != nil {
		tb.Fatal(err)
	}
	return f, l
}

// BenchmarkCheck1GiB times flchk -f on a clean 1 GiB partition, 90%
// full: 900 files of 1 MiB in 9 directories. It reports the blocks
// checked per second; there is no timed assertion.
func BenchmarkCheck1GiB(b *testing.B) {
	f, l := bigPart(b, b.TempDir(), 1<<30, 900, 100, 1<<20)
	var rep *Report
	b.ResetTimer()
	for b.Loop() {
		// A new source each time, as each flchk run starts afresh.
		src, err := OpenDisk(f, 1<<30, nil)
		if err != nil {
			b.Fatal(err)
		}
		rep, err = Check(src, Options{Snapshots: true}, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if rep.Errors != 0 || rep.Used != l.Next || rep.Visited != l.Next {
		b.Fatalf("report %+v, want %d blocks used and visited", rep, l.Next)
	}
	b.ReportMetric(float64(rep.Visited)*float64(b.N)/b.Elapsed().Seconds(), "blocks/s")
	b.ReportMetric(float64(rep.Used), "blocks")
}

// TestBigPartition checks, to the block, a partition of 64 MiB most of
// it in use: the benchmark's shape, small enough for every test run,
// with directories of more entries than a block holds and more
// directory entries than a meta block holds, and caches of all sizes.
func TestBigPartition(t *testing.T) {
	f, l := bigPart(t, t.TempDir(), 64<<20, 500, 250, 100<<10)
	if n := l.Lookup("/active/d00"); n == nil || len(n.Leaves) != 2 || len(n.MetaLeaves) < 2 {
		t.Fatalf("d00: %+v", n)
	}
	src, err := OpenDisk(f, 64<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ncache := range []int{1, 10, 0} {
		var progress bytes.Buffer
		rep, err := Check(src, Options{Snapshots: true, PrintFiles: true, CacheBlocks: ncache, Progress: &progress, ProgressInterval: time.Nanosecond}, io.Discard)
		if err != nil || rep.Errors != 0 || rep.Used != l.Next || rep.Visited != l.Next || rep.Lost != 0 {
			t.Fatalf("cache %d: report %+v %v, want %d blocks used and visited", ncache, rep, err, l.Next)
		}
		for _, p := range []string{"check: epoch 1: visited ", "check: unreachable blocks: label ", "check: directories: "} {
			if !strings.Contains(progress.String(), p) {
				t.Errorf("no progress %q in\n%s", p, progress.String())
			}
		}
	}
}
