//go:build !plan9

package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestQuick runs the whole bench with -quick, as CI can afford, and
// checks that the report and the chart are made and well formed.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs venti and fossil")
	}
	out := t.TempDir()
	start := time.Now()
	err := run(options{out: out, quick: true, log: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("quick bench in %v", time.Since(start).Round(time.Millisecond))

	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(md)
	for _, want := range []string{"# Benchmarks of venti and fossil", "## Machine", "## Limits", "## Figures", "](chart.png)", "load average"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	_, table, ok := strings.Cut(text, "| # | figure | value | unit | limit | ratio to limit | C figure | ratio to C | target | met? |\n")
	if !ok {
		t.Fatalf("report has no table of figures:\n%s", text)
	}
	table, _, _ = strings.Cut(table, "\n\n")
	lines := strings.Split(table, "\n")[1:] // after the alignment row
	var names []string
	bars := 0
	for _, line := range lines {
		cells := strings.Split(line, " | ")
		if len(cells) != 10 {
			t.Errorf("row of %d cells, want 10: %s", len(cells), line)
			continue
		}
		if strings.TrimPrefix(cells[0], "| ") != "" {
			bars++
		}
		names = append(names, cells[1])
		if v, err := strconv.ParseFloat(cells[2], 64); err != nil || v <= 0 {
			t.Errorf("%s: value %q is not a positive number", cells[1], cells[2])
		}
		if m := strings.TrimSuffix(cells[9], " |"); m != "" && m != "|" && m != "yes" && m != "**no**" {
			t.Errorf("%s: met? is %q", cells[1], m)
		}
	}
	if len(names) < 20 {
		t.Errorf("%d figures in the table, want at least 20", len(names))
	}
	all := strings.Join(names, "\n")
	for _, want := range []string{"venti unique 8 KiB writes", "venti duplicate", "venti sequential", "venti random",
		"fossil 9P sequential write", "fossil 9P sequential read", "clients", "small file", "Tstat", "walk",
		"snapshot", "archive", "flchk", "fossil peak RSS", "venti peak RSS"} {
		if !strings.Contains(all, want) {
			t.Errorf("no figure for %q", want)
		}
	}

	b, err := os.ReadFile(filepath.Join(out, "chart.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("chart.png: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 600 || r.Dy() < 40*bars {
		t.Errorf("chart of %v for %d bars", r, bars)
	}
}

// TestGlyphs checks the font: every glyph 7 rows of 5 pixels.
func TestGlyphs(t *testing.T) {
	for r, g := range glyphs {
		for _, row := range g {
			if len(row) != 5 || strings.Trim(row, ".#") != "" {
				t.Errorf("glyph %q: row %q", r, row)
			}
		}
	}
}

func TestMedianCell(t *testing.T) {
	for in, want := range map[string]float64{
		"43.2 / 45.0 / 55.4":    45.0,
		"27.1 / 44.6 (medians)": 27.1,
		"41.1 (median)":         41.1,
	} {
		if got, ok := medianCell(in); !ok || got != want {
			t.Errorf("medianCell(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
}

// TestCFigures reads the fixtures' README when it is there.
func TestCFigures(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Skip(err)
	}
	dir := fixturesDir(root)
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skip("no fixtures README")
	}
	c := loadCFigures(dir)
	if c.Source == builtinC.Source {
		t.Fatalf("README not read")
	}
	for name, v := range map[string]float64{"sha1": c.SHA1, "unique": c.VentiUnique, "dup": c.VentiDup, "read": c.VentiRead,
		"fossil write": c.FossilWrite, "fossil read": c.FossilRead, "vac": c.VacUnique} {
		if v <= 0 {
			t.Errorf("%s: %v", name, v)
		}
	}
}
