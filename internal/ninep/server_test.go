//go:build !plan9

package ninep

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"
	"github.com/knusbaum/go9p/proto"

	"github.com/plan9fossil/fossil/internal/vac"
)

// TestClient9fans works files over loopback TCP with the 9fans.net
// client: create, write, read, stat, wstat, directory reads, remove.
func TestClient9fans(t *testing.T) {
	e := newEnv(t, Config{})
	addr := e.listen(ConnOptions{NoAuth: true})
	conn, err := client.NewConn(e.dial(addr))
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := conn.Attach(nil, "glenda", "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := fsys.Create("tmp/d", plan9.OREAD, plan9.DMDIR|0775)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	f, err := fsys.Create("tmp/d/f", plan9.ORDWR, 0664)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello, world")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, err := f.ReadAt(buf, 7)
	if (err != nil && err != io.EOF) || string(buf[:n]) != "world" {
		t.Errorf("read %q, %v", buf[:n], err)
	}
	f.Close()

	st, err := fsys.Stat("tmp/d/f")
	if err != nil {
		t.Fatal(err)
	}
	want := "f glenda sys glenda 664 12"
	if got := fmt.Sprintf("%s %s %s %s %o %d", st.Name, st.Uid, st.Gid, st.Muid, st.Mode, st.Length); got != want {
		t.Errorf("stat: %s, want %s", got, want)
	}
	node := e.fs.node("active/tmp/d/f")
	if st.Qid.Path != node.d.Qid || st.Qid.Vers != node.d.MCount || st.Qid.Type != plan9.QTFILE {
		t.Errorf("qid %v, file has qid %d mcount %d", st.Qid, node.d.Qid, node.d.MCount)
	}

	// Rename, change mode and truncate.
	var nd plan9.Dir
	nd.Null()
	nd.Name = "g"
	if err := fsys.Wstat("tmp/d/f", &nd); err != nil {
		t.Fatal(err)
	}
	nd.Null()
	nd.Mode = 0600
	nd.Length = 5
	if err := fsys.Wstat("tmp/d/g", &nd); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat("tmp/d/f"); err == nil {
		t.Error("old name still there")
	}
	st, err = fsys.Stat("tmp/d/g")
	if err != nil || st.Mode != 0600 || st.Length != 5 {
		t.Errorf("after wstat: %v, %v", st, err)
	}
	f, err = fsys.Open("tmp/d/g", plan9.OREAD)
	if err != nil {
		t.Fatal(err)
	}
	n, _ = f.ReadAt(buf, 0)
	if string(buf[:n]) != "hello" {
		t.Errorf("truncated file holds %q", buf[:n])
	}
	f.Close()

	dir, err := fsys.Open("tmp/d", plan9.OREAD)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := dir.Dirreadall()
	if err != nil || len(ents) != 1 || ents[0].Name != "g" || ents[0].Uid != "glenda" {
		t.Errorf("dirread: %v, %v", ents, err)
	}
	dir.Close()
	if err := fsys.Remove("tmp/d"); err == nil {
		t.Error("removed a full directory")
	}
	for _, p := range []string{"tmp/d/g", "tmp/d"} {
		if err := fsys.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if e.fs.node("active/tmp/d") != nil {
		t.Error("directory still there")
	}

	// Attach names: the root of main, and a subtree.
	root, err := conn.Attach(nil, "glenda", "main")
	if err != nil {
		t.Fatal(err)
	}
	rd, err := root.Open(".", plan9.OREAD)
	if err != nil {
		t.Fatal(err)
	}
	ents, err = rd.Dirreadall()
	var names []string
	for _, d := range ents {
		names = append(names, d.Name)
	}
	if err != nil || strings.Join(names, " ") != "active archive" {
		t.Errorf("root of main: %v, %v", names, err)
	}
	rst, err := root.Stat(".")
	if err != nil || rst.Name != "/" || rst.Mode != plan9.DMDIR|0775 {
		t.Errorf("root stat %v, %v", rst, err)
	}
	rd.Close()
	tmp, err := conn.Attach(nil, "glenda", "main/active/tmp")
	if err != nil {
		t.Fatal(err)
	}
	tst, err := tmp.Stat(".")
	if err != nil || tst.Name != "tmp" || tst.Mode != plan9.DMDIR|0777 {
		t.Errorf("attach main/active/tmp: %v, %v", tst, err)
	}
	if _, err := conn.Attach(nil, "glenda", "nosuch"); err == nil || !strings.Contains(err.Error(), "no file system nosuch") {
		t.Errorf("attach to a missing file system: %v", err)
	}
	if _, err := conn.Attach(nil, "glenda", "main/nosuch"); err == nil {
		t.Error("attach to a missing directory worked")
	}
	who := e.srv.Who()
	if len(who) != 1 || !strings.HasPrefix(who[0].Name, "tcp!127.0.0.1:") || strings.Join(who[0].Users, ",") != "glenda" {
		t.Errorf("who: %+v", who)
	}
}

// go9pClient sends knusbaum/go9p's messages, an encoding independent
// of the server's.
type go9pClient struct {
	t testing.TB
	c net.Conn
}

func (g *go9pClient) rpc(fc proto.FCall) proto.FCall {
	g.t.Helper()
	g.c.SetDeadline(time.Now().Add(timeout))
	if _, err := g.c.Write(fc.Compose()); err != nil {
		g.t.Fatal(err)
	}
	rx, err := proto.ParseCall(g.c)
	if err != nil {
		g.t.Fatal(err)
	}
	if rx.GetTag() != fc.GetTag() {
		g.t.Fatalf("%v: reply %v", fc, rx)
	}
	return rx
}

func hdr(typ uint8, tag uint16) proto.Header { return proto.Header{Type: typ, Tag: tag} }

// TestClientGo9p runs a session with go9p's message encoding.
func TestClientGo9p(t *testing.T) {
	e := newEnv(t, Config{})
	g := &go9pClient{t, e.pipe(ConnOptions{NoAuth: true})}
	rv, ok := g.rpc(&proto.TRVersion{Header: hdr(proto.Tversion, 0xffff), Msize: 65535, Version: "9P2000"}).(*proto.TRVersion)
	if !ok || rv.Msize != 65535 || rv.Version != "9P2000" {
		t.Fatalf("version: %v", rv)
	}
	if _, ok := g.rpc(&proto.TAttach{Header: hdr(proto.Tattach, 1), Fid: 1, Afid: plan9.NOFID, Uname: "glenda"}).(*proto.RAttach); !ok {
		t.Fatal("attach failed")
	}
	rw, ok := g.rpc(&proto.TWalk{Header: hdr(proto.Twalk, 2), Fid: 1, Newfid: 2, Nwname: 1, Wname: []string{"tmp"}}).(*proto.RWalk)
	if !ok || rw.Nwqid != 1 || rw.Wqid[0].Qtype != plan9.QTDIR {
		t.Fatalf("walk: %v", rw)
	}
	if _, ok := g.rpc(&proto.TCreate{Header: hdr(proto.Tcreate, 3), Fid: 2, Name: "x", Perm: 0644, Mode: uint8(proto.Ordwr)}).(*proto.RCreate); !ok {
		t.Fatal("create failed")
	}
	if r, ok := g.rpc(&proto.TWrite{Header: hdr(proto.Twrite, 4), Fid: 2, Count: 5, Data: []byte("abcde")}).(*proto.RWrite); !ok || r.Count != 5 {
		t.Fatalf("write: %v", r)
	}
	if r, ok := g.rpc(&proto.TRead{Header: hdr(proto.Tread, 5), Fid: 2, Offset: 1, Count: 100}).(*proto.RRead); !ok || string(r.Data) != "bcde" {
		t.Fatalf("read: %v", r)
	}
	rs, ok := g.rpc(&proto.TStat{Header: hdr(proto.Tstat, 6), Fid: 2}).(*proto.RStat)
	if !ok || rs.Name != "x" || rs.Uid != "glenda" || rs.Length != 5 || rs.Mode != 0644 {
		t.Fatalf("stat: %v", rs)
	}
	null := proto.Stat{Type: ^uint16(0), Dev: ^uint32(0), Qid: proto.Qid{Qtype: ^uint8(0), Vers: ^uint32(0), Uid: ^uint64(0)},
		Mode: ^uint32(0), Atime: ^uint32(0), Mtime: ^uint32(0), Length: ^uint64(0)}
	ws := null
	ws.Name = "y"
	ws.Mtime = 12345
	if r, ok := g.rpc(&proto.TWstat{Header: hdr(proto.Twstat, 7), Fid: 2, Stat: ws}).(*proto.RWstat); !ok {
		t.Fatalf("wstat: %v", r)
	}
	if n := e.fs.node("active/tmp/y"); n == nil || n.d.MTime != 12345 {
		t.Fatal("wstat did not rename and set mtime")
	}
	g.rpc(&proto.TClunk{Header: hdr(proto.Tclunk, 8), Fid: 2})
	// Directory read: whole entries that go9p parses.
	g.rpc(&proto.TWalk{Header: hdr(proto.Twalk, 9), Fid: 1, Newfid: 3, Nwname: 1, Wname: []string{"tmp"}})
	g.rpc(&proto.TOpen{Header: hdr(proto.Topen, 10), Fid: 3, Mode: proto.Oread})
	rr, ok := g.rpc(&proto.TRead{Header: hdr(proto.Tread, 11), Fid: 3, Count: 8192}).(*proto.RRead)
	if !ok {
		t.Fatal("dir read failed")
	}
	// One entry, y: go9p parses it as the stat of an Rstat.
	entry, err := proto.ParseCall(bytes.NewReader(append(rstatHeader(len(rr.Data)), rr.Data...)))
	if es, ok := entry.(*proto.RStat); err != nil || !ok || es.Name != "y" || es.Mtime != 12345 || es.Uid != "glenda" {
		t.Fatalf("dir read %q: %v, %v", rr.Data, entry, err)
	}
	g.rpc(&proto.TClunk{Header: hdr(proto.Tclunk, 12), Fid: 3})
	g.rpc(&proto.TWalk{Header: hdr(proto.Twalk, 13), Fid: 1, Newfid: 4, Nwname: 2, Wname: []string{"tmp", "y"}})
	if _, ok := g.rpc(&proto.TRemove{Header: hdr(proto.Tremove, 14), Fid: 4}).(*proto.RRemove); !ok {
		t.Fatal("remove failed")
	}
	re, ok := g.rpc(&proto.TWalk{Header: hdr(proto.Twalk, 15), Fid: 1, Newfid: 5, Nwname: 2, Wname: []string{"tmp", "y"}}).(*proto.RWalk)
	if !ok || re.Nwqid != 1 {
		t.Fatalf("walk to removed file: %v", re)
	}
	if r, ok := g.rpc(&proto.TFlush{Header: hdr(proto.Tflush, 16), Oldtag: 77}).(*proto.RFlush); !ok {
		t.Fatalf("flush: %v", r)
	}
	if r, ok := g.rpc(&proto.TClunk{Header: hdr(proto.Tclunk, 17), Fid: 5}).(*proto.RError); !ok || r.Ename != "unknown fid" {
		t.Fatalf("clunk of a fid a partial walk did not make: %v", r)
	}
}

// rstatHeader is the size, type and tag of an Rstat carrying n bytes.
func rstatHeader(n int) []byte {
	size := 4 + 1 + 2 + 2 + n
	return []byte{byte(size), byte(size >> 8), 0, 0, proto.Rstat, 0, 0, byte(n), byte(n >> 8)}
}

func TestVersion(t *testing.T) {
	e := newEnv(t, Config{})
	e.fs.mk("active/tmp/big", "glenda", "sys", 0666, strings.Repeat("x", 1000))
	r := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	if rx := r.version(1 << 20); rx.Msize != MaxMsize || rx.Version != "9P2000" {
		t.Errorf("big msize: %v", rx)
	}
	// Before a good version nothing else is served.
	rx := r.ok(&plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: 8192, Version: "9P1999"})
	if rx.Version != "unknown" {
		t.Errorf("9P1999: %v", rx)
	}
	r.fail(&plan9.Fcall{Type: plan9.Tattach, Tag: 1, Fid: 0, Afid: plan9.NOFID, Uname: "glenda"}, "version not negotiated")
	r.fail(&plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: 100, Version: "9P2000"}, "msize too small")
	rx = r.ok(&plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: 512, Version: "9P2000.u"})
	if rx.Msize != 512 || rx.Version != "9P2000" {
		t.Errorf("9P2000.u: %v", rx)
	}
	r.ok(&plan9.Fcall{Type: plan9.Tattach, Tag: 1, Fid: 0, Afid: plan9.NOFID, Uname: "glenda"})
	r.ok(&plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 0, Newfid: 1, Wname: []string{"tmp", "big"}})
	if rx := r.ok(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 1, Mode: plan9.OREAD}); rx.Iounit != 512-plan9.IOHDRSZ {
		t.Errorf("iounit %d", rx.Iounit)
	}
	if rx := r.ok(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 1, Count: 1000}); len(rx.Data) != 512-plan9.IOHDRSZ {
		t.Errorf("read of 1000 with msize 512 gave %d", len(rx.Data))
	}
	// A new version clunks every fid.
	r.version(8192)
	r.fail(&plan9.Fcall{Type: plan9.Tstat, Tag: 1, Fid: 0}, "unknown fid")
	if st := e.srv.Stats(); st.Fids != 0 {
		t.Errorf("%d fids after version", st.Fids)
	}
	// A message longer than msize ends the connection.
	r.version(512)
	r.send(&plan9.Fcall{Type: plan9.Twrite, Tag: 1, Fid: 0, Data: make([]byte, 600)})
	r.c.SetReadDeadline(time.Now().Add(timeout))
	if _, err := plan9.ReadFcall(r.c); !isEOF(err) {
		t.Errorf("after an oversized message: %v", err)
	}
}

