//go:build linux

package main

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"

	"github.com/plan9fossil/fossil/internal/fsdisk"
)

// A tree is the state of a worker's directory: its files' contents and
// its directories, by path relative to it ("a", "d1/b"). Content
// slices are never changed in place, so trees may share them.
type tree struct {
	files map[string][]byte
	dirs  map[string]bool
}

func newTree() *tree { return &tree{files: map[string][]byte{}, dirs: map[string]bool{}} }

func (t *tree) clone() *tree {
	return &tree{files: maps.Clone(t.files), dirs: maps.Clone(t.dirs)}
}

// digest is a tree's fingerprint: names, kinds and contents.
type digest [sha1.Size]byte

func (t *tree) digest() digest {
	var names []string
	for p := range t.files {
		names = append(names, p)
	}
	for p := range t.dirs {
		names = append(names, p+"/")
	}
	sort.Strings(names)
	h := sha1.New()
	for _, n := range names {
		io.WriteString(h, n)
		h.Write([]byte{0})
		if !strings.HasSuffix(n, "/") {
			s := sha1.Sum(t.files[n])
			h.Write(s[:])
		}
	}
	var d digest
	h.Sum(d[:0])
	return d
}

// describe says how t differs from want, for a report.
func (t *tree) describe(want *tree) string {
	var out []string
	for p, b := range want.files {
		g, ok := t.files[p]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: missing (%d bytes)", p, len(b)))
		case string(g) != string(b):
			out = append(out, fmt.Sprintf("%s: %d bytes, want %d bytes (first difference at %d)", p, len(g), len(b), firstDiff(g, b)))
		}
	}
	for p, g := range t.files {
		if _, ok := want.files[p]; !ok {
			out = append(out, fmt.Sprintf("%s: unexpected file (%d bytes)", p, len(g)))
		}
	}
	for p := range want.dirs {
		if !t.dirs[p] {
			out = append(out, fmt.Sprintf("%s/: missing directory", p))
		}
	}
	for p := range t.dirs {
		if !want.dirs[p] {
			out = append(out, fmt.Sprintf("%s/: unexpected directory", p))
		}
	}
	slices.Sort(out)
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("... and %d more", len(out)-20))
	}
	return strings.Join(out, "\n\t")
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// read9P reads the tree under dir through 9P.
func read9P(fsys *client.Fsys, dir string) (*tree, error) {
	t := newTree()
	var walk func(rel string) error
	walk = func(rel string) error {
		fid, err := fsys.Open(join(dir, rel), plan9.OREAD)
		if err != nil {
			return err
		}
		ds, err := fid.Dirreadall()
		fid.Close()
		if err != nil {
			return fmt.Errorf("read directory %s: %w", join(dir, rel), err)
		}
		for _, d := range ds {
			p := join(rel, d.Name)
			if d.Mode&plan9.DMDIR != 0 {
				t.dirs[p] = true
				if err := walk(p); err != nil {
					return err
				}
				continue
			}
			f, err := fsys.Open(join(dir, p), plan9.OREAD)
			if err != nil {
				return err
			}
			b, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("read %s: %w", join(dir, p), err)
			}
			if uint64(len(b)) != d.Length {
				return fmt.Errorf("%s: read %d bytes, stat says %d", join(dir, p), len(b), d.Length)
			}
			t.files[p] = b
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	return t, nil
}

// readArchive reads the tree under dir of an archived file system.
func readArchive(root *fsdisk.File, dir string) (*tree, error) {
	d, err := root.Open(dir)
	if err != nil {
		return nil, err
	}
	t := newTree()
	var walk func(f *fsdisk.File, rel string) error
	walk = func(f *fsdisk.File, rel string) error {
		ds, err := f.ReadDir()
		if err != nil {
			return err
		}
		for _, de := range ds {
			p := join(rel, de.Elem)
			c, err := f.Walk(de.Elem)
			if err != nil {
				return err
			}
			if c.IsDir() {
				t.dirs[p] = true
				if err := walk(c, p); err != nil {
					return err
				}
				continue
			}
			b := make([]byte, c.Size())
			if _, err := io.ReadFull(c.Reader(), b); err != nil {
				return fmt.Errorf("%s: %w", c.Path, err)
			}
			t.files[p] = b
		}
		return nil
	}
	if err := walk(d, ""); err != nil {
		return nil, err
	}
	return t, nil
}

func join(dir, name string) string {
	switch {
	case dir == "":
		return name
	case name == "":
		return dir
	}
	return dir + "/" + name
}

// isConnErr reports whether a 9P call failed for want of the server,
// not with an error the server sent.
func isConnErr(err error) bool {
	var e client.Error
	return err != nil && !errors.As(err, &e)
}
