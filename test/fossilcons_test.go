//go:build !plan9

package test

import (
	"bytes"
	"fmt"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"9fans.net/go/plan9"

	"github.com/plan9fossil/fossil/internal/srv"
)

// The console commands of fossilcons(8), typed into a running
// fossil/fossil's console FIFO as an operator's echo cmd >>/srv/fscons
// types them, and the -c commands it starts with. Output forms that
// fossilcons(8) or the C fossil's transcript of fixture fossil-b show
// are checked exactly.
//
// Not tested here, being written: check, bfree, clre, clri, clrp,
// label, block, vac.

// wantConsRe runs a console command and matches its whole output.
func wantConsRe(t testing.TB, f *fossilServer, line, re string) []string {
	t.Helper()
	out := consOut(t, f, line)
	m := regexp.MustCompile(`^(?:` + re + `)$`).FindStringSubmatch(out)
	if m == nil {
		t.Errorf("console: %s:\n got %q\nwant /%s/", line, out, re)
	}
	return m
}

// wantConsErr runs a console command that must fail: it prints one
// line, not tabbed, containing want.
func wantConsErr(t testing.TB, f *fossilServer, line, want string) {
	t.Helper()
	out := consOut(t, f, line)
	if strings.HasPrefix(out, "\t") || !strings.HasSuffix(out, "\n") || !strings.Contains(out, want) {
		t.Errorf("console: %s:\n got %q\nwant an error with %q", line, out, want)
	}
}

// epochs returns what epoch prints.
func epochs(t testing.TB, f *fossilServer) (lo, hi int) {
	t.Helper()
	m := wantConsRe(t, f, "epoch", `\tlow (\d+) hi (\d+)\n`)
	if m != nil {
		fmt.Sscan(m[1], &lo)
		fmt.Sscan(m[2], &hi)
	}
	return lo, hi
}

// dfRe is df's line, as fixture fossil-b's transcript shows it:
//
//	main: 40,960 used + 33,300,480 free = 33,341,440 (0.1% used)
const dfRe = `\t%s: ([0-9,]+) used \+ ([0-9,]+) free = ([0-9,]+) \((\d+\.\d)%% used\)\n`

func commaNum(s string) int64 {
	var n int64
	fmt.Sscan(strings.ReplaceAll(s, ",", ""), &n)
	return n
}

// checkDf runs df on fsys name and checks the sums; it returns the
// bytes used.
func checkDf(t testing.TB, f *fossilServer, line, name string) int64 {
	t.Helper()
	m := wantConsRe(t, f, line, fmt.Sprintf(dfRe, regexp.QuoteMeta(name)))
	if m == nil {
		return 0
	}
	used, free, total := commaNum(m[1]), commaNum(m[2]), commaNum(m[3])
	if used+free != total || used%8192 != 0 || total%8192 != 0 {
		t.Errorf("df: %d + %d != %d", used, free, total)
	}
	if pct := fmt.Sprintf("%.1f", float64(used)*100/float64(total)); pct != m[4] {
		t.Errorf("df: %s%%, want %s%%", m[4], pct)
	}
	return used
}