func TestWalk(t *testing.T) {
	e := newEnv(t, Config{})
	e.fs.mk("active/tmp/a", "glenda", "sys", vac.ModeDir|0775, "")
	e.fs.mk("active/tmp/a/f", "glenda", "sys", 0664, "data")
	r := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	r.session("glenda", "")
	walk := func(fid, newfid uint32, names ...string) *plan9.Fcall {
		return r.rpc(&plan9.Fcall{Type: plan9.Twalk, Tag: 2, Fid: fid, Newfid: newfid, Wname: names})
	}
	rx := walk(0, 1, "tmp", "a", "f")
	if rx.Type != plan9.Rwalk || len(rx.Wqid) != 3 || rx.Wqid[2].Type != plan9.QTFILE || rx.Wqid[1].Type != plan9.QTDIR {
		t.Fatalf("walk: %v", rx)
	}
	// Partial walk: qids up to the failure, no newfid.
	rx = walk(0, 2, "tmp", "nope", "f")
	if rx.Type != plan9.Rwalk || len(rx.Wqid) != 1 {
		t.Errorf("partial walk: %v", rx)
	}
	r.fail(&plan9.Fcall{Type: plan9.Tclunk, Tag: 1, Fid: 2}, "unknown fid")
	// An error in the first element is the walk's.
	if rx := walk(0, 2, "nope"); rx.Type != plan9.Rerror || rx.Ename != "file does not exist" {
		t.Errorf("walk to nothing: %v", rx)
	}
	if rx := walk(0, 1, "tmp"); rx.Ename != "fid in use" {
		t.Errorf("newfid in use: %v", rx)
	}
	if rx := walk(1, 2, "x"); rx.Ename != "not a directory" {
		t.Errorf("walk from a file: %v", rx)
	}
	if rx := walk(0, 2, "tmp", "a", "f", "g"); len(rx.Wqid) != 3 {
		t.Errorf("walk through a file: %v", rx)
	}
	if rx := walk(0, 2, "tmp", "a/f"); len(rx.Wqid) != 1 {
		t.Errorf("walk with a slash: %v", rx)
	}
	// Clone, then walk the clone in place.
	if rx := walk(0, 3); rx.Type != plan9.Rwalk || len(rx.Wqid) != 0 {
		t.Fatalf("clone: %v", rx)
	}
	walk(3, 3, "tmp", "a")
	st := r.ok(&plan9.Fcall{Type: plan9.Tstat, Tag: 1, Fid: 3})
	if d, _ := plan9.UnmarshalDir(st.Stat); d.Name != "a" {
		t.Errorf("fid 3 is at %v", d)
	}
	// A failed walk in place leaves the fid where it was.
	walk(3, 3, "nope")
	st = r.ok(&plan9.Fcall{Type: plan9.Tstat, Tag: 1, Fid: 3})
	if d, _ := plan9.UnmarshalDir(st.Stat); d.Name != "a" {
		t.Errorf("after failed walk fid 3 is at %v", d)
	}
	// ".." climbs, but not out of the attach point.
	rx = walk(3, 4, "..", "..", "..", "..")
	root := r.ok(&plan9.Fcall{Type: plan9.Tstat, Tag: 1, Fid: 0})
	rd, _ := plan9.UnmarshalDir(root.Stat)
	if len(rx.Wqid) != 4 || rx.Wqid[1].Path != rd.Qid.Path || rx.Wqid[3].Path != rd.Qid.Path {
		t.Errorf("walk ..: %v, root %v", rx, rd.Qid)
	}
	// An open fid cannot walk.
	r.ok(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 1, Mode: plan9.OREAD})
	r.fail(&plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 1, Newfid: 5}, "fid is open")
	r.fail(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 1, Mode: plan9.OREAD}, "file already open")
	r.fail(&plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 99, Newfid: 5}, "unknown fid")
}

