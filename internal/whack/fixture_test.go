package whack

// Tests against real data written by the C venti (fixture "venti-a", made
// with plan9port's venti; see its README.txt). The arena walking below is
// deliberately minimal and lives here only to find the clumps; the real
// arena reader is another package.
//
// On-disk layouts used (all integers big-endian), from the C venti's
// dat.h and conv.c:
//
//	arena partition header, at PartBlank = 256 KiB:
//		magic 0xa9e4a5e7, version, blocksize, arenabase (u32 each)
//	arena map, at PartBlank+HeadSize (512) rounded up to blocksize:
//		text "N\n" then N lines "name\tstart\tstop\n"
//	arena head, first block of an arena:
//		magic 0xd15c4ead, version, name[64], blocksize u32, size u64,
//		clumpmagic u32 (version 5 only; version 4 uses 0xd15cb10c)
//	arena trailer, last block of an arena:
//		magic 0xf2a14ead, version, name[64], clumps, cclumps, ctime,
//		wtime, clumpmagic (version 5 only), used u64, uncsize u64, sealed u8
//	clumps, one after another from the arena's second block, each a
//	38-byte header followed by its stored bytes:
//		magic u32, type u8, size u16 (stored bytes), uncsize u16,
//		score[20] (SHA-1 of the uncompressed data), encoding u8
//		(1 raw, 2 whack), creator u32, time u32
//	A clump magic of 0 marks free space after the last clump.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
)

const (
	partBlank       = 256 << 10
	headSize        = 512
	arenaPartMagic  = 0xa9e4a5e7
	arenaHeadMagic  = 0xd15c4ead
	arenaTailMagic  = 0xf2a14ead
	oldClumpMagic   = 0xd15cb10c
	clumpHeaderSize = 38
	encodingRaw     = 1
	encodingWhack   = 2
)

// fixtureDir is where the venti-a fixture lives; a missing fixture
// fails the test rather than skipping it.
func fixtureDir(t testing.TB) string {
	t.Helper()
	return fixture.Path(t, "venti-a")
}

// The gunzipped images are shared by all tests of one run: arenas is
// 96 MiB unpacked, so each file is unpacked at most once, into a
// temporary directory that TestMain removes.
var (
	unpackMu  sync.Mutex
	unpackDir string
	unpacked  = map[string]string{} // file name -> unpacked path
)

func TestMain(m *testing.M) {
	code := m.Run()
	if unpackDir != "" {
		os.RemoveAll(unpackDir)
	}
	os.Exit(code)
}

// gunzipFixture returns the path of the unpacked copy of dir/name.gz.
func gunzipFixture(t testing.TB, dir, name string) string {
	t.Helper()
	unpackMu.Lock()
	defer unpackMu.Unlock()
	if p, ok := unpacked[name]; ok {
		return p
	}
	if unpackDir == "" {
		d, err := os.MkdirTemp("", "whacktest")
		if err != nil {
			t.Fatal(err)
		}
		unpackDir = d
	}
	p := filepath.Join(unpackDir, name)
	if err := gunzipFile(filepath.Join(dir, name+".gz"), p); err != nil {
		t.Fatal(err)
	}
	unpacked[name] = p
	return p
}

func gunzipFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(bufio.NewReader(in))
	if err != nil {
		return err
	}
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, zr); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

type clump struct {
	offset   int64 // from the start of the arena's data
	typ      uint8
	encoding uint8
	uncsize  int
	score    [20]byte
	stored   []byte
}

type arenaInfo struct {
	name               string
	clumps, cclumps    uint32
	used, uncsize      uint64
	blocksize, version uint32
}

func readAt(t testing.TB, r io.ReaderAt, off int64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil {
		t.Fatalf("read %d bytes at %d: %v", n, off, err)
	}
	return b
}

