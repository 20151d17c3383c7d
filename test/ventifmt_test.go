package test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/venti"
)

// The tests of the formatting tools (fmtarenas, fmtisect, fmtbloom,
// fmtindex, conf) and of rdarena, printarena and printarenapart run
// them as venti-a.txt shows the C tools run, on files of the same sizes,
// and compare what they print and write with what the C tools did.

// fmtGunzip unpacks the gzipped fixture rel into dst and checks its
// SHA-1 (hex), if want is not empty.
func fmtGunzip(t *testing.T, rel, dst, want string) {
	t.Helper()
	in, err := os.Open(filepath.Join(fixtures(), rel))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	h := sha1.New()
	if _, err := io.Copy(io.MultiWriter(out, h), zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); want != "" && got != want {
		t.Fatalf("%s: sha1 %s, want %s", rel, got, want)
	}
}

func fmtFixtureText(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures(), rel))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return string(b)
}

// fmtTranscript returns what the command line cmd printed in the
// transcript text ("% cmd" up to "[exit ...]"), each line ending in a
// newline, with the fixture's work directory $W/va/ replaced by dir.
func fmtTranscript(t *testing.T, text, cmd, dir string) []string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l != "% "+cmd {
			continue
		}
		var out []string
		for _, l := range lines[i+1:] {
			if strings.HasPrefix(l, "[exit") {
				return out
			}
			out = append(out, strings.ReplaceAll(l, "$W/va/", dir)+"\n")
		}
	}
	t.Fatalf("transcript has no %q", cmd)
	return nil
}

// fmtSums reads a sha1sum listing.
func fmtSums(text string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			m[f[1]] = f[0]
		}
	}
	return m
}

// fmtFile makes a file of size bytes, all zero.
func fmtFile(t *testing.T, name string, size int64) {
	t.Helper()
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(name, size); err != nil {
		t.Fatal(err)
	}
}

func fmtRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fmtRun runs a command that must succeed and checks that it printed
// want on standard error (the C formatters report there) and nothing
// on standard output.
func fmtRun(t *testing.T, want []string, name string, args ...string) {
	t.Helper()
	r := run(t, nil, []string{"TZ=UTC"}, name, args...)
	if !r.ok || r.stdout != "" || r.stderr != strings.Join(want, "") {
		t.Errorf("%s %q: ok=%v\nstdout %q\nstderr %q\nwant   %q", name, args, r.ok, r.stdout, r.stderr, strings.Join(want, ""))
	}
}

var be = binary.BigEndian

// fmtSameArenas compares our arena partition with the C one, taking
// the random clump magic of each arena from the C partition, and
// leaving out the clump logs, directories and trailers of the arenas
// listed in used (written since by the C venti). It returns how many
// clump magics were different.
func fmtSameArenas(t *testing.T, ours, c []byte, used ...string) int {
	t.Helper()
	if len(ours) != len(c) {
		t.Fatalf("sizes %d and %d", len(ours), len(c))
	}
	cp, err := vtdisk.OpenArenaPartition(bytes.NewReader(c), int64(len(c)))
	if err != nil {
		t.Fatal(err)
	}
	op, err := vtdisk.OpenArenaPartition(bytes.NewReader(ours), int64(len(ours)))
	if err != nil {
		t.Fatal(err)
	}
	if len(op.Map) != len(cp.Map) {
		t.Fatalf("%d arenas, C made %d", len(op.Map), len(cp.Map))
	}
	bs := uint64(cp.Header.BlockSize)
	ours = bytes.Clone(ours)
	differ := 0
	type span struct{ lo, hi uint64 }
	var skip []span
	for i, m := range cp.Map {
		a, err := op.Arena(i)
		if err != nil {
			t.Fatal(err)
		}
		head, tail := m.Start+84, m.Stop-bs+88 // the clump magic in head and trailer
		om, cm := be.Uint32(ours[head:]), be.Uint32(c[head:])
		if om == 0 || om == vtdisk.OldClumpMagic || be.Uint32(ours[tail:]) != om || a.Head.Version != 5 {
			t.Errorf("%s: our clump magic %#x (trailer %#x), version %d", m.Name, om, be.Uint32(ours[tail:]), a.Head.Version)
		}
		if be.Uint32(c[tail:]) != cm {
			t.Errorf("%s: C head and trailer magics differ", m.Name)
		}
		if om != cm {
			differ++
		}
		be.PutUint32(ours[head:], cm)
		be.PutUint32(ours[tail:], cm)
		for _, u := range used {
			if u == m.Name {
				skip = append(skip, span{m.Start + bs, m.Stop})
				// What we wrote there: an empty log and trailer.
				if !bytes.Equal(ours[m.Start+bs:m.Stop-bs], make([]byte, m.Stop-m.Start-2*bs)) {
					t.Errorf("%s: our clump log is not empty", m.Name)
				}
				if a.Tail.Mem != (vtdisk.TailStats{}) || a.Tail.CTime != 0 {
					t.Errorf("%s: our trailer %+v", m.Name, a.Tail)
				}
			}
		}
	}
	var lo uint64
	for _, s := range append(skip, span{uint64(len(c)), uint64(len(c))}) {
		if !bytes.Equal(ours[lo:s.lo], c[lo:s.lo]) {
			i := lo
			for ours[i] == c[i] {
				i++
			}
			t.Errorf("arena partitions differ at %d: %#x, C %#x", i, ours[i], c[i])
		}
		lo = s.hi
	}
	return differ
}