func TestOpenModes(t *testing.T) {
	e := newEnv(t, Config{})
	e.fs.mk("active/tmp/f", "glenda", "sys", 0664, "0123456789")
	e.fs.mk("active/tmp/log", "glenda", "sys", vac.ModeAppend|0664, "start\n")
	e.fs.mk("active/tmp/lock", "glenda", "sys", vac.ModeExclusive|0664, "")
	e.fs.mk("active/tmp/rc", "glenda", "sys", 0664, "")
	r := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	r.session("glenda", "")

	// OTRUNC empties the file.
	r.walkOpen(1, "tmp/f", plan9.OWRITE|plan9.OTRUNC)
	if n := e.fs.node("active/tmp/f"); len(n.data) != 0 {
		t.Errorf("OTRUNC left %q", n.data)
	}
	r.fail(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 1, Count: 10}, "not open for reading")

	// Appends go to the end whatever the offset; OTRUNC is ignored.
	r.walkOpen(2, "tmp/log", plan9.ORDWR|plan9.OTRUNC)
	r.ok(&plan9.Fcall{Type: plan9.Twrite, Tag: 1, Fid: 2, Offset: 0, Data: []byte("one\n")})
	r.ok(&plan9.Fcall{Type: plan9.Twrite, Tag: 1, Fid: 2, Offset: 2, Data: []byte("two\n")})
	if n := e.fs.node("active/tmp/log"); string(n.data) != "start\none\ntwo\n" {
		t.Errorf("append-only file holds %q", n.data)
	}

	// Exclusive use: one open at a time, across connections.
	r.walkOpen(3, "tmp/lock", plan9.OREAD)
	r2 := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	r2.session("glenda", "")
	r2.ok(&plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 0, Newfid: 1, Wname: []string{"tmp", "lock"}})
	r2.fail(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 1, Mode: plan9.OREAD}, "exclusive use file already open")
	r.ok(&plan9.Fcall{Type: plan9.Tclunk, Tag: 1, Fid: 3})
	r2.ok(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 1, Mode: plan9.OREAD})

	// ORCLOSE removes at clunk.
	r.walkOpen(4, "tmp/rc", plan9.OREAD|plan9.ORCLOSE)
	r.ok(&plan9.Fcall{Type: plan9.Tclunk, Tag: 1, Fid: 4})
	if e.fs.node("active/tmp/rc") != nil {
		t.Error("ORCLOSE file survived its clunk")
	}
	// ... or when the connection ends.
	r2.ok(&plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 0, Newfid: 2, Wname: []string{"tmp"}})
	r2.ok(&plan9.Fcall{Type: plan9.Tcreate, Tag: 1, Fid: 2, Name: "scratch", Perm: 0664, Mode: plan9.ORDWR | plan9.ORCLOSE})
	if e.fs.node("active/tmp/scratch") == nil {
		t.Fatal("create made nothing")
	}
	r2.c.Close()
	deadline := time.Now().Add(timeout)
	for e.fs.node("active/tmp/scratch") != nil {
		if time.Now().After(deadline) {
			t.Fatal("ORCLOSE file survived its connection")
		}
		time.Sleep(time.Millisecond)
	}

	// Directories: read only.
	r.ok(&plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 0, Newfid: 5, Wname: []string{"tmp"}})
	r.fail(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 5, Mode: plan9.OWRITE}, "is a directory")
	r.fail(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 5, Mode: plan9.OREAD | plan9.ORCLOSE}, "is a directory")
	r.fail(&plan9.Fcall{Type: plan9.Tcreate, Tag: 1, Fid: 5, Name: "d", Perm: plan9.DMDIR | 0775, Mode: plan9.OWRITE}, "is a directory")
	for _, name := range []string{".", "..", "a/b", ""} {
		r.fail(&plan9.Fcall{Type: plan9.Tcreate, Tag: 1, Fid: 5, Name: name, Perm: 0664, Mode: plan9.OREAD}, "bad file name")
	}
	r.fail(&plan9.Fcall{Type: plan9.Tcreate, Tag: 1, Fid: 5, Name: "f", Perm: 0664, Mode: plan9.OREAD}, "file already exists")
	// Creation masks the mode with the directory's.
	r.ok(&plan9.Fcall{Type: plan9.Tcreate, Tag: 1, Fid: 5, Name: "d", Perm: plan9.DMDIR | plan9.DMEXCL | 0777, Mode: plan9.OREAD})
	n := e.fs.node("active/tmp/d")
	if n == nil || n.d.Mode != vac.ModeDir|vac.ModeExclusive|0777 || n.d.UID != "glenda" || n.d.GID != "sys" {
		t.Errorf("created %+v", n)
	}
	r.ok(&plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 0, Newfid: 6, Wname: []string{"tmp", "d"}})
	r.ok(&plan9.Fcall{Type: plan9.Twstat, Tag: 1, Fid: 6, Stat: wstatMode(plan9.DMDIR | 0750)})
	r.ok(&plan9.Fcall{Type: plan9.Tcreate, Tag: 1, Fid: 6, Name: "f", Perm: 0777, Mode: plan9.OWRITE})
	if n := e.fs.node("active/tmp/d/f"); n == nil || n.d.Mode != 0750&0666|0111 {
		t.Errorf("file made with mode %o", n.d.Mode)
	}
}