// walkArena reads the arena whose head is at base and returns its clumps,
// found by walking the data area sequentially, and its trailer statistics.
func walkArena(t testing.TB, r io.ReaderAt, base int64) ([]clump, arenaInfo) {
	t.Helper()
	be := binary.BigEndian

	head := readAt(t, r, base, headSize)
	if m := be.Uint32(head); m != arenaHeadMagic {
		t.Fatalf("arena head at %d: magic %#x", base, m)
	}
	var ai arenaInfo
	ai.version = be.Uint32(head[4:])
	ai.name = string(bytes.TrimRight(head[8:8+64], "\x00"))
	ai.blocksize = be.Uint32(head[72:])
	size := int64(be.Uint64(head[76:]))
	var clumpMagic uint32
	switch ai.version {
	case 4:
		clumpMagic = oldClumpMagic
	case 5:
		clumpMagic = be.Uint32(head[84:])
	default:
		t.Fatalf("arena %s: unknown version %d", ai.name, ai.version)
	}

	tail := readAt(t, r, base+size-int64(ai.blocksize), headSize)
	if m := be.Uint32(tail); m != arenaTailMagic {
		t.Fatalf("arena %s trailer: magic %#x", ai.name, m)
	}
	p := tail[72:]
	ai.clumps, ai.cclumps = be.Uint32(p), be.Uint32(p[4:])
	p = p[16:] // skip ctime, wtime
	if ai.version == 5 {
		if m := be.Uint32(p); m != clumpMagic {
			t.Fatalf("arena %s: trailer clump magic %#x, head %#x", ai.name, m, clumpMagic)
		}
		p = p[4:]
	}
	ai.used, ai.uncsize = be.Uint64(p), be.Uint64(p[8:])

	data := base + int64(ai.blocksize)
	var clumps []clump
	var off int64
	for {
		h := readAt(t, r, data+off, clumpHeaderSize)
		m := be.Uint32(h)
		if m == 0 {
			break // free space: end of the clump log
		}
		if m != clumpMagic {
			t.Fatalf("arena %s: clump at %d: magic %#x, want %#x", ai.name, off, m, clumpMagic)
		}
		c := clump{
			offset:   off,
			typ:      h[4],
			uncsize:  int(be.Uint16(h[7:])),
			encoding: h[29],
		}
		copy(c.score[:], h[9:29])
		c.stored = readAt(t, r, data+off+clumpHeaderSize, int(be.Uint16(h[5:])))
		clumps = append(clumps, c)
		off += clumpHeaderSize + int64(len(c.stored))
	}
	if uint64(off) != ai.used {
		t.Errorf("arena %s: clump log ends at %d, trailer says used=%d", ai.name, off, ai.used)
	}
	return clumps, ai
}

// fixtureBlocks maps each score in blocks/scores.tsv to the first block
// file with that score.
func fixtureBlocks(t testing.TB, dir string) map[[20]byte]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "blocks", "scores.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[[20]byte]string)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			continue
		}
		s, err := hex.DecodeString(f[4])
		if err != nil || len(s) != 20 {
			continue // "venti/write: ... lump too large"
		}
		var k [20]byte
		copy(k[:], s)
		if _, ok := m[k]; !ok {
			m[k] = f[0]
		}
	}
	return m
}

