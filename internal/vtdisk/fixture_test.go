package vtdisk

import (
	"bufio"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The fixtures made by the C programs. VTDISK_FIXTURES overrides the
// directory; tests that need a missing fixture are skipped.
var fixtureRoot = func() string {
	if d := os.Getenv("VTDISK_FIXTURES"); d != "" {
		return d
	}
	return "/work/shared/fixtures"
}()

// tmpRoot holds the unpacked partitions for the whole test run.
var tmpRoot string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "vtdisk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tmpRoot = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

type unpacked struct {
	once sync.Once
	path string
	err  error
}

var (
	unpackMu  sync.Mutex
	unpackSet = map[string]*unpacked{}
)

// fixturePath returns the path of a read-only fixture file, skipping
// the test if it is missing.
func fixturePath(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(fixtureRoot, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture %s: %v", rel, err)
	}
	return p
}

func fixtureText(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(fixturePath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checksums reads a "hex  name" list (sha1sum or sha256sum output).
func checksums(t testing.TB, rel string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(fixtureText(t, rel), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			m[f[1]] = f[0]
		}
	}
	return m
}

// gunzipFixture unpacks the gzipped fixture rel (once per test run)
// into the temporary directory and checks its digest: want is the
// expected hex SHA-1 (40 digits) or SHA-256 (64 digits).
func gunzipFixture(t testing.TB, rel, want string) string {
	t.Helper()
	src := fixturePath(t, rel)
	unpackMu.Lock()
	u := unpackSet[rel]
	if u == nil {
		u = &unpacked{}
		unpackSet[rel] = u
	}
	unpackMu.Unlock()
	u.once.Do(func() {
		dst := filepath.Join(tmpRoot, strings.NewReplacer("/", "_").Replace(strings.TrimSuffix(rel, ".gz")))
		u.path, u.err = dst, gunzip(src, dst, want)
	})
	if u.err != nil {
		t.Fatal(u.err)
	}
	return u.path
}

func gunzip(src, dst, want string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(bufio.NewReader(in))
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	var h hash.Hash = sha1.New()
	if len(want) == 64 {
		h = sha256.New()
	}
	if _, err := io.Copy(io.MultiWriter(out, h), zr); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: digest %s, want %s", src, got, want)
	}
	return os.Chmod(dst, 0o444)
}

// openFixture returns an unpacked partition opened for reading and its size.
func openFixture(t testing.TB, rel, want string) (*os.File, int64) {
	t.Helper()
	f, err := os.Open(gunzipFixture(t, rel, want))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	size, err := SizeOf(f)
	if err != nil {
		t.Fatal(err)
	}
	return f, size
}

// partition opens one of the partitions listed in a partitions.sha1.
func partition(t testing.TB, dir, name string) (*os.File, int64) {
	t.Helper()
	sums := checksums(t, dir+"/partitions.sha1")
	want, ok := sums[name]
	if !ok {
		t.Fatalf("%s/partitions.sha1 lists no %s", dir, name)
	}
	return openFixture(t, dir+"/"+name+".gz", want)
}

const (
	dirA = "venti-a"
	dirB = "fossil-b/venti-after-archive"
	// sha1 of venti/rdarena's copy of arenas0.0, from venti-a.txt.
	imgA = "afd724ec15e1a52d0ac332287684dbe862efa035"
)

// section returns lines of venti-a.txt (or another transcript) from the
// line after the first line with prefix start (searching from the
// first line containing after, if after is not empty) up to, not
// including, the next line starting with stop.
func section(t testing.TB, text, after, start, stop string) []string {
	t.Helper()
	lines := strings.Split(text, "\n")
	i := 0
	if after != "" {
		for i < len(lines) && !strings.Contains(lines[i], after) {
			i++
		}
	}
	for i < len(lines) && !strings.HasPrefix(lines[i], start) {
		i++
	}
	if i == len(lines) {
		t.Fatalf("transcript has no %q after %q", start, after)
	}
	var out []string
	for i++; i < len(lines) && !strings.HasPrefix(lines[i], stop); i++ {
		out = append(out, lines[i])
	}
	return out
}
