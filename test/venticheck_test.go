package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/vtmem"
	"github.com/plan9fossil/fossil/venti"
)

// The tests of checkarenas, checkindex, buildindex and wrarena run them
// on copies of the venti-a and fossil-b venti partitions and compare
// what they print with venti-a.txt.

const (
	chkDirA = "venti-a"
	chkDirB = "fossil-b/venti-after-archive"
)

// chkGunzip unpacks the gzipped fixture rel into dir, under its name
// without .gz, and returns the path.
func chkGunzip(t *testing.T, rel, dir string) string {
	t.Helper()
	return fixture.Gunzip(t, rel, dir)
}

// chkVenti unpacks the partitions of a fixture venti into a new
// directory and writes a venti.conf naming them and an 8 MiB scratch
// file tmp, as venti-a.txt's checkindex run had.
func chkVenti(t *testing.T, fixture string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{"arenas", "isect", "bloom"} {
		chkGunzip(t, fixture+"/"+p+".gz", dir)
	}
	conf, err := os.ReadFile(filepath.Join(fixtures(), fixture, "venti.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf = bytes.ReplaceAll(conf, []byte("/dev/sdC0/"), []byte(dir+"/"))
	if err := os.WriteFile(filepath.Join(dir, "venti.conf"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	chkTruncate(t, filepath.Join(dir, "tmp"), 8<<20)
	return dir
}

func chkTruncate(t *testing.T, name string, size int64) {
	t.Helper()
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(name, size); err != nil {
		t.Fatal(err)
	}
}

func chkRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chkPatch writes b at offset off of file name.
func chkPatch(t *testing.T, name string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func chkCopy(t *testing.T, from, to string) {
	t.Helper()
	if err := os.WriteFile(to, chkRead(t, from), 0o644); err != nil {
		t.Fatal(err)
	}
}

// chkTranscript returns what the command line cmd printed in
// venti-a.txt (both standard output and error), one string per line,
// leaving out the lines that start with one of skip, or contain it if
// it starts with a '*'.
func chkTranscript(t *testing.T, cmd string, skip ...string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures(), chkDirA, "venti-a.txt"))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if l != "% "+cmd {
			continue
		}
		var out []string
	next:
		for _, l := range lines[i+1:] {
			if strings.HasPrefix(l, "[exit") {
				return out
			}
			for _, s := range skip {
				if strings.HasPrefix(l, s) || s[0] == '*' && strings.Contains(l, s[1:]) {
					continue next
				}
			}
			out = append(out, l)
		}
	}
	t.Fatalf("venti-a.txt has no %q", cmd)
	return nil
}

// chkLines is text as lines, without the newline that ends the last.
func chkLines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func chkSame(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got: %q\nwant: %q", what, got, want)
	}
}

// Offsets in venti-a's partitions.
const (
	chkArena0   = 794624                    // arenas0.0's head block
	chkData0    = chkArena0 + 8192          // its clump log
	chkTrailer0 = chkArena0 + 16<<20 - 8192 // its trailer
	chkClump1   = 39                        // b02, 8192 bytes stored as is
	chkClump3   = 64307                     // b04, whack-compressed
	chkEndAHex  = "0x211c8"                 // the end of arenas0.0's log
	chkBuckets  = 794624                    // the first bucket of isect
	chkBucket22 = chkBuckets + 22*8192      // the bucket of 0631457264ff...
	chkBuck402  = chkBuckets + 402*8192     // the bucket of 6f2b89bb... (two entries)
	chkNoBucket = chkBuckets + 500*8192     // a bucket that should be empty
)

func TestCheckarenasVentiA(t *testing.T) {
	dir := chkVenti(t, chkDirA)
	arenas := filepath.Join(dir, "arenas")
	for _, args := range [][]string{{"-v"}, {"-a", "-v"}} {
		want := chkTranscript(t, "venti/checkarenas "+strings.Join(args, " ")+" $W/va/arenas")
		r := run(t, nil, nil, "venti/checkarenas", append(args, arenas)...)
		if !r.ok || r.stdout != "" {
			t.Errorf("checkarenas %v: ok=%v stdout %q stderr %q", args, r.ok, r.stdout, r.stderr)
		}
		chkSame(t, fmt.Sprintf("checkarenas %v", args), chkLines(r.stderr), want)
	}
	// Quiet, the clean partition prints nothing, or with -a the line
	// syncarena prints.
	if r := run(t, nil, nil, "venti/checkarenas", arenas); !r.ok || r.stderr != "" {
		t.Errorf("checkarenas: %+v", r)
	}
	r := run(t, nil, nil, "venti/checkarenas", "-a", arenas)
	if !r.ok || r.stderr != "arena arenas0.0: fix=0 flush=0 0->135624 0->11 0->4 0->207413\n" {
		t.Errorf("checkarenas -a: %+v", r)
	}
	// Only the named arenas; a name that is not there checks nothing.
	if r := run(t, nil, nil, "venti/checkarenas", "-a", arenas, "arenas0.1"); !r.ok || r.stderr != "" {
		t.Errorf("checkarenas -a arenas0.1: %+v", r)
	}
	if r := run(t, nil, nil, "venti/checkarenas", "-x", arenas); r.ok || r.stderr != "usage: venti/checkarenas [-afv] file [arenaname...]\n" {
		t.Errorf("checkarenas -x: %+v", r)
	}
	if r := run(t, nil, nil, "venti/checkarenas", filepath.Join(dir, "isect")); r.ok ||
		!strings.HasPrefix(r.stderr, "venti/checkarenas: can't initialize arena partition in ") {
		t.Errorf("checkarenas isect: %+v", r)
	}
}

func TestCheckarenasFossilB(t *testing.T) {
	dir := chkVenti(t, chkDirB)
	arenas := filepath.Join(dir, "arenas")
	summary := "arena='arenas0.0' [802816,17580032)\n" +
		"\tversion=5 created=1795426310 modified=1795426963\n" +
		"\tclumps=236 compressed clumps=41 data=1,745,063 compressed data=1,648,159 disk storage=1,663,027\n"
	r := run(t, nil, nil, "venti/checkarenas", "-v", arenas)
	if !r.ok || r.stderr != summary+"\n" {
		t.Errorf("checkarenas -v: %+v", r)
	}
	r = run(t, nil, nil, "venti/checkarenas", "-a", "-v", arenas)
	if !r.ok || r.stderr != summary+"arena arenas0.0: fix=0 flush=0 0->1657127 0->236 0->41 0->1745063\n.\n" {
		t.Errorf("checkarenas -a -v: %+v", r)
	}
}

// TestCheckarenasDamage: a byte of a clump changed, a wrong count in
// the trailer.
func TestCheckarenasDamage(t *testing.T) {
	dir := chkVenti(t, chkDirA)
	orig := filepath.Join(dir, "arenas")
	arenas := filepath.Join(dir, "damaged")
	clean := "arena arenas0.0: fix=0 flush=0 0->135624 0->11 0->4 0->207413\n"

	// A byte of the data of clump 1 (stored as is, inside the log the
	// trailer records): only a scan of the whole log reads it.
	chkCopy(t, orig, arenas)
	chkPatch(t, arenas, chkData0+chkClump1+vtdisk.ClumpSize+100, []byte{0xff})
	if r := run(t, nil, nil, "venti/checkarenas", arenas); !r.ok || r.stderr != "" {
		t.Errorf("checkarenas without -a: %+v", r)
	}
	r := run(t, nil, nil, "venti/checkarenas", "-a", arenas)
	if r.ok || !strings.Contains(r.stderr, "arenas0.0: clump=1 at 0x27 has mismatched score\n") ||
		!strings.HasSuffix(r.stderr, "venti/checkarenas: errors found\n") {
		t.Errorf("checkarenas -a: %+v", r)
	}
	// -f marks it corrupt, in its header and the directory; then the
	// arena checks clean.
	r = run(t, nil, nil, "venti/checkarenas", "-a", "-f", arenas)
	if !r.ok || !strings.Contains(r.stderr, "arena arenas0.0: fix=1 flush=1 0->135624") ||
		!strings.Contains(r.stderr, "arenas0.0: writing fixed arena header fields\n") {
		t.Errorf("checkarenas -a -f: %+v", r)
	}
	if r := run(t, nil, nil, "venti/checkarenas", "-a", arenas); !r.ok || r.stderr != clean {
		t.Errorf("checkarenas -a after -f: %+v", r)
	}
	b := chkRead(t, arenas)
	if b[chkData0+chkClump1+4] != byte(vtdisk.CorruptType) {
		t.Errorf("clump header type %d, want corrupt", b[chkData0+chkClump1+4])
	}
	// wrarena then skips it.
	r = run(t, nil, nil, "venti/wrarena", "-h", "/dev/null", "-o", fmt.Sprint(chkArena0), arenas)
	if !strings.Contains(r.stderr, "venti/wrarena: corrupt clump read at 0x27: +8230\n") ||
		!strings.Contains(r.stdout, "end offset "+chkEndAHex+"\n") {
		t.Errorf("wrarena of the repaired arena: %+v", r)
	}

	// A byte of a compressed clump.
	chkCopy(t, orig, arenas)
	chkPatch(t, arenas, chkData0+chkClump3+vtdisk.ClumpSize+200, []byte{0x55})
	r = run(t, nil, nil, "venti/checkarenas", "-a", arenas)
	if r.ok || !strings.Contains(r.stderr, "arenas0.0: clump=3 at 0xfb33") {
		t.Errorf("checkarenas -a, compressed clump: %+v", r)
	}

	// The trailer counts 12 clumps: the directory does not add up to
	// it, so the whole log is read, even without -a.
	chkCopy(t, orig, arenas)
	chkPatch(t, arenas, chkTrailer0+72, []byte{0, 0, 0, 12})
	r = run(t, nil, nil, "venti/checkarenas", arenas)
	if r.ok || !strings.Contains(r.stderr, "arenas0.0: incorrect arena header fields\n") ||
		!strings.Contains(r.stderr, "arena arenas0.0: fix=0 flush=0 0->135624 0->11 0->4 0->207413\n") {
		t.Errorf("checkarenas, bad trailer: %+v", r)
	}
	r = run(t, nil, nil, "venti/checkarenas", "-f", arenas)
	if !r.ok || !strings.Contains(r.stderr, "arenas0.0: writing fixed arena header fields\n") {
		t.Errorf("checkarenas -f, bad trailer: %+v", r)
	}
	if r := run(t, nil, nil, "venti/checkarenas", arenas); !r.ok || r.stderr != "" {
		t.Errorf("checkarenas after -f: %+v", r)
	}
	if r := run(t, nil, nil, "venti/checkarenas", "-a", arenas); !r.ok || r.stderr != clean {
		t.Errorf("checkarenas -a after -f: %+v", r)
	}
	// The repaired trailer is the one the C venti wrote.
	if !bytes.Equal(chkRead(t, arenas), chkRead(t, orig)) {
		t.Errorf("the repaired partition differs from the original")
	}

	// Clumps past the end the trailer records (a venti that crashed
	// before writing its trailer): found and added.
	chkCopy(t, orig, arenas)
	tail := make([]byte, 8192)
	copy(tail, chkRead(t, orig)[chkTrailer0:chkTrailer0+8192])
	a := vtdisk.ArenaTail{}
	if err := a.Unpack(tail); err != nil {
		t.Fatal(err)
	}
	a.Disk = vtdisk.TailStats{Clumps: 10, CClumps: 4, Used: 131586, UncSize: 207413 - 4000}
	a.Mem = a.Disk
	if err := a.Pack(tail); err != nil {
		t.Fatal(err)
	}
	chkPatch(t, arenas, chkTrailer0, tail)
	r = run(t, nil, nil, "venti/checkarenas", arenas)
	if r.ok || !strings.Contains(r.stderr, "arena arenas0.0: fix=0 flush=0 131586->135624 10->11 4->4 203413->207413\n") {
		t.Errorf("checkarenas, short trailer: %+v", r)
	}
	if r := run(t, nil, nil, "venti/checkarenas", "-f", arenas); !r.ok {
		t.Errorf("checkarenas -f, short trailer: %+v", r)
	}
	if !bytes.Equal(chkRead(t, arenas), chkRead(t, orig)) {
		t.Errorf("the repaired partition differs from the original")
	}
}

func TestCheckindex(t *testing.T) {
	for _, fixture := range []string{chkDirA, chkDirB} {
		dir := chkVenti(t, fixture)
		conf, tmp := filepath.Join(dir, "venti.conf"), filepath.Join(dir, "tmp")
		r := run(t, nil, nil, "venti/checkindex", conf, tmp)
		if !r.ok || r.stdout != "" ||
			!strings.HasSuffix(r.stderr, "bloom filter: correct\ncheckindex: index is correct\n") {
			t.Errorf("%s: checkindex: %+v", fixture, r)
		}
		if fixture == chkDirA {
			want := chkTranscript(t, "venti/checkindex $W/va/venti.conf $W/va-off-a/checkindex.tmp", "*pwrb")
			chkSame(t, "checkindex", chkLines(r.stderr), want)
		}
	}

	dir := chkVenti(t, chkDirA)
	conf, tmp := filepath.Join(dir, "venti.conf"), filepath.Join(dir, "tmp")
	isect, bloom := filepath.Join(dir, "isect"), filepath.Join(dir, "bloom")
	origISect, origBloom := chkRead(t, isect), chkRead(t, bloom)

	// One entry of the two in bucket 402 dropped, another's address
	// changed, a spurious one in an empty bucket.
	chkPatch(t, isect, chkBuck402, []byte{0, 1})
	chkPatch(t, isect, chkBucket22+6+26+7, []byte{origISect[chkBucket22+6+26+7] + 1})
	chkPatch(t, isect, chkNoBucket, origISect[chkBucket22:chkBucket22+6+38])
	r := run(t, nil, nil, "venti/checkindex", conf, tmp)
	want := "# diff actual correct\n" +
		dir + "/isect block 0xee000\n" +
		"< 0631457264ff7f8d5fb1edc2c0211992a67c73e6                1113563   0  8192   1\n" +
		"> 0631457264ff7f8d5fb1edc2c0211992a67c73e6                1113562   0  8192   1\n" +
		dir + "/isect block 0x3e6000\n" +
		"> 6f2b89bb618db8de945d1b5304307895643ad340                1048615   0  8192  17\n" +
		dir + "/isect block 0x4aa000\n" +
		"< 0631457264ff7f8d5fb1edc2c0211992a67c73e6                1113562   0  8192   1\n"
	if r.ok || r.stdout != want ||
		!strings.Contains(r.stderr, "checkindex: 1 spurious entries, 1 missing, 1 wrong\n") ||
		!strings.HasSuffix(r.stderr, "venti/checkindex: errors found\n") {
		t.Errorf("checkindex, damaged index: ok=%v\nstdout %q\nwant   %q\nstderr %q", r.ok, r.stdout, want, r.stderr)
	}
	r = run(t, nil, nil, "venti/checkindex", "-f", conf, tmp)
	if !r.ok || r.stdout != want || !strings.Contains(r.stderr, "checkindex: rewrote 3 buckets\n") {
		t.Errorf("checkindex -f: %+v", r)
	}
	r = run(t, nil, nil, "venti/checkindex", conf, tmp)
	if !r.ok || r.stdout != "" || !strings.HasSuffix(r.stderr, "checkindex: index is correct\n") {
		t.Errorf("checkindex after -f: %+v", r)
	}
	if !bytes.Equal(chkRead(t, isect), origISect) {
		t.Errorf("the repaired index differs from the C one")
	}

	// Bits missing from the bloom filter.
	var at int
	for at = 4096; origBloom[at] == 0; at++ {
	}
	chkPatch(t, bloom, int64(at), []byte{0})
	r = run(t, nil, nil, "venti/checkindex", conf, tmp)
	missing := fmt.Sprintf("bloom filter: 0 spurious bits, %d missing bits\ncheckbloom: missing bits\n", chkOnes(origBloom[at]))
	if r.ok || !strings.Contains(r.stderr, missing) {
		t.Errorf("checkindex, damaged bloom filter: %+v", r)
	}
	r = run(t, nil, nil, "venti/checkindex", "-f", conf, tmp)
	if !r.ok || !bytes.Equal(chkRead(t, bloom), origBloom) {
		t.Errorf("checkindex -f, damaged bloom filter: %+v", r)
	}

	if r := run(t, nil, nil, "venti/checkindex", conf); r.ok || r.stderr != "usage: venti/checkindex [-f] [-B blockcachesize] venti.conf tmp\n" {
		t.Errorf("checkindex without tmp: %+v", r)
	}
}

func chkOnes(b byte) int {
	n := 0
	for ; b != 0; b &= b - 1 {
		n++
	}
	return n
}

// TestBuildindex wipes the buckets and the bloom filter of the C-made
// index and rebuilds them: the result is the same bytes. (The C venti
// writes wtime and train as zero, so every field is reproducible.)
func TestBuildindex(t *testing.T) {
	for _, fixture := range []string{chkDirA, chkDirB} {
		dir := chkVenti(t, fixture)
		conf := filepath.Join(dir, "venti.conf")
		isect, bloom := filepath.Join(dir, "isect"), filepath.Join(dir, "bloom")
		origISect, origBloom := chkRead(t, isect), chkRead(t, bloom)
		for _, tc := range []struct {
			fill byte
			args []string
		}{
			{0x00, nil},                  // a freshly formatted section
			{0xaa, nil},                  // garbage: every bucket is rewritten
			{0x00, []string{"-M", "4k"}}, // one pass per few entries
			{0xaa, []string{"-b", "-i", "isect0"}},
		} {
			wiped := bytes.Repeat([]byte{tc.fill}, 927*8192)
			chkPatch(t, isect, chkBuckets, wiped)
			chkPatch(t, bloom, 16, make([]byte, 1<<20-16))
			r := run(t, nil, nil, "venti/buildindex", append(tc.args, conf)...)
			if !r.ok || r.stdout != "" {
				t.Errorf("%s: buildindex %v: %+v", fixture, tc.args, r)
				continue
			}
			if !regexp.MustCompile(`(?m)^\d\d\d\d/\d\d\d\d \d\d:\d\d:\d\d done arenaentries=\d+ indexed=\d+ \(nskip=0\)`).MatchString(r.stderr) {
				t.Errorf("%s: buildindex %v: stderr %q", fixture, tc.args, r.stderr)
			}
			if !bytes.Equal(chkRead(t, isect), origISect) {
				t.Errorf("%s: buildindex %v: the index differs from the C one", fixture, tc.args)
			}
			if !bytes.Equal(chkRead(t, bloom), origBloom) {
				t.Errorf("%s: buildindex %v: the bloom filter differs from the C one", fixture, tc.args)
			}
		}
		// Every lookup finds what the arenas hold.
		r := run(t, nil, nil, "venti/checkindex", conf, filepath.Join(dir, "tmp"))
		if !r.ok {
			t.Errorf("%s: checkindex after buildindex: %+v", fixture, r)
		}
	}

	dir := chkVenti(t, chkDirA)
	conf := filepath.Join(dir, "venti.conf")
	r := run(t, nil, nil, "venti/buildindex", "-i", "nosuch", conf)
	if !r.ok || !strings.HasPrefix(r.stderr, "warning: did not find index section nosuch\n") {
		t.Errorf("buildindex -i nosuch: %+v", r)
	}
	if r := run(t, nil, nil, "venti/buildindex"); r.ok || r.stderr != "usage: venti/buildindex [-b] [-i isect]... [-M imem] venti.conf\n" {
		t.Errorf("buildindex without arguments: %+v", r)
	}
}

// chkServer is a venti in memory on a loopback address that counts the
// writes it is sent, and can be told to refuse them or to hang up.
type chkServer struct {
	vtmem.Store
	addr   string
	srv    *venti.Server
	writes atomic.Int64
	refuse atomic.Bool
	vanish atomic.Int64 // hang up at this write (0: never)
	once   sync.Once
}

func (s *chkServer) Write(ctx context.Context, t venti.Type, data []byte) (venti.Score, error) {
	n := s.writes.Add(1)
	if s.refuse.Load() {
		return venti.Score{}, errors.New("no more room")
	}
	if v := s.vanish.Load(); v != 0 && n >= v {
		// Hang up on every client. Close waits for the handlers,
		// this one included, so it cannot be waited for here.
		s.once.Do(func() { go s.srv.Close() })
		time.Sleep(100 * time.Millisecond)
		return venti.Score{}, errors.New("going away")
	}
	return s.Store.Write(ctx, t, data)
}

func chkServe(t *testing.T, ip string) *chkServer {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	s := &chkServer{}
	s.srv = &venti.Server{Handler: s}
	go s.srv.Serve(l)
	t.Cleanup(func() { s.srv.Close() })
	s.addr = fmt.Sprintf("tcp!%s!%d", ip, l.Addr().(*net.TCPAddr).Port)
	return s
}

// chkRunTimed runs a command with a time limit.
func chkRunTimed(t *testing.T, limit time.Duration, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin(t, name), args...)
	cmd.Dir = root()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q: still running after %v", name, args, limit)
	}
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("%s: %v", name, err)
	}
	return result{out.String(), errb.String(), err == nil}
}

