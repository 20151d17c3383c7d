package vtdisk

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/venti"
)

// TestPlan9C reads the venti that 9legacy's C tools made on real Plan 9
// (386). The disk image's plan9 partition holds a disk/prep table;
// the README gives the partitions in absolute sectors: arenas
// 45120-114752, isect 114752-131040.
func TestPlan9C(t *testing.T) {
	sum := strings.Fields(fixtureText(t, "plan9-c/disk64-after.img.sha256"))[0]
	disk, _ := openFixture(t, "plan9-c/disk64-after.img.gz", sum)
	arenas := io.NewSectionReader(disk, 45120*512, (114752-45120)*512)
	isect := io.NewSectionReader(disk, 114752*512, (131040-114752)*512)
	// out/ls-sdC0.txt: the partition sizes as Plan 9 saw them.
	if arenas.Size() != 35651584 || isect.Size() != 8339456 {
		t.Fatalf("partition sizes %d %d", arenas.Size(), isect.Size())
	}
	p, err := OpenArenaPartition(arenas, arenas.Size())
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := p.PrintArenaPart(&out, time.FixedZone("EST", -5*3600)); err != nil {
		t.Fatal(err)
	}
	// The Plan 9 listing, times in EST: the never-written arenas (times
	// 0) come out in 2106 because Plan 9's ctime adds the zone offset
	// in unsigned arithmetic; Ctime does the same.
	want := strings.TrimSuffix(fixtureText(t, "plan9-c/out/printarenapart.txt"), "bad line: \n")
	if out.String() != want {
		t.Errorf("printarenapart:\n%s\nwant:\n%s", out.String(), want)
	}
	// Plan 9 wrote no configuration block (venti.conf was a file).
	if _, err := ReadConfig(arenas); err == nil {
		t.Errorf("found a config block")
	}

	s, err := OpenIndexSection(isect, isect.Size())
	if err != nil {
		t.Fatal(err)
	}
	ix, err := OpenIndex(s)
	if err != nil {
		t.Fatal(err)
	}
	// out/venti-index.html.
	if ix.Buckets() != 921 || ix.Div != 4663374 || s.Header.BucketMax() != 215 || s.Header.TableSize() != 524288 {
		t.Errorf("buckets=%d div=%d buckmax=%d tabsize=%d", ix.Buckets(), ix.Div, s.Header.BucketMax(), s.Header.TableSize())
	}
	if a := ix.Map.Arenas[0]; a != (AMap{"arenas00", 1048576, 9420800}) {
		t.Errorf("arena map %v", a)
	}
	total, byScore := checkAll(t, p, ix, nil)
	a, err := p.Arena(0)
	if err != nil {
		t.Fatal(err)
	}
	// "written: clumps=16 compressed clumps=14 data=3,878 compressed
	// data=1,170 storage=2,178", created=modified=1795429259.
	m := a.Tail.Mem
	if total != 16 || m.Clumps != 16 || m.CClumps != 14 || m.UncSize != 3878 ||
		m.Used-16*ClumpSize != 1170 || m.Used+16*ClumpInfoSize != 2178 || a.Tail.CTime != 1795429259 {
		t.Errorf("arenas00: %d clumps, trailer %+v", total, a.Tail)
	}
	// The root block of the archive (out/vacroot.bin, fossil/last).
	root, err := os.ReadFile(fixturePath(t, "plan9-c/out/vacroot.bin"))
	if err != nil {
		t.Fatal(err)
	}
	score := venti.MustParseScore(strings.TrimSpace(strings.TrimPrefix(fixtureText(t, "plan9-c/out/last-archive.txt"), "vac:")))
	if got := byScore[score]; !bytes.Equal(got, root) {
		t.Errorf("root block %v: %d bytes stored", score, len(got))
	}
	if e, found, err := ix.Lookup(score, diskType(t, venti.RootType), false); err != nil || !found || e.Size != 300 {
		t.Errorf("root in index: %+v %v %v", e, found, err)
	}
	if len(byScore) != 16 {
		t.Errorf("%d distinct scores", len(byScore))
	}
}
