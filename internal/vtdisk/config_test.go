package vtdisk

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestConfigBlockVentiA(t *testing.T) {
	f, size := partition(t, dirA, "arenas")
	want := fixtureText(t, dirA+"/venti.conf")
	got, err := ReadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's venti.conf has the /dev/sdC0 names that were
	// written into the block (conf -w); the same text comes back.
	if got != want {
		t.Errorf("config block %q, want %q", got, want)
	}
	if got2, err := LoadConfig(f, size); err != nil || got2 != want {
		t.Errorf("LoadConfig of the partition: %q %v", got2, err)
	}
	cf, err := os.Open(fixturePath(t, dirA+"/venti.conf"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	csize, _ := SizeOf(cf)
	if got2, err := LoadConfig(cf, csize); err != nil || got2 != want {
		t.Errorf("LoadConfig of the file: %q %v", got2, err)
	}
	c, err := ParseConfig(got)
	if err != nil {
		t.Fatal(err)
	}
	wantc := &Config{Index: "main", Arenas: []string{"/dev/sdC0/arenas"}, ISects: []string{"/dev/sdC0/isect"},
		Bloom: "/dev/sdC0/bloom", Mem: 16 << 20, BCMem: 16 << 20, ICMem: 16 << 20,
		Addr: "tcp!127.0.0.1!17034", HTTPAddr: "tcp!127.0.0.1!18000"}
	if !reflect.DeepEqual(c, wantc) {
		t.Errorf("config %+v\nwant %+v", c, wantc)
	}

	// Round trip of the block.
	block := make([]byte, ConfigSize)
	if _, err := f.ReadAt(block, ConfigOffset); err != nil {
		t.Fatal(err)
	}
	block2 := make([]byte, ConfigSize)
	if err := PackConfig(block2, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(block, block2) {
		t.Errorf("packed config block differs")
	}
}

func digestFile(t *testing.T, path string) [20]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha1.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [20]byte(h.Sum(nil))
}

func TestWriteConfig(t *testing.T) {
	src, _ := partition(t, dirA, "arenas")
	path := filepath.Join(t.TempDir(), "arenas")
	dst, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.Copy(dst, io.NewSectionReader(src, 0, 1<<62)); err != nil {
		t.Fatal(err)
	}
	orig := make([]byte, 1<<20)
	if _, err := src.ReadAt(orig, 0); err != nil {
		t.Fatal(err)
	}

	text := "index other\n# a comment\narenas /dev/sdD0/arenas\nisect /dev/sdD0/isect\nqueuewrites\n"
	if err := WriteConfig(dst, text); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadConfig(dst); err != nil || got != text {
		t.Fatalf("read back %q, %v", got, err)
	}
	// Only the config block changed: the partition still opens and the
	// bytes around the block are as they were.
	now := make([]byte, 1<<20)
	if _, err := dst.ReadAt(now, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(now[:ConfigOffset], orig[:ConfigOffset]) || !bytes.Equal(now[PartBlank:], orig[PartBlank:]) {
		t.Errorf("bytes outside the config block changed")
	}
	size, _ := SizeOf(dst)
	if _, err := OpenArenaPartition(dst, size); err != nil {
		t.Error(err)
	}

	// Text that fits exactly (no NUL after it) is accepted.
	full := strings.Repeat("#", ConfigSize-len(ConfigMagic)-1) + "\n"
	if err := WriteConfig(dst, full); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadConfig(dst); err != nil || got != full {
		t.Fatalf("full block: read back %d bytes, %v", len(got), err)
	}
	// One byte more is refused, and nothing is written.
	before := digestFile(t, path)
	err = WriteConfig(dst, full+"x")
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	if digestFile(t, path) != before {
		t.Errorf("refused config changed the partition")
	}
	if err := WriteConfig(dst, "index a\x00b\n"); err == nil || digestFile(t, path) != before {
		t.Errorf("config with NUL: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig("  # comment line\n\nindex main # trailing comment\n" +
		"arenas /a:0-1g\narenas\t/b\nisect /i0\nisect /i1\n" +
		"mem 0x10k\nbcmem 2M\nicmem 1g\nhttpaddr tcp!*!80\naddr tcp!*!venti\nwebroot /sys/lib/venti/www\r\nqueuewrites")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{Index: "main", Arenas: []string{"/a:0-1g", "/b"}, ISects: []string{"/i0", "/i1"},
		Mem: 16 << 10, BCMem: 2 << 20, ICMem: 1 << 30, HTTPAddr: "tcp!*!80", Addr: "tcp!*!venti",
		WebRoot: "/sys/lib/venti/www", QueueWrites: true}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	for _, tc := range []struct{ text, err string }{
		{"index main\nfoo bar\n", `vtdisk: config line 2: syntax error: unknown keyword "foo"`},
		{"index main\n\n# x\nindex other\n", "vtdisk: config line 4: syntax error: duplicate index line"},
		{"mem 16q\n", `vtdisk: config line 1: syntax error: illegal size "16q"`},
		{"mem\n", `vtdisk: config line 1: syntax error: mem takes one argument: "mem"`},
		{"isect a b\n", `vtdisk: config line 1: syntax error: isect takes one argument: "isect a b"`},
		{"queuewrites yes\n", `vtdisk: config line 1: syntax error: queuewrites takes no argument: "queuewrites yes"`},
		{"bloom a\nbloom b\n", "vtdisk: config line 2: syntax error: duplicate bloom line"},
		{"index " + strings.Repeat("x", 64) + "\n", "vtdisk: config line 1: syntax error: illegal index name \"" + strings.Repeat("x", 64) + "\""},
	} {
		_, err := ParseConfig(tc.text)
		if err == nil || err.Error() != tc.err {
			t.Errorf("%q: error %v, want %s", tc.text, err, tc.err)
		}
	}
}

func TestParseSizeAndPartName(t *testing.T) {
	for s, want := range map[string]uint64{"16m": 16 << 20, "0": 0, "010": 8, "0x1K": 1024, "2T": 2 << 40, "7": 7} {
		if v, err := ParseSize(s); err != nil || v != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s, v, err, want)
		}
	}
	for _, s := range []string{"", "k", "-1", "1x", "16mb", "99999999999999999999", "20000000000000000t"} {
		if v, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) = %d", s, v)
		}
	}
	for _, tc := range []struct {
		name, file string
		lo, hi     uint64
		ok         bool
	}{
		{"/dev/sdC0/arenas", "/dev/sdC0/arenas", 0, 0, true},
		{"/tmp/disk:1m-2m", "/tmp/disk", 1 << 20, 2 << 20, true},
		{"/tmp/disk:-2m", "/tmp/disk", 0, 2 << 20, true},
		{"/tmp/disk:512k", "/tmp/disk", 512 << 10, 0, true},
		{"/tmp/disk:512k-", "/tmp/disk", 512 << 10, 0, true},
		{"/tmp/disk:2m-1m", "", 0, 0, false},
		{"/tmp/disk:x", "", 0, 0, false},
	} {
		file, lo, hi, err := ParsePartName(tc.name)
		if (err == nil) != tc.ok || file != tc.file || lo != tc.lo || hi != tc.hi {
			t.Errorf("ParsePartName(%q) = %q %d %d %v", tc.name, file, lo, hi, err)
		}
	}
}
