package ninep

import (
	"github.com/plan9fossil/fossil/internal/users"
	"github.com/plan9fossil/fossil/internal/vac"
)

// Access bits, as in the permission triplets of a mode.
const (
	aRead  = 4
	aWrite = 2
	aExec  = 1
)

// canAccess reports whether f's user has all of the access bits want to
// the file d describes. As in Plan 9, each of the other, owner and group
// triplets is tried alone: one of them must grant everything. Members
// of noworld lose the other triplet, except the search bit of
// directories (fossil(4)).
func canAccess(f *fid, tab *users.Table, d *vac.DirEntry, want uint32) bool {
	if f.noPerm {
		return true
	}
	mode := d.Mode & 0777
	if tab.Noworld(f.uid) {
		if d.Mode&vac.ModeDir != 0 {
			mode &= 0771
		} else {
			mode &= 0770
		}
	}
	if mode&want == want {
		return true
	}
	if d.UID == f.uid && (mode>>6)&want == want {
		return true
	}
	return tab.InGroup(f.uid, d.GID) && (mode>>3)&want == want
}

// writable checks that f's user may change file at all, whatever its
// permissions: the tree is not read-only, and if group write exists the
// user is in it.
func writable(f *fid, tab *users.Table, file File) error {
	if file.ReadOnly() {
		return errReadOnly
	}
	if !f.noPerm && !tab.InWrite(f.uid) {
		return errReadOnly
	}
	return nil
}