// wstatMode is the stat of a wstat changing only the mode.
func wstatMode(mode plan9.Perm) []byte {
	var d plan9.Dir
	d.Null()
	d.Mode = mode
	return packDir(&d)
}

// TestLargeDirectory reads a big directory in small counts.
func TestLargeDirectory(t *testing.T) {
	e := newEnv(t, Config{})
	e.fs.mk("active/tmp/big", "glenda", "sys", vac.ModeDir|0775, "")
	var want []string
	for i := range 500 {
		name := fmt.Sprintf("file%03d-%s", i, strings.Repeat("n", i%40))
		e.fs.mk("active/tmp/big/"+name, "glenda", "sys", 0664, "")
		want = append(want, name)
	}
	r := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	r.session("glenda", "")
	r.walkOpen(1, "tmp/big", plan9.OREAD)
	for pass := range 2 { // reading again from 0 starts over
		var got []string
		off := uint64(0)
		reads := 0
		for {
			rx := r.ok(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 1, Offset: off, Count: 150})
			if len(rx.Data) == 0 {
				break
			}
			if len(rx.Data) > 150 {
				t.Fatalf("read of 150 gave %d", len(rx.Data))
			}
			reads++
			b := rx.Data
			for len(b) > 0 {
				n := int(b[0]) | int(b[1])<<8 + 2
				d, err := plan9.UnmarshalDir(b[:n])
				if err != nil {
					t.Fatalf("pass %d: bad entry: %v", pass, err)
				}
				got = append(got, d.Name)
				b = b[n:]
			}
			off += uint64(len(rx.Data))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pass %d: read %d names in %d reads, want %d", pass, len(got), reads, len(want))
		}
		if reads < 250 {
			t.Errorf("only %d reads", reads)
		}
	}
	r.fail(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 1, Offset: 3, Count: 150}, "bad offset in directory read")
	r.ok(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 1, Offset: 0, Count: 150})
	r.fail(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 1, Offset: 1 << 40, Count: 150}, "bad offset in directory read")
	r.fail(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 1, Offset: 0, Count: 20}, "read count too small")
}