// fmtSameISect compares our index section with the C one, taking the
// random bucket magic from the C section, and allowing for the buckets
// the C venti has written since: theirs carry the section's magic and
// entries, ours are zero. It returns the number of such buckets.
func fmtSameISect(t *testing.T, ours, c []byte) int {
	t.Helper()
	if len(ours) != len(c) {
		t.Fatalf("sizes %d and %d", len(ours), len(c))
	}
	s, err := vtdisk.OpenIndexSection(bytes.NewReader(c), int64(len(c)))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Header
	const magicOff = vtdisk.PartBlank + 156
	om, cm := be.Uint32(ours[magicOff:]), be.Uint32(c[magicOff:])
	if om == 0 || cm != h.BucketMagic {
		t.Errorf("bucket magic %#x, C %#x", om, cm)
	}
	if om == cm {
		t.Logf("same bucket magic %#x as the C section, by chance", om)
	}
	ours = bytes.Clone(ours)
	be.PutUint32(ours[magicOff:], cm)
	if !bytes.Equal(ours[:h.BlockBase], c[:h.BlockBase]) {
		t.Errorf("index section headers or maps differ")
	}
	written := 0
	bs := int64(h.BlockSize)
	for b := int64(h.BlockBase); b < int64(len(c)); b += bs {
		ob, cb := ours[b:min(b+bs, int64(len(c)))], c[b:min(b+bs, int64(len(c)))]
		if bytes.Equal(ob, cb) {
			continue
		}
		if len(cb) == int(bs) && be.Uint32(cb[2:]) == cm && be.Uint16(cb) > 0 && !bytes.ContainsFunc(ob, func(r rune) bool { return r != 0 }) {
			written++
			continue
		}
		t.Errorf("bucket block at %d differs", b)
	}
	return written
}

