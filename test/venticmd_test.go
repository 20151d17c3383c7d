package test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/vtmem"
	"github.com/plan9fossil/fossil/venti"
)

// serveMem serves an in-memory venti on the given loopback address
// (port chosen by the system) and returns its dial string.
func serveMem(t *testing.T, ip string) (string, *vtmem.Store) {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	store := &vtmem.Store{}
	srv := &venti.Server{Handler: store}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return fmt.Sprintf("tcp!%s!%d", ip, l.Addr().(*net.TCPAddr).Port), store
}

type fixtureBlock struct {
	name, flags, score string
	typ                int
	data               []byte
}

// fixtureBlocks reads venti-a's blocks/scores.tsv and the blocks' bytes.
func fixtureBlocks(t *testing.T) []fixtureBlock {
	dir := filepath.Join(fixtures(), "venti-a", "blocks")
	f, err := os.Open(filepath.Join(dir, "scores.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []fixtureBlock
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) != 5 {
			t.Fatalf("scores.tsv: %q", sc.Text())
		}
		b := fixtureBlock{name: fs[0], flags: fs[3], score: fs[4]}
		fmt.Sscan(fs[2], &b.typ)
		if b.data, err = os.ReadFile(filepath.Join(dir, b.name+".dat")); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// TestWriteReadFixtureBlocks replays the C session of fixture venti-a
// with our venti/write and venti/read and compares what they print with
// what the C programs printed.
func TestWriteReadFixtureBlocks(t *testing.T) {
	host, _ := serveMem(t, "127.0.0.1")
	blocks := fixtureBlocks(t)
	if len(blocks) != 16 {
		t.Fatalf("%d fixture blocks", len(blocks))
	}
	for _, b := range blocks {
		args := []string{"-h", host, "-t", fmt.Sprint(b.typ)}
		if b.flags == "-z" {
			args = append(args, "-z")
		}
		r := run(t, b.data, nil, "venti/write", args...)
		if strings.HasPrefix(b.score, "venti/write:") {
			// b15 is one byte over the limit.
			if r.ok || strings.TrimSpace(r.stderr) != b.score {
				t.Errorf("%s: ok=%v stderr %q, want failure %q", b.name, r.ok, r.stderr, b.score)
			}
			continue
		}
		if !r.ok || r.stdout != b.score+"\n" {
			t.Errorf("%s: venti/write printed %q (stderr %q), want %s", b.name, r.stdout, r.stderr, b.score)
			continue
		}
		r = run(t, nil, nil, "venti/read", "-h", host, "-t", fmt.Sprint(b.typ), b.score)
		want := b.data
		if b.flags == "-z" {
			want = venti.ZeroTruncate(venti.Type(b.typ), b.data)
		}
		if !r.ok || r.stdout != string(want) {
			t.Errorf("%s: venti/read gave %d bytes (stderr %q), want %d", b.name, len(r.stdout), r.stderr, len(want))
		}
	}
	// Untyped reads name the type found, as in venti-a.txt.
	for _, c := range []struct {
		score string
		typ   int
		size  int
	}{
		{"6f2b89bb618db8de945d1b5304307895643ad340", 0, 8192},
		{"e7be30bfe2c8b9e9b53d68ecaae5afd7ff60dd50", 16, 300},
		{"cec7016aa3993ee25533c6f9961ffe133de5f92a", 1, 4000}, // written as type 9
	} {
		r := run(t, nil, nil, "venti/read", "-h", host, c.score)
		want := fmt.Sprintf("venti/read -h%s %s %d\n", host, c.score, c.typ)
		if !r.ok || r.stderr != want || len(r.stdout) != c.size {
			t.Errorf("untyped read %s: stderr %q (want %q), %d bytes", c.score, r.stderr, want, len(r.stdout))
		}
	}
	// Wrong type and missing score fail with the server's reason.
	for _, args := range [][]string{
		{"-t", "8", "ddb3ee1c8accac9ab7cba52123441f131078d258"},
		{"-t", "0", "0000000000000000000000000000000000000001"},
	} {
		r := run(t, nil, nil, "venti/read", append([]string{"-h", host}, args...)...)
		if r.ok || !strings.HasPrefix(r.stderr, "venti/read: could not read block: no block") {
			t.Errorf("read %v: ok=%v stderr %q", args, r.ok, r.stderr)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	host, _ := serveMem(t, "127.0.0.1")
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"venti/read", nil, "usage: venti/read [-h host] [-t type] score\n"},
		{"venti/read", []string{"-x", "s"}, "usage: venti/read [-h host] [-t type] score\n"},
		{"venti/read", []string{"-h", host, "nonsense"}, "venti/read: could not parse score 'nonsense': bad score\n"},
		{"venti/read", []string{"-h", host, "-t", "17", "da39a3ee5e6b4b0d3255bfef95601890afd80709"}, "venti/read: bad type 17\n"},
		{"venti/write", []string{"extra"}, "usage: venti/write [-z] [-h host] [-t type]\n"},
		{"venti/write", []string{"-h", "tcp!127.0.0.1!1"}, ""},
		{"venti/copy", []string{"a", "b"}, "usage: venti/copy [-fimrv] [-t type] srchost dsthost score\n"},
		{"venti/copy", []string{"-i", "-r", "a", "b", "c"}, "usage: venti/copy [-fimrv] [-t type] srchost dsthost score\n"},
	}
	for _, tt := range tests {
		r := run(t, []byte("x"), nil, tt.name, tt.args...)
		if r.ok {
			t.Errorf("%s %v succeeded", tt.name, tt.args)
		}
		if tt.stderr == "" {
			if !strings.HasPrefix(r.stderr, tt.name+": could not connect to server: ") {
				t.Errorf("%s %v: stderr %q", tt.name, tt.args, r.stderr)
			}
		} else if r.stderr != tt.stderr {
			t.Errorf("%s %v: stderr %q, want %q", tt.name, tt.args, r.stderr, tt.stderr)
		}
	}
	// Too much input for one message.
	r := run(t, make([]byte, 70000), nil, "venti/write", "-h", host)
	if r.ok || r.stderr != "venti/write: input too big: max block size is 65535\n" {
		t.Errorf("big input: %v %q", r.ok, r.stderr)
	}
}

// TestVentiEnv: without -h the commands use $venti, like the C ones.
func TestVentiEnv(t *testing.T) {
	host, store := serveMem(t, "127.0.0.1")
	env := []string{"venti=" + host}
	r := run(t, []byte("from the environment"), env, "venti/write")
	if !r.ok || store.Len() != 1 {
		t.Fatalf("write with $venti: %+v", r)
	}
	r = run(t, nil, env, "venti/read", "-t", "0", strings.TrimSpace(r.stdout))
	if r.stdout != "from the environment" {
		t.Errorf("read with $venti: %+v", r)
	}
}

// tree builds a small vac-style tree on c: a file of three data blocks
// under a pointer block, a directory holding its entry, and a root.
func tree(t *testing.T, c *venti.Conn, missing bool) (root venti.Score, all int) {
	ctx := context.Background()
	var ptr []byte
	for i := 0; i < 3; i++ {
		data := bytes.Repeat([]byte{byte('a' + i)}, 1000)
		s, err := c.Write(ctx, venti.DataType, data)
		if err != nil {
			t.Fatal(err)
		}
		ptr = append(ptr, s[:]...)
	}
	if missing {
		// A pointer to a block the server does not have.
		s := venti.Fingerprint([]byte("never written"))
		ptr = append(ptr, s[:]...)
	}
	ps, _ := c.Write(ctx, venti.DataType+1, ptr)
	e := venti.Entry{PSize: 8192, DSize: 1000, Type: venti.DataType + 1, Flags: venti.EntryActive, Size: 3000, Score: ps}
	dir := make([]byte, venti.EntrySize)
	e.Pack(dir)
	ds, _ := c.Write(ctx, venti.DirType, dir)
	r := venti.Root{Name: "test", Type: "vac", Score: ds, BlockSize: 8192}
	rb := make([]byte, venti.RootSize)
	r.Pack(rb)
	root, err := c.Write(ctx, venti.RootType, rb)
	if err != nil {
		t.Fatal(err)
	}
	return root, 6
}

func TestCopy(t *testing.T) {
	src, _ := serveMem(t, "127.0.0.2")
	dst, dstStore := serveMem(t, "127.0.0.3")
	c, err := venti.Dial(src)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root, n := tree(t, c, false)

	r := run(t, nil, nil, "venti/copy", "-v", src, dst, "vac:"+root.String())
	if !r.ok || r.stdout != fmt.Sprintf("0 skipped, %d written\n", n) {
		t.Fatalf("copy: %+v", r)
	}
	if dstStore.Len() != n {
		t.Errorf("destination holds %d blocks, want %d", dstStore.Len(), n)
	}
	// Fast mode finds the root there already and writes nothing.
	r = run(t, nil, nil, "venti/copy", "-fv", src, dst, root.String())
	if !r.ok || r.stdout != "0 skipped, 0 written\n" {
		t.Errorf("fast copy: %+v", r)
	}

	// A tree with a hole: the default stops, -r patches it.
	bad, _ := tree(t, c, true)
	dst2, _ := serveMem(t, "127.0.0.4")
	r = run(t, nil, nil, "venti/copy", src, dst2, bad.String())
	if r.ok || !strings.Contains(r.stderr, "venti/copy: reading block") {
		t.Errorf("copy of broken tree: %+v", r)
	}
	r = run(t, nil, nil, "venti/copy", "-r", "-t", "16", src, dst2, "vac:"+bad.String())
	if !r.ok || !strings.HasPrefix(r.stdout, "vac:") || !strings.HasSuffix(r.stdout, " (1 pointers rewritten)\n") {
		t.Fatalf("copy -r: %+v", r)
	}
	// The rewritten root is whole on the destination.
	newRoot := strings.Fields(r.stdout)[0]
	r = run(t, nil, nil, "venti/copy", dst2, dst, newRoot)
	if !r.ok {
		t.Errorf("copy of the rewritten tree: %+v", r)
	}
}