// TestReadOnly: trees that cannot change refuse every change, reads
// work.
func TestReadOnly(t *testing.T) {
	e := newEnv(t, Config{})
	fsys := e.mount("glenda", "dump/active", ConnOptions{NoAuth: true})
	f, err := fsys.Open("old", plan9.OREAD)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 20)
	if n, _ := f.Read(buf); string(buf[:n]) != "old data" {
		t.Errorf("read %q", buf[:n])
	}
	f.Close()
	for what, err := range map[string]error{
		"open for write":  open(fsys, "old", plan9.OWRITE),
		"truncate":        open(fsys, "old", plan9.OREAD|plan9.OTRUNC),
		"remove on close": open(fsys, "old", plan9.OREAD|plan9.ORCLOSE),
		"create":          create(fsys, "new", 0666),
		"remove":          fsys.Remove("old"),
		"wstat":           wstat(fsys, "old", func(d *plan9.Dir) { d.Mode = 0600 }),
	} {
		if err == nil || err.Error() != "file is read only" {
			t.Errorf("%s on a read-only tree: %v", what, err)
		}
	}
}

func open(fsys *client.Fsys, name string, mode uint8) error {
	f, err := fsys.Open(name, mode)
	if err == nil {
		f.Close()
	}
	return err
}

func create(fsys *client.Fsys, name string, perm plan9.Perm) error {
	f, err := fsys.Create(name, plan9.OREAD, perm)
	if err == nil {
		f.Close()
	}
	return err
}