// TestFmtVentiA formats partitions of venti-a's sizes as venti-a.txt
// shows, with our tools, and compares them with the C tools' partitions
// and reports.
func TestFmtVentiA(t *testing.T) {
	text := fmtFixtureText(t, "venti-a/venti-a.txt")
	sums := fmtSums(fmtFixtureText(t, "venti-a/partitions.sha1"))
	cdir, dir := t.TempDir(), t.TempDir()+"/"
	for _, p := range []string{"arenas", "isect", "bloom"} {
		fmtGunzip(t, "venti-a/"+p+".gz", filepath.Join(cdir, p), sums[p])
	}
	fmtFile(t, dir+"arenas", 96<<20)
	fmtFile(t, dir+"isect", 8<<20)
	fmtFile(t, dir+"bloom", 1<<20)
	fixtureConf := filepath.Join(fixtures(), "venti-a", "venti.conf")
	conf := strings.ReplaceAll(fmtFixtureText(t, "venti-a/venti.conf"), "/dev/sdC0/", dir)
	if err := os.WriteFile(dir+"venti.conf", []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct{ line, name string }{
		{"venti/fmtarenas -a 16M arenas0. $W/va/arenas", "venti/fmtarenas"},
		{"venti/fmtisect isect0 $W/va/isect", "venti/fmtisect"},
		{"venti/fmtbloom $W/va/bloom", "venti/fmtbloom"},
		{"venti/fmtindex $W/va/venti.conf", "venti/fmtindex"},
	} {
		args := strings.Fields(strings.ReplaceAll(c.line, "$W/va/", dir))[1:]
		fmtRun(t, fmtTranscript(t, text, c.line, dir), c.name, args...)
	}
	// conf -w stores the configuration as the C conf stored it: the
	// fixture's venti.conf is that text.
	fmtRun(t, nil, "venti/conf", "-w", dir+"arenas", fixtureConf)
	if r := run(t, nil, nil, "venti/conf", dir+"arenas"); !r.ok || r.stdout != fmtFixtureText(t, "venti-a/venti.conf") || r.stderr != "" {
		t.Errorf("venti/conf: %+v", r)
	}
	want := fmtTranscript(t, text, "venti/printarenapart $W/va/arenas", dir)
	if r := run(t, nil, []string{"TZ=UTC"}, "venti/printarenapart", dir+"arenas"); !r.ok ||
		r.stdout != strings.Join(want[:len(want)-1], "") || r.stderr != want[len(want)-1] {
		t.Errorf("printarenapart: %+v\nwant %q", r, want)
	}

	// The arena partition: all but the clump magics, and the log and
	// trailer of arenas0.0, which the C venti wrote to since.
	n := fmtSameArenas(t, fmtRead(t, dir+"arenas"), fmtRead(t, filepath.Join(cdir, "arenas")), "arenas0.0")
	t.Logf("%d of 6 clump magics differ from the C ones", n)

	// The index section: all but the bucket magic and the buckets the
	// C venti filled.
	if n := fmtSameISect(t, fmtRead(t, dir+"isect"), fmtRead(t, filepath.Join(cdir, "isect"))); n == 0 || n > 11 {
		t.Errorf("%d buckets written by the C venti", n)
	}

	// The bloom filter: ours with the bits of the stored scores set is
	// the C one.
	ours, c := fmtRead(t, dir+"bloom"), fmtRead(t, filepath.Join(cdir, "bloom"))
	f := &vtdisk.Bloom{Data: ours}
	if err := f.BloomHead.Unpack(ours); err != nil || f.NHash != 32 || f.Size != 1<<20 {
		t.Fatalf("bloom head %+v: %v", f.BloomHead, err)
	}
	cp, err := vtdisk.OpenArenaPartition(bytes.NewReader(fmtRead(t, filepath.Join(cdir, "arenas"))), 96<<20)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cp.Arena(0)
	if err != nil {
		t.Fatal(err)
	}
	var scores []venti.Score
	if _, _, err := a.Walk(func(_ uint64, c *vtdisk.Clump, _ []byte) error {
		scores = append(scores, c.Score)
		return nil
	}); err != nil || len(scores) != 11 {
		t.Fatalf("%d clumps: %v", len(scores), err)
	}
	for _, s := range scores {
		f.Add(s)
	}
	if !bytes.Equal(f.Data, c) {
		t.Errorf("bloom filter differs from the C one with the scores added")
	}
}

// TestRdarenaVentiA copies arenas0.0 out of venti-a's arena partition
// as venti-a.txt shows rdarena -v doing.
func TestRdarenaVentiA(t *testing.T) {
	text := fmtFixtureText(t, "venti-a/venti-a.txt")
	sums := fmtSums(fmtFixtureText(t, "venti-a/partitions.sha1"))
	dir := t.TempDir() + "/"
	fmtGunzip(t, "venti-a/arenas.gz", dir+"arenas", sums["arenas"])
	const imgSum = "afd724ec15e1a52d0ac332287684dbe862efa035"
	fmtGunzip(t, "venti-a/arenas0.0.img.gz", dir+"arenas0.0.img", imgSum)
	img := fmtRead(t, dir+"arenas0.0.img")

	want := fmtTranscript(t, text, "venti/rdarena -v $W/va/arenas arenas0.0 > $W/va-off-a/arenas0.0.img", dir)
	r := run(t, nil, nil, "venti/rdarena", "-v", dir+"arenas", "arenas0.0")
	if sum := sha1.Sum([]byte(r.stdout)); !r.ok || hex.EncodeToString(sum[:]) != imgSum || r.stdout != string(img) {
		t.Errorf("rdarena -v: ok=%v, %d bytes, sha1 %x", r.ok, len(r.stdout), sum)
	}
	if r.stderr != strings.Join(want, "") {
		t.Errorf("rdarena -v said\n%s\nwant\n%s", r.stderr, strings.Join(want, ""))
	}
	// Without -v, the copy and its summary; with -q, nothing.
	r = run(t, nil, nil, "venti/rdarena", dir+"arenas", "arenas0.0")
	if !r.ok || r.stdout != string(img) || r.stderr != strings.Join(want[9:], "") {
		t.Errorf("rdarena: ok=%v %d bytes, said %q", r.ok, len(r.stdout), r.stderr)
	}
	r = run(t, nil, nil, "venti/rdarena", "-q", dir+"arenas", "arenas0.5")
	if !r.ok || len(r.stdout) != 100663296-84680704 || r.stderr != "" {
		t.Errorf("rdarena -q arenas0.5: ok=%v %d bytes, said %q", r.ok, len(r.stdout), r.stderr)
	}
	if r.ok && r.stdout != string(fmtRead(t, dir+"arenas")[84680704:]) {
		t.Errorf("rdarena -q arenas0.5: wrong bytes")
	}
}

// TestPrintarenaVentiA lists the arena rdarena copied, and the arena
// partition, as venti-a.txt shows.
func TestPrintarenaVentiA(t *testing.T) {
	text := fmtFixtureText(t, "venti-a/venti-a.txt")
	sums := fmtSums(fmtFixtureText(t, "venti-a/partitions.sha1"))
	dir := t.TempDir() + "/"
	fmtGunzip(t, "venti-a/arenas0.0.img.gz", dir+"arenas0.0.img", "")
	fmtGunzip(t, "venti-a/arenas.gz", dir+"arenas", sums["arenas"])

	// The head line and the clumps on standard output, the summary
	// (three lines) on standard error.
	want := fmtTranscript(t, text, "venti/printarena $W/va-off-a/arenas0.0.img", dir)
	r := run(t, nil, nil, "venti/printarena", dir+"arenas0.0.img")
	if !r.ok || r.stdout != want[0]+strings.Join(want[4:], "") || r.stderr != strings.Join(want[1:4], "") {
		t.Errorf("printarena: %+v\nwant %q", r, want)
	}
	// The same arena in the partition, from the partition offset.
	r2 := run(t, nil, nil, "venti/printarena", "-o", "794624", dir+"arenas")
	if !r2.ok || r2.stdout != r.stdout || !strings.HasPrefix(r2.stderr, "arena='arenas0.0' [802816,17580032)\n") {
		t.Errorf("printarena -o: %+v", r2)
	}
	// The partition itself is no arena.
	r = run(t, nil, nil, "venti/printarena", dir+"arenas")
	if r.ok || r.stdout != "" || !strings.HasPrefix(r.stderr, "venti/printarena: corrupted arena header: ") {
		t.Errorf("printarena on the partition: %+v", r)
	}

	// printarenapart after the C venti ran.
	i := strings.Index(text, "######## offline tools")
	if i < 0 {
		t.Fatal("transcript has no offline section")
	}
	want = fmtTranscript(t, text[i:], "venti/printarenapart $W/va/arenas", dir)
	r = run(t, nil, []string{"TZ=UTC"}, "venti/printarenapart", dir+"arenas")
	if !r.ok || r.stdout != strings.Join(want[:len(want)-1], "") || r.stderr != "bad line: \n" {
		t.Errorf("printarenapart: %+v\nwant %q", r, want)
	}
	// -o: the partition at an offset in a bigger file.
	shifted := dir + "shifted"
	if err := os.WriteFile(shifted, append(make([]byte, 1<<20), fmtRead(t, dir+"arenas")...), 0o644); err != nil {
		t.Fatal(err)
	}
	r2 = run(t, nil, []string{"TZ=UTC"}, "venti/printarenapart", "-o", "1048576", shifted)
	if r2.stdout != r.stdout || !r2.ok {
		t.Errorf("printarenapart -o: %+v", r2)
	}
}

// TestFmtPlan9C formats partitions like those 9legacy's C tools made on
// real Plan 9 (the plan9-c fixture), as byte ranges of one disk image,
// and compares.
func TestFmtPlan9C(t *testing.T) {
	sum := strings.Fields(fmtFixtureText(t, "plan9-c/disk64-after.img.sha256"))[0]
	dir := t.TempDir() + "/"
	fmtGunzip(t, "plan9-c/disk64-after.img.gz", dir+"c.img", "")
	c := fmtRead(t, dir+"c.img")
	if got := sha256.Sum256(c); hex.EncodeToString(got[:]) != sum {
		t.Fatalf("disk64-after.img: sha256 %x, want %s", got, sum)
	}
	// The partitions, in bytes (README.txt gives them in sectors).
	const (
		arenasLo, arenasHi = 45120 * 512, 114752 * 512
		isectLo, isectHi   = 114752 * 512, 131040 * 512
	)
	disk := dir + "disk.img"
	fmtFile(t, disk, int64(len(c)))
	arenas := fmt.Sprintf("%s:%d-%d", disk, arenasLo, arenasHi)
	isect := fmt.Sprintf("%s:%d-%d", disk, isectLo, isectHi)
	transcript := fmtFixtureText(t, "plan9-c/out/transcript.txt")
	said := func(prefix string) []string {
		for _, l := range strings.Split(transcript, "\n") {
			if strings.HasPrefix(l, prefix) {
				return []string{strings.ReplaceAll(l, "/dev/sdC0/arenas", arenas) + "\n"}
			}
		}
		t.Fatalf("transcript has no %q", prefix)
		return nil
	}
	fmtRun(t, said("fmtarenas /dev/sdC0/arenas: "), "venti/fmtarenas", "-a", "8388608", "arenas0", arenas)
	fmtRun(t, []string{"fmtisect " + isect + ": 921 buckets of 215 entries, 524,288 bytes for index map\n"}, "venti/fmtisect", "isect0", isect)
	if err := os.WriteFile(dir+"venti.conf", []byte("index main\narenas "+arenas+"\nisect "+isect+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fmtRun(t, said("fmtindex: "), "venti/fmtindex", dir+"venti.conf")

	ours := fmtRead(t, disk)
	if !bytes.Equal(ours[:arenasLo], make([]byte, arenasLo)) || !bytes.Equal(ours[isectHi:], make([]byte, len(ours)-isectHi)) {
		t.Errorf("wrote outside the partitions")
	}
	fmtSameArenas(t, ours[arenasLo:arenasHi], c[arenasLo:arenasHi], "arenas00")
	if n := fmtSameISect(t, ours[isectLo:isectHi], c[isectLo:isectHi]); n == 0 || n > 16 {
		t.Errorf("%d buckets written by the C venti", n)
	}
}

// fmtJunk makes a file of size bytes of 0xaa, so that what a command
// writes shows.
func fmtJunk(t *testing.T, name string, size int) []byte {
	t.Helper()
	b := bytes.Repeat([]byte{0xaa}, size)
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// fmtFails runs a command that must fail, saying msg (the start of its
// standard error), with nothing on standard output, and leave the files
// named in unchanged as they were.
func fmtFails(t *testing.T, msg string, unchanged []string, name string, args ...string) {
	t.Helper()
	before := map[string][]byte{}
	for _, f := range unchanged {
		before[f] = fmtRead(t, f)
	}
	r := run(t, nil, nil, name, args...)
	if r.ok || r.stdout != "" || !strings.HasPrefix(r.stderr, msg) || strings.Count(r.stderr, "\n") > 2 {
		t.Errorf("%s %q: ok=%v\nstdout %q\nstderr %q\nwant   %q...", name, args, r.ok, r.stdout, r.stderr, msg)
	}
	for _, f := range unchanged {
		if !bytes.Equal(fmtRead(t, f), before[f]) {
			t.Errorf("%s %q changed %s", name, args, f)
		}
	}
}

func TestVentiFmtErrors(t *testing.T) {
	dir := t.TempDir() + "/"
	usage := map[string]string{
		"venti/fmtarenas":      "[-4Z] [-a arenasize] [-b blocksize] name file",
		"venti/fmtisect":       "[-1Z] [-b blocksize] name file",
		"venti/fmtbloom":       "[-n nblocks | -N nhash] [-s size] file",
		"venti/fmtindex":       "[-a] venti.conf",
		"venti/conf":           "[-w] partition [configfile]",
		"venti/rdarena":        "[-qv] arenapart arenaname",
		"venti/printarenapart": "[-o aoffset] file",
		"venti/printarena":     "[-o aoffset] file [offset]",
	}
	for name, u := range usage {
		line := "usage: " + name + " " + u + "\n"
		for _, args := range [][]string{{"-x", "a", "b"}, {}, {"a", "b", "c", "d"}} {
			if r := run(t, nil, nil, name, args...); r.ok || r.stdout != "" || r.stderr != line {
				t.Errorf("%s %q: %+v, want %q", name, args, r, line)
			}
		}
	}
	for _, args := range [][]string{{"-a"}, {"-a", "12x", "n", "f"}, {"-b"}} {
		fmtFails(t, "usage: venti/fmtarenas ", nil, "venti/fmtarenas", args...)
	}
	fmtFails(t, "usage: venti/fmtbloom ", nil, "venti/fmtbloom", "-n", "5", "-N", "3", "f")
	fmtFails(t, "maximum possible is -N 32\nusage: venti/fmtbloom ", nil, "venti/fmtbloom", "-N", "33", "f")
	fmtFails(t, "usage: venti/conf ", nil, "venti/conf", "part", "extra")

	small := dir + "small"
	fmtJunk(t, small, 1<<20)
	big := dir + "big"
	fmtJunk(t, big, 16<<20)
	keep := []string{small, big}
	fmtFails(t, "venti/fmtarenas: can't initialize arena partition "+small+": ", keep, "venti/fmtarenas", "arenas0.", small)
	fmtFails(t, "venti/fmtarenas: can't open partition "+dir+"missing: ", keep, "venti/fmtarenas", "arenas0.", dir+"missing")
	fmtFails(t, "venti/fmtarenas: can't initialize arena partition ", keep, "venti/fmtarenas", "-a", "1000000", "a", big)
	fmtFails(t, "venti/fmtarenas: can't initialize arena partition ", keep, "venti/fmtarenas", "-a", "512k", "a", big)
	fmtFails(t, "venti/fmtarenas: illegal block size 3000", keep, "venti/fmtarenas", "-b", "3000", "a", big)
	fmtFails(t, "venti/fmtarenas: block size too large, max 65536", keep, "venti/fmtarenas", "-b", "128k", "a", big)
	fmtFails(t, "venti/fmtarenas: illegal name template ", keep, "venti/fmtarenas", strings.Repeat("n", 64), big)
	fmtFails(t, "venti/fmtarenas: can't open partition ", keep, "venti/fmtarenas", "a", big+":20m")
	tiny := dir + "tiny"
	fmtJunk(t, tiny, 512<<10)
	keep = append(keep, tiny)
	fmtFails(t, "venti/fmtisect: can't initialize new index section "+tiny+": ", keep, "venti/fmtisect", "isect0", tiny)
	fmtFails(t, "venti/fmtisect: illegal name ", keep, "venti/fmtisect", "bad\tname", big)
	fmtFails(t, "venti/fmtbloom: bloom filter too small", keep, "venti/fmtbloom", tiny)
	fmtFails(t, "venti/fmtbloom: bloom filter of 4,194,304 bytes does not fit", keep, "venti/fmtbloom", "-s", "4m", small)

	// conf: nothing stored yet; a config too long; a partition too small.
	fmtFails(t, "venti/conf: config has bad header", keep, "venti/conf", big)
	long := dir + "long.conf"
	os.WriteFile(long, bytes.Repeat([]byte("# a comment line\n"), 500), 0o644)
	fmtFails(t, "venti/conf: config is too long; max is a little less than eight kilobytes", keep, "venti/conf", "-w", big, long)
	fmtFails(t, "venti/conf: ", keep, "venti/conf", "-w", dir+"tiny:0-100000", long)
	short := dir + "short.conf"
	os.WriteFile(short, []byte("index main\n"), 0o644)
	fmtFails(t, "venti/conf: "+dir+"tiny:0-100000 is too small", keep, "venti/conf", "-w", dir+"tiny:0-100000", short)
	// The most that fits: 8192 bytes with the "venti config" line.
	most := strings.Repeat("#", 8192-len("venti config\n")-1) + "\n"
	if r := run(t, []byte(most), nil, "venti/conf", "-w", big); !r.ok || r.stderr != "" {
		t.Errorf("conf -w of the most that fits: %+v", r)
	}
	if r := run(t, nil, nil, "venti/conf", big); r.stdout != most {
		t.Errorf("conf read back %d bytes", len(r.stdout))
	}
	fmtFails(t, "venti/conf: config is too long", []string{big}, "venti/conf", "-w", big, long)

	// rdarena: an arena that is not there; a partition that is none.
	arenas := dir + "arenas"
	fmtFile(t, arenas, 16<<20)
	fmtRun(t, []string{"fmtarenas " + arenas + ": 2 arenas, 15,982,592 bytes storage, 524,288 bytes for index map\n"}, "venti/fmtarenas", "-a", "8m", "x", arenas)
	fmtFails(t, "venti/rdarena: couldn't find arena arenas0.0\n", nil, "venti/rdarena", arenas, "arenas0.0")
	fmtFails(t, "venti/rdarena: can't initialize arena partition in "+big+": ", nil, "venti/rdarena", big, "x0")
	fmtFails(t, "venti/printarenapart: corrupted arena part header: ", nil, "venti/printarenapart", big)

	// fmtindex: no index line; a missing section; a section that is
	// in an index already.
	isect := dir + "isect"
	fmtFile(t, isect, 2<<20)
	fmtRun(t, []string{"fmtisect " + isect + ": 159 buckets of 215 entries, 524,288 bytes for index map\n"}, "venti/fmtisect", "s0", isect)
	keep = []string{arenas, isect}
	conf := dir + "venti.conf"
	os.WriteFile(conf, []byte("arenas "+arenas+"\nisect "+isect+"\n"), 0o644)
	fmtFails(t, "venti/fmtindex: no index specified in "+conf+"\n", keep, "venti/fmtindex", conf)
	os.WriteFile(conf, []byte("index main\narenas "+arenas+"\nisect "+isect+"\nisect "+dir+"missing\n"), 0o644)
	fmtFails(t, "venti/fmtindex: can't initialize config "+conf+": ", keep, "venti/fmtindex", conf)
	os.WriteFile(conf, []byte("index main\narenas "+arenas+"\nisect "+isect+"\nbloom "+big+"\n"), 0o644)
	fmtFails(t, "venti/fmtindex: can't initialize config "+conf+": ", keep, "venti/fmtindex", conf)
	os.WriteFile(conf, []byte("index main\narenas "+arenas+"\nisect "+isect+"\nbogus line\n"), 0o644)
	fmtFails(t, "venti/fmtindex: can't initialize config "+conf+": ", keep, "venti/fmtindex", conf)
	os.WriteFile(conf, []byte("index main\narenas "+arenas+"\nisect "+isect+"\n"), 0o644)
	fmtRun(t, []string{"fmtindex: 2 arenas, 159 index buckets, 15,949,824 bytes storage\n"}, "venti/fmtindex", conf)
	fmtFails(t, "venti/fmtindex: can't create new index main: ", keep, "venti/fmtindex", conf)
	os.WriteFile(conf, []byte("index other\narenas "+arenas+"\nisect "+isect+"\n"), 0o644)
	fmtFails(t, "venti/fmtindex: can't initialize index other: ", keep, "venti/fmtindex", "-a", conf)
}

// TestFmtIndexAdd adds a second arena partition to an index with
// fmtindex -a.
func TestFmtIndexAdd(t *testing.T) {
	dir := t.TempDir() + "/"
	a1, a2, is := dir+"arenas1", dir+"arenas2", dir+"isect"
	fmtFile(t, a1, 20<<20)
	fmtFile(t, a2, 10<<20)
	fmtFile(t, is, 8<<20)
	fmtRun(t, []string{"fmtarenas " + a1 + ": 5 arenas, 20,176,896 bytes storage, 524,288 bytes for index map\n"}, "venti/fmtarenas", "-a", "4m", "one", a1)
	fmtRun(t, []string{"fmtarenas " + a2 + ": 3 arenas, 9,691,136 bytes storage, 524,288 bytes for index map\n"}, "venti/fmtarenas", "-a", "4m", "two", a2)
	fmtRun(t, []string{"fmtisect " + is + ": 927 buckets of 215 entries, 524,288 bytes for index map\n"}, "venti/fmtisect", "isect0", is)
	conf := dir + "venti.conf"
	os.WriteFile(conf, []byte("index main\narenas "+a1+"\nisect "+is+"\n"), 0o644)
	fmtRun(t, []string{"fmtindex: 5 arenas, 927 index buckets, 20,094,976 bytes storage\n"}, "venti/fmtindex", conf)
	readIndex := func() *vtdisk.IndexMap {
		f, err := os.Open(is)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s, err := vtdisk.OpenIndexSection(f, 8<<20)
		if err != nil {
			t.Fatal(err)
		}
		ix, err := vtdisk.OpenIndex(s)
		if err != nil {
			t.Fatal(err)
		}
		return &ix.Map
	}
	before := readIndex()

	// In the wrong order, the arenas do not match the index's.
	os.WriteFile(conf, []byte("index main\narenas "+a2+"\narenas "+a1+"\nisect "+is+"\n"), 0o644)
	fmtFails(t, "venti/fmtindex: can't lay out index main: ", []string{is}, "venti/fmtindex", "-a", conf)

	os.WriteFile(conf, []byte("index main\narenas "+a1+"\narenas "+a2+"\nisect "+is+"\n"), 0o644)
	fmtRun(t, []string{"fmtindex: 8 arenas, 927 index buckets, 29,736,960 bytes storage\n"}, "venti/fmtindex", "-a", conf)
	after := readIndex()
	if !bytes.Equal([]byte(fmt.Sprint(after.Arenas[:5])), []byte(fmt.Sprint(before.Arenas))) || fmt.Sprint(after.Sects) != fmt.Sprint(before.Sects) {
		t.Errorf("fmtindex -a moved things: %v\nthen %v", before, after)
	}
	if len(after.Arenas) != 8 || after.Arenas[5].Name != "two0" || after.Arenas[5].Start != before.Arenas[4].Stop {
		t.Errorf("added arenas: %v", after.Arenas)
	}
	// Again: nothing new, nothing changes.
	fmtRun(t, []string{"fmtindex: 8 arenas, 927 index buckets, 29,736,960 bytes storage\n"}, "venti/fmtindex", "-a", conf)
	if fmt.Sprint(readIndex()) != fmt.Sprint(after) {
		t.Errorf("second fmtindex -a changed the map")
	}
	// A configuration with fewer arenas than the index is refused.
	os.WriteFile(conf, []byte("index main\narenas "+a1+"\nisect "+is+"\n"), 0o644)
	fmtFails(t, "venti/fmtindex: can't lay out index main: ", []string{is}, "venti/fmtindex", "-a", conf)

	// The configuration may also be read from a partition's config block.
	os.WriteFile(conf, []byte("index main\narenas "+a1+"\narenas "+a2+"\nisect "+is+"\n"), 0o644)
	fmtRun(t, nil, "venti/conf", "-w", a1, conf)
	fmtRun(t, []string{"fmtindex: 8 arenas, 927 index buckets, 29,736,960 bytes storage\n"}, "venti/fmtindex", "-a", a1)
}

// TestFmtOldVersions formats version 4 arena partitions and version 1
// index sections, which are cleared first unless -Z is given, and
// checks that version 5 and 2 ones are not.
func TestFmtOldVersions(t *testing.T) {
	dir := t.TempDir() + "/"
	const size = 8 << 20
	file := dir + "part"
	allJunk := func(b []byte) bool {
		return !bytes.ContainsFunc(b, func(r rune) bool { return r != 0xaa && r != 0xfffd })
	}
	zero := func(b []byte) bool { return !bytes.ContainsFunc(b, func(r rune) bool { return r != 0 }) }
	open := func() *vtdisk.ArenaPartition {
		p, err := vtdisk.OpenArenaPartition(bytes.NewReader(fmtRead(t, file)), size)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	report := "fmtarenas " + file + ": 4 arenas, 7,593,984 bytes storage, 524,288 bytes for index map\n"

	fmtJunk(t, file, size)
	fmtRun(t, []string{"clearing " + file + "\n", report}, "venti/fmtarenas", "-4", "-a", "2m", "v4.", file)
	b := fmtRead(t, file)
	p := open()
	for i := range p.Map {
		a, err := p.Arena(i)
		if err != nil || a.Head.Version != 4 || a.ClumpMagic() != vtdisk.OldClumpMagic {
			t.Errorf("arena %d: %+v %v", i, a, err)
		}
	}
	if !allJunk(b[:vtdisk.ConfigOffset]) || !zero(b[p.Map[0].Start+16384:p.Map[0].Stop-8192]) {
		t.Errorf("-4 cleared the wrong part")
	}

	fmtJunk(t, file, size)
	fmtRun(t, []string{report}, "venti/fmtarenas", "-4Z", "-a", "2m", "v4.", file)
	b = fmtRead(t, file)
	if p := open(); !allJunk(b[p.Map[0].Start+16384:p.Map[0].Stop-8192]) || !zero(b[p.Map[0].Start+8192:p.Map[0].Start+16384]) {
		t.Errorf("-4 -Z cleared the clump log, or did not end it")
	}

	fmtJunk(t, file, size)
	fmtRun(t, []string{report}, "venti/fmtarenas", "-a", "2m", "v5.", file)
	if b, p := fmtRead(t, file), open(); !allJunk(b[p.Map[0].Start+16384 : p.Map[0].Stop-8192]) {
		t.Errorf("version 5 arenas were cleared")
	}

	isect := func(want []string, args ...string) ([]byte, vtdisk.ISect) {
		fmtJunk(t, file, size)
		fmtRun(t, want, "venti/fmtisect", append(args, "s", file)...)
		b := fmtRead(t, file)
		s, err := vtdisk.OpenIndexSection(bytes.NewReader(b), size)
		if err != nil {
			t.Fatal(err)
		}
		return b, s.Header
	}
	report = "fmtisect " + file + ": 927 buckets of 215 entries, 524,288 bytes for index map\n"
	if b, h := isect([]string{"clearing " + file + "\n", report}, "-1"); h.Version != 1 || h.BucketMagic != 0 || !zero(b[vtdisk.PartBlank+vtdisk.HeadSize:]) || !allJunk(b[:vtdisk.PartBlank]) {
		t.Errorf("fmtisect -1: %+v", h)
	}
	if b, h := isect([]string{report}, "-1Z"); h.Version != 1 || !allJunk(b[h.BlockBase:]) {
		t.Errorf("fmtisect -1 -Z: %+v", h)
	}
	if b, h := isect([]string{report}); h.Version != 2 || h.BucketMagic == 0 || !allJunk(b[h.BlockBase:]) {
		t.Errorf("fmtisect: %+v", h)
	}
}
