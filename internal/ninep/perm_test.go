//go:build !plan9

package ninep

import (
	"strings"
	"testing"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"

	"github.com/plan9fossil/fossil/internal/vac"
)

// permTree makes /active/p (alice:staff) with files and directories of
// telling modes. In the users table staff is led by carol and has bob;
// nw is in noworld.
func permTree(e *testEnv) {
	fs := e.fs
	fs.mk("active/p", "alice", "staff", vac.ModeDir|0775, "")
	for name, mode := range map[string]uint32{"f640": 0640, "f604": 0604, "f660": 0660, "f006": 0006} {
		fs.mk("active/p/"+name, "alice", "staff", mode, "data")
	}
	for name, mode := range map[string]uint32{"d750": 0750, "d751": 0751, "d754": 0754} {
		fs.mk("active/p/"+name, "alice", "staff", vac.ModeDir|mode, "")
		fs.mk("active/p/"+name+"/x", "alice", "staff", 0666, "data")
	}
}

var permUsers = []string{"alice", "bob", "carol", "dave", "nw", "none"}

// TestPermissions is the access matrix of fossil(4) and intro(5):
// owner, group member, group leader, other, none and noworld, each
// trying to read and write files and to search and list directories.
func TestPermissions(t *testing.T) {
	e := newEnv(t, Config{})
	permTree(e)
	mounts := map[string]*client.Fsys{}
	for _, u := range permUsers {
		mounts[u] = e.mount(u, "", ConnOptions{NoAuth: true})
	}
	for _, c := range []struct {
		path    string
		mode    uint8
		allowed string // users allowed, the rest are refused
	}{
		{"p/f640", plan9.OREAD, "alice bob carol"}, // owner and group; the leader is a member
		{"p/f640", plan9.OWRITE, "alice"},
		{"p/f604", plan9.OREAD, "alice bob carol dave none"}, // others, but not noworld
		{"p/f604", plan9.OWRITE, "alice"},
		{"p/f604", plan9.ORDWR, "alice"}, // one triplet must allow all of it
		{"p/f660", plan9.ORDWR, "alice bob carol"},
		{"p/f006", plan9.ORDWR, "alice bob carol dave none"}, // any triplet will do
		{"p/f640", plan9.OREAD | plan9.OTRUNC, "alice"},
		{"p/d750/x", plan9.OREAD, "alice bob carol"},           // search needs x on d750
		{"p/d751/x", plan9.OREAD, "alice bob carol dave none"}, // noworld keeps x on directories, not r on x
		{"p/d751", plan9.OREAD, "alice bob carol"},
		{"p/d754", plan9.OREAD, "alice bob carol dave none"}, // listing: noworld loses r
		{"p/d754/x", plan9.OREAD, "alice bob carol"},
	} {
		for _, u := range permUsers {
			err := open(mounts[u], c.path, c.mode)
			want := strings.Contains(" "+c.allowed+" ", " "+u+" ")
			if (err == nil) != want {
				t.Errorf("%s open %s mode %#x: %v, want allowed %v", u, c.path, c.mode, err, want)
			}
			if err != nil && err.Error() != "permission denied" && !strings.Contains(err.Error(), "not found") {
				t.Errorf("%s open %s: error %q", u, c.path, err)
			}
		}
	}

	// Creating and removing need write permission in the directory:
	// staff has it in p, others do not.
	for _, u := range permUsers {
		err := create(mounts[u], "p/new-"+u, 0666)
		want := u == "alice" || u == "bob" || u == "carol"
		if (err == nil) != want {
			t.Errorf("%s create in p: %v", u, err)
		}
	}
	e.fs.mk("active/p/victim", "alice", "staff", 0666, "")
	if err := mounts["dave"].Remove("p/victim"); err == nil || err.Error() != "permission denied" {
		t.Errorf("dave removed p/victim: %v", err)
	}
	if err := mounts["bob"].Remove("p/victim"); err != nil {
		t.Errorf("bob cannot remove p/victim: %v", err)
	}
	if n := e.fs.node("active/p/new-bob"); n == nil || n.d.UID != "bob" || n.d.GID != "staff" {
		t.Errorf("bob's new file: %+v", n)
	}
	// Removing on close is checked at open.
	if err := open(mounts["dave"], "p/f006", plan9.OREAD|plan9.ORCLOSE); err == nil {
		t.Error("dave may remove on close in p")
	}

	// -P turns the checks off.
	dave := e.mount("dave", "", ConnOptions{NoAuth: true, NoPerm: true})
	if err := open(dave, "p/d750/x", plan9.ORDWR); err != nil {
		t.Errorf("dave with -P: %v", err)
	}
	e.fs.flags.NoPerm = true
	dave = e.mount("dave", "", ConnOptions{NoAuth: true})
	if err := open(dave, "p/f640", plan9.ORDWR); err != nil {
		t.Errorf("dave on a file system opened -P: %v", err)
	}
	e.fs.flags.NoPerm = false
}

