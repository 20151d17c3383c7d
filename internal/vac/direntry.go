package vac

import (
	"encoding/binary"
	"fmt"

	"github.com/plan9fossil/fossil/venti"
)

var be = binary.BigEndian

// DirMagic starts every packed directory entry.
const DirMagic = 0x1c4d9072

// Versions of the packed directory entry.
const (
	// DirVersion7 is the oldest: no generation numbers, and a 20-byte
	// score (never used) after the qid.
	DirVersion7 = 7
	// DirVersion8 drops the score. The meta entry of a directory is
	// the one after its data entry.
	DirVersion8 = 8
	// DirVersion is the current version, written by fossil and vac:
	// generation numbers and the meta entry are stored.
	DirVersion = 9
)

// Types of the optional fields that may follow the fixed part of a
// packed directory entry, each as type[1] length[2] data[length].
const (
	// DirPlan9Entry: Plan 9 path[8] and version[4]. Read in versions 7
	// and 8 only; version 9 skips it.
	DirPlan9Entry = 1
	// DirNTEntry: reserved for Windows NT data; never interpreted.
	DirNTEntry = 2
	// DirQidSpaceEntry: qid offset[8] and maximum[8] of a subtree whose
	// qids were remapped (fossil's snapshots; vac -q). All versions.
	DirQidSpaceEntry = 3
	// DirGenEntry: generation[4], written by vac for versions below 9
	// when the generation is not zero; the C readers ignore it.
	DirGenEntry = 4
)

// Mode bits of a DirEntry. The low nine bits are the Unix permission
// bits.
const (
	ModeOtherExec  = 1 << 0
	ModeOtherWrite = 1 << 1
	ModeOtherRead  = 1 << 2
	ModeGroupExec  = 1 << 3
	ModeGroupWrite = 1 << 4
	ModeGroupRead  = 1 << 5
	ModeOwnerExec  = 1 << 6
	ModeOwnerWrite = 1 << 7
	ModeOwnerRead  = 1 << 8
	ModeSticky     = 1 << 9
	ModeSetUID     = 1 << 10
	ModeSetGID     = 1 << 11
	ModeAppend     = 1 << 12 // append only
	ModeExclusive  = 1 << 13 // exclusive use (Plan 9 DMEXCL)
	ModeLink       = 1 << 14 // symbolic link
	ModeDir        = 1 << 15 // directory
	ModeHidden     = 1 << 16 // MS-DOS
	ModeSystem     = 1 << 17 // MS-DOS
	ModeArchive    = 1 << 18 // MS-DOS
	ModeTemporary  = 1 << 19 // not archived (Plan 9 DMTMP)
	ModeSnapshot   = 1 << 20 // root of a read-only snapshot
	ModeDevice     = 1 << 21 // Unix device (vac)
	ModeNamedPipe  = 1 << 22 // Unix named pipe (vac)
)

// MaxStringSize is the longest string a packed entry can hold.
const MaxStringSize = 1<<16 - 1

// A DirEntry is the metadata of one file of a vac or fossil directory:
// its name, owner, times and mode, and where its contents are, as
// indices of entries (venti.Entry, fossil's Entry) in the directory's
// own list of entries. It is packed into a MetaBlock.
//
// Packed (all integers big-endian, strings as length[2] bytes):
//
//	magic[4]    DirMagic
//	version[2]  7, 8 or 9
//	elem[s]     the name
//	entry[4]    index of the data entry
//	gen[4]      generation of the data entry          (version 9)
//	mentry[4]   index of the meta entry (directories)  (version 9)
//	mgen[4]     generation of the meta entry           (version 9)
//	qid[8]
//	score[20]   unused                                 (version 7)
//	uid[s] gid[s] mid[s]
//	mtime[4] mcount[4] ctime[4] atime[4] mode[4]
//	optional fields, type[1] length[2] data[length], to the end
//
// The size of the file is not stored: it is the size of its data
// entry.
type DirEntry struct {
	Elem   string // the name of the file
	Entry  uint32 // index of the data entry in the directory
	Gen    uint32 // generation the data entry must have
	MEntry uint32 // directories: index of the entry for the meta blocks
	MGen   uint32 // generation the meta entry must have
	Size   uint64 // file size; not stored, filled in by readers from the entry
	Qid    uint64 // unique file id

	UID    string // owner
	GID    string // group
	MID    string // last modified by
	MTime  uint32 // last modification time
	MCount uint32 // number of modifications (can wrap). The C readers show P9Version when this is zero and Plan9 is set.
	CTime  uint32 // last change of the entry
	ATime  uint32 // last access
	Mode   uint32 // Mode* bits

	// Plan9 fields (DirPlan9Entry), versions 7 and 8 only.
	Plan9     bool
	P9Path    uint64
	P9Version uint32

	// Qid space (DirQidSpaceEntry): the qids of the subtree were moved
	// up by QidOffset and are below QidMax.
	QidSpace  bool
	QidOffset uint64
	QidMax    uint64

	// Version is the packed version, 7, 8 or 9; zero packs as
	// DirVersion. Versions 7 and 8 do not store Gen, MEntry and MGen:
	// Unpack sets them as the C code does (0, Entry+1, 0) and Pack
	// ignores them.
	Version uint16
	// Unused holds the score of a version 7 entry, which nothing reads.
	Unused venti.Score
	// Ext holds, in their order, the optional fields that the C code
	// skips: DirNTEntry, DirGenEntry, DirPlan9Entry in version 9 and
	// unknown types. Pack writes them after the Plan9 and QidSpace
	// fields, which is where vac puts DirGenEntry.
	Ext []Extension
}