func wstat(fsys *client.Fsys, name string, change func(*plan9.Dir)) error {
	var d plan9.Dir
	d.Null()
	change(&d)
	return fsys.Wstat(name, &d)
}

// TestMalformed: a malformed message ends its connection only.
func TestMalformed(t *testing.T) {
	e := newEnv(t, Config{})
	good := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	good.session("glenda", "")
	for _, msg := range [][]byte{
		{4, 0, 0, 0},                                     // shorter than a header
		{9, 0, 0, 0, plan9.Rversion, 0, 0, 0, 0},         // a reply
		{9, 0, 0, 0, 200, 0, 0, 0, 0},                    // no such type
		{8, 0, 0, 0, plan9.Tclunk, 0, 0, 0},              // short body
		{12, 0, 0, 0, plan9.Tclunk, 0, 0, 0, 0, 0, 0, 9}, // long body
		{0xff, 0xff, 0xff, 0xff},                         // huge
	} {
		c := e.pipe(ConnOptions{NoAuth: true})
		newRaw(t, c).version(8192)
		c.SetDeadline(time.Now().Add(timeout))
		c.Write(msg)
		if _, err := plan9.ReadFcall(c); !isEOF(err) {
			t.Errorf("after %x: %v", msg, err)
		}
	}
	good.ok(&plan9.Fcall{Type: plan9.Tstat, Tag: 1, Fid: 0})
}