// TestFossilConsBuiltins covers the commands of the file server:
// ., 9p, dflag, echo, listen, msg, printconfig, srv, con, who, and an
// unknown command.
func TestFossilConsBuiltins(t *testing.T) {
	// A -c command runs before any console is posted: its output goes
	// to standard error.
	f, part := start9P(t, "-c", "echo said with -c", "-c", "nosuch-with-c")

	t.Run("echo", func(t *testing.T) {
		wantCons(t, f, "echo a  b 'c d'", "a b c d\n")
		wantCons(t, f, "echo -n x", "x")
		wantCons(t, f, "echo", "\n")
		wantCons(t, f, "echo -z", "usage: echo [-n] ...\n")
	})

	t.Run("unknown", func(t *testing.T) {
		wantCons(t, f, "nosuch a b", "nosuch: - eh?\n")
		wantCons(t, f, "# a comment", "")
	})

	t.Run("dot", func(t *testing.T) {
		dir := t.TempDir()
		good := filepath.Join(dir, "good")
		os.WriteFile(good, []byte("echo one\n# a comment\n\ncreate /active/dot sys sys d775\necho two\n"), 0o644)
		wantCons(t, f, ". "+good, "one\ntwo\n")
		wantCons(t, f, "stat /active/dot", "\tstat /active/dot dot sys sys d775 0\n")
		// A failing line is reported and the rest still run; the
		// command fails as a whole.
		bad := filepath.Join(dir, "bad")
		os.WriteFile(bad, []byte("echo one\nnosuch\ncreate /active/dot sys sys d775\necho two\n"), 0o644)
		out := consOut(t, f, ". "+bad)
		if !strings.HasPrefix(out, "one\n") || !strings.Contains(out, "nosuch: - eh?\n") ||
			!strings.Contains(out, "file already exists\n") || !strings.HasSuffix(out, "two\nerrors in . '"+bad+"'\n") {
			t.Errorf(". with errors: %q", out)
		}
		wantConsErr(t, f, ". "+filepath.Join(dir, "missing"), "missing")
		wantCons(t, f, ".", "usage: . file\n")
		consQuiet(t, f, "remove /active/dot")
	})

	t.Run("9p", func(t *testing.T) {
		wantCons(t, f, "9p Tversion 8216 9P2000",
			"\t-> Tversion tag 65535 msize 8216 version '9P2000'\n\t<- Rversion tag 65535 msize 8216 version '9P2000'\n")
		wantConsRe(t, f, "9p Tattach 1 ~0 glenda ''",
			`\t-> Tattach tag (\d+) fid 1 afid 4294967295 uname glenda aname \n\t<- Rattach tag (\d+) qid 0x[0-9a-f]+\.\d+\.d\n`)
		wantConsRe(t, f, "9p Twalk 1 2 usr glenda",
			`\t-> Twalk tag (\d+) fid 1 newfid 2 wname \[usr glenda\]\n\t<- Rwalk tag (\d+) wqid \[0x[0-9a-f.]+d 0x[0-9a-f.]+d\]\n`)
		wantConsRe(t, f, "9p Tstat 2",
			`\t-> Tstat tag \d+ fid 2\n\t<- Rstat tag \d+ stat name 'glenda' uid 'glenda' gid 'glenda' .*\n`)
		wantConsRe(t, f, "9p Twalk 2 3 nothing",
			`\t-> Twalk tag \d+ fid 2 newfid 3 wname \[nothing\]\n\t<- Rerror tag \d+ ename file does not exist\n`)
		wantConsRe(t, f, "9p Tclunk 2", `\t-> Tclunk tag \d+ fid 2\n\t<- Rclunk tag \d+\n`)
		// nexttag sets the tag of the next message.
		consQuiet(t, f, "9p nexttag 77")
		wantConsRe(t, f, "9p Tclunk 1", `\t-> Tclunk tag 77 fid 1\n\t<- Rclunk tag 77\n`)
		wantCons(t, f, "9p Tstat", "usage: Tstat fid\n")
		wantCons(t, f, "9p Tbogus 1", "usage: 9p T-message ...\n")
		wantCons(t, f, "9p", "usage: 9p T-message ...\n")
	})

	t.Run("printconfig", func(t *testing.T) {
		wantConsRe(t, f, "printconfig", `\tfsys main config `+regexp.QuoteMeta(part)+`\n\tfsys main venti tcp!127\.0\.0\.1!\d+\n`)
		wantCons(t, f, "printconfig x", "usage: printconfig\n")
	})

	t.Run("msg", func(t *testing.T) {
		counters := `\tnmsg \d+ nmsgstarve \d+ nproc \d+ nprocstarve \d+\n`
		wantConsRe(t, f, "msg", `\tmsg -m 32 -p 16\n`+counters)
		wantConsRe(t, f, "msg -m 10 -p 4", `\tmsg -m 10 -p 4\n`+counters)
		wantConsRe(t, f, "msg -p 0x8", `\tmsg -m 10 -p 8\n`+counters)
		wantConsRe(t, f, "msg", `\tmsg -m 10 -p 8\n`+counters)
		// The file server still serves with them.
		fsys := mount9P(t, f.tcp, "glenda", "")
		if _, err := fsys.Stat("/usr/glenda"); err != nil {
			t.Error(err)
		}
		wantCons(t, f, "msg -m 0", "usage: msg [-m nmsg] [-p nproc]\n")
		wantCons(t, f, "msg -x", "usage: msg [-m nmsg] [-p nproc]\n")
		wantConsRe(t, f, "msg -m 32 -p 16", `\tmsg -m 32 -p 16\n`+counters)
	})

	t.Run("listen", func(t *testing.T) {
		port := freePort(t, "127.0.0.1")
		addr := fmt.Sprintf("tcp!127.0.0.1!%d", port)
		consQuiet(t, f, "listen "+addr)
		out := consOut(t, f, "listen")
		if !strings.Contains(out, "\t"+addr+"\t") || !strings.Contains(out, "\ttcp!127.0.0.1!"+strings.TrimPrefix(f.tcp, "127.0.0.1:")+"\t") {
			t.Errorf("listen: %q", out)
		}
		fsys := mount9P(t, fmt.Sprintf("127.0.0.1:%d", port), "glenda", "")
		if _, err := fsys.Stat("/usr/glenda"); err != nil {
			t.Errorf("through the second address: %v", err)
		}
		consQuiet(t, f, "listen -d "+addr)
		if out := consOut(t, f, "listen"); strings.Contains(out, addr) {
			t.Errorf("listen after -d: %q", out)
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second); err == nil {
			c.Close()
			t.Error("still listening after listen -d")
		}
		wantCons(t, f, "listen -d "+addr, "listen: '"+addr+"' not found\n")
		wantConsErr(t, f, "listen -d tcp!127.0.0.1!1 extra", "usage")
	})

	t.Run("srv", func(t *testing.T) {
		dir, err := srv.Dir()
		if err != nil {
			t.Skip(err)
		}
		name := fmt.Sprintf("fossil9p.%d.%d", os.Getpid(), rand.Intn(1e9))
		path := filepath.Join(dir, name)
		t.Cleanup(func() { os.Remove(path) })
		consQuiet(t, f, "srv -A "+name)
		if out := consOut(t, f, "srv"); !strings.Contains(out, "\t"+name+"\t"+path+"\n") ||
			!strings.Contains(out, "\t"+filepath.Base(f.cons)+"\t"+f.cons+"\n") {
			t.Errorf("srv: %q", out)
		}
		c := dialNet9P(t, "unix", path)
		fsys, err := c.Attach(nil, "glenda", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Stat("/usr/glenda"); err != nil {
			t.Errorf("through %s: %v", path, err)
		}
		c.Close()
		consQuiet(t, f, "srv -d "+name)
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s still there after srv -d", path)
		}
		if out := consOut(t, f, "srv"); strings.Contains(out, name) {
			t.Errorf("srv after -d: %q", out)
		}
		wantCons(t, f, "srv -d "+name, "srv: '"+name+"' not found\n")
		wantConsErr(t, f, "srv -P -p "+name, "cannot use -P with -p")

		// A second console: what is typed there runs, and its
		// output reaches the first console's log too.
		cname := "fscons2." + name
		cpath := filepath.Join(dir, cname)
		consQuiet(t, f, "srv -p "+cname)
		t.Cleanup(func() {
			os.Remove(cpath)
			os.Remove(cpath + ".log")
			os.Remove(cpath + ".sock")
		})
		w, err := os.OpenFile(cpath, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "echo typed on the second console %d\n", os.Getpid())
		w.Close()
		f.waitLog(t, fmt.Sprintf("typed on the second console %d", os.Getpid()))
		consQuiet(t, f, "srv -d "+cname)
		if _, err := os.Stat(cpath); err == nil {
			t.Errorf("%s still there after srv -d", cpath)
		}
	})

	t.Run("who-con", func(t *testing.T) {
		mount9P(t, f.tcp, "glenda", "")
		mount9P(t, f.tcp, "adm", "main")
		mount9P(t, f.tcp, "stranger", "")
		out := consOut(t, f, "who")
		var users []string
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			fs := strings.Fields(line)
			if strings.HasPrefix(line, "\tconsole ") {
				continue // the 9p command's connection
			}
			if !strings.HasPrefix(line, "\ttcp!127.0.0.1!") || len(fs) < 1 {
				t.Errorf("who: line %q", line)
				continue
			}
			users = append(users, strings.Join(fs[1:], ","))
		}
		for _, u := range []string{"glenda", "adm", "none"} {
			if !slices.Contains(users, u) {
				t.Errorf("who: no connection with only %s: %q", u, out)
			}
		}
		m := wantConsRe(t, f, "con", `\tcon -m 128\n\tncon (\d+) nconstarve 0\n((?:\ttcp!127\.0\.0\.1!\d+\n)+)`)
		if m != nil {
			var n int
			fmt.Sscan(m[1], &n)
			if lines := strings.Count(m[2], "\n"); n < 3 || lines != n {
				t.Errorf("con: ncon %d with %d connections listed", n, lines)
			}
		}
		wantConsRe(t, f, "con -m 50", `\tcon -m 50\n\tncon \d+ nconstarve 0\n(?:\t.*\n)*`)
		wantConsRe(t, f, "con -m 128", `\tcon -m 128\n\tncon \d+ nconstarve 0\n(?:\t.*\n)*`)
		wantCons(t, f, "con -m x", "usage: con [-m ncon]\n")
		wantCons(t, f, "who x", "usage: who\n")
	})

	// Last: dflag, whose effect is seen on standard error once fossil
	// has exited.
	t.Run("dflag", func(t *testing.T) {
		fsys := mount9P(t, f.tcp, "glenda", "")
		wantCons(t, f, "dflag", "dflag 1\n")
		fsys.Stat("/usr/glenda/while-dflag-is-on")
		wantCons(t, f, "dflag", "dflag 0\n")
		fsys.Stat("/usr/glenda/after-dflag-is-off")
		wantCons(t, f, "dflag x", "usage: dflag\n")
		f.stop(t)
		stderr := f.stderr.String()
		if !strings.Contains(stderr, "while-dflag-is-on") {
			t.Errorf("9P messages not logged with dflag on; standard error:\n%s", stderr)
		}
		if strings.Contains(stderr, "after-dflag-is-off") {
			t.Errorf("9P messages logged with dflag off")
		}
		if !strings.Contains(stderr, "said with -c\n") || !strings.Contains(stderr, "nosuch-with-c: - eh?\n") {
			t.Errorf("-c commands' output not on standard error:\n%s", stderr)
		}
	})
}