// An Extension is an optional field of a packed DirEntry that is kept
// as it is.
type Extension struct {
	Type uint8
	Data []byte
}

const whereDir = "dir entry"

// IsDir reports whether the entry is a directory.
func (d *DirEntry) IsDir() bool { return d.Mode&ModeDir != 0 }

func (d *DirEntry) version() uint16 {
	if d.Version == 0 {
		return DirVersion
	}
	return d.Version
}

// PackedSize is the number of bytes Pack writes.
func (d *DirEntry) PackedSize() int {
	v := d.version()
	n := 4 + 2 + 4 + 8 + 5*4
	if v >= DirVersion {
		n += 3 * 4
	}
	if v == DirVersion7 {
		n += venti.ScoreSize
	}
	n += 2 + len(d.Elem) + 2 + len(d.UID) + 2 + len(d.GID) + 2 + len(d.MID)
	if d.Plan9 {
		n += 3 + 8 + 4
	}
	if d.QidSpace {
		n += 3 + 8 + 8
	}
	for _, x := range d.Ext {
		n += 3 + len(x.Data)
	}
	return n
}

// check reports why d cannot be packed.
func (d *DirEntry) check() error {
	v := d.version()
	if v < DirVersion7 || v > DirVersion {
		return errorf(whereDir, ErrBadMeta, "unknown version %d", v)
	}
	for _, s := range []string{d.Elem, d.UID, d.GID, d.MID} {
		if len(s) > MaxStringSize {
			return errorf(whereDir, ErrTooLarge, "string of %d bytes", len(s))
		}
	}
	if d.Plan9 && v >= DirVersion {
		return errorf(whereDir, ErrBadMeta, "version %d cannot hold plan9 fields", v)
	}
	for _, x := range d.Ext {
		if len(x.Data) > 1<<16-1 {
			return errorf(whereDir, ErrTooLarge, "optional field of %d bytes", len(x.Data))
		}
		if x.Type == DirQidSpaceEntry || x.Type == DirPlan9Entry && v < DirVersion {
			return errorf(whereDir, ErrBadMeta, "optional field type %d kept as raw data", x.Type)
		}
	}
	if n := d.PackedSize(); n > 1<<16-1 {
		return errorf(whereDir, ErrTooLarge, "entry of %d bytes", n)
	}
	return nil
}

// Pack writes d into the first PackedSize bytes of buf.
func (d *DirEntry) Pack(buf []byte) error {
	if err := d.check(); err != nil {
		return err
	}
	n := d.PackedSize()
	if len(buf) < n {
		return errorf(whereDir, ErrShort, "%d bytes, need %d", len(buf), n)
	}
	v := d.version()
	p := buf[:0]
	p = be.AppendUint32(p, DirMagic)
	p = be.AppendUint16(p, v)
	p = appendString(p, d.Elem)
	p = be.AppendUint32(p, d.Entry)
	if v >= DirVersion {
		p = be.AppendUint32(p, d.Gen)
		p = be.AppendUint32(p, d.MEntry)
		p = be.AppendUint32(p, d.MGen)
	}
	p = be.AppendUint64(p, d.Qid)
	if v == DirVersion7 {
		p = append(p, d.Unused[:]...)
	}
	p = appendString(p, d.UID)
	p = appendString(p, d.GID)
	p = appendString(p, d.MID)
	for _, x := range []uint32{d.MTime, d.MCount, d.CTime, d.ATime, d.Mode} {
		p = be.AppendUint32(p, x)
	}
	if d.Plan9 {
		p = append(p, DirPlan9Entry, 0, 12)
		p = be.AppendUint64(p, d.P9Path)
		p = be.AppendUint32(p, d.P9Version)
	}
	if d.QidSpace {
		p = append(p, DirQidSpaceEntry, 0, 16)
		p = be.AppendUint64(p, d.QidOffset)
		p = be.AppendUint64(p, d.QidMax)
	}
	for _, x := range d.Ext {
		p = append(p, x.Type)
		p = be.AppendUint16(p, uint16(len(x.Data)))
		p = append(p, x.Data...)
	}
	if len(p) != n {
		// Cannot happen: PackedSize and Pack disagree.
		return errorf(whereDir, ErrBadMeta, "packed %d bytes, expected %d", len(p), n)
	}
	return nil
}

