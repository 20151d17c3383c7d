package users

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/fsdisk"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/vtstore"
	"github.com/plan9fossil/fossil/venti"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}

// fixtureUsers is /active/adm/users of fossil-b after `uname root root`.
const fixtureUsers = "adm:adm:adm:sys\nglenda:glenda:glenda:\nnone:none::\nnoworld:noworld::\nroot:root::\nsys:sys::glenda\n"

func TestDefault(t *testing.T) {
	tab := Default()
	want := "adm:adm:adm:sys\nglenda:glenda:glenda:\nnone:none::\nnoworld:noworld::\nsys:sys::glenda\n"
	if got := tab.String(); got != want {
		t.Errorf("default table\n%s\nwant\n%s", got, want)
	}
	if tab.Len() != 5 {
		t.Errorf("default has %d users", tab.Len())
	}
	// Default hands out copies: changing one leaves the next alone.
	if _, err := tab.Uname([]string{"root", "root"}); err != nil {
		t.Fatal(err)
	}
	if Default().Len() != 5 {
		t.Error("Default shares its table")
	}
}

// TestFixtureUname replays the console of fixture fossil-b: from the
// default table, `uname root root` printed "nuser 6 len 96" and wrote
// the users file that the partition holds.
func TestFixtureUname(t *testing.T) {
	tab := Default()
	ch, err := tab.Uname([]string{"root", "root"})
	if err != nil {
		t.Fatal(err)
	}
	if ch != (Change{Home: "root", Changed: true}) {
		t.Errorf("uname root root: %+v", ch)
	}
	if got := fmt.Sprintf("nuser %d len %d", tab.Len(), len(tab.Bytes())); got != "nuser 6 len 96" {
		t.Errorf("users prints %q, the C fossil nuser 6 len 96", got)
	}
	onDisk := readFixtureUsers(t)
	if got := tab.String(); got != onDisk {
		t.Errorf("table\n%s\nfixture /active/adm/users\n%s", got, onDisk)
	}
	if onDisk != fixtureUsers {
		t.Errorf("fixture users file is %q", onDisk)
	}
	// And it reads back to the same bytes.
	p, err := Parse(onDisk)
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != onDisk {
		t.Errorf("round trip gives %q", p.String())
	}
}