// TestPanic: a File that panics costs its request only.
func TestPanic(t *testing.T) {
	e := newEnv(t, Config{})
	e.fs.mk("active/tmp/bomb", "glenda", "sys", 0664, "").panics = "boom"
	r := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	r.session("glenda", "")
	r.walkOpen(1, "tmp/bomb", plan9.OREAD)
	r.fail(&plan9.Fcall{Type: plan9.Tread, Tag: 1, Fid: 1, Count: 10}, "internal error")
	r.ok(&plan9.Fcall{Type: plan9.Tstat, Tag: 1, Fid: 1})
	if s := e.errs.String(); !strings.Contains(s, "panic serving Tread") || !strings.Contains(s, "boom") {
		t.Errorf("error log: %q", s)
	}
}

// TestDebugLog: -D logs every message both ways.
func TestDebugLog(t *testing.T) {
	var log syncBuffer
	e := newEnv(t, Config{Log: &log})
	r := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	r.session("glenda", "")
	e.srv.SetDebug(nil)
	r.ok(&plan9.Fcall{Type: plan9.Tstat, Tag: 1, Fid: 0})
	want := "pipe <- Tversion tag 65535 msize 8216 version '9P2000'\n" +
		"pipe -> Rversion tag 65535 msize 8216 version '9P2000'\n" +
		"pipe <- Tattach tag 1 fid 0 afid 4294967295 uname glenda aname \n"
	if s := log.String(); !strings.HasPrefix(s, want) || !strings.Contains(s, "pipe -> Rattach tag 1") || strings.Contains(s, "Tstat") {
		t.Errorf("log:\n%s", s)
	}
}

