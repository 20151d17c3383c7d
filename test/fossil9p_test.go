//go:build !plan9

package test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"

	"github.com/plan9fossil/fossil/internal/fixture"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/vtstore"
	"github.com/plan9fossil/fossil/venti"
)

// consPrompts are the prompts a test's console may show: before any
// file system is current, and the names of the file systems the tests
// configure.
var consPrompts = []string{"prompt", "other", "main"}

// consMarks numbers the markers consRaw echoes.
var consMarks atomic.Int64

// consRaw runs a console command as f.console does, echo cmd
// >>/srv/fscons, and returns what the console's log shows for it: the
// typed line, its output and the prompt, then "echo " (the start of
// the marker command). Unlike f.console it waits for the marker's
// output line, not the echo of the typed marker command, and for the
// prompt after it, so that nothing of one command spills into the
// next.
func consRaw(t testing.TB, f *fossilServer, line string) string {
	t.Helper()
	mark := fmt.Sprintf("cons-mark-%d-%d", os.Getpid(), consMarks.Add(1))
	before, _ := os.ReadFile(f.log)
	c, err := os.OpenFile(f.cons, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "%s\necho %s\n", line, mark)
	c.Close()
	done := regexp.MustCompile(` ` + mark + `\n` + mark + `\n[^ \n]*: `)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(f.log)
		out := string(b[len(before):])
		if m := done.FindStringIndex(out); m != nil {
			return out[:m[0]]
		}
		if time.Now().After(deadline) {
			t.Fatalf("console: %q: no answer; log so far:\n%s", line, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// consOut runs a console command and returns only what the command
// printed: without the echo of the typed line, the prompt after it and
// the marker command.
func consOut(t testing.TB, f *fossilServer, line string) string {
	t.Helper()
	out := consRaw(t, f, line)
	rest, ok := strings.CutPrefix(out, line+"\n")
	if !ok {
		t.Fatalf("console: %q: output does not start with the typed line: %q", line, out)
	}
	rest, ok = strings.CutSuffix(rest, ": echo")
	if !ok {
		t.Fatalf("console: %q: no prompt after the output: %q", line, out)
	}
	for _, p := range consPrompts {
		if r, ok := strings.CutSuffix(rest, p); ok {
			return r
		}
	}
	t.Fatalf("console: %q: unknown prompt after the output: %q", line, out)
	return ""
}

// consQuiet runs a console command that must print nothing.
func consQuiet(t testing.TB, f *fossilServer, line string) {
	t.Helper()
	if out := consOut(t, f, line); out != "" {
		t.Fatalf("console: %s: %q", line, out)
	}
}

// consOK runs a console command that may print what it did (lines
// starting with a tab, as wstat's old: and new:) but no error.
func consOK(t testing.TB, f *fossilServer, line string) {
	t.Helper()
	out := consOut(t, f, line)
	for _, l := range strings.SplitAfter(out, "\n") {
		if l != "" && !strings.HasPrefix(l, "\t") {
			t.Fatalf("console: %s: %q", line, out)
		}
	}
}

var archiveLine = regexp.MustCompile(`archive vac:[0-9a-f]{40}\n`)

// consArchive runs snap -a, which prints nothing, though the archive
// it starts may end and print "archive vac:score" before it returns.
// It waits until the log shows one archive more than before.
func consArchive(t testing.TB, f *fossilServer, line string) {
	t.Helper()
	b, _ := os.ReadFile(f.log)
	n := len(archiveLine.FindAllIndex(b, -1))
	if out := consOut(t, f, line); archiveLine.ReplaceAllString(out, "") != "" {
		t.Fatalf("console: %s: %q", line, out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(f.log)
		if len(archiveLine.FindAllIndex(b, -1)) > n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no archive vac: in the log", line)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantCons runs a console command and checks its whole output.
func wantCons(t testing.TB, f *fossilServer, line, want string) {
	t.Helper()
	if out := consOut(t, f, line); out != want {
		t.Errorf("console: %s:\n got %q\nwant %q", line, out, want)
	}
}

// start9P starts fossil on a fresh partition with an in-memory venti,
// file system main opened with authentication off, and the tree of
// fossil(4)'s example: /adm/users and glenda's home.
func start9P(t *testing.T, extra ...string) (*fossilServer, string) {
	t.Helper()
	vaddr, _ := serveMem(t, "127.0.0.1")
	part := newFossilPart(t)
	args := append([]string{"-c", "fsys main venti " + vaddr, "-c", "fsys main open -A -c 1000"}, extra...)
	f := startFossil(t, part, args...)
	for _, cmd := range []string{
		"create /active/adm adm sys d775",
		"create /active/adm/users adm sys 664",
		"create /active/usr sys sys d775",
		"create /active/usr/glenda glenda glenda d775",
	} {
		consQuiet(t, f, cmd)
	}
	wantCons(t, f, "users -w", "\tnuser 5 len 84\n")
	return f, part
}

// dial9P opens a 9fans client connection, closed when the test ends;
// its messages must come and go within a few minutes.
func dial9P(t testing.TB, addr string) *client.Conn {
	t.Helper()
	return dialNet9P(t, "tcp", addr)
}

// dialNet9P is dial9P on any network.
func dialNet9P(t testing.TB, network, addr string) *client.Conn {
	t.Helper()
	nc, err := net.DialTimeout(network, addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(3 * time.Minute))
	c, err := client.NewConn(nc)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mount9P attaches to aname as user on a new connection (dial9P).
func mount9P(t testing.TB, addr, user, aname string) *client.Fsys {
	t.Helper()
	fsys, err := dial9P(t, addr).Attach(nil, user, aname)
	if err != nil {
		t.Fatalf("attach %q as %s: %v", aname, user, err)
	}
	return fsys
}

func randBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func writeFid(t testing.TB, fid *client.Fid, data []byte) {
	t.Helper()
	for off := 0; off < len(data); {
		n, err := fid.WriteAt(data[off:min(off+8192, len(data))], int64(off))
		if err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
		off += n
	}
}

func readFsys(t testing.TB, fsys *client.Fsys, name string) []byte {
	t.Helper()
	fid, err := fsys.Open(name, plan9.OREAD)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer fid.Close()
	b, err := io.ReadAll(fid)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

func dirNames(ds []*plan9.Dir) []string {
	var names []string
	for _, d := range ds {
		names = append(names, d.Name)
	}
	slices.Sort(names)
	return names
}

func listFsys(t testing.TB, fsys *client.Fsys, name string) []*plan9.Dir {
	t.Helper()
	fid, err := fsys.Open(name, plan9.OREAD)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer fid.Close()
	ds, err := fid.Dirreadall()
	if err != nil {
		t.Fatalf("read directory %s: %v", name, err)
	}
	return ds
}

// wantErr checks that err is the 9P error want.
func wantErr(t testing.TB, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want error %q", what, want)
	} else if err.Error() != want {
		t.Errorf("%s: error %q, want %q", what, err, want)
	}
}

// TestFossil9P9fans drives fossil with 9fans.net/go/plan9/client: walk,
// create, read, write, stat, wstat and remove in /active, then the
// same trees frozen in /snapshot and /archive, which refuse changes.
func TestFossil9P9fans(t *testing.T) {
	f, _ := start9P(t)
	fsys := mount9P(t, f.tcp, "glenda", "")

	// Create a directory and files in it, and write them.
	d, err := fsys.Create("/usr/glenda/dir", plan9.OREAD, plan9.DMDIR|0o775)
	if err != nil {
		t.Fatal(err)
	}
	if q := d.Qid(); q.Type&plan9.QTDIR == 0 {
		t.Errorf("created directory's qid %v", q)
	}
	d.Close()
	if _, err := fsys.Create("/usr/glenda/dir/bad", plan9.OWRITE, plan9.DMDIR|0o775); err == nil {
		t.Error("created a directory open for writing")
	}
	sub, err := fsys.Create("/usr/glenda/dir/sub", plan9.OREAD, plan9.DMDIR|0o755)
	if err != nil {
		t.Fatal(err)
	}
	sub.Close()
	data := randBytes(1, 300000)
	w, err := fsys.Create("/usr/glenda/dir/data", plan9.ORDWR, 0o664)
	if err != nil {
		t.Fatal(err)
	}
	writeFid(t, w, data)
	// Read back through the fid it was written with.
	back := make([]byte, 1000)
	if _, err := w.ReadAt(back, 150000); err != nil || !bytes.Equal(back, data[150000:151000]) {
		t.Errorf("read back on the writing fid: %v", err)
	}
	w.Close()
	small, err := fsys.Create("/usr/glenda/dir/sub/small", plan9.OWRITE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Write([]byte("hello, fossil\n")); err != nil {
		t.Fatal(err)
	}
	small.Close()
	if _, err := fsys.Create("/usr/glenda/dir/data", plan9.OWRITE, 0o664); err == nil {
		t.Error("created a file that exists")
	}

	// Walk and read.
	if got := readFsys(t, fsys, "/usr/glenda/dir/data"); !bytes.Equal(got, data) {
		t.Errorf("read %d bytes back, want %d the same", len(got), len(data))
	}
	// Walks of several elements, with . and .., from the attach point,
	// whose .. is itself.
	for _, name := range []string{"usr/glenda/dir/sub/small", "usr/../usr/glenda/./dir/sub/small", "../usr/glenda/dir/sub/small", "../../usr/glenda/dir/../dir/sub/small"} {
		if got := readFsys(t, fsys, name); string(got) != "hello, fossil\n" {
			t.Errorf("read %s: %q", name, got)
		}
	}
	for _, name := range []string{"usr/glenda/nothing", "usr/glenda/dir/data/x", "nothing"} {
		if _, err := fsys.Stat(name); err == nil {
			t.Errorf("walked to %s", name)
		}
	}
	if _, err := fsys.Stat("nothing"); err == nil || err.Error() != "file does not exist" {
		t.Errorf("walk to a missing file: %v", err)
	}
	if _, err := fsys.Open("/usr/glenda/dir", plan9.OWRITE); err == nil {
		t.Error("opened a directory for writing")
	}
	if names := dirNames(listFsys(t, fsys, "/usr/glenda/dir")); !slices.Equal(names, []string{"data", "sub"}) {
		t.Errorf("directory lists %q", names)
	}

	// Stat.
	st, err := fsys.Stat("/usr/glenda/dir/data")
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "data" || st.Uid != "glenda" || st.Gid != "glenda" || st.Muid != "glenda" ||
		st.Mode != 0o664 || st.Length != uint64(len(data)) || st.Qid.Type != plan9.QTFILE {
		t.Errorf("stat data: %v", st)
	}
	if st.Mtime < uint32(time.Now().Unix())-300 {
		t.Errorf("stat data: mtime %d", st.Mtime)
	}
	st, err = fsys.Stat("/usr/glenda/dir/sub")
	if err != nil || st.Mode != plan9.DMDIR|0o755 || st.Qid.Type != plan9.QTDIR || st.Length != 0 {
		t.Errorf("stat sub: %v %v", st, err)
	}
	if st, err := fsys.Stat("/"); err != nil || st.Qid.Type != plan9.QTDIR || st.Uid != "adm" {
		t.Errorf("stat of the attach point: %v %v", st, err)
	}

	// Wstat: rename, chmod, truncate, each alone, then all at once.
	wstat := func(name string, edit func(d *plan9.Dir)) error {
		var d plan9.Dir
		d.Null()
		edit(&d)
		return fsys.Wstat(name, &d)
	}
	if err := wstat("/usr/glenda/dir/data", func(d *plan9.Dir) { d.Name = "renamed" }); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat("/usr/glenda/dir/data"); err == nil {
		t.Error("old name still there after rename")
	}
	if err := wstat("/usr/glenda/dir/renamed", func(d *plan9.Dir) { d.Mode = 0o600 }); err != nil {
		t.Fatal(err)
	}
	if err := wstat("/usr/glenda/dir/renamed", func(d *plan9.Dir) { d.Length = 1000 }); err != nil {
		t.Fatal(err)
	}
	st, err = fsys.Stat("/usr/glenda/dir/renamed")
	if err != nil || st.Name != "renamed" || st.Mode != 0o600 || st.Length != 1000 {
		t.Errorf("after wstat: %v %v", st, err)
	}
	if got := readFsys(t, fsys, "/usr/glenda/dir/renamed"); !bytes.Equal(got, data[:1000]) {
		t.Errorf("after truncation read %d bytes", len(got))
	}
	if err := wstat("/usr/glenda/dir/renamed", func(d *plan9.Dir) { d.Name, d.Mode, d.Length = "data", 0o644, 0 }); err != nil {
		t.Fatal(err)
	}
	st, err = fsys.Stat("/usr/glenda/dir/data")
	if err != nil || st.Mode != 0o644 || st.Length != 0 {
		t.Errorf("after wstat: %v %v", st, err)
	}
	if err := wstat("/usr/glenda/dir/data", func(d *plan9.Dir) { d.Name = "sub" }); err == nil {
		t.Error("renamed onto an existing name")
	}
	wantErr(t, "chmod a directory into a file", wstat("/usr/glenda/dir/sub", func(d *plan9.Dir) { d.Mode = 0o755 }), "cannot change directory bit")
	wantErr(t, "wstat length of a directory", wstat("/usr/glenda/dir/sub", func(d *plan9.Dir) { d.Length = 10 }), "directory length must be zero")
	wantErr(t, "chown", wstat("/usr/glenda/dir/data", func(d *plan9.Dir) { d.Uid = "adm" }), "cannot change owner")
	// Truncate by opening with OTRUNC, and write again.
	tr, err := fsys.Open("/usr/glenda/dir/sub/small", plan9.OWRITE|plan9.OTRUNC)
	if err != nil {
		t.Fatal(err)
	}
	tr.Write([]byte("again\n"))
	tr.Close()
	if got := readFsys(t, fsys, "/usr/glenda/dir/sub/small"); string(got) != "again\n" {
		t.Errorf("after OTRUNC: %q", got)
	}

	// Snapshot and archive, seen through attach name main.
	consQuiet(t, f, "snap -d /snapshot/2026/0101/1200")
	consArchive(t, f, "snap -a")
	m := f.waitLog(t, `archive vac:([0-9a-f]{40})`)
	t.Logf("archive vac:%s", m[1])
	whole := mount9P(t, f.tcp, "glenda", "main")
	if names := dirNames(listFsys(t, whole, "/")); !slices.Equal(names, []string{"active", "archive", "snapshot"}) {
		t.Errorf("root of main lists %q", names)
	}
	day := time.Now().Format("2006/0102")
	trees := []string{"/snapshot/2026/0101/1200", "/archive/" + day}
	for _, tree := range trees {
		for name, want := range map[string]string{"/usr/glenda/dir/sub/small": "again\n", "/usr/glenda/dir/data": ""} {
			if got := readFsys(t, whole, tree+name); string(got) != want {
				t.Errorf("%s%s: %q, want %q", tree, name, got, want)
			}
		}
		dir := tree + "/usr/glenda/dir"
		if _, err := whole.Create(dir+"/new", plan9.OWRITE, 0o664); err == nil {
			t.Errorf("created a file in %s", tree)
		}
		if _, err := whole.Create(dir+"/newdir", plan9.OREAD, plan9.DMDIR|0o775); err == nil {
			t.Errorf("created a directory in %s", tree)
		}
		if _, err := whole.Open(dir+"/data", plan9.OWRITE); err == nil {
			t.Errorf("opened a file in %s for writing", tree)
		}
		if _, err := whole.Open(dir+"/data", plan9.OREAD|plan9.OTRUNC); err == nil {
			t.Errorf("truncated a file in %s", tree)
		}
		wantErr(t, "remove in "+tree, whole.Remove(dir+"/sub/small"), "file is read only")
		var nd plan9.Dir
		nd.Null()
		nd.Mode = 0o777
		wantErr(t, "chmod in "+tree, whole.Wstat(dir+"/data", &nd), "file is read only")
		nd.Null()
		nd.Name = "x"
		wantErr(t, "rename in "+tree, whole.Wstat(dir+"/data", &nd), "file is read only")
		if st, err := whole.Stat(dir + "/sub/small"); err != nil || st.Length != 6 {
			t.Errorf("%s: stat after refused changes: %v %v", tree, st, err)
		}
	}
	// The live tree under main/active is the one mounted as "".
	if got := readFsys(t, whole, "/active/usr/glenda/dir/sub/small"); string(got) != "again\n" {
		t.Errorf("/active through main: %q", got)
	}

	// Remove: a full directory refuses, then files, then directories.
	if err := fsys.Remove("/usr/glenda/dir"); err == nil {
		t.Error("removed a directory that is not empty")
	}
	for _, name := range []string{"/usr/glenda/dir/sub/small", "/usr/glenda/dir/sub", "/usr/glenda/dir/data", "/usr/glenda/dir"} {
		if err := fsys.Remove(name); err != nil {
			t.Errorf("remove %s: %v", name, err)
		}
	}
	if names := dirNames(listFsys(t, fsys, "/usr/glenda")); len(names) != 0 {
		t.Errorf("after removes /usr/glenda lists %q", names)
	}
	// The snapshot still has them.
	if got := readFsys(t, whole, "/snapshot/2026/0101/1200/usr/glenda/dir/sub/small"); string(got) != "again\n" {
		t.Errorf("snapshot after removes: %q", got)
	}
}

// TestFossil9PFlush sends Tflush for outstanding requests as raw 9P
// messages: every flush is answered, no request is answered after its
// flush, a write answered before its flush was done and one not
// answered was not. It runs once with one worker, so that the requests
// queue and the flushes find them waiting, and once with the default.
func TestFossil9PFlush(t *testing.T) {
	f, _ := start9P(t)
	fsys := mount9P(t, f.tcp, "glenda", "")
	w, err := fsys.Create("/usr/glenda/big", plan9.OWRITE, 0o664)
	if err != nil {
		t.Fatal(err)
	}
	writeFid(t, w, randBytes(2, 4<<20))
	w.Close()

	conn, err := net.Dial("tcp", f.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	rpc := func(tx *plan9.Fcall) *plan9.Fcall {
		t.Helper()
		if err := plan9.WriteFcall(conn, tx); err != nil {
			t.Fatal(err)
		}
		rx, err := plan9.ReadFcall(conn)
		if err != nil {
			t.Fatal(err)
		}
		if rx.Type == plan9.Rerror {
			t.Fatalf("%v: %s", tx, rx.Ename)
		}
		if rx.Tag != tx.Tag || rx.Type != tx.Type+1 {
			t.Fatalf("%v: answered %v", tx, rx)
		}
		return rx
	}
	rpc(&plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: 8192 + plan9.IOHDRSZ, Version: "9P2000"})
	rpc(&plan9.Fcall{Type: plan9.Tattach, Tag: 1, Fid: 0, Afid: plan9.NOFID, Uname: "glenda", Aname: ""})
	rpc(&plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 0, Newfid: 1, Wname: []string{"usr", "glenda", "big"}})
	rpc(&plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 1, Mode: plan9.ORDWR})

	// A flush of a tag not in use is answered at once.
	rpc(&plan9.Fcall{Type: plan9.Tflush, Tag: 2, Oldtag: 999})

	for round, procs := range []int{1, 16, 16} {
		wantConsRe(t, f, fmt.Sprintf("msg -p %d", procs), fmt.Sprintf(`\tmsg -m 32 -p %d\n\tnmsg \d+ nmsgstarve \d+ nproc \d+ nprocstarve \d+\n`, procs))
		flushRound(t, conn, fsys, uint16(1000*(round+1)), round == 2)
	}
	rpc(&plan9.Fcall{Type: plan9.Tclunk, Tag: 1, Fid: 1})
}

// flushRound sends 28 reads and writes, the writes at offsets that
// differ from round to round, with a flush after every other one, all
// in one write to the connection or, if separate, each in its own, and
// checks the replies.
func flushRound(t *testing.T, conn net.Conn, fsys *client.Fsys, base uint16, separate bool) {
	var sent []*plan9.Fcall
	for i := range 28 {
		tag := base + uint16(i)
		tx := &plan9.Fcall{Type: plan9.Tread, Tag: tag, Fid: 1, Offset: uint64(i) * 8192, Count: 8192}
		if i%7 == 3 {
			off := 4<<20 + uint64(base/1000)*40*8192 + uint64(i)*8192
			tx = &plan9.Fcall{Type: plan9.Twrite, Tag: tag, Fid: 1, Offset: off, Data: randBytes(int64(tag), 8192)}
		}
		sent = append(sent, tx)
	}
	flushes := map[uint16]uint16{} // flush tag -> old tag
	flushed := map[uint16]bool{}
	var buf bytes.Buffer
	for i, tx := range sent {
		var msgs = []*plan9.Fcall{tx}
		if i%2 == 1 {
			ftag := base + 500 + uint16(i)
			flushes[ftag] = tx.Tag
			flushed[tx.Tag] = true
			msgs = append(msgs, &plan9.Fcall{Type: plan9.Tflush, Tag: ftag, Oldtag: tx.Tag})
		}
		for _, m := range msgs {
			b, err := m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if separate {
				if _, err := conn.Write(b); err != nil {
					t.Fatal(err)
				}
				continue
			}
			buf.Write(b)
		}
	}
	if _, err := conn.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	// Collect replies until every flush and every request not
	// flushed is answered, then send a stat and wait for its answer,
	// and a little longer, for any late reply.
	var replies []*plan9.Fcall
	pending := len(flushes) + len(sent) - len(flushed)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for pending > 0 {
		rx, err := plan9.ReadFcall(conn)
		if err != nil {
			t.Fatalf("after %d replies: %v", len(replies), err)
		}
		replies = append(replies, rx)
		if _, isFlush := flushes[rx.Tag]; isFlush || !flushed[rx.Tag] {
			pending--
		}
	}
	stag := base + 999
	if err := plan9.WriteFcall(conn, &plan9.Fcall{Type: plan9.Tstat, Tag: stag, Fid: 1}); err != nil {
		t.Fatal(err)
	}
	for {
		rx, err := plan9.ReadFcall(conn)
		if err != nil {
			t.Fatalf("waiting for the stat: %v", err)
		}
		replies = append(replies, rx)
		if rx.Tag == stag {
			break
		}
	}
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if rx, err := plan9.ReadFcall(conn); err == nil {
		replies = append(replies, rx)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))

	index := map[uint16][]int{}
	for i, rx := range replies {
		index[rx.Tag] = append(index[rx.Tag], i)
	}
	abandoned := 0
	for ftag, old := range flushes {
		fi := index[ftag]
		if len(fi) != 1 || replies[fi[0]].Type != plan9.Rflush {
			t.Errorf("flush of tag %d: replies %v", old, fi)
			continue
		}
		switch oi := index[old]; {
		case len(oi) > 1:
			t.Errorf("tag %d answered %d times", old, len(oi))
		case len(oi) == 1 && oi[0] > fi[0]:
			t.Errorf("tag %d answered after its flush: %v", old, replies[oi[0]])
		case len(oi) == 0:
			abandoned++
		}
	}
	for _, tx := range sent {
		if flushed[tx.Tag] {
			continue
		}
		if oi := index[tx.Tag]; len(oi) != 1 || replies[oi[0]].Type != tx.Type+1 {
			t.Errorf("unflushed %v: replies %v", tx, oi)
		}
	}
	t.Logf("tags %d...: %d of %d flushed requests went unanswered", base, abandoned, len(flushes))
	// Writes answered happened; writes flushed before they ran did not.
	r, err := fsys.Open("/usr/glenda/big", plan9.OREAD)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tx := range sent {
		if tx.Type != plan9.Twrite {
			continue
		}
		got := make([]byte, 8192)
		r.ReadAt(got, int64(tx.Offset))
		answered := len(index[tx.Tag]) == 1
		if answered != bytes.Equal(got, tx.Data) {
			t.Errorf("write tag %d: answered %v, data there %v", tx.Tag, answered, !answered)
		}
	}
}

// fixtureVentiAddr serves fixture fossil-b's venti (after the archive)
// read-only on loopback from private copies of its partitions.
func fixtureVentiAddr(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := &vtdisk.Config{
		Arenas: []string{fixture.Gunzip(t, "fossil-b/venti-after-archive/arenas.gz", dir)},
		ISects: []string{fixture.Gunzip(t, "fossil-b/venti-after-archive/isect.gz", dir)},
		Bloom:  fixture.Gunzip(t, "fossil-b/venti-after-archive/bloom.gz", dir),
	}
	s, err := vtstore.Open(cfg, vtstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	srv := &venti.Server{Handler: s}
	go srv.Serve(l)
	t.Cleanup(func() {
		srv.Close()
		s.Close()
	})
	return fmt.Sprintf("tcp!127.0.0.1!%d", l.Addr().(*net.TCPAddr).Port)
}

// The files fixture fossil-b's README lists, and where their bytes are.
var fossilBFiles = map[string]string{
	"usr/root/empty":             "",
	"usr/root/hello.txt":         "usr_root_hello.txt",
	"usr/root/dir1/small.bin":    "usr_root_dir1_small.bin",
	"usr/root/dir1/big.bin":      "usr_root_dir1_big.bin",
	"usr/root/dir1/sub/text.txt": "usr_root_dir1_sub_text.txt",
	"usr/root/dir2/zeros.bin":    "usr_root_dir2_zeros.bin",
}

// startFixtureB serves a private copy of fixture fossil-b's partition,
// made by the C fossil, with its venti.
func startFixtureB(t *testing.T) *fossilServer {
	t.Helper()
	vaddr := fixtureVentiAddr(t)
	part := fixture.Gunzip(t, "fossil-b/fossil.part.gz", t.TempDir())
	f := startFossil(t, part, "-c", "fsys main venti "+vaddr, "-c", "fsys main open -A -c 1000", "-c", "users -r /active/adm/users")
	wantCons(t, f, "users", "\tnuser 6 len 96\n")
	wantCons(t, f, "epoch", "\tlow 1 hi 4\n")
	return f
}

// fossilBData returns the contents of the files fossil-b's README
// lists, by path from the root of a tree.
func fossilBData(t *testing.T) map[string][]byte {
	t.Helper()
	want := map[string][]byte{}
	for name, data := range fossilBFiles {
		if data == "" {
			want[name] = nil
			continue
		}
		b, err := os.ReadFile(filepath.Join(fixtures(), "fossil-b", "data", data))
		if err != nil {
			t.Fatal(err)
		}
		want[name] = b
	}
	return want
}

// The trees of fossil-b that hold the files.
var fossilBTrees = []string{"/active/", "/snapshot/2026/1123/0942/", "/archive/2026/1123/"}

// TestFossil9PFixture serves the C fossil's partition of fixture
// fossil-b, with its venti, and reads every file its README lists from
// /active, the snapshot and the archive (whose blocks are on venti).
func TestFossil9PFixture(t *testing.T) {
	f := startFixtureB(t)
	want := fossilBData(t)
	trees := fossilBTrees

	// 9fans.net/go/plan9/client.
	fsys := mount9P(t, f.tcp, "root", "main")
	for _, tree := range trees {
		for name, data := range want {
			if got := readFsys(t, fsys, tree+name); !bytes.Equal(got, data) {
				t.Errorf("9fans: %s%s: %d bytes, want %d the same", tree, name, len(got), len(data))
			}
		}
	}
	// What the C fossil's 9p client saw (fossil-b-9p.txt).
	for _, c := range []struct {
		dir   string
		lines []string
	}{
		{"/", []string{"active d555 adm adm 0", "archive d555 adm adm 0", "snapshot d555 adm adm 0"}},
		{"/archive/2026", []string{"1123 d555 adm adm 0"}},
		{"/archive/2026/1123", []string{"adm d775 adm sys 0", "usr d775 sys sys 0"}},
		{"/archive/2026/1123/usr/root/dir1", []string{"big.bin 664 root root 1500000", "small.bin 664 root root 5000", "sub d775 root root 0"}},
		{"/snapshot/2026/1123", []string{"0942 d555 adm adm 0"}},
		{"/active/usr/root", []string{"dir1 d775 root root 0", "dir2 d755 root root 0", "empty 664 root root 0", "hello.txt 664 root root 61"}},
		{"/active/usr/root/dir2", []string{"zeros.bin 644 root root 100000"}},
	} {
		var lines []string
		for _, d := range listFsys(t, fsys, c.dir) {
			mode := fmt.Sprintf("%o", d.Mode&0o777)
			if d.Mode&plan9.DMDIR != 0 {
				mode = "d" + mode
			}
			lines = append(lines, fmt.Sprintf("%s %s %s %s %d", d.Name, mode, d.Uid, d.Gid, d.Length))
		}
		slices.Sort(lines)
		if !slices.Equal(lines, c.lines) {
			t.Errorf("ls %s:\n%s\nwant\n%s", c.dir, strings.Join(lines, "\n"), strings.Join(c.lines, "\n"))
		}
	}
	// 'big.bin' 'root' 'root' 'root' q (000000000000000f 368 ) m 0664 at 1795426951 mt 1795426951 l 1500000
	st, err := fsys.Stat("/active/usr/root/dir1/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if st.Qid.Path != 0xf || st.Qid.Vers != 368 || st.Mtime != 1795426951 || st.Muid != "root" || st.Length != 1500000 {
		t.Errorf("stat big.bin: %v", st)
	}
	if st, err := fsys.Stat("/active/usr/root/empty"); err != nil || st.Qid.Path != 0xc || st.Qid.Vers != 0 || st.Mtime != 1795426950 {
		t.Errorf("stat empty: %v %v", st, err)
	}
	// The archive refuses changes even to its owner.
	if _, err := fsys.Create("/archive/2026/1123/usr/root/new", plan9.OWRITE, 0o664); err == nil {
		t.Error("created a file in the archive")
	}
	wantErr(t, "remove in the archive", fsys.Remove("/archive/2026/1123/usr/root/hello.txt"), "file is read only")
}
