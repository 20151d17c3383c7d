package vtdisk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// blockA is one line of venti-a's blocks/scores.tsv with its data.
type blockA struct {
	name  string
	typ   venti.Type
	flags string
	score venti.Score
	data  []byte
}

// blocksA returns the blocks venti-a wrote, except b15, which venti
// refused ("lump too large").
func blocksA(t *testing.T) []blockA {
	var out []blockA
	for _, line := range strings.Split(fixtureText(t, dirA+"/blocks/scores.tsv"), "\n")[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 5 || strings.HasPrefix(f[4], "venti/write") {
			continue
		}
		typ, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatal(err)
		}
		b := blockA{name: f[0], typ: venti.Type(typ), flags: f[3], score: venti.MustParseScore(f[4])}
		b.data, err = os.ReadFile(fixturePath(t, dirA+"/blocks/"+f[0]+".dat"))
		if err != nil {
			t.Fatal(err)
		}
		if b.flags == "-z" { // venti/write -z: trailing zeros are not sent
			b.data = bytes.TrimRight(b.data, "\x00")
		}
		if venti.Fingerprint(b.data) != b.score {
			t.Fatalf("%s: data does not hash to %v", b.name, b.score)
		}
		out = append(out, b)
	}
	if len(out) != 15 {
		t.Fatalf("scores.tsv: %d blocks, want 15", len(out))
	}
	return out
}

func diskType(t testing.TB, vt venti.Type) venti.DiskType {
	d, ok := vt.Disk()
	if !ok {
		t.Fatalf("type %d has no disk number", vt)
	}
	return d
}

// printarena's listing of arenas0.0 in venti-a.txt: address, score,
// type (venti(6) numbering), size.
var clumpsA = []struct {
	aa    uint64
	score string
	vt    int
	size  int
}{
	{0, "1dc3882d4bcccb325751803b817489c3715db4cc", 0, 1},
	{39, "6f2b89bb618db8de945d1b5304307895643ad340", 0, 8192},
	{8269, "ddb3ee1c8accac9ab7cba52123441f131078d258", 0, 56000},
	{64307, "8b2d19958041286ea4847e12210bf5ba0c1b76e6", 0, 8192},
	{64986, "0631457264ff7f8d5fb1edc2c0211992a67c73e6", 0, 8192},
	{65042, "6f2b89bb618db8de945d1b5304307895643ad340", 8, 8192},
	{73272, "e2583bd58d5e0a1d38fe5d9b4c7604d6f7bbddef", 0, 56000},
	{73706, "e7be30bfe2c8b9e9b53d68ecaae5afd7ff60dd50", 16, 300},
	{74044, "1a8367621131e630d1337e48c0a01f891731d26f", 0, 57344},
	{131426, "720508a68c54288ecb333964a58b2f542bc07f99", 9, 1000},
	{131586, "cec7016aa3993ee25533c6f9961ffe133de5f92a", 9, 4000},
}