// readFixtureUsers reads /active/adm/users from fossil-b's partition,
// whose directory blocks went to venti with the archive.
func readFixtureUsers(t *testing.T) string {
	t.Helper()
	part := func(dir, name string) string {
		b, err := os.ReadFile(fixture.Path(t, dir+"/partitions.sha1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[1] == name {
				return fixture.Unpack(t, dir+"/"+name+".gz", f[0])
			}
		}
		t.Fatalf("%s lists no %s", dir, name)
		return ""
	}
	vdir := "fossil-b/venti-after-archive"
	store, err := vtstore.Open(&vtdisk.Config{
		Arenas: []string{part(vdir, "arenas")},
		ISects: []string{part(vdir, "isect")},
		Bloom:  part(vdir, "bloom"),
	}, vtstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	f, err := os.Open(part("fossil-b", "fossil.part"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	d, err := fsdisk.Open(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.ReadSuper()
	if err != nil {
		t.Fatal(err)
	}
	root, err := fsdisk.NewReader(d, storeReader{store}).Root(s.Active)
	if err != nil {
		t.Fatal(err)
	}
	uf, err := root.Open("active/adm/users")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, uf.Size())
	n, err := uf.ReadAt(buf, 0)
	if n != len(buf) {
		t.Fatalf("read %d of %d bytes: %v", n, len(buf), err)
	}
	return string(buf)
}

type storeReader struct{ s *vtstore.Store }

func (r storeReader) ReadVenti(score venti.Score, t venti.Type) ([]byte, error) {
	return r.s.Read(context.Background(), score, t, venti.MaxLumpSize)
}

func TestParse(t *testing.T) {
	text := "# a comment\n\nadm:adm:adm:sys,ken\nnone:none::\nnoworld:noworld::\nsys:sys::\n" +
		"ken:kenneth::\nbell:bell:kenneth:kenneth,www-data\nwww-data:www-data::\r\n"
	tab, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	want := "adm:adm:adm:sys,ken\nbell:bell:kenneth:kenneth,www-data\nken:kenneth::\nnone:none::\nnoworld:noworld::\nsys:sys::\nwww-data:www-data::\n"
	if got := tab.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	u, ok := tab.ByName("kenneth")
	if !ok || u.ID != "ken" {
		t.Errorf("ByName(kenneth) = %+v, %v", u, ok)
	}
	if _, ok := tab.ByName("ken"); ok {
		t.Error("ByName finds an id")
	}
	if u, ok := tab.ByID("bell"); !ok || u.Leader != "kenneth" || strings.Join(u.Members, ",") != "kenneth,www-data" {
		t.Errorf("ByID(bell) = %+v, %v", u, ok)
	}
	if id, ok := tab.ID("kenneth"); !ok || id != "ken" {
		t.Errorf("ID(kenneth) = %q %v", id, ok)
	}
	if tab.Name("ken") != "kenneth" || tab.Name("gone") != "gone" {
		t.Errorf("Name: %q %q", tab.Name("ken"), tab.Name("gone"))
	}
	if !tab.Exists("kenneth") || tab.Exists("ken") || tab.Exists("nobody") {
		t.Error("Exists goes by id")
	}
	// Users are copies.
	us := tab.Users()
	us[0].Members[0] = "changed"
	if u, _ := tab.ByID("adm"); u.Members[0] != "sys" {
		t.Error("Users shares members")
	}
}

func TestParseErrors(t *testing.T) {
	base := "adm:adm:adm:sys\nnone:none::\nnoworld:noworld::\nsys:sys::\n"
	for _, c := range []struct{ text, err string }{
		{base + "a:b:c\n", "line 5: 3 fields"},
		{base + "a:b:c:d:e\n", "line 5: 5 fields"},
		{base + "a:b::\nb:a::\nc:b::\n", "line 7: duplicate name b"},
		{base + "adm:x::\n", "line 5: duplicate id adm"},
		{base + ":x::\n", "line 5: id: empty name"},
		{base + "x:::\n", "line 5: name: empty name"},
		{base + "x:+x::\n", `line 5: name: bad name "+x"`},
		{base + "x:a b::\n", `line 5: name: bad name "a b"`},
		{base + "x:x:a/b:\n", `line 5: leader: bad name "a/b"`},
		{base + "x:x::a,=b\n", `line 5: member: bad name "=b"`},
		{"adm:adm:adm:sys\nnone:none::\nsys:sys::\n", "missing mandatory user noworld"},
		{base + "x:x\xff::\n", "line 5: name: bad name"},
	} {
		_, err := Parse(c.text)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("Parse(%q) = %v, want %q", c.text, err, c.err)
		}
	}
}

func TestUname(t *testing.T) {
	type step struct {
		args []string
		err  string
		ch   Change
	}
	for _, c := range []struct {
		name  string
		steps []step
		want  string // the table afterwards
	}{
		{"print", []step{
			{args: []string{"adm"}, ch: Change{Entry: "adm:adm:adm:sys"}},
			{args: []string{"nobody"}, err: "unknown user nobody"},
		}, ""},
		{"create with home", []step{
			{args: []string{"ken", "ken"}, ch: Change{Home: "ken", Changed: true}},
			{args: []string{"ken"}, ch: Change{Entry: "ken:ken::"}},
		}, "+ken:ken::"},
		{"create without home", []step{
			{args: []string{"kenneth", ":ken"}, ch: Change{Changed: true}},
		}, "+ken:kenneth::"},
		{"create errors", []step{
			{args: []string{"glenda", "g2"}, err: "user glenda already exists"},
			{args: []string{"g2", ":glenda"}, err: "id glenda already in use"},
			{args: []string{"a:b", "x"}, err: `bad name "a:b"`},
			{args: []string{"x", ":"}, err: "id: empty name"},
			{args: []string{"x", ":a,b"}, err: `id: bad name "a,b"`},
		}, ""},
		{"rename", []step{
			{args: []string{"glenda", "%ken"}, ch: Change{Changed: true}},
			{args: []string{"glenda"}, err: "unknown user glenda"},
			{args: []string{"ken"}, ch: Change{Entry: "glenda:ken:ken:"}},
		}, "adm:adm:adm:sys\nglenda:ken:ken:\nnone:none::\nnoworld:noworld::\nsys:sys::ken\n"},
		{"rename errors", []step{
			{args: []string{"sys", "%system"}, err: "user sys cannot be renamed"},
			{args: []string{"adm", "%x"}, err: "user adm cannot be renamed"},
			{args: []string{"none", "%x"}, err: "user none cannot be renamed"},
			{args: []string{"noworld", "%x"}, err: "user noworld cannot be renamed"},
			{args: []string{"glenda", "%sys"}, err: "user sys already exists"},
			{args: []string{"nobody", "%x"}, err: "unknown user nobody"},
			{args: []string{"glenda", "%"}, err: "empty name"},
		}, ""},
		{"leader", []step{
			{args: []string{"sys", "=glenda"}, ch: Change{Changed: true}},
			{args: []string{"adm", "="}, ch: Change{Changed: true}},
			{args: []string{"sys", "=nobody"}, err: "unknown user nobody"},
			{args: []string{"nobody", "=adm"}, err: "unknown user nobody"},
		}, "adm:adm::sys\nglenda:glenda:glenda:\nnone:none::\nnoworld:noworld::\nsys:sys:glenda:glenda\n"},
		{"members", []step{
			{args: []string{"sys", "+adm"}, ch: Change{Changed: true}},
			{args: []string{"sys", "+none"}, ch: Change{Changed: true}},
			{args: []string{"sys", "-glenda"}, ch: Change{Changed: true}},
			{args: []string{"sys", "+adm"}, err: "adm already a member of sys"},
			{args: []string{"sys", "-glenda"}, err: "glenda not a member of sys"},
			{args: []string{"sys", "+nobody"}, err: "unknown user nobody"},
			{args: []string{"nobody", "+adm"}, err: "unknown user nobody"},
		}, "adm:adm:adm:sys\nglenda:glenda:glenda:\nnone:none::\nnoworld:noworld::\nsys:sys::adm,none\n"},
		{"usage", []step{
			{args: nil, err: "usage: uname"},
			{args: []string{"a", "b", "c"}, err: "usage: uname"},
			{args: []string{"adm", ""}, err: "usage: uname"},
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			tab := Default()
			before := tab.String()
			for _, s := range c.steps {
				ch, err := tab.Uname(s.args)
				if s.err != "" {
					if err == nil || !strings.Contains(err.Error(), s.err) {
						t.Errorf("uname %q: %v, want %q", s.args, err, s.err)
					}
					continue
				}
				if err != nil {
					t.Errorf("uname %q: %v", s.args, err)
					continue
				}
				if ch != s.ch {
					t.Errorf("uname %q: %+v, want %+v", s.args, ch, s.ch)
				}
			}
			want := c.want
			switch {
			case want == "":
				want = before
			case want[0] == '+':
				want = sortedLines(before + want[1:] + "\n")
			}
			if got := tab.String(); got != want {
				t.Errorf("table\n%s\nwant\n%s", got, want)
			}
			// Whatever uname did, the text parses back to itself.
			if p, err := Parse(tab.String()); err != nil || p.String() != tab.String() {
				t.Errorf("round trip: %v", err)
			}
		})
	}
}

func sortedLines(s string) string {
	tab, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return tab.String()
}

func TestGroups(t *testing.T) {
	tab, err := Parse("adm:adm:adm:sys\nnone:none::\nnoworld:noworld::guest\nsys:sys::glenda,ken\n" +
		"glenda:glenda:glenda:\nken:kenneth::\nguest:guest::\ndev:developers:kenneth:\n" +
		"write:write::kenneth\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		uid, gid       string
		member, leader bool
	}{
		{"glenda", "glenda", true, true}, // own group, its leader
		{"ken", "ken", true, true},       // own group, no leader: members lead
		{"glenda", "sys", true, true},    // member of a group without leader
		{"ken", "sys", false, false},     // members are names: kenneth, not ken
		{"adm", "sys", false, false},
		{"sys", "adm", true, false}, // member, but adm leads adm
		{"adm", "adm", true, true},
		{"ken", "dev", true, true}, // leader counts as member
		{"glenda", "dev", false, false},
		{"gone", "dev", false, false},    // unknown user
		{"gone", "gone", true, true},     // unknown ids still own their group
		{"ken", "nogroup", false, false}, // unknown group
	} {
		if got := tab.InGroup(c.uid, c.gid); got != c.member {
			t.Errorf("InGroup(%s, %s) = %v", c.uid, c.gid, got)
		}
		if got := tab.IsLeader(c.uid, c.gid); got != c.leader {
			t.Errorf("IsLeader(%s, %s) = %v", c.uid, c.gid, got)
		}
	}
	if !tab.Noworld("guest") || tab.Noworld("ken") || !tab.Noworld("noworld") {
		t.Error("Noworld")
	}
	if !tab.HasWriteGroup() || !tab.InWrite("ken") || tab.InWrite("glenda") || !tab.InWrite("write") {
		t.Error("write group")
	}
	d := Default()
	if d.HasWriteGroup() || !d.InWrite("glenda") || d.Noworld("glenda") {
		t.Error("default table has special groups")
	}
	// Groups follow renames: kenneth's memberships are by name.
	if _, err := tab.Uname([]string{"kenneth", "%kt"}); err != nil {
		t.Fatal(err)
	}
	if !tab.IsLeader("ken", "dev") || !tab.InWrite("ken") {
		t.Error("rename lost leadership or membership")
	}
}

func TestReplaceClone(t *testing.T) {
	tab := Default()
	c := tab.Clone()
	if _, err := c.Uname([]string{"ken", "ken"}); err != nil {
		t.Fatal(err)
	}
	if tab.Exists("ken") {
		t.Error("clone shares the table")
	}
	tab.Replace(c)
	if !tab.Exists("ken") || tab.String() != c.String() {
		t.Error("replace did not take the new table")
	}
	if _, err := c.Uname([]string{"sys", "+ken"}); err != nil {
		t.Fatal(err)
	}
	if tab.InGroup("ken", "sys") {
		t.Error("replace shares the source")
	}
	tab.Replace(tab)
	if !tab.Exists("ken") {
		t.Error("replace with itself emptied the table")
	}
}

// TestConcurrent runs the server's questions against console changes;
// the race detector checks the locking.
func TestConcurrent(t *testing.T) {
	tab := Default()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				name := fmt.Sprintf("u%d-%d", i, j)
				if _, err := tab.Uname([]string{name, ":" + name}); err != nil {
					t.Error(err)
					return
				}
				if _, err := tab.Uname([]string{"sys", "+" + name}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				tab.InGroup("glenda", "sys")
				tab.IsLeader("glenda", "sys")
				tab.Noworld("glenda")
				tab.InWrite("glenda")
				tab.Name("glenda")
				if _, err := Parse(tab.String()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if tab.Len() != 5+4*100 {
		t.Errorf("%d users", tab.Len())
	}
}

func FuzzParse(f *testing.F) {
	f.Add(defaultText)
	f.Add(fixtureUsers)
	f.Add("# c\nadm:adm:adm:sys,x\nnone:none::\nnoworld:noworld::\nsys:sys::\n\nx:y:z:a,,b\n")
	f.Fuzz(func(t *testing.T, text string) {
		tab, err := Parse(text)
		if err != nil {
			return
		}
		out := tab.String()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("output does not parse: %v\n%s", err, out)
		}
		if again.String() != out {
			t.Fatalf("round trip changed\n%s\nto\n%s", out, again.String())
		}
		for _, u := range tab.Users() {
			if got, ok := tab.ByName(u.Name); !ok || got.ID != u.ID {
				t.Fatalf("ByName(%q) = %+v", u.Name, got)
			}
			if !tab.InGroup(u.ID, u.ID) || !tab.Exists(u.Name) {
				t.Fatalf("user %q not in own group", u.ID)
			}
		}
	})
}