// TestWriteGroup: once group write exists, only its members may
// change anything.
func TestWriteGroup(t *testing.T) {
	e := newEnv(t, Config{})
	permTree(e)
	bob := e.mount("bob", "", ConnOptions{NoAuth: true})
	alice := e.mount("alice", "", ConnOptions{NoAuth: true})
	if err := open(bob, "p/f660", plan9.OWRITE); err != nil {
		t.Fatalf("bob before group write: %v", err)
	}
	for _, args := range [][]string{{"write", "write"}, {"write", "+alice"}} {
		if _, err := e.tab.Uname(args); err != nil {
			t.Fatal(err)
		}
	}
	for what, err := range map[string]error{
		"open for writing": open(bob, "p/f660", plan9.OWRITE),
		"create":           create(bob, "p/new", 0666),
		"remove":           bob.Remove("p/f660"),
		"wstat":            wstat(bob, "p/f660", func(d *plan9.Dir) { d.Name = "g660" }),
	} {
		if err == nil || err.Error() != "file is read only" {
			t.Errorf("bob %s outside group write: %v", what, err)
		}
	}
	if err := open(bob, "p/f660", plan9.OREAD); err != nil {
		t.Errorf("bob cannot read: %v", err)
	}
	if err := open(alice, "p/f660", plan9.ORDWR); err != nil {
		t.Errorf("alice in group write: %v", err)
	}
}

