package arg

import (
	"bytes"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args  []string
		flags string
		h     string
		rest  []string
	}{
		{[]string{"-h", "tcp!a!1", "score"}, "h", "tcp!a!1", []string{"score"}},
		{[]string{"-htcp!a!1", "score"}, "h", "tcp!a!1", []string{"score"}},
		{[]string{"-fr", "-h", "x", "a", "b"}, "frh", "x", []string{"a", "b"}},
		{[]string{"-fhx", "a"}, "fh", "x", []string{"a"}},
		{[]string{"--", "-f"}, "", "", []string{"-f"}},
		{[]string{"-", "x"}, "", "", []string{"-", "x"}},
		{[]string{}, "", "", []string{}},
	}
	for _, tt := range tests {
		c := New("t", "[-fr] [-h host] args")
		var flags, h string
		rest := c.Parse(tt.args, func(f rune) {
			flags += string(f)
			if f == 'h' {
				h = c.Arg()
			}
		})
		if flags != tt.flags || h != tt.h || !reflect.DeepEqual(rest, tt.rest) {
			t.Errorf("Parse(%q) = flags %q h %q rest %q; want %q %q %q", tt.args, flags, h, rest, tt.flags, tt.h, tt.rest)
		}
	}
}

func TestUsageAndFatal(t *testing.T) {
	var buf bytes.Buffer
	code := -1
	c := New("venti/read", "[-h host] [-t type] score")
	c.Stderr = &buf
	c.Exit = func(n int) { code = n }
	early := Run(func() {
		c.Parse([]string{"-h"}, func(f rune) { c.Arg() })
	})
	if !early || code != 1 || buf.String() != "usage: venti/read [-h host] [-t type] score\n" {
		t.Errorf("missing value: early=%v code=%d stderr=%q", early, code, buf.String())
	}
	buf.Reset()
	Run(func() {
		c.Parse([]string{"-t", "x"}, func(f rune) { c.Int() })
	})
	if buf.String() != "venti/read: bad number for -t: x\n" {
		t.Errorf("bad number: stderr=%q", buf.String())
	}
	c2 := New("x", "")
	var n int64
	c2.Parse([]string{"-t0x10"}, func(f rune) { n = c2.Int() })
	if n != 16 {
		t.Errorf("-t0x10 = %d, want 16", n)
	}
}
