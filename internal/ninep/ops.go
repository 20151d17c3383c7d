package ninep

import (
	"io"
	"math"
	"strings"

	"9fans.net/go/plan9"

	"github.com/plan9fossil/fossil/internal/users"
	"github.com/plan9fossil/fossil/internal/vac"
)

// handle serves one request (not version or flush, which the reader
// answers itself).
func (c *conn) handle(r *request) (*plan9.Fcall, error) {
	switch r.tx.Type {
	case plan9.Tauth:
		return c.auth(r)
	case plan9.Tattach:
		return c.attach(r)
	case plan9.Twalk:
		return c.walk(r)
	case plan9.Topen:
		return c.open(r)
	case plan9.Tcreate:
		return c.create(r)
	case plan9.Tread:
		return c.read(r)
	case plan9.Twrite:
		return c.write(r)
	case plan9.Tclunk:
		return c.clunkReq(r)
	case plan9.Tremove:
		return c.remove(r)
	case plan9.Tstat:
		return c.stat(r)
	case plan9.Twstat:
		return c.wstat(r)
	}
	return nil, errMalformed
}

// iounit is the most data a read or write can carry.
func (c *conn) iounit() uint32 {
	return c.msize.Load() - plan9.IOHDRSZ
}

// splitAname parses an attach name, fs[/dir]; empty is main/active.
func splitAname(aname string) (fsname string, path []string) {
	if aname == "" {
		aname = "main/active"
	}
	fsname, dir, _ := strings.Cut(aname, "/")
	if fsname == "" {
		fsname = "main"
	}
	for _, e := range strings.Split(dir, "/") {
		if e != "" {
			path = append(path, e)
		}
	}
	return fsname, path
}

func (c *conn) fsys(name string) (Fsys, error) {
	if c.s.cfg.Fsys == nil {
		return nil, errNoFsys
	}
	return c.s.cfg.Fsys(name)
}

func (c *conn) attach(r *request) (*plan9.Fcall, error) {
	tx := r.tx
	if c.inUse(tx.Fid) {
		return nil, errFidInUse
	}
	fsname, path := splitAname(tx.Aname)
	fsys, err := c.fsys(fsname)
	if err != nil {
		return nil, err
	}
	flags := fsys.Flags()
	tab := c.s.users()
	uname := tx.Uname
	authed := false
	switch {
	case c.opts.NoAuth || flags.NoAuth:
		// Without authentication anyone is who they say, and a
		// stranger is none.
		if !tab.Exists(uname) {
			uname = users.None
		}
	case tx.Afid == plan9.NOFID:
		// Only none comes without a ticket, and only in company
		// (the chaperone rule of fossil(4)).
		c.mu.Lock()
		ok := c.authed || c.opts.NoneOK
		c.mu.Unlock()
		if !ok {
			return nil, errNoneFirst
		}
		uname = users.None
	default:
		if err := c.checkAuth(tx.Afid, uname); err != nil {
			return nil, err
		}
		authed = true
	}
	uid, ok := tab.ID(uname)
	if !ok {
		return nil, errUnknownUser
	}

	root, err := fsys.Open("")
	if err != nil {
		return nil, err
	}
	cur, parent := newRef(root), (*fileRef)(nil)
	var d vac.DirEntry
	for _, elem := range path {
		next, err := cur.f.Walk(elem)
		if err != nil {
			cur.put()
			parent.put()
			return nil, err
		}
		parent.put()
		parent, cur = cur, newRef(next)
	}
	if d, err = cur.f.Stat(); err != nil {
		cur.put()
		parent.put()
		return nil, err
	}
	if d.Mode&vac.ModeDir != 0 {
		parent.put()
		parent = nil
	}
	f := &fid{
		num:        tx.Fid,
		fsname:     fsname,
		root:       d.Qid,
		uname:      uname,
		uid:        uid,
		noPerm:     c.opts.NoPerm || flags.NoPerm,
		wstatAllow: c.opts.WstatAllow || flags.WstatAllow,
		file:       cur,
		parent:     parent,
		qid:        QidOf(&d),
		omode:      -1,
	}
	if !c.claim(r) {
		cur.put()
		parent.put()
		return nil, errAbandoned
	}
	if err := c.install(f); err != nil {
		cur.put()
		parent.put()
		return nil, err
	}
	if authed {
		c.mu.Lock()
		c.authed = true
		c.mu.Unlock()
	}
	return &plan9.Fcall{Type: plan9.Rattach, Qid: f.qid}, nil
}