func TestVentiAArenaPartition(t *testing.T) {
	f, size := partition(t, dirA, "arenas")
	p, err := OpenArenaPartition(f, size)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ArenaPart{Version: 3, BlockSize: 8192, ArenaBase: 794624}); p.Header != want {
		t.Errorf("header %+v, want %+v", p.Header, want)
	}
	// venti/rdarena -v: setbase=270336 setsize=524288 (and fmtarenas:
	// "524,288 bytes for index map").
	if p.Header.TableBase() != 270336 || p.Header.TableSize() != 524288 {
		t.Errorf("table at %d size %d, want 270336 524288", p.Header.TableBase(), p.Header.TableSize())
	}
	// rdarena -v lists the map.
	want := []AMap{
		{"arenas0.0", 794624, 17571840},
		{"arenas0.1", 17571840, 34349056},
		{"arenas0.2", 34349056, 51126272},
		{"arenas0.3", 51126272, 67903488},
		{"arenas0.4", 67903488, 84680704},
		{"arenas0.5", 84680704, 100663296},
	}
	if !reflect.DeepEqual(p.Map, want) {
		t.Errorf("map %v\nwant %v", p.Map, want)
	}
	// fmtarenas: "99,868,672 bytes storage" from the arena base to the end.
	if got := p.Size - int64(p.Header.ArenaBase); got != 99868672 {
		t.Errorf("storage %d, want 99868672", got)
	}

	var out strings.Builder
	if err := p.PrintArenaPart(&out, nil); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	text := fixtureText(t, dirA+"/venti-a.txt")
	// The listing made offline after the writes shows the partition as
	// it is in the fixture. "bad line: " is the C program's complaint on
	// standard error when it reaches the NUL padding after the table.
	after := section(t, text, "######## offline", "% venti/printarenapart", "bad line: ")
	if !reflect.DeepEqual(got, after) {
		t.Errorf("printarenapart:\n%s\nwant (offline listing):\n%s", strings.Join(got, "\n"), strings.Join(after, "\n"))
	}
	// The first listing was made right after formatting, before any
	// write: arenas0.0 had no clumps and zero times then. Everything
	// else (header line, the other five arenas) must still match; of
	// arenas0.0 the name and offset.
	before := section(t, text, "", "% venti/printarenapart", "bad line: ")
	if len(before) != len(got) {
		t.Fatalf("first listing has %d lines, we print %d", len(before), len(got))
	}
	for i := range got {
		switch {
		case i == 1:
			if !strings.HasPrefix(before[i], "arena arenas0.0 794624 clumps=0 ") ||
				!strings.HasPrefix(got[i], "arena arenas0.0 794624 clumps=11 ") {
				t.Errorf("arenas0.0: before %q, now %q", before[i], got[i])
			}
		case i == 2 || i == 3:
			if before[i] != "\t"+[]string{"c", "m"}[i-2]+"time=Thu Jan  1 00:00:00 GMT 1970" {
				t.Errorf("arenas0.0 before the writes: %q", before[i])
			}
		case before[i] != got[i]:
			t.Errorf("line %d: %q, first listing %q", i, got[i], before[i])
		}
	}
}

