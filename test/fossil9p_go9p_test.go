//go:build !plan9

package test

// The second 9P client we did not write: github.com/knusbaum/go9p's.

import (
	"bytes"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	g9 "github.com/knusbaum/go9p/client"
	"github.com/knusbaum/go9p/proto"
)

// The second client is github.com/knusbaum/go9p's. It has quirks a
// test must step around:
//
//   - Create always opens the new file ORDWR, which 9P forbids for
//     directories (fossil, like the C one, answers "is a directory"), so
//     directories are made with the package's own messages (proto)
//     over a connection of their own;
//   - Stat and WStat cache a fid per path, which follows the file
//     through a rename;
//   - a Remove that fails gives its fid back twice, so that a later
//     walk may reuse a fid in use: refused removes go on a client of
//     their own, used for nothing after;
//   - the File that Create returns has an iounit of 0, with which Write
//     sends empty writes for ever and ReadAt reads nothing: files are
//     created, closed and opened again to be written;
//   - a Write longer than the iounit sends every piece at the same
//     offset: writes go one iounit at a time (go9pWrite);
//   - a walk that stops part way (an Rwalk with fewer qids, as walk(5)
//     says) is taken for a whole one, so a Stat of a missing file
//     deeper than the first element fails with "unknown fid".

// dialGo9p connects a go9p client as user to aname.
func dialGo9p(t testing.TB, addr, user, aname string) *g9.Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	c, err := g9.NewClient(conn, user, aname)
	if err != nil {
		t.Fatalf("go9p: attach %s as %s: %v", aname, user, err)
	}
	return c
}

func go9pRead(t testing.TB, c *g9.Client, name string) []byte {
	t.Helper()
	f, err := c.Open(name, proto.Oread)
	if err != nil {
		t.Fatalf("go9p: open %s: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("go9p: read %s: %v", name, err)
	}
	return b
}

func go9pNames(t testing.TB, c *g9.Client, name string) []string {
	t.Helper()
	sts, err := c.Readdir(name)
	if err != nil {
		t.Fatalf("go9p: read directory %s: %v", name, err)
	}
	var names []string
	for _, st := range sts {
		names = append(names, st.Name)
	}
	slices.Sort(names)
	return names
}

// go9pNull is a stat that changes nothing (stat(5)'s "don't touch"
// values), for a wstat to fill in.
func go9pNull() *proto.Stat {
	return &proto.Stat{
		Type: ^uint16(0), Dev: ^uint32(0),
		Qid:  proto.Qid{Qtype: ^uint8(0), Vers: ^uint32(0), Uid: ^uint64(0)},
		Mode: ^uint32(0), Atime: ^uint32(0), Mtime: ^uint32(0), Length: ^uint64(0),
	}
}

// go9pRaw speaks 9P with go9p's message types, one request at a time.
type go9pRaw struct {
	t    testing.TB
	conn net.Conn
	tag  uint16
}

func dialGo9pRaw(t testing.TB, addr string) *go9pRaw {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(time.Minute))
	r := &go9pRaw{t: t, conn: conn}
	rx := r.rpc(&proto.TRVersion{Header: proto.Header{Type: proto.Tversion, Tag: 0xFFFF}, Msize: 8192 + 24, Version: "9P2000"})
	if v, ok := rx.(*proto.TRVersion); !ok || v.Msize != 8192+24 || v.Version != "9P2000" {
		t.Fatalf("go9p: Tversion: %v", rx)
	}
	return r
}

// rpc sends tx and returns the reply, which may be an RError.
func (r *go9pRaw) rpc(tx proto.FCall) proto.FCall {
	r.t.Helper()
	if _, err := r.conn.Write(tx.Compose()); err != nil {
		r.t.Fatal(err)
	}
	rx, err := proto.ParseCall(r.conn)
	if err != nil {
		r.t.Fatal(err)
	}
	if rx.GetTag() != tx.GetTag() {
		r.t.Fatalf("go9p: %v answered by %v", tx, rx)
	}
	return rx
}

func (r *go9pRaw) next() proto.Header {
	r.tag++
	return proto.Header{Tag: r.tag}
}

// mkdir creates directory name (slash-separated, from the root of
// attach name aname) with perm as user.
func (r *go9pRaw) mkdir(user, aname string, path []string, name string, perm uint32) error {
	r.t.Helper()
	h := r.next()
	h.Type = proto.Tattach
	if rx, ok := r.rpc(&proto.TAttach{Header: h, Fid: 1, Afid: ^uint32(0), Uname: user, Aname: aname}).(*proto.RError); ok {
		r.t.Fatalf("go9p: attach: %s", rx.Ename)
	}
	defer func() {
		for _, fid := range []uint32{1, 2} {
			h := r.next()
			h.Type = proto.Tclunk
			r.rpc(&proto.TClunk{Header: h, Fid: fid})
		}
	}()
	h = r.next()
	h.Type = proto.Twalk
	switch rx := r.rpc(&proto.TWalk{Header: h, Fid: 1, Newfid: 2, Nwname: uint16(len(path)), Wname: path}).(type) {
	case *proto.RError:
		return errString(rx.Ename)
	case *proto.RWalk:
		if int(rx.Nwqid) != len(path) {
			return errString("walk: file does not exist")
		}
	}
	h = r.next()
	h.Type = proto.Tcreate
	switch rx := r.rpc(&proto.TCreate{Header: h, Fid: 2, Name: name, Perm: perm, Mode: uint8(proto.Oread)}).(type) {
	case *proto.RError:
		return errString(rx.Ename)
	case *proto.RCreate:
		if rx.Qid.Qtype&0x80 == 0 {
			r.t.Errorf("go9p: created directory has qid type %#x", rx.Qid.Qtype)
		}
	}
	return nil
}

