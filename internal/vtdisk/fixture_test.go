package vtdisk

import (
	"os"
	"strings"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}

// fixturePath returns the path of a read-only fixture file; a missing
// fixture fails the test.
func fixturePath(t testing.TB, rel string) string {
	t.Helper()
	return fixture.Path(t, rel)
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
// and checks its digest: want is the expected hex SHA-1 (40 digits) or
// SHA-256 (64 digits).
func gunzipFixture(t testing.TB, rel, want string) string {
	t.Helper()
	return fixture.Unpack(t, rel, want)
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