// TestTagInUse: a second request with a tag in use is refused, the
// first still answered.
func TestTagInUse(t *testing.T) {
	e := newEnv(t, Config{})
	n := e.fs.mk("active/tmp/slow", "glenda", "sys", 0664, "data")
	n.block = make(chan struct{})
	r := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	r.session("glenda", "")
	r.walkOpen(1, "tmp/slow", plan9.OREAD)
	r.send(&plan9.Fcall{Type: plan9.Tread, Tag: 7, Fid: 1, Count: 10})
	r.send(&plan9.Fcall{Type: plan9.Tstat, Tag: 7, Fid: 1})
	if rx := r.recv(); rx.Tag != 7 || rx.Type != plan9.Rerror || rx.Ename != "tag in use" {
		t.Fatalf("second tag 7: %v", rx)
	}
	close(n.block)
	if rx := r.recv(); rx.Tag != 7 || rx.Type != plan9.Rread || string(rx.Data) != "data" {
		t.Fatalf("first tag 7: %v", rx)
	}
}

// TestLimits: with MaxMsgs requests outstanding the server stops
// reading; all are answered when they can be.
func TestLimits(t *testing.T) {
	e := newEnv(t, Config{MaxMsgs: 4, MaxProcs: 2})
	if m, p := e.srv.Limits(); m != 4 || p != 2 {
		t.Errorf("limits %d %d", m, p)
	}
	n := e.fs.mk("active/tmp/slow", "glenda", "sys", 0664, "data")
	n.block = make(chan struct{})
	r := newRaw(t, e.pipe(ConnOptions{NoAuth: true}))
	r.session("glenda", "")
	r.walkOpen(1, "tmp/slow", plan9.OREAD)
	const total = 40
	sent := make(chan int, total)
	go func() {
		for i := range total {
			plan9.WriteFcall(r.c, &plan9.Fcall{Type: plan9.Tread, Tag: uint16(100 + i), Fid: 1, Count: 10})
			sent <- i
		}
		close(sent)
	}()
	// The pipe has no buffer: the writer gets as far as the server
	// reads, which is four requests admitted and one held.
	got := 0
	deadline := time.After(timeout)
	for got < 5 {
		select {
		case <-sent:
			got++
		case <-deadline:
			t.Fatalf("server read %d requests", got)
		}
	}
	waitRunning := time.Now().Add(timeout)
	for st := e.srv.Stats(); st.Requests != 4 || st.Workers != 2 || st.Queued != 2; st = e.srv.Stats() {
		if time.Now().After(waitRunning) {
			t.Fatalf("server %+v", st)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(sent); n != 0 {
		t.Errorf("server read %d requests beyond the limit", n)
	}
	e.srv.SetLimits(8, 0)
	if m, p := e.srv.Limits(); m != 8 || p != 2 {
		t.Errorf("limits after msg -m 8: %d %d", m, p)
	}
	close(n.block)
	seen := map[uint16]bool{}
	for range total {
		if rx := r.recv(); rx.Type != plan9.Rread || string(rx.Data) != "data" || seen[rx.Tag] {
			t.Fatalf("reply %v", rx)
		} else {
			seen[rx.Tag] = true
		}
	}
	for range sent {
	}
}