// TestWstatRules: who may change what, as stat(5) says.
func TestWstatRules(t *testing.T) {
	e := newEnv(t, Config{})
	permTree(e)
	m := map[string]*client.Fsys{}
	for _, u := range permUsers {
		m[u] = e.mount(u, "", ConnOptions{NoAuth: true})
	}
	w := e.fs.mk("active/p/w", "alice", "staff", 0644, "0123456789")
	reset := func() {
		e.fs.mu.Lock()
		w.d.UID, w.d.GID, w.d.Mode = "alice", "staff", 0644
		e.fs.mu.Unlock()
	}
	for _, c := range []struct {
		user   string
		change func(*plan9.Dir)
		err    string // "" for success
		check  func() bool
	}{
		// Mode and times: the owner or the group's leader.
		{"alice", func(d *plan9.Dir) { d.Mode = 0600 }, "", func() bool { return w.d.Mode == 0600 }},
		{"carol", func(d *plan9.Dir) { d.Mode = 0640 | plan9.DMAPPEND }, "", func() bool { return w.d.Mode == vac.ModeAppend|0640 }},
		{"bob", func(d *plan9.Dir) { d.Mode = 0666 }, "permission denied", nil},
		{"dave", func(d *plan9.Dir) { d.Mtime = 5 }, "permission denied", nil},
		{"carol", func(d *plan9.Dir) { d.Mtime = 5 }, "", func() bool { return w.d.MTime == 5 }},
		{"alice", func(d *plan9.Dir) { d.Mode = plan9.DMDIR | 0644 }, "cannot change directory bit", nil},
		// Group: the owner to a group of theirs; the leader to a
		// group they lead.
		{"alice", func(d *plan9.Dir) { d.Gid = "alice" }, "", func() bool { return w.d.GID == "alice" }},
		{"alice", func(d *plan9.Dir) { d.Gid = "sys" }, "permission denied", nil},
		{"carol", func(d *plan9.Dir) { d.Gid = "carolg" }, "", func() bool { return w.d.GID == "carolg" }},
		{"bob", func(d *plan9.Dir) { d.Gid = "bob" }, "permission denied", nil},
		{"alice", func(d *plan9.Dir) { d.Gid = "nogroup" }, "unknown group", nil},
		// Owner, muid and qid: never without -W.
		{"alice", func(d *plan9.Dir) { d.Uid = "bob" }, "cannot change owner", nil},
		{"alice", func(d *plan9.Dir) { d.Muid = "bob" }, "cannot change muid", nil},
		{"alice", func(d *plan9.Dir) { d.Qid.Path = 999 }, "cannot change qid", nil},
		// Name: write permission in the directory.
		{"dave", func(d *plan9.Dir) { d.Name = "w2" }, "permission denied", nil},
		{"bob", func(d *plan9.Dir) { d.Name = "w/2" }, "bad file name", nil},
		{"bob", func(d *plan9.Dir) { d.Name = "f640" }, "file already exists", nil},
		// Length: write permission on the file.
		{"bob", func(d *plan9.Dir) { d.Length = 3 }, "permission denied", nil},
		{"alice", func(d *plan9.Dir) { d.Length = 3 }, "", func() bool { return string(w.data) == "012" }},
		// Nothing to change: a sync, allowed to anyone.
		{"dave", func(d *plan9.Dir) {}, "", nil},
		// Setting what is already there changes nothing.
		{"dave", func(d *plan9.Dir) { d.Uid, d.Gid, d.Mode, d.Name = "alice", "staff", 0644, "w" }, "", nil},
		// Everything or nothing: the rename is allowed, the mode not.
		{"bob", func(d *plan9.Dir) { d.Name, d.Mode = "w2", 0666 }, "permission denied", func() bool { return w.d.Elem == "w" }},
		{"bob", func(d *plan9.Dir) { d.Name = "w2" }, "", func() bool { return w.d.Elem == "w2" }},
	} {
		reset()
		err := wstat(m[c.user], "p/"+w.d.Elem, c.change)
		if c.err == "" && err != nil || c.err != "" && (err == nil || err.Error() != c.err) {
			t.Errorf("%s wstat: %v, want %q", c.user, err, c.err)
			continue
		}
		if c.check != nil && !c.check() {
			t.Errorf("%s wstat: file is now %+v", c.user, w.d)
		}
	}
	if err := wstat(m["alice"], "p", func(d *plan9.Dir) { d.Length = 5 }); err == nil || err.Error() != "directory length must be zero" {
		t.Errorf("directory length: %v", err)
	}
	root := e.mount("adm", "main", ConnOptions{NoAuth: true, NoPerm: true})
	if err := wstat(root, ".", func(d *plan9.Dir) { d.Name = "x" }); err == nil || err.Error() != "cannot rename root" {
		t.Errorf("rename of root: %v", err)
	}
	if err := root.Remove("."); err == nil || err.Error() != "cannot remove root" {
		t.Errorf("remove of root: %v", err)
	}

	// -W: owners and groups change at will.
	reset()
	free := e.mount("dave", "", ConnOptions{NoAuth: true, WstatAllow: true})
	if err := wstat(free, "p/w2", func(d *plan9.Dir) { d.Uid, d.Gid, d.Muid = "bob", "sys", "carol" }); err != nil {
		t.Fatal(err)
	}
	if w.d.UID != "bob" || w.d.GID != "sys" || w.d.MID != "carol" {
		t.Errorf("after -W wstat: %+v", w.d)
	}
}

// TestNames: files record ids; 9P shows names.
func TestNames(t *testing.T) {
	e := newEnv(t, Config{})
	if _, err := e.tab.Uname([]string{"glenda", "%gl"}); err != nil {
		t.Fatal(err)
	}
	e.fs.mk("active/tmp/f", "glenda", "glenda", 0664, "")
	e.fs.mk("active/tmp/gone", "olduser", "oldgroup", 0664, "")
	gl := e.mount("gl", "", ConnOptions{NoAuth: true})
	d, err := gl.Stat("tmp/f")
	if err != nil || d.Uid != "gl" || d.Gid != "gl" || d.Muid != "gl" {
		t.Errorf("stat: %v, %v", d, err)
	}
	if d, _ := gl.Stat("tmp/gone"); d.Uid != "olduser" || d.Gid != "oldgroup" {
		t.Errorf("ids without users: %v", d)
	}
	// The owner is the id: gl owns glenda's file.
	if err := wstat(gl, "tmp/f", func(d *plan9.Dir) { d.Mode = 0600 }); err != nil {
		t.Errorf("gl cannot chmod: %v", err)
	}
	if err := create(gl, "tmp/new", 0664); err != nil {
		t.Fatal(err)
	}
	if n := e.fs.node("active/tmp/new"); n.d.UID != "glenda" {
		t.Errorf("new file owned by %q", n.d.UID)
	}
}
