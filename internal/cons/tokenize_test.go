package cons

import (
	"slices"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	for _, tt := range []struct {
		line string
		want []string
	}{
		{"", nil},
		{"   \t\r\n", nil},
		{"df", []string{"df"}},
		{"  fsys  main\tconfig /dev/sdC0/fossil\r", []string{"fsys", "main", "config", "/dev/sdC0/fossil"}},
		{"echo 'a b'", []string{"echo", "a b"}},
		{"echo a'b c'd", []string{"echo", "ab cd"}},
		{"echo 'it''s'", []string{"echo", "it's"}},
		{"echo '' x", []string{"echo", "", "x"}},
		{"echo ''''", []string{"echo", "'"}},
		{"echo 'open to the end", []string{"echo", "open to the end"}},
		{"venti tcp!127.0.0.1!17034", []string{"venti", "tcp!127.0.0.1!17034"}},
		{"# a comment", []string{"#", "a", "comment"}},
		{`echo "double" \x $v`, []string{"echo", `"double"`, `\x`, "$v"}},
	} {
		if got := Tokenize(tt.line); !slices.Equal(got, tt.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, tt := range []struct{ in, q, qa string }{
		{"main", "main", "'main'"},
		{"tcp!127.0.0.1!17034", "tcp!127.0.0.1!17034", "'tcp!127.0.0.1!17034'"},
		{"", "''", "''"},
		{"a b", "'a b'", "'a b'"},
		{"it's", "'it''s'", "'it''s'"},
		{"tab\there", "'tab\there'", "'tab\there'"},
	} {
		if got := Quote(tt.in); got != tt.q {
			t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.q)
		}
		if got := QuoteAlways(tt.in); got != tt.qa {
			t.Errorf("QuoteAlways(%q) = %q, want %q", tt.in, got, tt.qa)
		}
	}
}

// FuzzTokenize checks that Tokenize accepts anything and that quoting
// its words and reading them back gives the same words, which is what
// printconfig and ^W rely on.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "df", "echo 'a b' c", "a'b''c'd", "'", "''", "x\t'y\n' z", "\x00'\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words := Tokenize(line)
		var quoted []string
		for _, w := range words {
			q := Quote(w)
			if back := Tokenize(q); len(back) != 1 || back[0] != w {
				t.Fatalf("word %q: Quote gives %q, which tokenizes to %q", w, q, back)
			}
			plain := w != ""
			for i := 0; i < len(w); i++ {
				if w[i] <= ' ' || w[i] == '\'' {
					plain = false
				}
			}
			if plain && q != w {
				t.Fatalf("word %q quoted needlessly as %q", w, q)
			}
			quoted = append(quoted, q)
		}
		if again := Tokenize(strings.Join(quoted, " ")); !slices.Equal(again, words) {
			t.Fatalf("%q: words %q, requoted and read back %q", line, words, again)
		}
	})
}

func TestFlags(t *testing.T) {
	type seen struct {
		flag rune
		val  string
	}
	parse := func(argv []string) ([]seen, []string, error) {
		f := NewFlags(argv, "usage: x [-ab] [-c val]")
		var got []seen
		for f.Next() {
			switch f.Flag() {
			case 'a', 'b':
				got = append(got, seen{f.Flag(), ""})
			case 'c':
				v, err := f.Value()
				if err != nil {
					return got, nil, err
				}
				got = append(got, seen{'c', v})
			default:
				return got, nil, f.Usage()
			}
		}
		return got, f.Args(), nil
	}
	got, args, err := parse([]string{"x", "-ab", "-c1000", "-c", "7", "-", "rest", "-a"})
	if err != nil || !slices.Equal(got, []seen{{'a', ""}, {'b', ""}, {'c', "1000"}, {'c', "7"}}) || !slices.Equal(args, []string{"-", "rest", "-a"}) {
		t.Errorf("got %v %q %v", got, args, err)
	}
	_, args, err = parse([]string{"x", "-a", "--", "-b"})
	if err != nil || !slices.Equal(args, []string{"-b"}) {
		t.Errorf("after --: %q %v", args, err)
	}
	if _, _, err := parse([]string{"x", "-c"}); err == nil || err.Error() != "usage: x [-ab] [-c val]" {
		t.Errorf("missing value: %v", err)
	}
	if _, _, err := parse([]string{"x", "-z"}); err == nil || err.Error() != "usage: x [-ab] [-c val]" {
		t.Errorf("bad flag: %v", err)
	}
}
