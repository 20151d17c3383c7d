package ninep

import (
	"9fans.net/go/plan9"

	"github.com/plan9fossil/fossil/internal/users"
	"github.com/plan9fossil/fossil/internal/vac"
)

// The mode bits 9P and vac share, one for one.
var modeBits = []struct {
	vac   uint32
	plan9 plan9.Perm
	qt    uint8
}{
	{vac.ModeDir, plan9.DMDIR, plan9.QTDIR},
	{vac.ModeAppend, plan9.DMAPPEND, plan9.QTAPPEND},
	{vac.ModeExclusive, plan9.DMEXCL, plan9.QTEXCL},
	{vac.ModeTemporary, plan9.DMTMP, plan9.QTTMP},
}

// wstatModes are the vac bits a wstat may change: permissions and the
// flags 9P can express, except the directory bit.
const wstatModes = 0777 | vac.ModeAppend | vac.ModeExclusive | vac.ModeTemporary

// Plan9Mode converts a vac mode to a 9P one: the permission bits and
// DMDIR, DMAPPEND, DMEXCL and DMTMP. Other vac bits (snapshot, MS-DOS,
// Unix devices) have no 9P form.
func Plan9Mode(m uint32) plan9.Perm {
	p := plan9.Perm(m & 0777)
	for _, b := range modeBits {
		if m&b.vac != 0 {
			p |= b.plan9
		}
	}
	return p
}

// VacMode converts a 9P mode to a vac one, as for create and wstat.
func VacMode(p plan9.Perm) uint32 {
	m := uint32(p & 0777)
	for _, b := range modeBits {
		if p&b.plan9 != 0 {
			m |= b.vac
		}
	}
	return m
}

// QidOf is the 9P qid of a file: its path, its modification count as
// version, and its type from the mode.
func QidOf(d *vac.DirEntry) plan9.Qid {
	q := plan9.Qid{Path: d.Qid, Vers: d.MCount}
	// Old vac archives keep the Plan 9 version in their own field.
	if d.Plan9 && d.MCount == 0 {
		q.Vers = d.P9Version
	}
	for _, b := range modeBits {
		if d.Mode&b.vac != 0 {
			q.Type |= b.qt
		}
	}
	return q
}

// DirOf converts a directory entry to a 9P Dir. The entry holds ids;
// 9P shows names, through tab when it is not nil.
func DirOf(d *vac.DirEntry, tab *users.Table) plan9.Dir {
	name := func(id string) string { return id }
	if tab != nil {
		name = tab.Name
	}
	pd := plan9.Dir{
		Qid:   QidOf(d),
		Mode:  Plan9Mode(d.Mode),
		Atime: d.ATime,
		Mtime: d.MTime,
		Name:  d.Elem,
		Uid:   name(d.UID),
		Gid:   name(d.GID),
		Muid:  name(d.MID),
	}
	if d.Mode&vac.ModeDir == 0 {
		pd.Length = d.Size
	}
	return pd
}

// packDir is the stat form of a Dir.
func packDir(d *plan9.Dir) []byte {
	b, _ := d.Bytes() // never fails
	return b
}

// dontTouch reports whether every field of d is wstat's "don't touch"
// value.
func dontTouch(d *plan9.Dir) bool {
	var null plan9.Dir
	null.Null()
	return *d == null
}
