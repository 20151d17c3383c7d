//go:build !plan9

package test

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"

	"github.com/plan9fossil/fossil/internal/ninep"
)

// permUsers is the users file of the permission tests: a file owner, a
// group grp with a member and a leader who is not listed as a member,
// a stranger to the group, and a member of noworld.
const permUsers = `adm:adm:adm:sys
none:none::
noworld:noworld::nw
sys:sys::glenda
glenda:glenda:glenda:
own:own:own:
mem:mem:mem:
lead:lead:lead:
oth:oth:oth:
nw:nw:nw:
grp:grp:lead:mem
`

// startPerm starts fossil with authentication off and the users and
// files of the permission tests: /p (d777) holding files and
// directories of owner own, group grp and the modes their names say.
func startPerm(t *testing.T) *fossilServer {
	t.Helper()
	f, _ := start9P(t)
	adm := mount9P(t, f.tcp, "adm", "")
	w, err := adm.Open("/adm/users", plan9.OWRITE|plan9.OTRUNC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(permUsers)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	wantCons(t, f, "users -r /active/adm/users", fmt.Sprintf("\tnuser 11 len %d\n", len(permUsers)))
	consQuiet(t, f, "create /active/p sys sys d777")
	for _, name := range []string{"f660", "f644", "f606", "f600", "d770", "d775", "d757", "d755", "d700"} {
		perm := name[1:]
		if name[0] == 'd' {
			perm = name
		}
		consQuiet(t, f, "create /active/p/"+name+" own grp "+perm)
	}
	consQuiet(t, f, "create /active/p/d775/victim own grp 644")
	return f
}

// permCase is one operation and who may do it.
type permCase struct {
	what  string
	do    func(fsys *client.Fsys) error
	undo  string // console command run after it succeeded
	allow []string
}

var permUsersAll = []string{"own", "mem", "lead", "oth", "nw", "stranger"}

func openOp(name string, mode uint8) func(*client.Fsys) error {
	return func(fsys *client.Fsys) error {
		fid, err := fsys.Open(name, mode)
		if err == nil {
			fid.Close()
		}
		return err
	}
}

func createOp(name string, perm plan9.Perm) func(*client.Fsys) error {
	return func(fsys *client.Fsys) error {
		mode := uint8(plan9.OWRITE)
		if perm&plan9.DMDIR != 0 {
			mode = plan9.OREAD
		}
		fid, err := fsys.Create(name, mode, perm)
		if err == nil {
			fid.Close()
		}
		return err
	}
}

func wstatOp(name string, edit func(d *plan9.Dir)) func(*client.Fsys) error {
	return func(fsys *client.Fsys) error {
		var d plan9.Dir
		d.Null()
		edit(&d)
		return fsys.Wstat(name, &d)
	}
}

// runPerm runs each case as each user and compares with who may.
func runPerm(t *testing.T, f *fossilServer, users []string, cases []permCase) {
	t.Helper()
	mounts := map[string]*client.Fsys{}
	for _, u := range users {
		mounts[u] = mount9P(t, f.tcp, u, "")
	}
	for _, c := range cases {
		var allowed, refused []string
		for _, u := range users {
			err := c.do(mounts[u])
			if err == nil {
				allowed = append(allowed, u)
				if c.undo != "" {
					consOK(t, f, c.undo)
				}
			} else {
				refused = append(refused, u+" ("+err.Error()+")")
			}
		}
		if !slices.Equal(allowed, c.allow) {
			t.Errorf("%s: allowed %q, want %q; refused %q", c.what, allowed, c.allow, refused)
		}
	}
}

// TestFossil9PPermissions attaches as the owner, a group member, the
// group leader, another user, a noworld member and a stranger (none),
// with authentication off, and checks what each may do.
func TestFossil9PPermissions(t *testing.T) {
	f := startPerm(t)
	all := permUsersAll
	// Plan 9's rule: one of the owner, group and other triplets must
	// allow the whole access; noworld members lose the other triplet
	// (but for search in directories); a group's leader is in it.
	owner := []string{"own"}
	group := []string{"own", "mem", "lead"}
	everyone := []string{"own", "mem", "lead", "oth", "stranger"}
	var none []string
	mtime := uint32(1000)
	consOK(t, f, "wstat /active/p/f606 - - - - 10")
	cases := []permCase{
		{what: "read f660", do: openOp("/p/f660", plan9.OREAD), allow: group},
		{what: "write f660", do: openOp("/p/f660", plan9.OWRITE), allow: group},
		{what: "read f644", do: openOp("/p/f644", plan9.OREAD), allow: everyone},
		{what: "write f644", do: openOp("/p/f644", plan9.OWRITE), allow: owner},
		{what: "rdwr f644", do: openOp("/p/f644", plan9.ORDWR), allow: owner},
		{what: "truncate f644", do: openOp("/p/f644", plan9.OREAD|plan9.OTRUNC), allow: owner},
		{what: "read f606", do: openOp("/p/f606", plan9.OREAD), allow: everyone},
		{what: "write f606", do: openOp("/p/f606", plan9.OWRITE), allow: everyone},
		{what: "read f600", do: openOp("/p/f600", plan9.OREAD), allow: owner},
		{what: "write f600", do: openOp("/p/f600", plan9.OWRITE), allow: owner},
		{what: "exec f644", do: openOp("/p/f644", plan9.OEXEC), allow: none},

		{what: "list d770", do: openOp("/p/d770", plan9.OREAD), allow: group},
		{what: "list d775", do: openOp("/p/d775", plan9.OREAD), allow: everyone},
		{what: "list d757", do: openOp("/p/d757", plan9.OREAD), allow: everyone},
		{what: "list d700", do: openOp("/p/d700", plan9.OREAD), allow: owner},
		{what: "walk into d775", do: openOp("/p/d775/victim", plan9.OREAD), allow: everyone},
		{what: "walk into d770", do: openOp("/p/d770", plan9.OEXEC), allow: group},
		{what: "list p (d777)", do: openOp("/p", plan9.OREAD), allow: everyone},

		{what: "create in d770", do: createOp("/p/d770/new", 0o644), undo: "remove /active/p/d770/new", allow: group},
		{what: "create in d775", do: createOp("/p/d775/new", 0o644), undo: "remove /active/p/d775/new", allow: group},
		{what: "create in d757", do: createOp("/p/d757/new", 0o644), undo: "remove /active/p/d757/new", allow: everyone},
		{what: "create in d700", do: createOp("/p/d700/new", 0o644), undo: "remove /active/p/d700/new", allow: owner},
		{what: "mkdir in d770", do: createOp("/p/d770/newdir", plan9.DMDIR|0o775), undo: "remove /active/p/d770/newdir", allow: group},
		{what: "create in p (d777)", do: createOp("/p/new", 0o644), undo: "remove /active/p/new", allow: everyone},

		{what: "remove d775/victim", do: func(fsys *client.Fsys) error { return fsys.Remove("/p/d775/victim") },
			undo: "create /active/p/d775/victim own grp 644", allow: group},
		{what: "remove p/f606 (d777)", do: func(fsys *client.Fsys) error { return fsys.Remove("/p/f606") },
			undo: "create /active/p/f606 own grp 606", allow: everyone},

		{what: "chmod f644", do: wstatOp("/p/f644", func(d *plan9.Dir) { d.Mode = 0o640 }),
			undo: "wstat /active/p/f644 - - - 644 -", allow: []string{"own", "lead"}},
		{what: "chgrp f644 to own", do: wstatOp("/p/f644", func(d *plan9.Dir) { d.Gid = "own" }),
			undo: "wstat /active/p/f644 - - grp - -", allow: owner},
		{what: "chgrp f644 to lead", do: wstatOp("/p/f644", func(d *plan9.Dir) { d.Gid = "lead" }),
			undo: "wstat /active/p/f644 - - grp - -", allow: []string{"lead"}},
		{what: "chown f644", do: wstatOp("/p/f644", func(d *plan9.Dir) { d.Uid = "mem" }),
			undo: "wstat /active/p/f644 - own - - -", allow: none},
		{what: "mtime f644", do: wstatOp("/p/f644", func(d *plan9.Dir) { mtime++; d.Mtime = mtime }), allow: []string{"own", "lead"}},
		{what: "truncate f606 by wstat", do: wstatOp("/p/f606", func(d *plan9.Dir) { d.Length = 0 }),
			undo: "wstat /active/p/f606 - - - - 10", allow: everyone},
		{what: "grow f660 by wstat", do: wstatOp("/p/f660", func(d *plan9.Dir) { d.Length = 10 }),
			undo: "wstat /active/p/f660 - - - - 0", allow: group},
		{what: "rename f644 (in d777)", do: wstatOp("/p/f644", func(d *plan9.Dir) { d.Name = "renamed" }),
			undo: "wstat /active/p/renamed f644 - - - -", allow: everyone},
		{what: "rename d775/victim", do: wstatOp("/p/d775/victim", func(d *plan9.Dir) { d.Name = "renamed" }),
			undo: "wstat /active/p/d775/renamed victim - - - -", allow: group},
		{what: "create in d755", do: createOp("/p/d755/new", 0o644), undo: "remove /active/p/d755/new", allow: owner},
	}
	runPerm(t, f, all, cases)

	// A file a user creates is theirs, in the directory's group, with
	// the directory's permissions limiting the mode asked.
	mem := mount9P(t, f.tcp, "mem", "")
	fid, err := mem.Create("/p/d770/mine", plan9.OWRITE, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	fid.Close()
	if st, err := mem.Stat("/p/d770/mine"); err != nil || st.Uid != "mem" || st.Gid != "grp" || st.Muid != "mem" || st.Mode != 0o660 {
		t.Errorf("a member's new file: %v %v", st, err)
	}
	// Strangers are none.
	if _, err := mount9P(t, f.tcp, "stranger", "").Stat("/p"); err != nil {
		t.Fatal(err)
	}
	fid, err = mount9P(t, f.tcp, "stranger", "").Create("/p/fromnone", plan9.OWRITE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fid.Close()
	if st, err := mem.Stat("/p/fromnone"); err != nil || st.Uid != "none" {
		t.Errorf("a stranger's file: %v %v", st, err)
	}
}

// TestFossil9PWriteGroup: once group write exists, the file system is
// read-only to all but its members, whatever the permissions say.
func TestFossil9PWriteGroup(t *testing.T) {
	f := startPerm(t)
	users := []string{"own", "mem", "lead", "oth", "stranger"}
	writes := func(allow []string) []permCase {
		return []permCase{
			{what: "write f606", do: openOp("/p/f606", plan9.OWRITE), allow: allow},
			{what: "create in p", do: createOp("/p/new", 0o644), undo: "remove /active/p/new", allow: allow},
			{what: "remove p/f606", do: func(fsys *client.Fsys) error { return fsys.Remove("/p/f606") },
				undo: "create /active/p/f606 own grp 606", allow: allow},
			{what: "read f644", do: openOp("/p/f644", plan9.OREAD), allow: users},
		}
	}
	runPerm(t, f, users, writes(users))

	consQuiet(t, f, "uname write :write")
	consQuiet(t, f, "uname write +own")
	runPerm(t, f, users, writes([]string{"own"}))
	// Not even the group leader may chmod; the refusal is the
	// read-only file system's.
	runPerm(t, f, users, []permCase{{what: "chmod f644", do: wstatOp("/p/f644", func(d *plan9.Dir) { d.Mode = 0o640 }),
		undo: "wstat /active/p/f644 - - - 644 -", allow: []string{"own"}}})
	_, err := mount9P(t, f.tcp, "oth", "").Open("/p/f606", plan9.OWRITE)
	wantErr(t, "write by a non-member", err, "file is read only")

	consQuiet(t, f, "uname write +oth")
	runPerm(t, f, users, writes([]string{"own", "oth"}))
}

// fakeFactotum serves a factotum(4) rpc file over 9P on a Unix socket
// in a name space directory, as plan9port's factotum does, with a toy
// protocol in place of p9any: the server asks "who?", the client
// answers "password:NAME", and NAME is proved unless it is "liar".
type fakeFactotum struct {
	l  net.Listener
	wg sync.WaitGroup
}

// startFakeFactotum serves a fake factotum in a new name space
// directory, which it returns.
func startFakeFactotum(t *testing.T) string {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, "factotum"))
	if err != nil {
		t.Fatal(err)
	}
	ff := &fakeFactotum{l: l}
	var conns []net.Conn
	var mu sync.Mutex
	ff.wg.Add(1)
	go func() {
		defer ff.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			ff.wg.Add(1)
			go func() {
				defer ff.wg.Done()
				ff.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		ff.wg.Wait()
	})
	return dir
}

// rpcState is one open rpc file: one conversation.
type rpcState struct {
	rpc   bool
	asked bool
	user  string
	reply string
}

func (ff *fakeFactotum) serve(c net.Conn) {
	defer c.Close()
	fids := map[uint32]*rpcState{}
	for {
		c.SetDeadline(time.Now().Add(2 * time.Minute))
		tx, err := plan9.ReadFcall(c)
		if err != nil {
			return
		}
		rx := &plan9.Fcall{Type: tx.Type + 1, Tag: tx.Tag}
		fail := func(s string) { rx.Type, rx.Ename = plan9.Rerror, s }
		root := plan9.Qid{Type: plan9.QTDIR, Path: 1}
		switch tx.Type {
		case plan9.Tversion:
			rx.Msize, rx.Version = min(tx.Msize, 8192+plan9.IOHDRSZ), "9P2000"
		case plan9.Tattach:
			fids[tx.Fid] = &rpcState{}
			rx.Qid = root
		case plan9.Twalk:
			f := fids[tx.Fid]
			switch {
			case f == nil:
				fail("unknown fid")
			case len(tx.Wname) == 0:
				fids[tx.Newfid] = &rpcState{rpc: f.rpc}
			case len(tx.Wname) == 1 && tx.Wname[0] == "rpc" && !f.rpc:
				fids[tx.Newfid] = &rpcState{rpc: true}
				rx.Wqid = []plan9.Qid{{Path: 2}}
			default:
				fail("file does not exist")
			}
		case plan9.Topen:
			if f := fids[tx.Fid]; f == nil {
				fail("unknown fid")
			} else if f.rpc {
				rx.Qid = plan9.Qid{Path: 2}
			} else {
				rx.Qid = root
			}
		case plan9.Twrite:
			f := fids[tx.Fid]
			if f == nil || !f.rpc {
				fail("not the rpc file")
				break
			}
			f.reply = f.call(string(tx.Data))
			rx.Count = uint32(len(tx.Data))
		case plan9.Tread:
			f := fids[tx.Fid]
			if f == nil || !f.rpc {
				fail("not the rpc file")
				break
			}
			rx.Data = []byte(f.reply)
		case plan9.Tclunk:
			delete(fids, tx.Fid)
		default:
			fail("not supported")
		}
		if err := plan9.WriteFcall(c, rx); err != nil {
			return
		}
	}
}

// call answers one factotum RPC.
func (f *rpcState) call(req string) string {
	verb, data, _ := strings.Cut(req, " ")
	switch verb {
	case "start":
		if !strings.Contains(data, "role=server") {
			return "error bad role"
		}
		return "ok"
	case "read":
		switch {
		case f.user != "":
			return "done"
		case !f.asked:
			f.asked = true
			return "ok who?"
		}
		return "phase reading when writing is expected"
	case "write":
		name, ok := strings.CutPrefix(data, "password:")
		if !ok || name == "liar" || name == "" {
			return "error bad password"
		}
		f.user = name
		return "done"
	case "authinfo":
		if f.user == "" {
			return "error authentication not done"
		}
		ai := ninep.AuthInfo{Cuid: f.user, Suid: "fossil"}
		return "ok " + string(ai.Bytes())
	}
	return "error unknown verb " + verb
}

// authAttach authenticates as user with the fake factotum's protocol,
// proving to be proof, and attaches to aname.
func authAttach(c *client.Conn, user, proof, aname string) (*client.Fsys, error) {
	afid, err := c.Auth(user, aname)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	defer afid.Close()
	buf := make([]byte, 100)
	n, err := afid.Read(buf)
	if err != nil || string(buf[:n]) != "who?" {
		return nil, fmt.Errorf("auth read: %q %v", buf[:n], err)
	}
	if _, err := afid.Write([]byte("password:" + proof)); err != nil {
		return nil, fmt.Errorf("auth write: %w", err)
	}
	return c.Attach(afid, user, aname)
}

// TestFossil9PNoneChaperone: with authentication on, none may attach
// on a connection only after another user has authenticated and
// attached on it (fossil(4)); listen -N lets none in at once, and a
// service posted with -A needs no authentication at all.
func TestFossil9PNoneChaperone(t *testing.T) {
	t.Setenv("NAMESPACE", startFakeFactotum(t))
	vaddr, _ := serveMem(t, "127.0.0.1")
	f := startFossil(t, newFossilPart(t), "-c", "fsys main venti "+vaddr, "-c", "fsys main open -c 1000")
	consQuiet(t, f, "create /active/adm adm sys d775")
	consQuiet(t, f, "create /active/adm/users adm sys 664")
	consQuiet(t, f, "create /active/usr sys sys d775")
	consQuiet(t, f, "create /active/usr/glenda glenda glenda d775")
	wantCons(t, f, "users -w", "\tnuser 5 len 84\n")

	c := dial9P(t, f.tcp)
	_, err := c.Attach(nil, "none", "")
	wantErr(t, "none first", err, "cannot attach as none before authentication")
	_, err = c.Attach(nil, "glenda", "")
	wantErr(t, "glenda without authentication", err, "cannot attach as none before authentication")
	_, err = authAttach(c, "glenda", "liar", "")
	if err == nil {
		t.Error("attached with a refused proof")
	}
	_, err = authAttach(c, "glenda", "adm", "")
	wantErr(t, "glenda proved to be adm", err, "user does not match authentication")
	// Still no chaperone.
	_, err = c.Attach(nil, "none", "")
	wantErr(t, "none after failed attaches", err, "cannot attach as none before authentication")

	glenda, err := authAttach(c, "glenda", "glenda", "")
	if err != nil {
		t.Fatal(err)
	}
	fid, err := glenda.Create("/usr/glenda/hers", plan9.OWRITE, 0o664)
	if err != nil {
		t.Fatal(err)
	}
	fid.Write([]byte("glenda's\n"))
	fid.Close()
	// Now none may attach on this connection, as none.
	nobody, err := c.Attach(nil, "none", "")
	if err != nil {
		t.Fatalf("none after glenda: %v", err)
	}
	if got := readFsys(t, nobody, "/usr/glenda/hers"); string(got) != "glenda's\n" {
		t.Errorf("none reads %q", got)
	}
	if _, err := nobody.Open("/usr/glenda/hers", plan9.OWRITE); err == nil {
		t.Error("none wrote glenda's 664 file")
	}
	if _, err := nobody.Create("/usr/glenda/nones", plan9.OWRITE, 0o664); err == nil {
		t.Error("none created a file in glenda's d775 home")
	}
	// Without authentication any name is taken for none, as in the C
	// fossil ("allowing as none").
	if fsys, err := c.Attach(nil, "adm", ""); err != nil {
		t.Errorf("adm without authentication after glenda: %v", err)
	} else if _, err := fsys.Open("/adm/users", plan9.OWRITE); err == nil {
		t.Error("adm attached without authentication may write /adm/users")
	}
	out := consOut(t, f, "who")
	if !regexp.MustCompile(`\ttcp!127\.0\.0\.1!\d+ +glenda none\n`).MatchString(out) {
		t.Errorf("who: %q", out)
	}

	// A new connection has no chaperone.
	c2 := dial9P(t, f.tcp)
	_, err = c2.Attach(nil, "none", "")
	wantErr(t, "none on a new connection", err, "cannot attach as none before authentication")

	// listen -N: none at any time.
	port := freePort(t, "127.0.0.1")
	consQuiet(t, f, fmt.Sprintf("listen -N tcp!127.0.0.1!%d", port))
	c3 := dial9P(t, fmt.Sprintf("127.0.0.1:%d", port))
	if nobody, err := c3.Attach(nil, "none", ""); err != nil {
		t.Errorf("none on a listen -N address: %v", err)
	} else if _, err := nobody.Stat("/usr/glenda/hers"); err != nil {
		t.Error(err)
	}
	if fsys, err := c3.Attach(nil, "glenda", ""); err != nil {
		t.Errorf("glenda without authentication on a listen -N address: %v", err)
	} else if _, err := fsys.Create("/usr/glenda/x", plan9.OWRITE, 0o644); err == nil {
		t.Error("glenda attached without authentication on a listen -N address is glenda")
	}

	// A file system opened -A, or a service posted -A, needs none.
	c4 := dialNet9P(t, "unix", f.srv)
	if _, err := c4.Attach(nil, "glenda", ""); err != nil {
		t.Errorf("glenda on srv -A: %v", err)
	}
	if _, err := c4.Auth("glenda", ""); err == nil || err.Error() != "authentication not required" {
		t.Errorf("Tauth on srv -A: %v", err)
	}
}
