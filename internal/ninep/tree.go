package ninep

import "github.com/plan9fossil/fossil/internal/vac"

// A File is one file or directory of a file system the server serves, as
// the fossil engine (package fs) gives it: a reference that stays valid
// until Close, whatever happens to the name. Methods are safe for
// concurrent use. Errors are returned to the client as Rerror with their
// text, so they read like Plan 9's ("file does not exist",
// "file is read only").
//
// Permission checks are the server's job, not the File's: the uid
// arguments only record who did what (muid, the owner of new files).
type File interface {
	// Walk returns the file called elem in directory f; ".." is the
	// parent (the root's parent is the root).
	Walk(elem string) (File, error)
	// Stat returns the directory entry, with Size filled in. The qid
	// of the 9P Dir is built from it: Path Qid, Vers MCount, Type from
	// Mode.
	Stat() (vac.DirEntry, error)
	// ReadAt reads file data.
	ReadAt(p []byte, off int64) (int, error)
	// WriteAt writes file data on behalf of uid; it grows the file as
	// needed.
	WriteAt(p []byte, off int64, uid string) (int, error)
	// Truncate empties the file (open with OTRUNC).
	Truncate(uid string) error
	// ReadDir lists a directory.
	ReadDir() ([]vac.DirEntry, error)
	// Create makes a file or (mode&vac.ModeDir) directory called elem
	// in directory f, owned by uid, with the group of f, and returns it.
	Create(elem string, mode uint32, uid string) (File, error)
	// Remove removes the file (an empty directory only).
	Remove(uid string) error
	// SetStat changes the name, mode, times, size (truncation or
	// growth), uid and gid as d gives them; the server has already
	// checked the change is allowed and filled d from Stat where the
	// client wstat left fields alone.
	SetStat(d vac.DirEntry, uid string) error
	// ReadOnly reports whether f is in a tree that cannot change
	// (a snapshot or an archive, or a file system opened read-only).
	ReadOnly() bool
	// IsRoot reports whether f is the root of its file system.
	IsRoot() bool
	// Close drops the reference.
	Close() error
}

// An Fsys is a file system the server can attach to, by the first element
// of the attach name ("main").
type Fsys interface {
	// Open returns the file at path (slash-separated, relative to the
	// file system's root: "active", "archive/2026", "").
	Open(path string) (File, error)
	// Flags are the fsys open flags that change the 9P server's rules:
	// -A (no authentication), -P (no permission checks), -W (wstat
	// allowed to anyone).
	Flags() FsysFlags
}

// FsysFlags are per-file-system options from `fsys name open`.
type FsysFlags struct {
	NoAuth     bool
	NoPerm     bool
	WstatAllow bool
}