func TestVentiAArena(t *testing.T) {
	f, size := partition(t, dirA, "arenas")
	p, err := OpenArenaPartition(f, size)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Arena(0)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := openFixture(t, dirA+"/arenas0.0.img.gz", imgA)
	ai, err := OpenArena(img, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// printarena: "# arena head version=5 name=arenas0.0 blocksize=8192
	// size=16777216 clumpmagic=0x8c81fb1d".
	wantHead := ArenaHead{Version: 5, Name: "arenas0.0", BlockSize: 8192, Size: 16777216, ClumpMagic: 0x8c81fb1d}
	// printarenapart and the /index page: clumps=11 cclumps=4
	// used=135,624 uncsize=207,413, created=1795426310
	// modified=1795426317; not sealed, fully indexed (no memstats).
	stats := TailStats{Clumps: 11, CClumps: 4, Used: 135624, UncSize: 207413}
	wantTail := ArenaTail{Version: 5, Name: "arenas0.0", Disk: stats, Mem: stats,
		CTime: 1795426310, WTime: 1795426317, ClumpMagic: 0x8c81fb1d}
	for _, x := range []*Arena{a, ai} {
		if x.Head != wantHead {
			t.Errorf("head %+v, want %+v", x.Head, wantHead)
		}
		if x.Tail != wantTail {
			t.Errorf("trailer %+v, want %+v", x.Tail, wantTail)
		}
	}
	// The /index page: arenas0.0 "at [802816,17580032)" on the
	// partition: the C code prints the clump log's offset and that plus
	// the size of the whole arena (16 MiB), which runs two blocks past
	// the arena's end (17571840). Its index addresses are
	// [1048576,17809408): 16,760,832 bytes, the space between head and
	// trailer.
	if a.DataOffset() != 802816 || a.DataOffset()+int64(a.Size) != 17580032 || a.DataSize() != 17809408-1048576 ||
		a.Offset+int64(a.Size) != 17571840 {
		t.Errorf("data at %d size %d", a.DataOffset(), a.DataSize())
	}
	if ai.DataOffset() != 8192 {
		t.Errorf("image: data at %d", ai.DataOffset())
	}

	blocks := blocksA(t)
	for _, x := range []*Arena{a, ai} {
		var got []string
		var cclumps, uncsize, used uint64
		var infos []ClumpInfo
		end, n, err := x.Walk(func(aa uint64, c *Clump, stored []byte) error {
			data, err := c.Decode(stored)
			if err != nil {
				return err
			}
			if err := c.Verify(data); err != nil {
				return err
			}
			if c.Encoding == EncodingWhack {
				cclumps++
			}
			uncsize += uint64(c.UncSize)
			used += ClumpSize + uint64(c.Size)
			infos = append(infos, c.ClumpInfo)
			got = append(got, fmt.Sprintf("%d %v %d %d", aa, c.Score, vtType(c.Type), c.UncSize))
			// The data is the data of the block written with this score and type.
			found := false
			for _, b := range blocks {
				if b.score == c.Score && diskType(t, b.typ) == c.Type {
					found = true
					if !bytes.Equal(b.data, data) {
						t.Errorf("clump at %d: data differs from %s.dat", aa, b.name)
					}
				}
			}
			if !found {
				t.Errorf("clump at %d: %v type %d was not written", aa, c.Score, c.Type)
			}
			// Encoding the data again gives the same clump.
			c2, stored2, err := Encode(data, c.Type, c.Time)
			if err != nil {
				t.Error(err)
			} else if *c2 != *c || !bytes.Equal(stored2, stored) {
				t.Errorf("clump at %d: encoding again gives %+v (%d bytes), have %+v", aa, *c2, len(stored2), *c)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// printarena: "end offset 135624"; wrarena: "end offset 0x211c8".
		if end != 0x211c8 || n != 11 { // 0x211c8 = 135624
			t.Errorf("log ends at %d after %d clumps, want 135624 and 11", end, n)
		}
		var want []string
		for _, c := range clumpsA {
			want = append(want, fmt.Sprintf("%d %s %d %d", c.aa, c.score, c.vt, c.size))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("clumps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// The statistics agree with the log: 4 compressed clumps,
		// 207,413 bytes of data, "compressed data=135,206" (used minus
		// the 11 headers), "disk storage=135,899" (used plus 11
		// directory entries).
		if cclumps != 4 || uncsize != 207413 || used != 135624 ||
			used-11*ClumpSize != 135206 || used+11*ClumpInfoSize != 135899 {
			t.Errorf("cclumps %d uncsize %d used %d", cclumps, uncsize, used)
		}
		// The directory agrees with the clump headers.
		dir, err := x.ReadClumpInfos(0, 11)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(dir, infos) {
			t.Errorf("directory %+v\nclumps %+v", dir, infos)
		}
		if off := x.ClumpInfoOffset(0); off != x.Offset+int64(x.Size)-2*8192 {
			t.Errorf("directory block 0 at %#x", off)
		}
		// Entries past the last clump are unwritten (zero).
		if ci, err := x.ReadClumpInfo(11); err != nil || ci != (ClumpInfo{}) {
			t.Errorf("entry 11: %+v %v", ci, err)
		}
	}

	// PrintArena matches venti/printarena's listing of the image.
	var out strings.Builder
	if err := ai.PrintArena(&out); err != nil {
		t.Fatal(err)
	}
	want := section(t, fixtureText(t, dirA+"/venti-a.txt"), "", "% venti/printarena $W/va-off-a/arenas0.0.img", "[exit")
	if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("printarena:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
	// The other five arenas are empty.
	for i := 1; i < 6; i++ {
		b, err := p.Arena(i)
		if err != nil {
			t.Fatal(err)
		}
		end, n, err := b.Walk(func(uint64, *Clump, []byte) error { return errors.New("clump in an empty arena") })
		if err != nil || end != 0 || n != 0 || b.Tail.Disk != (TailStats{}) || b.Tail.Mem != (TailStats{}) {
			t.Errorf("%s: %d clumps to %d, %v, stats %+v", b.Name(), n, end, err, b.Tail.Disk)
		}
	}
}

func TestVentiAIndex(t *testing.T) {
	f, size := partition(t, dirA, "isect")
	s, err := OpenIndexSection(f, size)
	if err != nil {
		t.Fatal(err)
	}
	// fmtisect: "927 buckets of 215 entries, 524,288 bytes for index map".
	want := ISect{Version: 2, Name: "isect0", Index: "main", BlockSize: 8192, BlockBase: 794624,
		Blocks: 927, Start: 0, Stop: 927, BucketMagic: 0xf0ca64ce}
	if s.Header != want {
		t.Errorf("header %+v, want %+v", s.Header, want)
	}
	if s.Header.BucketMax() != 215 || s.Header.TableSize() != 524288 {
		t.Errorf("buckmax %d tabsize %d", s.Header.BucketMax(), s.Header.TableSize())
	}
	ix, err := OpenIndex(s)
	if err != nil {
		t.Fatal(err)
	}
	// The /xindex page.
	wantMap := IndexMap{Version: 1, Name: "main", BlockSize: 8192,
		Sects: []AMap{{"isect0", 0, 927}},
		Arenas: []AMap{
			{"arenas0.0", 1048576, 17809408},
			{"arenas0.1", 17809408, 34570240},
			{"arenas0.2", 34570240, 51331072},
			{"arenas0.3", 51331072, 68091904},
			{"arenas0.4", 68091904, 84852736},
			{"arenas0.5", 84852736, 100818944},
		}}
	if !reflect.DeepEqual(ix.Map, wantMap) {
		t.Errorf("index map %+v\nwant %+v", ix.Map, wantMap)
	}
	// The /index page: buckets=927 div=4633191.
	if ix.Buckets() != 927 || ix.Div != 4633191 {
		t.Errorf("buckets %d div %d", ix.Buckets(), ix.Div)
	}

	ap, asize := partition(t, dirA, "arenas")
	p, err := OpenArenaPartition(ap, asize)
	if err != nil {
		t.Fatal(err)
	}
	arena, err := p.Arena(0)
	if err != nil {
		t.Fatal(err)
	}
	bf, _ := partition(t, dirA, "bloom")
	bloom, err := ReadBloom(bf)
	if err != nil {
		t.Fatal(err)
	}
	// fmtbloom: "using 1MB, 32 hashes/score".
	if bloom.NHash != 32 || bloom.Size != 1<<20 {
		t.Errorf("bloom %+v", bloom.BloomHead)
	}

	stored := 0
	for _, b := range blocksA(t) {
		dt := diskType(t, b.typ)
		e, found, err := ix.Lookup(b.score, dt, false)
		if err != nil {
			t.Fatal(err)
		}
		if b.score == venti.ZeroScore {
			// b00 and b12 (all zeros, sent zero-truncated): the zero-length
			// block is never stored; clients answer it themselves.
			if found {
				t.Errorf("%s: zero score found in the index", b.name)
			}
			continue
		}
		if !found {
			t.Errorf("%s: %v type %d not found", b.name, b.score, dt)
			continue
		}
		if !bloom.Test(b.score) {
			t.Errorf("%s: %v not in the bloom filter", b.name, b.score)
		}
		i, aa, ok := ix.ArenaAt(e.Addr)
		if !ok || i != 0 {
			t.Errorf("%s: address %d is not in arenas0.0", b.name, e.Addr)
			continue
		}
		c, data, err := arena.ReadData(aa, 0)
		if err != nil {
			t.Errorf("%s: %v", b.name, err)
			continue
		}
		if c.Score != b.score || c.Type != dt || e.Type != dt || int(e.Size) != len(b.data) ||
			e.Blocks != c.Blocks() || !bytes.Equal(data, b.data) {
			t.Errorf("%s: entry %+v points at clump %+v", b.name, e, *c)
		}
		stored++
	}
	if stored != 13 { // 15 written, minus the two zero-length ones
		t.Errorf("%d blocks found", stored)
	}

	// Scores and types that are not stored.
	for _, q := range []struct {
		score string
		typ   venti.Type
	}{
		{"0000000000000000000000000000000000000001", venti.DataType},
		{"ddb3ee1c8accac9ab7cba52123441f131078d258", venti.DirType}, // stored as data only
		{"6f2b89bb618db8de945d1b5304307895643ad340", venti.RootType},
	} {
		sc := venti.MustParseScore(q.score)
		if _, found, err := ix.Lookup(sc, diskType(t, q.typ), false); err != nil || found {
			t.Errorf("%s type %v: found=%v err=%v", q.score, q.typ, found, err)
		}
	}
	// An untyped lookup finds the pointer block written as type 9 (it
	// is stored with disk type 3, which also stands for type 1).
	e, found, err := ix.Lookup(venti.MustParseScore("cec7016aa3993ee25533c6f9961ffe133de5f92a"), 0, true)
	if err != nil || !found || e.Type != 3 {
		t.Errorf("untyped lookup: %+v %v %v", e, found, err)
	}

	// Every entry of every bucket is in the bucket its score maps to;
	// there are 11, one per clump; buckets are sorted.
	entries := 0
	for b := uint32(0); b < ix.Buckets(); b++ {
		bk, err := ix.ReadBucket(b)
		if err != nil {
			t.Fatal(err)
		}
		for j, e := range bk.Entries {
			if BucketOf(e.Score, ix.Div) != b {
				t.Errorf("bucket %d holds %v (bucket %d)", b, e.Score, BucketOf(e.Score, ix.Div))
			}
			if j > 0 && bk.Entries[j-1].compare(e.Score, e.Type) >= 0 {
				t.Errorf("bucket %d: entries out of order", b)
			}
		}
		entries += len(bk.Entries)
	}
	if entries != 11 {
		t.Errorf("%d index entries, want 11", entries)
	}
}

// TestVentiABloomBits rebuilds the bloom filter from the stored
// scores: it must come out bit for bit as the C venti wrote it.
func TestVentiABloomBits(t *testing.T) {
	bf, _ := partition(t, dirA, "bloom")
	bloom, err := ReadBloom(bf)
	if err != nil {
		t.Fatal(err)
	}
	mine := &Bloom{BloomHead: bloom.BloomHead, Data: make([]byte, bloom.Size)}
	for _, c := range clumpsA {
		mine.Add(venti.MustParseScore(c.score))
	}
	if err := mine.BloomHead.Pack(mine.Data); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mine.Data, bloom.Data) {
		n := 0
		for i := range mine.Data {
			if mine.Data[i] != bloom.Data[i] {
				n++
			}
		}
		t.Errorf("rebuilt bloom filter differs in %d bytes", n)
	}
	// And scores never stored are (with overwhelming probability) out.
	for i := 0; i < 1000; i++ {
		if bloom.Test(venti.Fingerprint([]byte(fmt.Sprint("not stored ", i)))) {
			t.Errorf("score %d tests positive", i)
		}
	}
}

func TestArenaNamed(t *testing.T) {
	f, size := partition(t, dirA, "arenas")
	p, err := OpenArenaPartition(f, size)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.ArenaNamed("arenas0.3")
	if err != nil || a.Offset != 51126272 || a.Name() != "arenas0.3" {
		t.Errorf("arenas0.3: %v", err)
	}
	if _, err := p.ArenaNamed("arenas1.0"); err == nil {
		t.Errorf("found arenas1.0")
	}
}

// TestBloomBitsEdges pins the corners of the bloom hash: values below
// the header's 128 bits are raised to 128 before masking, sums wrap at
// 2^32, and masking may still land in the header.
func TestBloomBitsEdges(t *testing.T) {
	// A score whose a (bytes 4:8 ^ 12:16) and b (8:12 ^ 16:20) are given.
	score := func(a, b uint32) venti.Score {
		var s venti.Score
		binary.LittleEndian.PutUint32(s[4:], a^0x01010101)
		binary.LittleEndian.PutUint32(s[12:], 0x01010101)
		binary.LittleEndian.PutUint32(s[8:], b^0x02020202)
		binary.LittleEndian.PutUint32(s[16:], 0x02020202)
		return s
	}
	for _, tc := range []struct {
		a, b uint32
		want []uint32
	}{
		{101, 202, []uint32{128, 303, 505}},
		{0xffffffff, 3, []uint32{0x7fffff, 128, 128}}, // then 2 and 5, both raised to 128
		{0x00800005, 2, []uint32{5, 7, 9}},            // above 128, masked into the header
	} {
		if got := BloomBits(score(tc.a, tc.b), 3, 1<<20); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("a=%#x b=%#x: bits %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestBloomAddSetsBloomBits: Add sets exactly the bits BloomBits lists,
// and Test finds them, for scores of every kind of corner above.
func TestBloomAddSetsBloomBits(t *testing.T) {
	const size = 1 << 16
	for i := range 200 {
		var s venti.Score
		for j := range s {
			s[j] = byte(i*31 + j*j*7 + i*j)
		}
		if i%3 == 0 {
			binary.LittleEndian.PutUint32(s[4:], binary.LittleEndian.Uint32(s[12:])) // a = 0: raised to 128
		}
		f := &Bloom{BloomHead: BloomHead{NHash: 32, Size: size}, Data: make([]byte, size)}
		if f.Test(s) {
			t.Errorf("score %v found in an empty filter", s)
		}
		f.Add(s)
		want := make([]byte, size)
		for _, x := range BloomBits(s, 32, size) {
			want[x>>3] |= 1 << (x & 7)
		}
		if !bytes.Equal(f.Data, want) {
			t.Fatalf("score %v: Add set other bits than BloomBits lists", s)
		}
		if !f.Test(s) {
			t.Errorf("score %v: not found after Add", s)
		}
	}
}