// validName reports whether elem may name a file.
func validName(elem string) bool {
	return elem != "" && elem != "." && elem != ".." && len(elem) <= vac.MaxStringSize &&
		!strings.ContainsRune(elem, '/')
}

func (c *conn) walk(r *request) (*plan9.Fcall, error) {
	tx := r.tx
	f, err := c.lookup(tx.Fid)
	if err != nil {
		return nil, err
	}
	defer f.put()
	if tx.Newfid != tx.Fid && c.inUse(tx.Newfid) {
		return nil, errFidInUse
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.auth != nil {
		return nil, errAuthFid
	}
	if f.omode >= 0 {
		return nil, errOpenFid
	}
	if len(tx.Wname) > 0 && f.qid.Type&plan9.QTDIR == 0 {
		return nil, errNotDir
	}
	tab := c.s.users()
	cur, parent := f.file.get(), f.parent.get()
	release := func() {
		cur.put()
		parent.put()
	}
	qid := f.qid
	var qids []plan9.Qid
	var werr error
	var d vac.DirEntry
	if len(tx.Wname) > 0 {
		if d, werr = cur.f.Stat(); werr != nil {
			release()
			return nil, werr
		}
	}
	for _, elem := range tx.Wname {
		if d.Mode&vac.ModeDir == 0 {
			werr = errNotDir
			break
		}
		if !canAccess(f, tab, &d, aExec) {
			werr = errPerm
			break
		}
		var next *fileRef
		switch {
		case elem == ".." && d.Qid == f.root:
			// The attach point is the root of the client's tree.
			next = cur.get()
		case elem == "" || elem == "." || strings.ContainsRune(elem, '/'):
			werr = errBadName
		default:
			nf, err := cur.f.Walk(elem)
			if err != nil {
				werr = err
				break
			}
			next = newRef(nf)
		}
		if werr != nil {
			break
		}
		nd, err := next.f.Stat()
		if err != nil {
			next.put()
			werr = err
			break
		}
		parent.put()
		parent, cur, d = cur, next, nd
		qid = QidOf(&d)
		qids = append(qids, qid)
	}
	if len(qids) < len(tx.Wname) {
		// A partial walk changes no fid; an error in the first
		// element is the error of the walk (walk(5)).
		release()
		if len(qids) == 0 {
			return nil, werr
		}
		return &plan9.Fcall{Type: plan9.Rwalk, Wqid: qids}, nil
	}
	if qid.Type&plan9.QTDIR != 0 && len(tx.Wname) > 0 {
		// A directory's parent is found by walking "..".
		parent.put()
		parent = nil
	}
	if !c.claim(r) {
		release()
		return nil, errAbandoned
	}
	if tx.Newfid == tx.Fid {
		f.file.put()
		f.parent.put()
		f.file, f.parent, f.qid = cur, parent, qid
	} else {
		nf := &fid{
			num:        tx.Newfid,
			fsname:     f.fsname,
			root:       f.root,
			uname:      f.uname,
			uid:        f.uid,
			noPerm:     f.noPerm,
			wstatAllow: f.wstatAllow,
			file:       cur,
			parent:     parent,
			qid:        qid,
			omode:      -1,
		}
		if err := c.install(nf); err != nil {
			release()
			return nil, err
		}
	}
	return &plan9.Fcall{Type: plan9.Rwalk, Wqid: qids}, nil
}

// parentDir returns the directory holding the fid's file, with a
// reference to put.
func (f *fid) parentDir() (*fileRef, error) {
	if f.parent != nil {
		return f.parent.get(), nil
	}
	if f.qid.Type&plan9.QTDIR == 0 {
		// A file attached to directly: its directory is unknown.
		return nil, errPerm
	}
	p, err := f.file.f.Walk("..")
	if err != nil {
		return nil, err
	}
	return newRef(p), nil
}

// canRemove checks that f's user may remove f's file: it is not the
// root, the tree is writable and the user may write its directory.
// f.mu is held.
func (c *conn) canRemove(f *fid, tab *users.Table) error {
	if f.file.f.IsRoot() {
		return errRemoveRoot
	}
	if err := writable(f, tab, f.file.f); err != nil {
		return err
	}
	return c.canWriteParent(f, tab)
}

// openAccess is the access an open mode needs.
func openAccess(mode uint8) uint32 {
	var need uint32
	switch mode & 3 {
	case plan9.OREAD:
		need = aRead
	case plan9.OWRITE:
		need = aWrite
	case plan9.ORDWR:
		need = aRead | aWrite
	case plan9.OEXEC:
		need = aExec
	}
	if mode&plan9.OTRUNC != 0 {
		need |= aWrite
	}
	return need
}

func (c *conn) open(r *request) (*plan9.Fcall, error) {
	tx := r.tx
	f, err := c.holdFile(tx.Fid)
	if err != nil {
		return nil, err
	}
	defer f.release()
	if f.omode >= 0 {
		return nil, errAlreadyOpen
	}
	file := f.file.f
	d, err := file.Stat()
	if err != nil {
		return nil, err
	}
	tab := c.s.users()
	mode := tx.Mode
	need := openAccess(mode)
	rclose := mode&plan9.ORCLOSE != 0
	isDir := d.Mode&vac.ModeDir != 0
	if isDir && (need&aWrite != 0 || rclose) {
		return nil, errIsDir
	}
	if need&aWrite != 0 {
		if err := writable(f, tab, file); err != nil {
			return nil, err
		}
	}
	if !canAccess(f, tab, &d, need) {
		return nil, errPerm
	}
	if rclose {
		if err := c.canRemove(f, tab); err != nil {
			return nil, err
		}
	}
	if d.Mode&vac.ModeExclusive != 0 {
		if err := c.s.excl.acquire(f, d.Qid); err != nil {
			return nil, err
		}
	}
	opened := false
	defer func() {
		// A failed or abandoned open lets the lock go.
		if !opened && f.excl {
			c.s.excl.release(f)
		}
	}()
	// Appends ignore OTRUNC (stat(5)).
	if mode&plan9.OTRUNC != 0 && d.Mode&vac.ModeAppend == 0 {
		if err := file.Truncate(f.uid); err != nil {
			return nil, err
		}
		if d, err = file.Stat(); err != nil {
			return nil, err
		}
	}
	if !c.claim(r) {
		return nil, errAbandoned
	}
	opened = true
	f.omode = int(mode & 3)
	f.rclose = rclose
	f.qid = QidOf(&d)
	if isDir {
		f.dir = &dirState{}
	}
	return &plan9.Fcall{Type: plan9.Ropen, Qid: f.qid, Iounit: c.iounit()}, nil
}

func (c *conn) create(r *request) (*plan9.Fcall, error) {
	tx := r.tx
	f, err := c.holdFile(tx.Fid)
	if err != nil {
		return nil, err
	}
	defer f.release()
	if f.omode >= 0 {
		return nil, errAlreadyOpen
	}
	if f.qid.Type&plan9.QTDIR == 0 {
		return nil, errNotDir
	}
	if !validName(tx.Name) {
		return nil, errBadName
	}
	dir := f.file.f
	dd, err := dir.Stat()
	if err != nil {
		return nil, err
	}
	tab := c.s.users()
	if err := writable(f, tab, dir); err != nil {
		return nil, err
	}
	if !canAccess(f, tab, &dd, aWrite) {
		return nil, errPerm
	}
	perm := tx.Perm
	isDir := perm&plan9.DMDIR != 0
	if isDir && (tx.Mode&3 != plan9.OREAD || tx.Mode&(plan9.OTRUNC|plan9.ORCLOSE) != 0) {
		return nil, errIsDir
	}
	// The directory's permissions limit the new file's (create(5)).
	if isDir {
		perm &= ^plan9.Perm(0777) | plan9.Perm(dd.Mode&0777)
	} else {
		perm &= ^plan9.Perm(0666) | plan9.Perm(dd.Mode&0666)
	}
	nfile, err := dir.Create(tx.Name, VacMode(perm), f.uid)
	if err != nil {
		return nil, err
	}
	nref := newRef(nfile)
	nd, err := nfile.Stat()
	if err != nil {
		nref.put()
		return nil, err
	}
	if nd.Mode&vac.ModeExclusive != 0 {
		if err := c.s.excl.acquire(f, nd.Qid); err != nil {
			nref.put()
			return nil, err
		}
	}
	// The new file is opened in the given mode whatever its
	// permissions say (open(5)).
	f.parent.put()
	f.parent, f.file = f.file, nref
	f.qid = QidOf(&nd)
	f.omode = int(tx.Mode & 3)
	f.rclose = tx.Mode&plan9.ORCLOSE != 0
	if isDir {
		f.dir = &dirState{}
	}
	return &plan9.Fcall{Type: plan9.Rcreate, Qid: f.qid, Iounit: c.iounit()}, nil
}

func (c *conn) read(r *request) (*plan9.Fcall, error) {
	tx := r.tx
	f, err := c.lookup(tx.Fid)
	if err != nil {
		return nil, err
	}
	defer f.put()
	count := min(tx.Count, c.iounit())
	f.mu.Lock()
	if f.auth != nil {
		defer f.mu.Unlock()
		return f.auth.read(count)
	}
	if f.omode < 0 || f.omode == plan9.OWRITE {
		f.mu.Unlock()
		return nil, errNotReading
	}
	if f.dir != nil {
		defer f.mu.Unlock()
		return c.readDir(r, f, count)
	}
	ref := f.file.get()
	f.mu.Unlock()
	defer ref.put()
	if tx.Offset > math.MaxInt64 {
		return nil, errBadOffset
	}
	p, buf := getReadBuf(int(count))
	r.buf = p // given back by run once the reply is written
	n, err := ref.f.ReadAt(buf, int64(tx.Offset))
	if n == 0 && err != nil && err != io.EOF {
		return nil, err
	}
	return &plan9.Fcall{Type: plan9.Rread, Data: buf[:n]}, nil
}

// readDir reads a directory: whole stat entries, as many as fit in
// count, continuing where the last read ended. f.mu is held.
func (c *conn) readDir(r *request, f *fid, count uint32) (*plan9.Fcall, error) {
	ds := *f.dir
	switch r.tx.Offset {
	case 0:
		ents, err := f.file.f.ReadDir()
		if err != nil {
			return nil, err
		}
		ds = dirState{ents: ents}
	case ds.off:
	default:
		return nil, errBadDirOffset
	}
	tab := c.s.users()
	var data []byte
	for ds.next < len(ds.ents) {
		d := DirOf(&ds.ents[ds.next], tab)
		b := packDir(&d)
		if len(data)+len(b) > int(count) {
			break
		}
		data = append(data, b...)
		ds.next++
	}
	if len(data) == 0 && ds.next < len(ds.ents) {
		return nil, errDirTooSmall
	}
	ds.off += uint64(len(data))
	// Only a read whose reply goes out moves the position on.
	if !c.claim(r) {
		return nil, errAbandoned
	}
	*f.dir = ds
	return &plan9.Fcall{Type: plan9.Rread, Data: data}, nil
}

func (c *conn) write(r *request) (*plan9.Fcall, error) {
	tx := r.tx
	f, err := c.lookup(tx.Fid)
	if err != nil {
		return nil, err
	}
	defer f.put()
	f.mu.Lock()
	if f.auth != nil {
		defer f.mu.Unlock()
		return f.auth.write(tx.Data)
	}
	if f.omode != plan9.OWRITE && f.omode != plan9.ORDWR {
		f.mu.Unlock()
		return nil, errNotWriting
	}
	ref := f.file.get()
	appendOnly := f.qid.Type&plan9.QTAPPEND != 0
	path := f.qid.Path
	f.mu.Unlock()
	defer ref.put()
	if tx.Offset > math.MaxInt64 {
		return nil, errBadOffset
	}
	off := int64(tx.Offset)
	if appendOnly {
		// Writes to append-only files go at the end, whatever the
		// offset (stat(5)), one at a time so two appends do not
		// land on the same end.
		mu := &c.s.appendMu[path%uint64(len(c.s.appendMu))]
		mu.Lock()
		defer mu.Unlock()
		d, err := ref.f.Stat()
		if err != nil {
			return nil, err
		}
		off = int64(d.Size)
	}
	n, err := ref.f.WriteAt(tx.Data, off, f.uid)
	if n == 0 && err != nil {
		return nil, err
	}
	return &plan9.Fcall{Type: plan9.Rwrite, Count: uint32(n)}, nil
}

func (c *conn) clunkReq(r *request) (*plan9.Fcall, error) {
	f, err := c.take(r.tx.Fid)
	if err != nil {
		return nil, err
	}
	c.clunk(f)
	return &plan9.Fcall{Type: plan9.Rclunk}, nil
}

// remove removes the file and clunks the fid, even when the removal
// fails (remove(5)).
func (c *conn) remove(r *request) (*plan9.Fcall, error) {
	f, err := c.take(r.tx.Fid)
	if err != nil {
		return nil, err
	}
	defer c.clunk(f)
	f.mu.Lock()
	f.rclose = false
	if f.auth != nil {
		f.mu.Unlock()
		return nil, errAuthFid
	}
	err = c.canRemove(f, c.s.users())
	file := f.file.get()
	f.mu.Unlock()
	defer file.put()
	if err != nil {
		return nil, err
	}
	if err := file.f.Remove(f.uid); err != nil {
		return nil, err
	}
	return &plan9.Fcall{Type: plan9.Rremove}, nil
}

func (c *conn) stat(r *request) (*plan9.Fcall, error) {
	f, err := c.lookup(r.tx.Fid)
	if err != nil {
		return nil, err
	}
	defer f.put()
	f.mu.Lock()
	if f.auth != nil {
		f.mu.Unlock()
		return nil, errAuthFid
	}
	ref := f.file.get()
	f.mu.Unlock()
	defer ref.put()
	d, err := ref.f.Stat()
	if err != nil {
		return nil, err
	}
	pd := DirOf(&d, c.s.users())
	if ref.f.IsRoot() {
		pd.Name = "/" // stat(5)
	}
	b := packDir(&pd)
	if len(b)+hdrSize+2 > int(c.msize.Load()) {
		return nil, errBadStat
	}
	return &plan9.Fcall{Type: plan9.Rstat, Stat: b}, nil
}

// wstat changes what stat(5) lets be changed, all or nothing:
//
//   - the name, by those who may write the directory, never of the root;
//   - the length of a file, by those who may write it;
//   - the mode (not the directory bit) and the times, by the owner or
//     the leader of the file's group;
//   - the group, by the owner to a group they are in, or by the leader
//     of the file's group to a group they lead;
//   - the owner and muid, only on a connection or file system with
//     wstat allowed (-W), which also frees the group from those rules.
//
// Fields with the "don't touch" value, or the value they have, are left
// alone; a wstat touching nothing asks only that the file be on stable
// storage, which the file system sees to.
func (c *conn) wstat(r *request) (*plan9.Fcall, error) {
	tx := r.tx
	nd, err := plan9.UnmarshalDir(tx.Stat)
	if err != nil {
		return nil, errBadStat
	}
	f, err := c.holdFile(tx.Fid)
	if err != nil {
		return nil, err
	}
	defer f.release()
	if dontTouch(nd) {
		return &plan9.Fcall{Type: plan9.Rwstat}, nil
	}
	file := f.file.f
	d, err := file.Stat()
	if err != nil {
		return nil, err
	}
	tab := c.s.users()
	if err := writable(f, tab, file); err != nil {
		return nil, err
	}
	isDir := d.Mode&vac.ModeDir != 0
	owner := f.noPerm || f.uid == d.UID
	leader := f.noPerm || tab.IsLeader(f.uid, d.GID)
	newd := d
	changed := false

	if nd.Qid.Path != ^uint64(0) && nd.Qid.Path != d.Qid {
		return nil, errChangeQid
	}
	if nd.Name != "" && nd.Name != d.Elem {
		if !validName(nd.Name) {
			return nil, errBadName
		}
		if file.IsRoot() {
			return nil, errRenameRoot
		}
		if err := c.canWriteParent(f, tab); err != nil {
			return nil, err
		}
		newd.Elem = nd.Name
		changed = true
	}
	if nd.Length != ^uint64(0) && nd.Length != d.Size {
		if isDir {
			return nil, errDirLength
		}
		if !canAccess(f, tab, &d, aWrite) {
			return nil, errPerm
		}
		newd.Size = nd.Length
		changed = true
	}
	if nd.Mode != ^plan9.Perm(0) && nd.Mode != Plan9Mode(d.Mode) {
		if (nd.Mode&plan9.DMDIR != 0) != isDir {
			return nil, errChangeDir
		}
		if !owner && !leader {
			return nil, errPerm
		}
		newd.Mode = d.Mode&^wstatModes | VacMode(nd.Mode)&wstatModes
		changed = true
	}
	if nd.Mtime != ^uint32(0) && nd.Mtime != d.MTime {
		if !owner && !leader {
			return nil, errPerm
		}
		newd.MTime = nd.Mtime
		changed = true
	}
	if nd.Atime != ^uint32(0) && nd.Atime != d.ATime {
		if !owner && !leader {
			return nil, errPerm
		}
		newd.ATime = nd.Atime
		changed = true
	}
	if nd.Gid != "" && nd.Gid != tab.Name(d.GID) {
		gid, ok := tab.ID(nd.Gid)
		switch {
		case f.wstatAllow:
			if !ok {
				gid = nd.Gid
			}
		case !ok:
			return nil, errUnknownGroup
		case f.noPerm:
		case f.uid == d.UID && tab.InGroup(f.uid, gid):
		case tab.IsLeader(f.uid, d.GID) && tab.IsLeader(f.uid, gid):
		default:
			return nil, errPerm
		}
		newd.GID = gid
		changed = true
	}
	if nd.Uid != "" && nd.Uid != tab.Name(d.UID) {
		if !f.wstatAllow {
			return nil, errChangeOwner
		}
		uid, ok := tab.ID(nd.Uid)
		if !ok {
			uid = nd.Uid
		}
		newd.UID = uid
		changed = true
	}
	if nd.Muid != "" && nd.Muid != tab.Name(d.MID) {
		if !f.wstatAllow {
			return nil, errChangeMuid
		}
		mid, ok := tab.ID(nd.Muid)
		if !ok {
			mid = nd.Muid
		}
		newd.MID = mid
		changed = true
	}
	if changed {
		if err := file.SetStat(newd, f.uid); err != nil {
			return nil, err
		}
	}
	return &plan9.Fcall{Type: plan9.Rwstat}, nil
}

// canWriteParent checks that f's user may write the directory holding
// f's file. f.mu is held.
func (c *conn) canWriteParent(f *fid, tab *users.Table) error {
	p, err := f.parentDir()
	if err != nil {
		return err
	}
	defer p.put()
	pd, err := p.f.Stat()
	if err != nil {
		return err
	}
	if !canAccess(f, tab, &pd, aWrite) {
		return errPerm
	}
	return nil
}