// go9pCreate creates a file and opens it again in mode (see above).
func go9pCreate(t testing.TB, c *g9.Client, name string, perm os.FileMode, mode proto.Mode) *g9.File {
	t.Helper()
	f, err := c.Create(name, perm)
	if err != nil {
		t.Fatalf("go9p: create %s: %v", name, err)
	}
	f.Close()
	if f, err = c.Open(name, mode); err != nil {
		t.Fatalf("go9p: open %s: %v", name, err)
	}
	return f
}

// go9pWrite writes data from the file's offset on, 8192 bytes a time.
func go9pWrite(t testing.TB, f *g9.File, data []byte) {
	t.Helper()
	for off := 0; off < len(data); off += 8192 {
		chunk := data[off:min(off+8192, len(data))]
		if n, err := f.Write(chunk); err != nil || n != len(chunk) {
			t.Fatalf("go9p: write at %d: %d %v", off, n, err)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestFossil9PGo9p is TestFossil9P9fans with go9p's client.
func TestFossil9PGo9p(t *testing.T) {
	f, _ := start9P(t)
	c := dialGo9p(t, f.tcp, "glenda", "")

	// Directories.
	if _, err := c.Create("/usr/glenda/gdir", os.ModeDir|0o775); err == nil || err.Error() != "is a directory" {
		t.Errorf("go9p: create of a directory open ORDWR: %v, want is a directory", err)
	}
	raw := dialGo9pRaw(t, f.tcp)
	if err := raw.mkdir("glenda", "", []string{"usr", "glenda"}, "gdir", proto.DMDIR|0o775); err != nil {
		t.Fatal(err)
	}
	if err := raw.mkdir("glenda", "", []string{"usr", "glenda", "gdir"}, "sub", proto.DMDIR|0o750); err != nil {
		t.Fatal(err)
	}
	if err := raw.mkdir("glenda", "", []string{"usr", "glenda", "gdir"}, "sub", proto.DMDIR|0o750); err == nil {
		t.Error("go9p: created a directory that exists")
	}
	st, err := c.Stat("/usr/glenda/gdir/sub")
	if err != nil || st.Mode != proto.DMDIR|0o750 || st.Uid != "glenda" || st.Qid.Qtype != 0x80 {
		t.Errorf("go9p: stat sub: %v %v", st, err)
	}

	// Files.
	data := randBytes(3, 200000)
	w := go9pCreate(t, c, "/usr/glenda/gdir/data", 0o664, proto.Ordwr)
	go9pWrite(t, w, data)
	back := make([]byte, 5000)
	if n, err := w.ReadAt(back, 100000); err != nil || n != 5000 || !bytes.Equal(back, data[100000:105000]) {
		t.Errorf("go9p: read on the writing fid: %d %v", n, err)
	}
	w.Close()
	w = go9pCreate(t, c, "/usr/glenda/gdir/sub/small", 0o640, proto.Owrite)
	w.Write([]byte("go9p was here\n"))
	w.Close()
	if got := go9pRead(t, c, "/usr/glenda/gdir/data"); !bytes.Equal(got, data) {
		t.Errorf("go9p: read %d bytes back, want %d the same", len(got), len(data))
	}
	if got := go9pRead(t, c, "/usr/glenda/gdir/sub/small"); string(got) != "go9p was here\n" {
		t.Errorf("go9p: read small: %q", got)
	}
	if names := go9pNames(t, c, "/usr/glenda/gdir"); !slices.Equal(names, []string{"data", "sub"}) {
		t.Errorf("go9p: directory lists %q", names)
	}
	if _, err := c.Stat("/nothing"); err == nil || err.Error() != "file does not exist" {
		t.Errorf("go9p: stat of a missing file: %v", err)
	}
	if _, err := c.Stat("/usr/glenda/gdir/nothing"); err == nil {
		t.Errorf("go9p: stat of a missing file succeeded")
	}
	if _, err := c.Open("/usr/glenda/gdir", proto.Owrite); err == nil {
		t.Error("go9p: opened a directory for writing")
	}

	st, err = c.Stat("/usr/glenda/gdir/data")
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "data" || st.Uid != "glenda" || st.Gid != "glenda" || st.Muid != "glenda" || st.Mode != 0o664 || st.Length != uint64(len(data)) {
		t.Errorf("go9p: stat data: %v", st)
	}

	// Wstat: rename, chmod, truncate.
	s := go9pNull()
	s.Name = "renamed"
	if err := c.WStat("/usr/glenda/gdir/data", s); err != nil {
		t.Fatal(err)
	}
	s = go9pNull()
	s.Mode = 0o600
	s.Length = 1234
	if err := c.WStat("/usr/glenda/gdir/renamed", s); err != nil {
		t.Fatal(err)
	}
	st, err = c.Stat("/usr/glenda/gdir/renamed")
	if err != nil || st.Name != "renamed" || st.Mode != 0o600 || st.Length != 1234 {
		t.Errorf("go9p: after wstat: %v %v", st, err)
	}
	if got := go9pRead(t, c, "/usr/glenda/gdir/renamed"); !bytes.Equal(got, data[:1234]) {
		t.Errorf("go9p: after truncation read %d bytes", len(got))
	}
	s = go9pNull()
	s.Mode = 0o755
	if err := c.WStat("/usr/glenda/gdir/sub", s); err == nil || err.Error() != "cannot change directory bit" {
		t.Errorf("go9p: chmod a directory into a file: %v", err)
	}
	tr, err := c.Open("/usr/glenda/gdir/renamed", proto.Owrite|proto.Otrunc)
	if err != nil {
		t.Fatal(err)
	}
	tr.Write([]byte("short"))
	tr.Close()
	if got := go9pRead(t, c, "/usr/glenda/gdir/renamed"); string(got) != "short" {
		t.Errorf("go9p: after OTRUNC: %q", got)
	}

	// Snapshot and archive.
	consQuiet(t, f, "snap -d /snapshot/2026/0202/1300")
	consArchive(t, f, "snap -a")
	f.waitLog(t, `archive vac:([0-9a-f]{40})`)
	whole := dialGo9p(t, f.tcp, "glenda", "main")
	if names := go9pNames(t, whole, "/"); !slices.Equal(names, []string{"active", "archive", "snapshot"}) {
		t.Errorf("go9p: root of main lists %q", names)
	}
	day := time.Now().Format("2006/0102")
	for _, tree := range []string{"/snapshot/2026/0202/1300", "/archive/" + day} {
		dir := tree + "/usr/glenda/gdir"
		if got := go9pRead(t, whole, dir+"/renamed"); string(got) != "short" {
			t.Errorf("go9p: %s/renamed: %q", dir, got)
		}
		if got := go9pRead(t, whole, dir+"/sub/small"); string(got) != "go9p was here\n" {
			t.Errorf("go9p: %s/sub/small: %q", dir, got)
		}
		if _, err := whole.Create(dir+"/new", 0o664); err == nil {
			t.Errorf("go9p: created a file in %s", tree)
		}
		if err := raw.mkdir("glenda", "main", append(strings.Split(tree[1:], "/"), "usr", "glenda", "gdir"), "newdir", proto.DMDIR|0o775); err == nil {
			t.Errorf("go9p: created a directory in %s", tree)
		}
		if _, err := whole.Open(dir+"/renamed", proto.Owrite); err == nil {
			t.Errorf("go9p: opened a file in %s for writing", tree)
		}
		s := go9pNull()
		s.Mode = 0o666
		if err := whole.WStat(dir+"/renamed", s); err == nil || err.Error() != "file is read only" {
			t.Errorf("go9p: wstat in %s: %v", tree, err)
		}
		once := dialGo9p(t, f.tcp, "glenda", "main")
		if err := once.Remove(dir + "/sub/small"); err == nil || err.Error() != "file is read only" {
			t.Errorf("go9p: remove in %s: %v", tree, err)
		}
	}

	// Remove.
	once := dialGo9p(t, f.tcp, "glenda", "")
	if err := once.Remove("/usr/glenda/gdir"); err == nil {
		t.Error("go9p: removed a directory that is not empty")
	}
	for _, name := range []string{"/usr/glenda/gdir/sub/small", "/usr/glenda/gdir/sub", "/usr/glenda/gdir/renamed", "/usr/glenda/gdir"} {
		if err := c.Remove(name); err != nil {
			t.Errorf("go9p: remove %s: %v", name, err)
		}
	}
	if names := go9pNames(t, c, "/usr/glenda"); len(names) != 0 {
		t.Errorf("go9p: after removes /usr/glenda lists %q", names)
	}
}

// TestFossil9PGo9pFixture reads fossil-b's files as TestFossil9PFixture
// does, with go9p's client.
func TestFossil9PGo9pFixture(t *testing.T) {
	f := startFixtureB(t)
	g := dialGo9p(t, f.tcp, "root", "main")
	for _, tree := range fossilBTrees {
		for name, data := range fossilBData(t) {
			if got := go9pRead(t, g, tree+name); !bytes.Equal(got, data) {
				t.Errorf("go9p: %s%s: %d bytes, want %d the same", tree, name, len(got), len(data))
			}
		}
	}
	st, err := g.Stat("/archive/2026/1123/usr/root/dir1/big.bin")
	if err != nil || st.Length != 1500000 || st.Uid != "root" || st.Mode != 0o664 {
		t.Errorf("go9p: stat big.bin in the archive: %v %v", st, err)
	}
}