// checkClumps decodes every clump, checks it against its score and the
// fixture's block files, and checks that Compress makes the same decision
// and the same bytes as the C venti did. It returns the names of the
// blocks stored compressed.
func checkClumps(t *testing.T, dir string, clumps []clump) []string {
	blocks := fixtureBlocks(t, dir)
	var compressed []string
	for _, c := range clumps {
		name := blocks[c.score]
		where := fmt.Sprintf("clump at %d (%s, %x)", c.offset, name, c.score[:4])
		var data []byte
		switch c.encoding {
		case encodingRaw:
			data = c.stored
			if len(data) != c.uncsize {
				t.Errorf("%s: raw with size %d != uncsize %d", where, len(data), c.uncsize)
			}
		case encodingWhack:
			compressed = append(compressed, name)
			data = make([]byte, c.uncsize)
			if err := Decompress(data, c.stored); err != nil {
				t.Errorf("%s: Decompress: %v", where, err)
				continue
			}
		default:
			t.Errorf("%s: unknown encoding %d", where, c.encoding)
			continue
		}
		if sha1.Sum(data) != c.score {
			t.Errorf("%s: SHA-1 of contents %x != score", where, sha1.Sum(data))
		}
		if name == "" {
			t.Errorf("%s: score not in blocks/scores.tsv", where)
		} else if want, err := os.ReadFile(filepath.Join(dir, "blocks", name+".dat")); err != nil {
			t.Error(err)
		} else if !bytes.Equal(data, want) {
			t.Errorf("%s: contents differ from %s.dat", where, name)
		}

		// The quick probe never gives up on what the C venti compressed.
		if c.encoding == encodingWhack && Hopeless(data) {
			t.Errorf("%s: Hopeless, but the C venti compressed it", where)
		}
		// The C venti compressed exactly when Compress says ok, to
		// exactly the same bytes.
		buf := make([]byte, len(data))
		n, ok := Compress(buf, data)
		switch {
		case ok != (c.encoding == encodingWhack):
			t.Errorf("%s: Compress ok=%v, but C venti stored encoding %d", where, ok, c.encoding)
		case ok && !bytes.Equal(buf[:n], c.stored):
			t.Errorf("%s: Compress gave %d bytes, C venti %d; first difference at %d",
				where, n, len(c.stored), firstDiff(buf[:n], c.stored))
		}
	}
	return compressed
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func checkArenaTotals(t *testing.T, clumps []clump, ai arenaInfo) {
	t.Helper()
	var ncomp uint32
	var unc uint64
	for _, c := range clumps {
		if c.encoding == encodingWhack {
			ncomp++
		}
		unc += uint64(c.uncsize)
	}
	if uint32(len(clumps)) != ai.clumps || ncomp != ai.cclumps || unc != ai.uncsize {
		t.Errorf("arena %s: walked %d clumps (%d compressed, %d bytes); trailer says %d (%d, %d)",
			ai.name, len(clumps), ncomp, unc, ai.clumps, ai.cclumps, ai.uncsize)
	}
}

// wantCompressed are the fixture blocks the C venti stored compressed,
// in log order (README.txt).
var wantCompressed = []string{"b04", "b05", "b08", "b13"}

func TestFixtureArenaImage(t *testing.T) {
	dir := fixtureDir(t)
	f, err := os.Open(gunzipFixture(t, dir, "arenas0.0.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	clumps, ai := walkArena(t, f, 0)
	if len(clumps) != 11 {
		t.Errorf("found %d clumps, README says 11", len(clumps))
	}
	checkArenaTotals(t, clumps, ai)
	got := checkClumps(t, dir, clumps)
	if fmt.Sprint(got) != fmt.Sprint(wantCompressed) {
		t.Errorf("compressed clumps %v, want %v", got, wantCompressed)
	}
}

// TestFixtureArenaPartition finds the arenas through the partition header
// and arena map, and checks every clump in all of them.
func TestFixtureArenaPartition(t *testing.T) {
	dir := fixtureDir(t)
	f, err := os.Open(gunzipFixture(t, dir, "arenas"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	be := binary.BigEndian

	h := readAt(t, f, partBlank, headSize)
	if m := be.Uint32(h); m != arenaPartMagic {
		t.Fatalf("arena partition magic %#x", m)
	}
	blocksize := int64(be.Uint32(h[8:]))
	arenabase := int64(be.Uint32(h[12:]))
	tabbase := (partBlank + headSize + blocksize - 1) &^ (blocksize - 1)
	table := string(bytes.TrimRight(readAt(t, f, tabbase, int(arenabase-tabbase)), "\x00"))
	lines := strings.Split(strings.TrimSpace(table), "\n")
	n, err := strconv.Atoi(lines[0])
	if err != nil || n != len(lines)-1 {
		t.Fatalf("arena map: bad count line %q for %d entries", lines[0], len(lines)-1)
	}

	var all []clump
	for _, line := range lines[1:] {
		f3 := strings.Fields(line)
		if len(f3) != 3 {
			t.Fatalf("arena map line %q", line)
		}
		start, err := strconv.ParseInt(f3[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		clumps, ai := walkArena(t, f, start)
		if ai.name != f3[0] {
			t.Errorf("arena at %d is named %q, map says %q", start, ai.name, f3[0])
		}
		checkArenaTotals(t, clumps, ai)
		t.Logf("arena %s at %d: %d clumps", ai.name, start, len(clumps))
		all = append(all, clumps...)
	}
	if len(all) != 11 {
		t.Errorf("found %d clumps in the partition, README says 11", len(all))
	}
	got := checkClumps(t, dir, all)
	if fmt.Sprint(got) != fmt.Sprint(wantCompressed) {
		t.Errorf("compressed clumps %v, want %v", got, wantCompressed)
	}
}