// TestFossilConsUsers covers users and every form of uname, and what
// they do to /active/adm/users and to 9P.
func TestFossilConsUsers(t *testing.T) {
	f, _ := start9P(t)
	adm := mount9P(t, f.tcp, "adm", "")
	usersFile := func() string {
		t.Helper()
		return string(readFsys(t, adm, "/adm/users"))
	}
	// nuser and len are those of the file users -w writes.
	checkUsers := func() {
		t.Helper()
		text := usersFile()
		wantCons(t, f, "users", fmt.Sprintf("\tnuser %d len %d\n", strings.Count(text, "\n"), len(text)))
	}
	const defaults = "adm:adm:adm:sys\nglenda:glenda:glenda:\nnone:none::\nnoworld:noworld::\nsys:sys::glenda\n"
	sorted := func(s string) string {
		lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		slices.Sort(lines)
		return strings.Join(lines, "\n") + "\n"
	}
	if got := sorted(usersFile()); got != defaults {
		t.Errorf("users -w wrote %q", got)
	}
	checkUsers()

	// uname name id: a user and a home directory.
	consQuiet(t, f, "uname alice alice")
	wantCons(t, f, "uname alice", "\talice:alice::\n")
	wantCons(t, f, "stat /active/usr/alice", "\tstat /active/usr/alice alice alice alice d775 0\n")
	// uname name :id: no home directory.
	consQuiet(t, f, "uname bob :bob")
	wantCons(t, f, "uname bob", "\tbob:bob::\n")
	wantCons(t, f, "stat /active/usr/bob", "/active/usr/bob: file does not exist\n")
	// An id unlike the name: files record the id, 9P shows the name.
	consQuiet(t, f, "uname carol :c4")
	wantCons(t, f, "uname carol", "\tc4:carol::\n")
	checkUsers()
	// +member, =leader, =, -member.
	consQuiet(t, f, "uname alice +bob")
	wantCons(t, f, "uname alice", "\talice:alice::bob\n")
	consQuiet(t, f, "uname alice +carol")
	wantCons(t, f, "uname alice", "\talice:alice::bob,carol\n")
	consQuiet(t, f, "uname alice =bob")
	wantCons(t, f, "uname alice", "\talice:alice:bob:bob,carol\n")
	consQuiet(t, f, "uname alice =")
	wantCons(t, f, "uname alice", "\talice:alice::bob,carol\n")
	consQuiet(t, f, "uname alice -carol")
	wantCons(t, f, "uname alice", "\talice:alice::bob\n")
	checkUsers()
	// %newname: renamed throughout the table, the id kept.
	consQuiet(t, f, "uname bob =alice")
	consQuiet(t, f, "uname alice %alicia")
	wantCons(t, f, "uname alicia", "\talice:alicia::bob\n")
	wantCons(t, f, "uname bob", "\tbob:bob:alicia:\n")
	if text := usersFile(); !strings.Contains(text, "\nalice:alicia::bob\n") || !strings.Contains(text, "\nbob:bob:alicia:\n") {
		t.Errorf("users file after rename: %q", text)
	}
	checkUsers()
	// 9P names the owner of alice's home by the new name.
	if st, err := adm.Stat("/usr/alice"); err != nil || st.Uid != "alicia" || st.Gid != "alicia" {
		t.Errorf("stat /usr/alice after rename: %v %v", st, err)
	}
	// A file created as carol records id c4 and shows carol.
	carol := mount9P(t, f.tcp, "carol", "")
	consQuiet(t, f, "create /active/tmp sys sys d777")
	fid, err := carol.Create("/tmp/carols", plan9.OWRITE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fid.Close()
	wantCons(t, f, "stat /active/tmp/carols", "\tstat /active/tmp/carols carols c4 sys 644 0\n")
	if st, err := adm.Stat("/tmp/carols"); err != nil || st.Uid != "carol" {
		t.Errorf("9P stat of carol's file: %v %v", st, err)
	}

	// Errors: the table does not change.
	for _, line := range []string{"uname alice", "uname alicia alicia", "uname dave alice", "uname nobody +bob", "uname alicia +nobody", "uname adm %root"} {
		wantConsErr(t, f, line, "")
	}
	wantCons(t, f, "uname", "usage: uname name [id | :id | %newname | =leader | +member | -member]\n")
	checkUsers()

	// users -d: the default table; users -r: the file again.
	wantCons(t, f, "users -d", "\tnuser 5 len 84\n")
	wantConsErr(t, f, "uname alicia", "alicia")
	if st, err := adm.Stat("/tmp/carols"); err != nil || st.Uid != "c4" {
		t.Errorf("9P stat of carol's file with the default table: %v %v", st, err)
	}
	text := usersFile()
	wantCons(t, f, "users -r /active/adm/users", fmt.Sprintf("\tnuser %d len %d\n", strings.Count(text, "\n"), len(text)))
	wantCons(t, f, "uname alicia", "\talice:alicia::bob\n")
	// users -r of another file, then -w: the file is rewritten.
	consQuiet(t, f, "create /active/tmp/users2 sys sys 666")
	w, err := adm.Open("/tmp/users2", plan9.OWRITE)
	if err != nil {
		t.Fatal(err)
	}
	const users2 = "adm:adm:adm:sys\nnone:none::\nnoworld:noworld::\nsys:sys::\nzed:zed:zed:\n"
	w.Write([]byte(users2))
	w.Close()
	wantCons(t, f, "users -r /active/tmp/users2 -w", fmt.Sprintf("\tnuser 5 len %d\n", len(users2)))
	if got := sorted(usersFile()); got != sorted(users2) {
		t.Errorf("users -w wrote %q", got)
	}
	wantCons(t, f, "uname zed", "\tzed:zed:zed:\n")
	// A table without a mandatory user is refused.
	consQuiet(t, f, "create /active/tmp/users3 sys sys 666")
	w, _ = adm.Open("/tmp/users3", plan9.OWRITE)
	w.Write([]byte("adm:adm:adm:\nsys:sys::\n"))
	w.Close()
	wantConsErr(t, f, "users -r /active/tmp/users3", "")
	wantCons(t, f, "users", fmt.Sprintf("\tnuser 5 len %d\n", len(users2)))
	wantConsErr(t, f, "users -r /active/tmp/nothing", "file does not exist")
	wantCons(t, f, "users -d -r x", "cannot use -d and -r together\n")
	wantCons(t, f, "users -x", "usage: users [-d | -r file] [-w]\n")
	wantCons(t, f, "users extra", "usage: users [-d | -r file] [-w]\n")
}

// TestFossilConsFsys covers fsys: the list, the current file system,
// and config, venti, open, close and unconfig of a second file system
// on another partition, which 9P then serves by its name.
func TestFossilConsFsys(t *testing.T) {
	f, part := start9P(t)
	vaddr, _ := serveMem(t, "127.0.0.1")
	part2 := newFossilPart(t)

	wantCons(t, f, "fsys", "\tmain\n")
	wantCons(t, f, "fsys other", "fsys: 'other' not found\n")
	consQuiet(t, f, "fsys other config "+part2)
	wantCons(t, f, "fsys", "\tmain\n\tother\n")
	wantCons(t, f, "fsys other", "fsys: 'other' not open\n")
	wantCons(t, f, "fsys other df", "fsys: 'other' not open\n")
	if _, err := dial9P(t, f.tcp).Attach(nil, "glenda", "other"); err == nil {
		t.Error("attached to a file system not open")
	}
	// venti before open: dialed now and used by open.
	out := consOut(t, f, "fsys other venti "+vaddr)
	if out != "" && out != vaddr+": dialing venti at "+vaddr+"\n" {
		t.Errorf("fsys other venti: %q", out)
	}
	wantConsRe(t, f, "printconfig", `\tfsys main config `+regexp.QuoteMeta(part)+`\n\tfsys main venti tcp!127\.0\.0\.1!\d+\n`+
		`\tfsys other config `+regexp.QuoteMeta(part2)+`\n\tfsys other venti `+regexp.QuoteMeta(vaddr)+`\n`)
	wantCons(t, f, "fsys other open -x", "usage: fsys name open [-APVWar] [-c ncache]\n")
	consQuiet(t, f, "fsys other open -A -c 200")
	wantConsErr(t, f, "fsys other open -A", "other")
	wantConsErr(t, f, "fsys other unconfig", "other")
	wantConsErr(t, f, "fsys other config "+part, "other")

	// The current file system: the prompt, and bare commands.
	if out := consRaw(t, f, "fsys other"); !strings.HasSuffix(out, "other: echo") {
		t.Errorf("prompt after fsys other: %q", out)
	}
	checkDf(t, f, "df", "other")
	consQuiet(t, f, "create /active/onother sys sys d775")
	wantCons(t, f, "stat /active/onother", "\tstat /active/onother onother sys sys d775 0\n")
	consQuiet(t, f, "fsys main")
	wantCons(t, f, "stat /active/onother", "/active/onother: file does not exist\n")
	wantCons(t, f, "fsys other stat /active/onother", "\tstat /active/onother onother sys sys d775 0\n")
	// fsys all runs a command on each.
	out = consOut(t, f, "fsys all df")
	if lines := strings.Split(out, "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "\tmain: ") || !strings.HasPrefix(lines[1], "\tother: ") {
		t.Errorf("fsys all df: %q", out)
	}
	wantConsErr(t, f, "fsys all open", "all")
	wantConsErr(t, f, "fsys main nosuch", "nosuch")

	// 9P by attach name; the archive goes to other's venti.
	o := mount9P(t, f.tcp, "glenda", "other/active")
	if st, err := o.Stat("/onother"); err != nil || st.Uid != "sys" {
		t.Errorf("attach other: stat /onother: %v %v", st, err)
	}
	whole := mount9P(t, f.tcp, "glenda", "other")
	if names := dirNames(listFsys(t, whole, "/")); !slices.Equal(names, []string{"active", "archive", "snapshot"}) {
		t.Errorf("attach other: %q", names)
	}
	consArchive(t, f, "fsys other snap -a")
	m := f.waitLog(t, `archive vac:([0-9a-f]{40})`)
	t.Logf("other archived as vac:%s", m[1])
	consOut(t, f, "fsys other sync")

	// close: the name stays configured; 9P can no longer attach.
	consQuiet(t, f, "fsys other close")
	wantCons(t, f, "fsys other df", "fsys: 'other' not open\n")
	if _, err := dial9P(t, f.tcp).Attach(nil, "glenda", "other"); err == nil {
		t.Error("attached to a closed file system")
	}
	if last := run(t, nil, nil, "fossil/last", part2); strings.TrimSpace(last.stdout) != "vac:"+m[1] {
		t.Errorf("fossil/last %s: %q, console said vac:%s", part2, last.stdout, m[1])
	}
	// Open again: what was made is there.
	consQuiet(t, f, "fsys other open -A -V")
	wantCons(t, f, "fsys other stat /active/onother", "\tstat /active/onother onother sys sys d775 0\n")
	wantConsErr(t, f, "fsys other snap -a", "venti")
	// A bare close of the current file system leaves none current.
	consQuiet(t, f, "fsys other")
	consQuiet(t, f, "close")
	if out := consRaw(t, f, "echo"); !strings.HasSuffix(out, "prompt: echo") {
		t.Errorf("prompt after close: %q", out)
	}
	wantCons(t, f, "df", "fsys: no current fsys\n")
	consQuiet(t, f, "fsys other unconfig")
	wantCons(t, f, "fsys", "\tmain\n")
	wantCons(t, f, "fsys other unconfig", "fsys: 'other' not found\n")
	consQuiet(t, f, "fsys main")
	checkDf(t, f, "df", "main")
}

// TestFossilConsMaintenance covers the per-file-system commands:
// create, stat, wstat, remove, df, epoch, snap, snapclean, snaptime,
// sync, halt and unhalt.
func TestFossilConsMaintenance(t *testing.T) {
	f, part := start9P(t)
	glenda := mount9P(t, f.tcp, "glenda", "")
	whole := mount9P(t, f.tcp, "glenda", "main")

	t.Run("create-stat-wstat-remove", func(t *testing.T) {
		consQuiet(t, f, "create /active/tmp glenda glenda d775")
		wantCons(t, f, "create /active/tmp glenda glenda d775", "create /active/tmp: file already exists\n")
		consQuiet(t, f, "create /active/tmp/f glenda sys 640")
		consQuiet(t, f, "create /active/tmp/log glenda glenda a664")
		consQuiet(t, f, "create /active/tmp/lock glenda glenda l600")
		wantCons(t, f, "stat /active/tmp /active/tmp/f /active/none /active/tmp/log /active/tmp/lock",
			"\tstat /active/tmp tmp glenda glenda d775 0\n"+
				"\tstat /active/tmp/f f glenda sys 640 0\n"+
				"/active/none: file does not exist\n"+
				"\tstat /active/tmp/log log glenda glenda a664 0\n"+
				"\tstat /active/tmp/lock lock glenda glenda l600 0\n")
		for name, want := range map[string]plan9.Perm{"/tmp/f": 0o640, "/tmp/log": plan9.DMAPPEND | 0o664, "/tmp/lock": plan9.DMEXCL | 0o600, "/tmp": plan9.DMDIR | 0o775} {
			if st, err := glenda.Stat(name); err != nil || st.Mode != want || st.Uid != "glenda" {
				t.Errorf("9P stat %s: %v %v, want mode %v", name, st, err, want)
			}
		}
		wantConsErr(t, f, "create /active/tmp/g glenda glenda 999", "")
		wantConsErr(t, f, "create /active/nodir/g glenda glenda 644", "")
		wantConsErr(t, f, "create /active/tmp/g glenda glenda", "usage")

		// wstat: every field, - leaving one alone.
		w, _ := glenda.Open("/tmp/f", plan9.OWRITE)
		w.Write([]byte("0123456789abcdef"))
		w.Close()
		wantCons(t, f, "wstat /active/tmp/f g - - 600 10",
			"\told: w /active/tmp/f f glenda sys 640 16\n"+
				"\tnew: w /active/tmp/f g glenda sys 600 10\n")
		wantCons(t, f, "stat /active/tmp/g", "\tstat /active/tmp/g g glenda sys 600 10\n")
		if got := readFsys(t, glenda, "/tmp/g"); string(got) != "0123456789" {
			t.Errorf("after wstat length 10: %q", got)
		}
		consOut(t, f, "wstat /active/tmp/g - adm adm - -")
		wantCons(t, f, "stat /active/tmp/g", "\tstat /active/tmp/g g adm adm 600 10\n")
		consOut(t, f, "wstat /active/tmp/g - - - a644 0")
		wantCons(t, f, "stat /active/tmp/g", "\tstat /active/tmp/g g adm adm a644 0\n")
		consOut(t, f, "wstat /active/tmp/g - - - 644 -")
		// The d bit cannot be changed by wstat.
		consOut(t, f, "wstat /active/tmp - - - 755 -")
		wantCons(t, f, "stat /active/tmp", "\tstat /active/tmp tmp glenda glenda d755 0\n")
		wantConsErr(t, f, "wstat /active/tmp/g - - - d644 -", "directory bit")
		wantCons(t, f, "stat /active/tmp/g", "\tstat /active/tmp/g g adm adm 644 0\n")
		// The other letters of the C console's modes.
		wantCons(t, f, "wstat /active/tmp/g - - - YUGalHSAT640 -",
			"\told: w /active/tmp/g g adm adm 644 0\n"+
				"\tnew: w /active/tmp/g g adm adm YUGalHSAT640 0\n")
		consOut(t, f, "wstat /active/tmp/g - - - 644 -")
		wantConsErr(t, f, "wstat /active/tmp/none - - - - -", "file does not exist")
		wantConsErr(t, f, "wstat /active/tmp/g", "usage")

		// remove, several at once, reporting each failure.
		wantCons(t, f, "remove /active/tmp/g /active/tmp/none /active/tmp/log",
			"/active/tmp/none: file does not exist\n")
		if _, err := glenda.Stat("/tmp/g"); err == nil {
			t.Error("removed file still there")
		}
		wantConsErr(t, f, "remove /active/tmp", "")
		wantCons(t, f, "remove /active/tmp/lock /active/tmp", "")
		wantConsErr(t, f, "remove", "usage")
	})

	t.Run("df-sync", func(t *testing.T) {
		used := checkDf(t, f, "df", "main")
		fid, err := glenda.Create("/usr/glenda/big", plan9.OWRITE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		writeFid(t, fid, randBytes(5, 1<<20))
		fid.Close()
		wantConsRe(t, f, "sync", `\tmain sync: wrote \d+ blocks\n`)
		wantCons(t, f, "sync", "\tmain sync: wrote 0 blocks\n")
		if more := checkDf(t, f, "df", "main"); more < used+1<<20-64<<10 {
			t.Errorf("df: %d used after writing 1 MiB to %d", more, used)
		}
		wantCons(t, f, "df x", "usage: df\n")
		wantConsErr(t, f, "sync x", "usage")
	})

	t.Run("snap-epoch-snaptime-snapclean", func(t *testing.T) {
		lo, hi := epochs(t, f)
		consQuiet(t, f, "snap -d /snapshot/2020/0101/0000")
		if lo2, hi2 := epochs(t, f); lo2 != lo || hi2 != hi+1 {
			t.Errorf("epoch after snap: low %d hi %d, was %d %d", lo2, hi2, lo, hi)
		}
		wantConsErr(t, f, "snap -d /snapshot/2020/0101/0000", "exists")
		consQuiet(t, f, "snap -s /active/usr -d /snapshot/2020/0101/0001")
		if names := dirNames(listFsys(t, whole, "/snapshot/2020/0101/0001")); !slices.Equal(names, []string{"glenda"}) {
			t.Errorf("snap -s /active/usr: %q", names)
		}
		consQuiet(t, f, "snap")
		now := time.Now()
		day := now.Format("2006/0102")
		snaps := dirNames(listFsys(t, whole, "/snapshot/"+day))
		if len(snaps) != 1 || (snaps[0] != now.Format("1504") && snaps[0] != now.Add(-time.Minute).Format("1504")) {
			t.Errorf("snap made %q in /snapshot/%s", snaps, day)
		}
		if st, err := whole.Stat("/snapshot/2020/0101/0000"); err != nil || st.Mode&0o222 != 0 || st.Mode&plan9.DMDIR == 0 {
			t.Errorf("snapshot root: %v %v", st, err)
		}
		wantConsErr(t, f, "snap -x", "usage")

		wantCons(t, f, "snaptime", "\tsnaptime -a none -s none -t none\n")
		consQuiet(t, f, "snaptime -a 0300 -s 60 -t 1440")
		wantCons(t, f, "snaptime", "\tsnaptime -a 0300 -s 60 -t 1440\n")
		consQuiet(t, f, "snaptime -s none")
		wantCons(t, f, "snaptime", "\tsnaptime -a 0300 -s none -t 1440\n")
		for _, bad := range []string{"snaptime -a 2400", "snaptime -a 123", "snaptime -a 0960", "snaptime -s", "snaptime -x 1", "snaptime extra"} {
			wantConsErr(t, f, bad, "usage")
		}
		wantCons(t, f, "snaptime", "\tsnaptime -a 0300 -s none -t 1440\n")

		// snapclean with the snaptime timeout: the 2020 snapshots
		// are older than a day, today's is not.
		consQuiet(t, f, "snapclean")
		if names := dirNames(listFsys(t, whole, "/snapshot/2020/0101")); len(names) != 0 {
			t.Errorf("snapclean left %q in /snapshot/2020/0101", names)
		}
		if names := dirNames(listFsys(t, whole, "/snapshot/"+day)); !slices.Equal(names, snaps) {
			t.Errorf("snapclean removed today's snapshot: %q", names)
		}
		if lo2, _ := epochs(t, f); lo2 <= lo {
			t.Errorf("snapclean did not raise the low epoch: %d", lo2)
		}
		// snapclean with an explicit timeout.
		consQuiet(t, f, "snap -d /snapshot/2021/0101/0000")
		consQuiet(t, f, "snaptime -a none -s none -t none")
		consQuiet(t, f, "snapclean")
		if names := dirNames(listFsys(t, whole, "/snapshot/2021/0101")); len(names) != 1 {
			t.Errorf("snapclean without a timeout removed %q", names)
		}
		consQuiet(t, f, "snapclean 60")
		if names := dirNames(listFsys(t, whole, "/snapshot/2021/0101")); len(names) != 0 {
			t.Errorf("snapclean 60 left %q", names)
		}
		wantConsErr(t, f, "snapclean x", "usage")
		wantConsErr(t, f, "epoch x y", "usage")
	})

	t.Run("epoch-n", func(t *testing.T) {
		// Two snapshots with a change between them, then the low
		// epoch raised past both.
		consQuiet(t, f, "snap -d /snapshot/2022/0101/0000")
		fid, err := glenda.Create("/usr/glenda/epoch", plan9.OWRITE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		writeFid(t, fid, randBytes(7, 256<<10))
		fid.Close()
		consQuiet(t, f, "snap -d /snapshot/2022/0101/0001")
		if fid, err = glenda.Open("/usr/glenda/epoch", plan9.OWRITE|plan9.OTRUNC); err != nil {
			t.Fatal(err)
		}
		writeFid(t, fid, []byte("new"))
		fid.Close()
		wantConsRe(t, f, "sync", `	main sync: wrote \d+ blocks\n`)
		lo, hi := epochs(t, f)
		held := checkDf(t, f, "df", "main")

		// Without -y: the snapshots older than n are listed and
		// nothing changes.
		out := wantConsRe(t, f, fmt.Sprintf("epoch %d", hi),
			fmt.Sprintf(`\tlow %d hi %d\n(\t/snapshot/\S+ epoch \d+\n)+\t(\d+) snapshots found with epoch < %d\n\tnot setting low epoch\n`, lo, hi, hi))
		if !strings.Contains(out[0], "/snapshot/2022/0101/0000 epoch") || !strings.Contains(out[0], "/snapshot/2022/0101/0001 epoch") {
			t.Errorf("epoch %d did not list the 2022 snapshots: %q", hi, out[0])
		}
		if lo2, _ := epochs(t, f); lo2 != lo {
			t.Errorf("epoch without -y moved the low epoch from %d to %d", lo, lo2)
		}
		// -y alone: the snapshots kept hold the low epoch back, and
		// stay readable.
		m := wantConsRe(t, f, fmt.Sprintf("epoch -y %d", hi),
			fmt.Sprintf(`(?s)\tlow %d hi %d\n.*\told: epoch -y %d\n\tnew: epoch -y (\d+)\n\twarning: snapshots hold the low epoch at (\d+)\n`, lo, hi, lo))
		if m != nil && m[1] != m[2] {
			t.Errorf("epoch -y: new low %s, warning says %s", m[1], m[2])
		}
		if got := readFsys(t, whole, "/snapshot/2022/0101/0001/usr/glenda/epoch"); !bytes.Equal(got, randBytes(7, 256<<10)) {
			t.Errorf("snapshot after epoch -y: %d bytes", len(got))
		}
		// -ry: the snapshots go, the low epoch reaches n and the
		// blocks only they held are free.
		out = wantConsRe(t, f, fmt.Sprintf("epoch -ry %d", hi),
			fmt.Sprintf(`(?s)\tlow \d+ hi %d\n.*\tremoved /snapshot/2022/0101/0000\n.*\told: epoch -y \d+\n\tnew: epoch -y %d\n`, hi, hi))
		if lo2, hi2 := epochs(t, f); lo2 != hi || hi2 != hi {
			t.Errorf("after epoch -ry %d: low %d hi %d\n%s", hi, lo2, hi2, out[0])
		}
		if names := dirNames(listFsys(t, whole, "/snapshot/2022/0101")); len(names) != 0 {
			t.Errorf("epoch -ry left %q", names)
		}
		if freed := checkDf(t, f, "df", "main"); freed > held-200<<10 {
			t.Errorf("epoch -ry freed too little: %d used, was %d", freed, held)
		}
		if got := readFsys(t, glenda, "/usr/glenda/epoch"); string(got) != "new" {
			t.Errorf("active file after epoch -ry: %q", got)
		}
		wantConsErr(t, f, fmt.Sprintf("epoch %d", hi+1), "above the high epoch")
		wantConsErr(t, f, "epoch -r", "usage")
		wantConsErr(t, f, "epoch -x 1", "usage")
	})

	t.Run("snap-a", func(t *testing.T) {
		fid, err := glenda.Create("/usr/glenda/archived", plan9.OWRITE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		fid.Write([]byte("to venti\n"))
		fid.Close()
		consArchive(t, f, "snap -a")
		m := f.waitLog(t, `archive vac:([0-9a-f]{40})\n`)
		day := time.Now().Format("2006/0102")
		if got := readFsys(t, whole, "/archive/"+day+"/usr/glenda/archived"); string(got) != "to venti\n" {
			t.Errorf("archive: %q", got)
		}
		wantConsRe(t, f, "sync", `\tmain sync: wrote \d+ blocks\n`)
		if last := run(t, nil, nil, "fossil/last", part); strings.TrimSpace(last.stdout) != "vac:"+m[1] {
			t.Errorf("fossil/last: %q, console said archive vac:%s", last.stdout, m[1])
		}
		// A second archive the same day is /archive/yyyy/mmdd.1.
		consArchive(t, f, "snap -a")
		names := dirNames(listFsys(t, whole, "/archive/"+day[:4]))
		if want := day[5:] + ".1"; !slices.Contains(names, want) {
			t.Errorf("second archive: %q, want %s", names, want)
		}
	})

	t.Run("halt-unhalt", func(t *testing.T) {
		w, err := glenda.Create("/usr/glenda/halted", plan9.OWRITE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		consQuiet(t, f, "halt")
		// As the C fossil's transcript shows.
		wantCons(t, f, "df", "file system main is halted\n")
		wantCons(t, f, "halt", "file system main is halted\n")
		wantCons(t, f, "fsys main sync", "file system main is halted\n")
		if _, err := w.Write([]byte("while halted")); err == nil {
			t.Error("9P write succeeded while halted")
		} else {
			t.Logf("write while halted: %v", err)
		}
		if _, err := glenda.Create("/usr/glenda/new", plan9.OWRITE, 0o644); err == nil {
			t.Error("9P create succeeded while halted")
		}
		if _, err := glenda.Stat("/usr/glenda/halted"); err != nil {
			t.Errorf("9P stat while halted: %v", err)
		}
		consQuiet(t, f, "unhalt")
		wantCons(t, f, "unhalt", "file system main not halted\n")
		if _, err := w.Write([]byte("after unhalt")); err != nil {
			t.Errorf("9P write after unhalt: %v", err)
		}
		w.Close()
		if got := readFsys(t, glenda, "/usr/glenda/halted"); string(got) != "after unhalt" {
			t.Errorf("after unhalt: %q", got)
		}
		checkDf(t, f, "df", "main")
		wantCons(t, f, "halt x", "usage: halt\n")
		wantCons(t, f, "unhalt x", "usage: unhalt\n")
	})
}

// TestFossilConsFixture: the C fossil's partition of fixture fossil-b
// gives the console what the C fossil's transcript shows.
func TestFossilConsFixture(t *testing.T) {
	f := startFixtureB(t)
	wantCons(t, f, "stat /active/usr/root/dir1/big.bin /active/usr/root/empty /active/usr/root/dir1",
		"\tstat /active/usr/root/dir1/big.bin big.bin root root 664 1500000\n"+
			"\tstat /active/usr/root/empty empty root root 664 0\n"+
			"\tstat /active/usr/root/dir1 dir1 root root d775 0\n")
	wantCons(t, f, "epoch", "\tlow 1 hi 4\n")
	// The C fossil's flchk counts 34 blocks used of 4070 (fossil-b.txt);
	// its df printed more just after the archive, before the blocks
	// the archive moved to venti were closed.
	wantCons(t, f, "df", "\tmain: 278,528 used + 33,062,912 free = 33,341,440 (0.8% used)\n")
	wantCons(t, f, "uname root", "\troot:root::\n")
	wantCons(t, f, "sync", "\tmain sync: wrote 0 blocks\n")
	consQuiet(t, f, "halt")
	wantCons(t, f, "df", "file system main is halted\n")
	consQuiet(t, f, "unhalt")
}

// TestFossilConsUsersAtOpen: "users -r /active/adm/users is
// automatically executed when the file system main is opened"
// (fossilcons(8)).
func TestFossilConsUsersAtOpen(t *testing.T) {
	f, part := start9P(t)
	consQuiet(t, f, "uname zoe zoe")
	f.stop(t)
	vaddr, _ := serveMem(t, "127.0.0.1")
	f = startFossil(t, part, "-c", "fsys main venti "+vaddr, "-c", "fsys main open -A -c 1000")
	wantCons(t, f, "uname zoe", "\tzoe:zoe::\n")
	wantCons(t, f, "users", fmt.Sprintf("\tnuser 6 len %d\n", 84+len("zoe:zoe::\n")))
	if st, err := mount9P(t, f.tcp, "zoe", "").Stat("/usr/zoe"); err != nil || st.Uid != "zoe" {
		t.Errorf("stat /usr/zoe: %v %v", st, err)
	}
}