// chkStored checks that the server holds exactly the venti-a blocks
// named in want, with their types and bytes.
func chkStored(t *testing.T, s *chkServer, want map[string]bool) {
	t.Helper()
	c, err := venti.Dial(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stored := map[string]bool{} // score and type
	for _, b := range fixtureBlocks(t) {
		if b.score == venti.ZeroScore.String() || strings.HasPrefix(b.score, "venti/") {
			continue
		}
		data, err := c.Read(ctx, venti.MustParseScore(b.score), venti.Type(b.typ), venti.MaxLumpSize)
		switch {
		case want[b.name] && err != nil:
			t.Errorf("%s: %v", b.name, err)
		case want[b.name] && !bytes.Equal(data, b.data):
			t.Errorf("%s: read back %d bytes that differ", b.name, len(data))
		case !want[b.name] && err == nil:
			t.Errorf("%s: stored, should not be", b.name)
		}
		if want[b.name] {
			stored[fmt.Sprint(b.score, b.typ)] = true
		}
	}
	if s.Len() != len(stored) {
		t.Errorf("server holds %d blocks, want %d", s.Len(), len(stored))
	}
}

// The blocks of venti-a's arenas0.0, by the fixture's names (b06 and
// b11 are duplicates of b02 and b03, so one clump each).
var chkAllBlocks = map[string]bool{
	"b01": true, "b02": true, "b03": true, "b04": true, "b05": true, "b06": true, "b07": true,
	"b08": true, "b09": true, "b10": true, "b11": true, "b13": true, "b14": true,
}

var chkStamp = `\d\d\d\d/\d\d\d\d \d\d:\d\d:\d\d`

func TestWrarena(t *testing.T) {
	dir := t.TempDir()
	img := chkGunzip(t, chkDirA+"/arenas0.0.img.gz", dir)
	arenas := chkGunzip(t, chkDirA+"/arenas.gz", dir)
	wantOut := regexp.MustCompile("^" + chkStamp + " starting to send data\nend offset 0x211c8\n" + chkStamp + " sent all data\n$")
	limit := 30 * time.Second

	// The image as rdarena wrote it; the stderr report as in venti-a.txt
	// (without the C venti's log line about the missing partition
	// header and the timestamped lines of standard output).
	s := chkServe(t, "127.0.0.2")
	want := chkTranscript(t, "venti/wrarena -o 0 -h 'tcp!127.0.0.1!17035' $W/va-off-a/arenas0.0.img",
		"*err 2:", "*starting to send data", "end offset", "*sent all data")
	for i := 0; i < 2; i++ {
		r := chkRunTimed(t, limit, "venti/wrarena", "-o", "0", "-h", s.addr, img)
		if !r.ok || !wantOut.MatchString(r.stdout) {
			t.Errorf("wrarena image, run %d: %+v", i, r)
		}
		chkSame(t, "wrarena image", chkLines(r.stderr), want)
		// The second run writes the same blocks; the server has nothing new.
		chkStored(t, s, chkAllBlocks)
		if got := s.writes.Load(); got != int64(11*(i+1)) {
			t.Errorf("run %d: %d writes, want %d", i, got, 11*(i+1))
		}
	}

	// Straight from the partition, naming the arena by its offset.
	s = chkServe(t, "127.0.0.2")
	r := chkRunTimed(t, limit, "venti/wrarena", "-o", fmt.Sprint(chkArena0), "-h", s.addr, arenas)
	if !r.ok || !wantOut.MatchString(r.stdout) || !strings.Contains(r.stderr, "arena='arenas0.0' [802816,17580032)\n") {
		t.Errorf("wrarena partition: %+v", r)
	}
	chkStored(t, s, chkAllBlocks)

	// The whole partition, without -o: every arena, no end offsets.
	s = chkServe(t, "127.0.0.2")
	r = chkRunTimed(t, limit, "venti/wrarena", "-h", s.addr, arenas)
	if !r.ok || strings.Contains(r.stdout, "end offset") || strings.Count(r.stderr, "wrarena: copying arenas0.") != 6 {
		t.Errorf("wrarena whole partition: %+v", r)
	}
	chkStored(t, s, chkAllBlocks)
	// The same with -o 0 as in venti-a.txt: -o names no arena there,
	// so the partition is sent, with an end offset for each arena.
	r = chkRunTimed(t, limit, "venti/wrarena", "-o", "0", "-h", "/dev/null", arenas)
	wantOffsets := "end offset 0x211c8\nend offset 0\nend offset 0\nend offset 0\nend offset 0\nend offset 0\n"
	if r.ok || !strings.Contains(r.stdout, wantOffsets) || !strings.HasSuffix(r.stderr, "venti/wrarena: executing sync: not connected\n") {
		t.Errorf("wrarena -o 0 -h /dev/null partition: %+v", r)
	}

	// From a clump offset: only the clumps that start at or after it.
	s = chkServe(t, "127.0.0.2")
	r = chkRunTimed(t, limit, "venti/wrarena", "-o", "0", "-h", s.addr, img, "0x4000")
	if !r.ok || !wantOut.MatchString(r.stdout) {
		t.Errorf("wrarena from 0x4000: %+v", r)
	}
	chkStored(t, s, map[string]bool{ // b01 at 0, b02 at 0x27 and b03 at 0x204d are left out
		"b04": true, "b05": true, "b07": true, "b08": true, "b09": true, "b10": true, "b13": true, "b14": true,
	})
	// From the end: nothing to send, and the same end offset.
	r = chkRunTimed(t, limit, "venti/wrarena", "-o", "0", "-h", s.addr, img, chkEndAHex)
	if !r.ok || !wantOut.MatchString(r.stdout) || s.writes.Load() != 8 {
		t.Errorf("wrarena from the end: %+v, %d writes", r, s.writes.Load())
	}
	// -M: at most that many clumps; the end offset is after the last.
	s = chkServe(t, "127.0.0.2")
	r = chkRunTimed(t, limit, "venti/wrarena", "-M", "2", "-o", "0", "-h", s.addr, img)
	if !r.ok || !strings.Contains(r.stdout, "end offset 0x204d\n") || s.writes.Load() != 2 {
		t.Errorf("wrarena -M 2: %+v, %d writes", r, s.writes.Load())
	}
	// -v: the scores written, and the rate.
	r = chkRunTimed(t, limit, "venti/wrarena", "-v", "-o", "0", "-h", s.addr, img)
	if !r.ok || strings.Count(r.stdout, "\n") != 3+11 || !strings.Contains(r.stdout, "\ne7be30bfe2c8b9e9b53d68ecaae5afd7ff60dd50\n") ||
		!strings.Contains(r.stderr, "wrarena: arenas0.0: sent 11 clumps, 207413 bytes in ") {
		t.Errorf("wrarena -v: %+v", r)
	}

	// -h /dev/null: nothing sent, and the sync fails as in venti-a.txt.
	want = chkTranscript(t, "venti/wrarena -o 0 -h /dev/null $W/va-off-a/arenas0.0.img 0x4000", "*err 2:", "*starting to send data")
	r = chkRunTimed(t, limit, "venti/wrarena", "-o", "0", "-h", "/dev/null", img, "0x4000")
	if r.ok {
		t.Errorf("wrarena -h /dev/null succeeded")
	}
	got := chkLines(r.stderr)
	got = append(got[:len(got)-1], "end offset 0x211c8", got[len(got)-1])
	chkSame(t, "wrarena -h /dev/null", got, want)

	// A server that refuses the blocks, one that hangs up, none at all.
	s = chkServe(t, "127.0.0.2")
	s.refuse.Store(true)
	r = chkRunTimed(t, limit, "venti/wrarena", "-o", "0", "-h", s.addr, img)
	if r.ok || strings.Contains(r.stdout, "end offset") ||
		!regexp.MustCompile(`venti/wrarena: failed writing clump \d+ \(0x[0-9a-f]+\) of arenas0.0: .*no more room`).MatchString(r.stderr) {
		t.Errorf("wrarena to a refusing server: %+v", r)
	}
	s = chkServe(t, "127.0.0.2")
	s.vanish.Store(3)
	r = chkRunTimed(t, limit, "venti/wrarena", "-o", "0", "-h", s.addr, img)
	if r.ok || strings.Contains(r.stdout, "end offset") || !strings.Contains(r.stderr, "venti/wrarena: failed writing clump ") {
		t.Errorf("wrarena to a vanishing server: %+v", r)
	}
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := fmt.Sprintf("tcp!127.0.0.2!%d", l.Addr().(*net.TCPAddr).Port)
	l.Close()
	r = chkRunTimed(t, limit, "venti/wrarena", "-o", "0", "-h", gone, img)
	if r.ok || !strings.HasPrefix(r.stderr, "venti/wrarena: could not connect to server: ") {
		t.Errorf("wrarena to no server: %+v", r)
	}

	// Bad arguments.
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{nil, "usage: venti/wrarena [-fv] [-h host] [-M maxwrites] [-o fileoffset] arenafile [clumpoffset]\n"},
		{[]string{"-o", "8192", "-h", "/dev/null", img}, "venti/wrarena: corrupted arena header: "},
		{[]string{"-o", "0", "-h", "/dev/null", img, "0x2000000"}, "venti/wrarena: bad offset 0x2000000 >= 0xffc000\n"},
		{[]string{"-h", "/dev/null", filepath.Join(dir, "nonexistent")}, "venti/wrarena: can't open file "},
	} {
		r := chkRunTimed(t, limit, "venti/wrarena", tc.args...)
		if r.ok || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("wrarena %q: %+v", tc.args, r)
		}
	}
}