func appendString(p []byte, s string) []byte {
	p = be.AppendUint16(p, uint16(len(s)))
	return append(p, s...)
}

// reader consumes a packed entry, remembering the first shortfall.
type reader struct {
	p   []byte
	bad string
}

func (r *reader) take(n int, what string) []byte {
	if r.bad != "" {
		return nil
	}
	if len(r.p) < n {
		r.bad = what
		return nil
	}
	b := r.p[:n]
	r.p = r.p[n:]
	return b
}

func (r *reader) u16(what string) uint16 {
	if b := r.take(2, what); b != nil {
		return be.Uint16(b)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if b := r.take(4, what); b != nil {
		return be.Uint32(b)
	}
	return 0
}

func (r *reader) u64(what string) uint64 {
	if b := r.take(8, what); b != nil {
		return be.Uint64(b)
	}
	return 0
}

func (r *reader) str(what string) string {
	n := r.u16(what)
	return string(r.take(int(n), what))
}

// Unpack reads a directory entry that fills buf exactly, as the C
// code does: the optional fields must end where buf does.
func (d *DirEntry) Unpack(buf []byte) error {
	r := &reader{p: buf}
	if m := r.u32("magic"); r.bad == "" && m != DirMagic {
		return errorf(whereDir, ErrBadMeta, "bad magic %#08x", m)
	}
	var x DirEntry
	x.Version = r.u16("version")
	if r.bad == "" && (x.Version < DirVersion7 || x.Version > DirVersion) {
		return errorf(whereDir, ErrBadMeta, "unknown version %d", x.Version)
	}
	x.Elem = r.str("elem")
	x.Entry = r.u32("entry")
	if x.Version >= DirVersion {
		x.Gen = r.u32("gen")
		x.MEntry = r.u32("mentry")
		x.MGen = r.u32("mgen")
	} else {
		x.MEntry = x.Entry + 1
	}
	x.Qid = r.u64("qid")
	if x.Version == DirVersion7 {
		copy(x.Unused[:], r.take(venti.ScoreSize, "score"))
	}
	x.UID = r.str("uid")
	x.GID = r.str("gid")
	x.MID = r.str("mid")
	x.MTime = r.u32("mtime")
	x.MCount = r.u32("mcount")
	x.CTime = r.u32("ctime")
	x.ATime = r.u32("atime")
	x.Mode = r.u32("mode")
	for r.bad == "" && len(r.p) > 0 {
		t := r.take(1, "optional field")
		n := r.u16("optional field")
		data := r.take(int(n), fmt.Sprintf("optional field type %d", t[0]))
		if r.bad != "" {
			break
		}
		switch {
		case t[0] == DirPlan9Entry && x.Version < DirVersion:
			if x.Plan9 || n != 12 {
				return errorf(whereDir, ErrBadMeta, "bad plan9 field (%d bytes)", n)
			}
			x.Plan9 = true
			x.P9Path = be.Uint64(data)
			x.P9Version = be.Uint32(data[8:])
		case t[0] == DirQidSpaceEntry:
			if x.QidSpace || n != 16 {
				return errorf(whereDir, ErrBadMeta, "bad qid space field (%d bytes)", n)
			}
			x.QidSpace = true
			x.QidOffset = be.Uint64(data)
			x.QidMax = be.Uint64(data[8:])
		default:
			x.Ext = append(x.Ext, Extension{Type: t[0], Data: append([]byte(nil), data...)})
		}
	}
	if r.bad != "" {
		return errorf(whereDir, ErrBadMeta, "%d bytes end in %s", len(buf), r.bad)
	}
	*d = x
	return nil
}

// String formats d in one line for debugging and tests.
func (d *DirEntry) String() string {
	return fmt.Sprintf("%q entry=%d/%d mentry=%d/%d qid=%#x %s %s %s mode=%#o mtime=%d mcount=%d",
		d.Elem, d.Entry, d.Gen, d.MEntry, d.MGen, d.Qid, d.UID, d.GID, d.MID, d.Mode, d.MTime, d.MCount)
}
