//go:build !plan9

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CFigures are the C programs' medians, in MB/s, from the table of the
// fixtures' README ("The C programs' speed on this kind of machine").
type CFigures struct {
	Source                  string // the README read, or "built in"
	SHA1, Disk              float64
	VentiUnique, VentiDup   float64
	VentiRead               float64
	FossilWrite, FossilRead float64 // through the 9fans Go client, 8 KiB
	VacUnique               float64 // vac(1) of a 64 MiB random file
}

// builtinC are the README's medians when it cannot be read.
var builtinC = CFigures{
	Source: "built in (the fixtures README was not found)",
	SHA1:   542, Disk: 711,
	VentiUnique: 45.0, VentiDup: 94.4, VentiRead: 68.5,
	FossilWrite: 72.2, FossilRead: 56.8,
	VacUnique: 27.1,
}

// fixturesDir is $FIXTURES, else shared/fixtures beside the checkout.
func fixturesDir(root string) string {
	if d := os.Getenv("FIXTURES"); d != "" {
		return d
	}
	return filepath.Join(root, "..", "shared", "fixtures")
}

// loadCFigures reads the medians from the README's table; a row it
// cannot read keeps its built-in value.
func loadCFigures(dir string) CFigures {
	file := filepath.Join(dir, "README.md")
	b, err := os.ReadFile(file)
	if err != nil {
		return builtinC
	}
	c := builtinC
	c.Source = file
	rows := []struct {
		prefix string
		out    *float64
	}{
		{"sha1sum", &c.SHA1},
		{"dd, 1 MiB blocks", &c.Disk},
		{"C venti: unique 8 KiB writes", &c.VentiUnique},
		{"C venti: duplicate 8 KiB writes", &c.VentiDup},
		{"C venti: reads of just-written blocks", &c.VentiRead},
		{"C fossil, 64 MiB file through a Go 9P client", &c.FossilWrite},
		{"same: read back and compare", &c.FossilRead},
		{"vac of a 64 MiB random file", &c.VacUnique},
	}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 2 {
			continue
		}
		what, val := strings.TrimSpace(cells[0]), strings.TrimSpace(cells[1])
		for _, r := range rows {
			if strings.HasPrefix(what, r.prefix) {
				if v, ok := medianCell(val); ok {
					*r.out = v
				}
			}
		}
	}
	return c
}

// medianCell reads "min / median / max" or "x (median)".
func medianCell(s string) (float64, bool) {
	parts := strings.Split(s, "/")
	if len(parts) == 3 {
		v, err := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
		return v, err == nil
	}
	f := strings.Fields(s)
	if len(f) > 0 {
		v, err := strconv.ParseFloat(f[0], 64)
		return v, err == nil
	}
	return 0, false
}
