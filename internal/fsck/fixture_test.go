package fsck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/vtstore"
	"github.com/plan9fossil/fossil/venti"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}

func fixtureText(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(fixture.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// partition returns one of fossil-b's partitions, unpacked once and
// checked against partitions.sha1.
func partition(t testing.TB, dir, name string) string {
	t.Helper()
	for _, line := range strings.Split(fixtureText(t, dir+"/partitions.sha1"), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == name {
			return fixture.Unpack(t, dir+"/"+name+".gz", f[0])
		}
	}
	t.Fatalf("%s/partitions.sha1 lists no %s", dir, name)
	return ""
}

// transcript returns the output of the command of a fixture transcript
// ("% command" then its output) whose line is cmd, up to the next
// command or "[exit".
func transcript(t testing.TB, text, cmd string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l != "% "+cmd {
			continue
		}
		var out []string
		for _, o := range lines[i+1:] {
			if strings.HasPrefix(o, "% ") || strings.HasPrefix(o, "[exit") {
				break
			}
			out = append(out, o)
		}
		for len(out) > 0 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
		return strings.Join(out, "\n") + "\n"
	}
	t.Fatalf("no %q in the transcript", cmd)
	return ""
}

// storeReader serves venti blocks from a vtstore.Store.
type storeReader struct {
	s     *vtstore.Store
	reads int
}

func (r *storeReader) ReadVenti(score venti.Score, t venti.Type) ([]byte, error) {
	r.reads++
	b, err := r.s.Read(context.Background(), score, t, venti.MaxLumpSize)
	if err != nil && strings.HasPrefix(err.Error(), "no block with score") {
		// What a venti server would answer.
		err = fmt.Errorf("%w: %v", ErrNotStored, err)
	}
	return b, err
}

// fossilBVenti is the venti fossil-b archived to.
func fossilBVenti(t testing.TB) *storeReader {
	t.Helper()
	dir := "fossil-b/venti-after-archive"
	s, err := vtstore.Open(&vtdisk.Config{
		Arenas: []string{partition(t, dir, "arenas")},
		ISects: []string{partition(t, dir, "isect")},
		Bloom:  partition(t, dir, "bloom"),
	}, vtstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &storeReader{s: s}
}

// fixtureSource opens a fossil-b partition file.
func fixtureSource(t testing.TB, path string, v fsdisk.BlockReader) BlockSource {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	src, err := OpenDisk(f, st.Size(), v)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// flchk runs the check as fossil/flchk does.
func flchk(t testing.TB, src BlockSource, fast bool) (string, *Report) {
	t.Helper()
	var out bytes.Buffer
	rep, err := Check(src, Options{Venti: !fast, Snapshots: true, Fix: true, Fixer: PrintFixer{W: &out}}, &out)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	return out.String(), rep
}

// cStderr are the lines the C flchk printed on standard error (its
// block cache's complaint about block 0xfa), which came first in the
// transcript; the check itself says the same on standard output.
func withoutCStderr(s string) string {
	var keep []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, "fossil/flchk: cacheLocalData: ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

// TestFixtures checks fossil-b's partitions, fast and through the venti
// the archive went to, and compares with the C flchk: with what it
// printed without its "previously reported" lines (its use-after-free,
// README.txt) on the clean and baddata2 partitions, and with what it
// printed on badlabel2, whose transcript has none of those lines.
func TestFixtures(t *testing.T) {
	patched := fixtureText(t, "fossil-b/flchk-errmap-patched.txt")
	c := fixtureText(t, "fossil-b/fossil-b.txt")
	v := fossilBVenti(t)
	for _, tc := range []struct {
		part       string
		want       string
		used, lost uint32
		errors     int
	}{
		{"fossil-fresh", transcript(t, patched, "patched flchk fossil-fresh.part"), 5, 0, 0},
		{"fossil", transcript(t, patched, "patched flchk fossil.part"), 34, 0, 0},
		{"fossil-baddata2", transcript(t, patched, "patched flchk fossil-baddata2.part"), 34, 0, 7},
		{"fossil-badlabel2", withoutCStderr(transcript(t, c, "fossil/flchk -h 'tcp!127.0.0.1!17034' fossil-badlabel2.part")), 33, 0, 8},
	} {
		path := partition(t, "fossil-b", tc.part+".part")
		for _, fast := range []bool{true, false} {
			reads := v.reads
			got, rep := flchk(t, fixtureSource(t, path, v), fast)
			if got != tc.want {
				t.Errorf("%s (fast %v):\n%s\nwant:\n%s", tc.part, fast, got, tc.want)
			}
			if rep.Total != 4070 || rep.Used != tc.used || rep.Lost != tc.lost || rep.Errors != tc.errors || rep.Free != 4070-tc.used {
				t.Errorf("%s (fast %v): report %+v", tc.part, fast, rep)
			}
			if fast && v.reads != reads {
				t.Errorf("%s: fast mode read %d venti blocks", tc.part, v.reads-reads)
			}
			// The archive and the archived part of the active tree
			// are walked on venti.
			if !fast && tc.part == "fossil" && v.reads-reads < 100 {
				t.Errorf("%s: only %d venti blocks read", tc.part, v.reads-reads)
			}
		}
	}

	// The repairs proposed are the C flchk's, to the line.
	for _, part := range []string{"fossil-badlabel2", "fossil-baddata2"} {
		want := proposals(transcript(t, c, "fossil/flchk -h 'tcp!127.0.0.1!17034' "+part+".part"))
		if len(want) < 6 {
			t.Fatalf("%s: C proposals %q", part, want)
		}
		got, _ := flchk(t, fixtureSource(t, partition(t, "fossil-b", part+".part"), nil), true)
		if p := proposals(got); strings.Join(p, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: proposed\n%s\nwant (C flchk)\n%s", part, strings.Join(p, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestFixtureWalksEverything lists the directories and files the check
// walks on fossil-b with venti: the whole active tree, which is on
// venti since the archive, the archive and the snapshot.
func TestFixtureWalksEverything(t *testing.T) {
	v := fossilBVenti(t)
	var out bytes.Buffer
	src := fixtureSource(t, partition(t, "fossil-b", "fossil.part"), v)
	if _, err := Check(src, Options{Venti: true, Snapshots: true, PrintDirs: true, PrintFiles: true, PrintBlocks: true}, &out); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"/active/usr/root/dir1/big.bin", "/active/usr/root/dir1/sub/", "/active/adm/users",
		"/archive/2026/", "/snapshot/2026/1123/0942/",
		"block 0xfa BtData,1,e=4,-1,tag=0x7dac1a86", "block 0x5 BtDir,d,Venti,Closed,e=1,3,tag=0x5fdd9cf6",
	} {
		if !strings.Contains(out.String(), p+"\n") {
			t.Errorf("no %q in\n%s", p, out.String())
		}
	}
	// Without venti the check says nothing of what is there.
	out.Reset()
	if _, err := Check(fixtureSource(t, partition(t, "fossil-b", "fossil.part"), nil), Options{Snapshots: true, PrintDirs: true}, &out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.Contains(s, "/active/adm") || !strings.Contains(s, "/snapshot/2026/1123/0942/\n") {
		t.Errorf("fast walk:\n%s", s)
	}
}

// copyPartition gives a test a writable copy of a fossil-b partition.
func copyPartition(t testing.TB, name string) memPart {
	t.Helper()
	b, err := os.ReadFile(partition(t, "fossil-b", name+".part"))
	if err != nil {
		t.Fatal(err)
	}
	return memPart(b)
}

// TestFixtureDeletedSnapshot raises fossil-b's low epoch to 2, as
// snapclean would after the snapshot of epoch 1 expired: the check stops
// at epoch 2, counts the blocks only epoch 1 held as free, and reports
// the snapshot's directory as the C check did on the fixture's first
// run (README.txt).
func TestFixtureDeletedSnapshot(t *testing.T) {
	m := copyPartition(t, "fossil")
	d, err := fsdisk.Open(m, int64(len(m)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	s.EpochLow = 2
	buf := make([]byte, d.BlockSize())
	if err := s.Pack(buf); err != nil {
		t.Fatal(err)
	}
	copy(m[int64(d.Header.Super)*int64(d.BlockSize()):], buf)

	out, rep := check(t, m, Options{Snapshots: true})
	want := "checking epoch 4...\ncheck: visited 1/4070 blocks (0%)\nchecking epoch 3...\nchecking epoch 2...\n" +
		"fsys blocks: total=4070 used=29(0.7%) free=4041(99.3%) lost=0(0.0%)\n" +
		"/snapshot/2026/1123/0942 -> 0: snapshot has been deleted\n"
	if out != want || rep.Errors != 0 {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

// recorder is a Fixer that records the repairs asked of it.
type recorder struct {
	calls []string
	fail  bool
}

func (r *recorder) do(s string) error {
	r.calls = append(r.calls, s)
	if r.fail {
		return errors.New("read-only file system")
	}
	return nil
}

func (r *recorder) ClearPointer(addr uint32, i int) error {
	return r.do(fmt.Sprintf("clrp %#x %d", addr, i))
}
func (r *recorder) ClearEntry(addr uint32, i int) error {
	return r.do(fmt.Sprintf("clre %#x %d", addr, i))
}
func (r *recorder) ClearDirEntry(p string) error { return r.do("clri " + p) }
func (r *recorder) CloseBlock(addr uint32) error { return r.do(fmt.Sprintf("bclose %#x", addr)) }

// TestConsoleCheck runs the check as the console does, with its words:
// without repairs enabled they are proposed; with them the Fixer makes
// them and the console's summary counts them.
func TestConsoleCheck(t *testing.T) {
	src := func() BlockSource { return fixtureSource(t, partition(t, "fossil-b", "fossil-badlabel2.part"), nil) }

	o, err := ParseOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	o.Fixer = rec
	var out bytes.Buffer
	rep, err := Check(src(), o, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.calls) != 0 || len(proposals(out.String())) != 7 || rep.Errors != 8 || rep.Clre != 0 ||
		!strings.HasSuffix(out.String(), "\nfsck: 0 clri, 0 clre, 0 clrp, 0 bclose\n") {
		t.Errorf("check: %v %+v\n%s", rec.calls, rep, out.String())
	}

	// clrp enables only clrp: the clre repairs stay proposals.
	o, _ = ParseOptions([]string{"clrp", "pbad"})
	rec = &recorder{}
	o.Fixer = rec
	out.Reset()
	if _, err := Check(src(), o, &out); err != nil || len(rec.calls) != 0 || len(proposals(out.String())) != 7 {
		t.Errorf("check clrp: %v %v\n%s", err, rec.calls, out.String())
	}

	o, _ = ParseOptions([]string{"fix"})
	rec = &recorder{}
	o.Fixer = rec
	out.Reset()
	if rep, err = Check(src(), o, &out); err != nil {
		t.Fatal(err)
	}
	want := "clre 0xf6 1 clre 0xf7 0 clre 0xf7 1 clre 0xf7 2 clre 0xf7 3 clre 0xf7 4 clre 0xf7 5"
	if strings.Join(rec.calls, " ") != want || rep.Clre != 7 || len(proposals(out.String())) != 0 ||
		!strings.HasSuffix(out.String(), "\nfsck: 0 clri, 7 clre, 0 clrp, 0 bclose\n") {
		t.Errorf("check fix: %q\n%s", rec.calls, out.String())
	}

	// A repair that fails is an error, and is not counted.
	o, _ = ParseOptions([]string{"clre"})
	rec = &recorder{fail: true}
	o.Fixer = rec
	out.Reset()
	if rep, err = Check(src(), o, &out); err != nil || rep.Clre != 0 || len(rec.calls) != 7 ||
		!strings.Contains(out.String(), "error: clre 0xf6 1: read-only file system\n") {
		t.Errorf("failing fixer: %v %+v\n%s", err, rep, out.String())
	}

	if _, err := ParseOptions([]string{"fix", "everything"}); err == nil || !strings.Contains(err.Error(), Usage) {
		t.Errorf("bad word: %v", err)
	}
}

// TestCheckStops checks that a cancelled check ends with the context's
// error, and a check whose output fails with the write error.
func TestCheckStops(t *testing.T) {
	src := fixtureSource(t, partition(t, "fossil-b", "fossil.part"), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := CheckContext(ctx, src, Options{}, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := Check(src, Options{}, failWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing output: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

// brokenVenti is a venti that cannot be reached.
type brokenVenti struct{ reads int }

func (b *brokenVenti) ReadVenti(score venti.Score, t venti.Type) ([]byte, error) {
	b.reads++
	return nil, errors.New("connection reset by peer")
}

// TestFixtureVentiTrouble damages fossil-b where it points at venti:
// /active's entries, which the archive replaced by venti scores. A
// score venti does not have gets its entry cleared; a venti that
// cannot be read is said once and the check goes on without it.
func TestFixtureVentiTrouble(t *testing.T) {
	m := copyPartition(t, "fossil")
	d, err := fsdisk.Open(m, int64(len(m)))
	if err != nil {
		t.Fatal(err)
	}
	// Entry 0 of block 0xf7, /active's directory: a score no block
	// has.
	off := d.DataOffset(0xf7) + 20
	m[off] ^= 0x55
	e, _ := fsdisk.UnpackEntry(m[off-20:])

	src, err := OpenDisk(m, int64(len(m)), fossilBVenti(t))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep, err := Check(src, Options{Venti: true, Snapshots: true}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("error: could not load venti block %v type 8: not stored on venti", e.Score),
		"# clre 0xf7 0",
		"error: /active/adm -> 0: not stored on venti",
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	if p := proposals(out.String()); len(p) != 1 || rep.Errors != 3 {
		t.Errorf("report %+v\n%s", rep, out.String())
	}

	// A venti that fails is no damage.
	bv := &brokenVenti{}
	src, _ = OpenDisk(m, int64(len(m)), bv)
	out.Reset()
	if rep, err = Check(src, Options{Venti: true, Snapshots: true}, &out); err != nil {
		t.Fatal(err)
	}
	if bv.reads != 1 || rep.Errors != 1 || len(proposals(out.String())) != 0 ||
		!strings.Contains(out.String(), "connection reset by peer; not checking what is on venti\n") {
		t.Errorf("broken venti: %d reads, %+v\n%s", bv.reads, rep, out.String())
	}
}
