//go:build !plan9

package test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"

	"github.com/plan9fossil/fossil/venti"
)

// Fault tests: the servers meet a full disk, a venti that goes away in
// the middle of an archive, clients that hang up in the middle of
// their requests and clients too slow to read their replies. Each must
// be survived with nothing reformatted and nothing lost.
//
//	go test -count=1 -run Fault -v ./test/

// raw9P is a 9P connection the test drives message by message, to
// misbehave as no client library lets one.
type raw9P struct {
	nc net.Conn
	br *bufio.Reader
}

func dialRaw9P(t *testing.T, addr string) *raw9P {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &raw9P{nc: nc, br: bufio.NewReader(nc)}
}

func (r *raw9P) send(t *testing.T, f *plan9.Fcall) {
	t.Helper()
	b, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	r.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := r.nc.Write(b); err != nil {
		t.Fatalf("send %v: %v", f, err)
	}
}

func (r *raw9P) rpc(t *testing.T, f *plan9.Fcall) *plan9.Fcall {
	t.Helper()
	r.send(t, f)
	r.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	rx, err := plan9.ReadFcall(r.br)
	if err != nil {
		t.Fatalf("%v: %v", f, err)
	}
	if rx.Type == plan9.Rerror {
		t.Fatalf("%v: %s", f, rx.Ename)
	}
	return rx
}

// open negotiates msize, attaches as glenda (fid 0) and opens path
// (slash-separated, from the root) on fid 1 with mode.
func (r *raw9P) open(t *testing.T, msize uint32, path string, mode uint8) {
	t.Helper()
	r.rpc(t, &plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: msize, Version: plan9.VERSION9P})
	r.rpc(t, &plan9.Fcall{Type: plan9.Tattach, Tag: 1, Fid: 0, Afid: plan9.NOFID, Uname: "glenda"})
	r.rpc(t, &plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 0, Newfid: 1, Wname: strings.Split(strings.Trim(path, "/"), "/")})
	// A connection that hung up a moment ago may still hold an
	// exclusive-use file: the server lets its fids go after it has
	// seen the hang-up, so wait for that.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.send(t, &plan9.Fcall{Type: plan9.Topen, Tag: 1, Fid: 1, Mode: mode})
		r.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		rx, err := plan9.ReadFcall(r.br)
		if err != nil {
			t.Fatalf("Topen %s: %v", path, err)
		}
		if rx.Type != plan9.Rerror {
			return
		}
		if !strings.Contains(rx.Ename, "exclusive use file already open") || time.Now().After(deadline) {
			t.Fatalf("Topen %s: %s", path, rx.Ename)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// writeFile makes path hold data, 64 KiB a request.
func writeFile(t *testing.T, fsys *client.Fsys, path string, perm plan9.Perm, data []byte) {
	t.Helper()
	fid, err := fsys.Create(path, plan9.OWRITE|plan9.OTRUNC, perm)
	if err != nil {
		if fid, err = fsys.Open(path, plan9.OWRITE|plan9.OTRUNC); err != nil {
			t.Fatalf("create %s: %v", path, err)
		}
	}
	defer fid.Close()
	for off := 0; off < len(data); off += 64 << 10 {
		if _, err := fid.WriteAt(data[off:min(off+64<<10, len(data))], int64(off)); err != nil {
			t.Fatalf("write %s at %d: %v", path, off, err)
		}
	}
}

// miniLoad starts n load clients against addr, as TestFossilLoad's,
// for d. The function it returns waits for them and fails the test if
// one met an unexpected error or an operation took longer than bound,
// or if they did not finish at all (the server starved them); it
// returns their latencies.
func miniLoad(t *testing.T, addr string, n int, d, bound time.Duration) func() *latencies {
	t.Helper()
	lat := &latencies{}
	lr := startLoad(t, addr, n, lat)
	done := make(chan []error, 1)
	go func() {
		errs, _, _ := lr.drive(d)
		done <- errs
	}()
	return func() *latencies {
		t.Helper()
		var errs []error
		select {
		case errs = <-done:
		case <-time.After(d + 20*time.Second):
			lat.log(t, "the load so far", d)
			t.Fatalf("the load clients did not finish in %v: the server starves them", d+20*time.Second)
		}
		for i, err := range errs {
			if err != nil {
				t.Errorf("load client %d: %v", i, err)
			}
		}
		for _, op := range []string{"clunk", "create", "open", "read", "readdir", "remove", "stat", "walk", "write", "wstat"} {
			if m := lat.max(op); m > bound {
				t.Errorf("a %s took %v, more than %v", op, m.Round(time.Millisecond), bound)
			}
		}
		return lat
	}
}

// whoCount is how many connections the console's who lists.
func whoCount(t *testing.T, f *fossilServer) int {
	t.Helper()
	return strings.Count(consOut(t, f, "who"), "\t")
}

// TestFossilFaultFullDisk fills fossil's partition over 9P from four
// clients at once: the writes that fail say "file system is full",
// and every write that succeeded reads back; after files are removed
// and the space synced free, writing works again; fossil stops, flchk
// finds the partition clean, and a new fossil on it serves every file.
func TestFossilFaultFullDisk(t *testing.T) {
	f, part := loadFossil(t, 24<<20)
	const clients, fileSize = 4, 1 << 20
	type written struct {
		path string
		data []byte // what the writes that succeeded wrote
	}
	var mu sync.Mutex
	var files []written
	var wg sync.WaitGroup
	fullErrs := make([]error, clients)
	for c := range clients {
		fsys := mount9P(t, f.tcp, "glenda", "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				path := fmt.Sprintf("/load/c%d.f%d", c, i)
				data := randBytes(int64(c*1000+i), fileSize)
				fid, err := fsys.Create(path, plan9.OWRITE, 0o664)
				if err != nil {
					fullErrs[c] = fmt.Errorf("create %s: %w", path, err)
					return
				}
				off := 0
				for ; off < len(data); off += 8192 {
					if _, err = fid.WriteAt(data[off:off+8192], int64(off)); err != nil {
						err = fmt.Errorf("write %s at %d: %w", path, off, err)
						break
					}
				}
				if cerr := fid.Close(); err == nil && cerr != nil {
					err = fmt.Errorf("clunk %s: %w", path, cerr)
				}
				mu.Lock()
				files = append(files, written{path, data[:off]})
				mu.Unlock()
				if err != nil {
					fullErrs[c] = err
					return
				}
				if i > 1000 {
					fullErrs[c] = errors.New("never full")
					return
				}
			}
		}()
	}
	wg.Wait()
	for c, err := range fullErrs {
		if err == nil || !strings.HasSuffix(err.Error(), "file system is full") {
			t.Errorf("client %d stopped with %v, want file system is full", c, err)
		}
	}
	t.Logf("full after %d files; df: %s", len(files), strings.TrimSpace(consOut(t, f, "df")))
	if t.Failed() {
		t.FailNow()
	}
	fsys := mount9P(t, f.tcp, "glenda", "")
	check := func(fsys *client.Fsys, what string) {
		t.Helper()
		for _, w := range files {
			got := readFsys(t, fsys, w.path)
			if !bytes.Equal(got[:min(len(got), len(w.data))], w.data) || len(got) > fileSize {
				t.Errorf("%s: %s: %d bytes, not the %d written", what, w.path, len(got), len(w.data))
			}
		}
	}
	check(fsys, "full")

	// Free half, sync, and write again.
	var kept []written
	for i, w := range files {
		if i%2 == 0 {
			if err := fsys.Remove(w.path); err != nil {
				t.Fatalf("remove %s on a full disk: %v", w.path, err)
			}
		} else {
			kept = append(kept, w)
		}
	}
	files = kept
	consOut(t, f, "sync")
	for i := range 3 {
		w := written{fmt.Sprintf("/load/again%d", i), randBytes(int64(5000+i), fileSize)}
		writeFile(t, fsys, w.path, 0o664, w.data)
		files = append(files, w)
	}
	check(fsys, "after freeing space")
	consOut(t, f, "sync")
	f.stop(t)
	wantFlchkClean(t, part)

	f = startFossil(t, part, "-c", "fsys main open -A -V -c 1000")
	check(mount9P(t, f.tcp, "glenda", ""), "after a restart")
	f.stop(t)
	wantFlchkClean(t, part)
}

// TestVentiFaultFullDisk fills a venti of six 1 MiB arenas: the write
// that finds no room fails with "arenas full", blocks already stored
// may still be written (they are found, not stored again), every block
// stored reads back, a sync works; after a restart everything is still
// there, and checkarenas and checkindex find nothing wrong.
func TestVentiFaultFullDisk(t *testing.T) {
	conf, arenas := newSmallVenti(t, "full")
	v := startVenti(t, conf, "127.0.0.1")
	z, err := venti.Dial(v.addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	type block struct {
		score venti.Score
		data  []byte
	}
	var stored []block
	for i := 0; ; i++ {
		data := randBytes(int64(i), 8000) // incompressible
		s, err := z.Write(ctx, venti.DataType, data)
		if err != nil {
			if !strings.Contains(err.Error(), "arenas full") {
				t.Fatalf("write %d: %v, want arenas full", i, err)
			}
			t.Logf("full after %d blocks: %v", i, err)
			break
		}
		stored = append(stored, block{s, data})
		if i > 2000 {
			t.Fatal("6 MiB of arenas took 2000 8000-byte blocks")
		}
	}
	if _, err := z.Write(ctx, venti.DataType, randBytes(1e6, 100)); err == nil {
		t.Error("a new block was stored in full arenas")
	}
	if s, err := z.Write(ctx, venti.DataType, stored[0].data); err != nil || s != stored[0].score {
		t.Errorf("rewriting a stored block into full arenas: %v %v", s, err)
	}
	if err := z.Sync(ctx); err != nil {
		t.Errorf("sync with full arenas: %v", err)
	}
	readAllBack := func(z *venti.Conn, what string) {
		t.Helper()
		for _, b := range stored {
			got, err := z.Read(ctx, b.score, venti.DataType, 0)
			if err != nil || !bytes.Equal(got, b.data) {
				t.Fatalf("%s: read %v: %d bytes, %v", what, b.score, len(got), err)
			}
		}
	}
	readAllBack(z, "full")
	z.Close()
	stopVenti(t, v)
	wantVentiClean(t, conf, arenas)

	v = startVenti(t, conf, "127.0.0.1")
	z, err = venti.Dial(v.addr)
	if err != nil {
		t.Fatal(err)
	}
	readAllBack(z, "after a restart")
	if _, err := z.Write(ctx, venti.DataType, randBytes(2e6, 8000)); err == nil || !strings.Contains(err.Error(), "arenas full") {
		t.Errorf("write after the restart: %v, want arenas full", err)
	}
	z.Close()
	stopVenti(t, v)
	wantVentiClean(t, conf, arenas)
}

// TestFossilFaultVentiRestart kills venti (SIGKILL) in the middle of an
// archive of 64 MiB and starts it again on the same address a few
// seconds later: fossil's archiver, finding venti gone, tries again
// with growing pauses, its venti connection dials again, and the
// archive finishes by itself. Every file of the archive then reads back
// from venti alone, byte for byte, blocks the killed venti had
// acknowledged but not synced included. Last, with venti killed and
// started once more, fossil reads the archived files from it through
// /archive.
func TestFossilFaultVentiRestart(t *testing.T) {
	conf, _ := newVentiSized(t, "arch", "64M", 256<<20, 32<<20)
	port := freePort(t, "127.0.0.1")
	v, _ := startVentiAt(t, conf, "127.0.0.1", port)
	part := newPart(t, 256<<20)
	if r := run(t, nil, nil, "fossil/flfmt", "-y", part); !r.ok {
		t.Fatalf("flfmt: %+v", r)
	}
	f := startFossil(t, part, "-c", "fsys main venti "+v.addr, "-c", "fsys main open -A -c 1000",
		"-c", "create /active/load glenda glenda d775")
	fsys := mount9P(t, f.tcp, "glenda", "")
	const nfiles, size = 8, 8 << 20
	want := map[string][]byte{}
	for i := range nfiles {
		p := fmt.Sprintf("/load/f%d", i)
		want[p] = randBytes(int64(100+i), size)
		writeFile(t, fsys, p, 0o664, want[p])
	}
	day := time.Now().Format("2006/0102")

	clumps0 := wfClumps(t, v)
	consOut(t, f, "snap -a")
	// Kill venti once an eighth of the archive is on it.
	deadline := time.Now().Add(60 * time.Second)
	for wfClumps(t, v) < clumps0+nfiles*size/8192/8 {
		if time.Now().After(deadline) {
			t.Fatal("the archive does not reach venti")
		}
		time.Sleep(5 * time.Millisecond)
	}
	v.cmd.Process.Signal(syscall.SIGKILL)
	v.cmd.Wait()
	killed := time.Now()
	if b, _ := os.ReadFile(f.log); regexp.MustCompile(`archive vac:`).Match(b) {
		t.Fatalf("the archive finished before venti was killed: make it bigger")
	}
	retry := f.waitLog(t, `archive: (.*); trying again in`)
	t.Logf("with venti killed: archive: %s", retry[1])
	time.Sleep(3*time.Second - time.Since(killed))
	v, _ = startVentiAt(t, conf, "127.0.0.1", port)
	restarted := time.Now()
	score := f.waitLog(t, `archive vac:([0-9a-f]{40})`)[1]
	t.Logf("venti down for %v; the archive finished %v after it came back",
		restarted.Sub(killed).Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond))
	b, _ := os.ReadFile(f.log)
	t.Logf("the archiver's attempts:\n%s", strings.Join(regexp.MustCompile(`(?m)^.*archive: .*$`).FindAllString(string(b), -1), "\n"))

	// The archive, from venti alone.
	tree := wfArchive(t, v.addr, score)
	for p, data := range want {
		e, ok := tree[p]
		if !ok || !bytes.Equal(e.data, data) {
			t.Errorf("archive vac:%s: %s: %d bytes, want %d", score, p, len(e.data), len(data))
		}
	}
	consOut(t, f, "sync")
	if r := run(t, nil, nil, "fossil/last", part); strings.TrimSpace(r.stdout) != "vac:"+score {
		t.Errorf("fossil/last: %+v, want vac:%s", r, score)
	}

	// Reads of the archive through fossil, while venti is away and
	// after it is back. The files are larger than fossil's cache, so
	// most of their blocks come from venti.
	whole := mount9P(t, f.tcp, "glenda", "main")
	readArchived := func(p string) ([]byte, error) {
		fid, err := whole.Open("/archive/"+day+p, plan9.OREAD)
		if err != nil {
			return nil, err
		}
		defer fid.Close()
		return io.ReadAll(fid)
	}
	v.cmd.Process.Signal(syscall.SIGKILL)
	v.cmd.Wait()
	start := time.Now()
	if _, err := readArchived("/load/f1"); err == nil {
		t.Error("read the whole archive with venti gone")
	} else {
		t.Logf("reading the archive with venti gone: %v, after %v", err, time.Since(start).Round(time.Millisecond))
	}
	v, _ = startVentiAt(t, conf, "127.0.0.1", port)
	restarted = time.Now()
	for p, data := range want {
		var got []byte
		var err error
		for {
			// The redial runs every 2 s at most while venti is away;
			// the first reads may come before it.
			if got, err = readArchived(p); err == nil || time.Since(restarted) > 10*time.Second {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("/archive/%s%s after venti's restart: %d bytes, %v", day, p, len(got), err)
		}
	}
	t.Logf("archived files read back through fossil %v after venti's second restart", time.Since(restarted).Round(time.Millisecond))
	f.stop(t)
	r := run(t, nil, nil, "fossil/flchk", "-h", v.addr, part)
	if !r.ok || !flchkClean(r.stdout+r.stderr) {
		t.Errorf("flchk: %+v", r)
	}
}

// TestFossilFaultDisconnect has clients hang up in the middle of their
// writes, many times, while eight others work: one sends half a Twrite
// and closes, one sends a hundred Twrites and closes without reading a
// reply. Both write an exclusive-use file, so a fid the server failed
// to clunk would keep the next client out. The server stays up, the
// other clients see nothing, every 8 KiB chunk of the file holds the
// old data or the new, the connections are gone from who, and the
// server's threads and memory do not grow with the rounds.
func TestFossilFaultDisconnect(t *testing.T) {
	f, part := loadFossil(t, 256<<20)
	fsys := mount9P(t, f.tcp, "glenda", "")
	const chunk, nchunks = 8192, 100
	old := randBytes(1, chunk*nchunks)
	writeFile(t, fsys, "/load/x", plan9.DMEXCL|0o664, old)
	newChunk := func(i int) []byte { return randBytes(int64(1000+i), chunk) }

	pid := f.cmd.Process.Pid
	before := procStatus(t, pid)
	wait := miniLoad(t, f.tcp, 8, 5*time.Second, 5*time.Second)
	const rounds = 30
	for round := range rounds {
		// Half a Twrite, then gone.
		r := dialRaw9P(t, f.tcp)
		r.open(t, 8192+plan9.IOHDRSZ, "/load/x", plan9.OWRITE)
		b, _ := (&plan9.Fcall{Type: plan9.Twrite, Tag: 2, Fid: 1, Offset: 0, Data: newChunk(0)}).Bytes()
		r.nc.Write(b[:len(b)/2])
		r.nc.Close()

		// A hundred Twrites, no reply read, gone.
		r = dialRaw9P(t, f.tcp)
		r.open(t, 8192+plan9.IOHDRSZ, "/load/x", plan9.OWRITE)
		var all []byte
		for i := range nchunks {
			b, _ := (&plan9.Fcall{Type: plan9.Twrite, Tag: uint16(10 + i), Fid: 1, Offset: uint64(i * chunk), Data: newChunk(i)}).Bytes()
			all = append(all, b...)
		}
		r.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		r.nc.Write(all)
		r.nc.Close()

		// The file opens again (its fid was clunked), and each
		// chunk is old or new, whole.
		var got []byte
		deadline := time.Now().Add(10 * time.Second)
		for {
			fid, err := fsys.Open("/load/x", plan9.OREAD)
			if err == nil {
				got, err = io.ReadAll(fid)
				fid.Close()
				if err != nil {
					t.Fatal(err)
				}
				break
			}
			if !strings.Contains(err.Error(), "exclusive use file already open") || time.Now().After(deadline) {
				t.Fatalf("round %d: open after the hang-ups: %v", round, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(got) != len(old) {
			t.Fatalf("round %d: %d bytes, want %d", round, len(got), len(old))
		}
		nnew := 0
		for i := range nchunks {
			c := got[i*chunk : (i+1)*chunk]
			switch {
			case bytes.Equal(c, newChunk(i)):
				nnew++
			case bytes.Equal(c, old[i*chunk:(i+1)*chunk]):
			default:
				t.Fatalf("round %d: chunk %d is neither the old data nor the new", round, i)
			}
		}
		if round < 3 {
			t.Logf("round %d: %d of %d chunks written before the hang-up was seen", round, nnew, nchunks)
		}
		// The next round's writes must show: put the old data back.
		writeFile(t, fsys, "/load/x", 0, old)
	}
	wait().log(t, "8 clients beside the hang-ups", 5*time.Second)
	// Wait for the hang-ups to be wound down, then count.
	deadline := time.Now().Add(10 * time.Second)
	n := whoCount(t, f)
	for n > 1+8+1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n = whoCount(t, f)
	}
	after := procStatus(t, pid)
	t.Logf("%d rounds: who lists %d connections; threads %d before, %d after; RSS %s before, %s after, peak %s",
		rounds, n, before["Threads"], after["Threads"], mib(before["VmRSS"]), mib(after["VmRSS"]), mib(after["VmHWM"]))
	// The load's 8 connections and its set-up one are closed when
	// the test ends; this test's own is open.
	if n > 1+8+1 {
		t.Errorf("who lists %d connections after the hang-ups:\n%s", n, consOut(t, f, "who"))
	}
	if after["Threads"] > before["Threads"]+16 {
		t.Errorf("threads grew from %d to %d", before["Threads"], after["Threads"])
	}
	if limit := fossilMemLimit(loadCache, loadBlockSize, 12); after["VmHWM"] > limit {
		t.Errorf("peak memory %s passed %s", mib(after["VmHWM"]), mib(limit))
	}
	// And a fresh load runs clean.
	miniLoad(t, f.tcp, 8, 2*time.Second, 5*time.Second)()
	consOut(t, f, "sync")
	f.stop(t)
	wantFlchkClean(t, part)
}

// slowReader opens path on a new connection and floods it with reads
// of 128 KiB whose replies it never reads; its receive buffer is kept
// small, so the server's replies to it soon block. It returns a
// function that hangs up and reports how many reads were sent.
func slowReader(t *testing.T, addr, path string, size int) func() int {
	t.Helper()
	r := dialRaw9P(t, addr)
	if tc, ok := r.nc.(*net.TCPConn); ok {
		tc.SetReadBuffer(4096)
	}
	r.open(t, 128<<10+plan9.IOHDRSZ, path, plan9.OREAD)
	r.nc.SetDeadline(time.Time{})
	var sent int
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Tags are used once each: the server answers a tag in
		// use with an error, and this client wants reads.
		for tag := uint16(100); tag < plan9.NOTAG; tag++ {
			off := uint64(tag) * 128 << 10 % uint64(size)
			b, _ := (&plan9.Fcall{Type: plan9.Tread, Tag: tag, Fid: 1, Offset: off, Count: 128 << 10}).Bytes()
			// The write blocks once the server stops reading
			// this connection, until the hang-up.
			if _, err := r.nc.Write(b); err != nil {
				return
			}
			sent++
		}
	}()
	return func() int {
		r.nc.Close()
		<-done
		return sent
	}
}

// TestFossilFaultSlowReader has eight ordinary clients work beside one
// that reads a big file and never reads the replies: the ordinary
// clients' operations must each finish within a bound, and the server's
// memory stay bounded.
//
// The 9P server's workers used to write their replies themselves, so
// once the slow client's socket was full every worker blocked in a write
// to it (up to msg -m, 32, for one connection, more than msg -p, 16, in
// all) and no other connection was served; a worker now leaves its slot
// before writing (ninep conn.run).
func TestFossilFaultSlowReader(t *testing.T) {
	f, part := loadFossil(t, 256<<20)
	fsys := mount9P(t, f.tcp, "glenda", "")
	const size = 8 << 20
	writeFile(t, fsys, "/load/big", 0o664, randBytes(7, size))
	pid := f.cmd.Process.Pid
	hangUp := slowReader(t, f.tcp, "/load/big", size)
	time.Sleep(time.Second) // let its socket fill
	// A first client, with a deadline short enough to fail fast.
	nc, err := net.DialTimeout("tcp", f.tcp, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c, err := client.NewConn(nc)
	if err == nil {
		var fs *client.Fsys
		if fs, err = c.Attach(nil, "glenda", ""); err == nil {
			_, err = fs.Stat("/load/big")
		}
		c.Close()
	}
	if err != nil {
		t.Fatalf("another client, beside the one that never reads: %v", err)
	}
	wait := miniLoad(t, f.tcp, 8, 5*time.Second, 5*time.Second)
	lat := wait()
	t.Logf("the client that never reads sent %d reads", hangUp())
	lat.log(t, "8 clients beside one that never reads", 5*time.Second)
	st := procStatus(t, pid)
	limit := fossilMemLimit(loadCache, loadBlockSize, 12)
	t.Logf("fossil memory: RSS %s, peak %s (limit %s); threads %d",
		mib(st["VmRSS"]), mib(st["VmHWM"]), mib(limit), st["Threads"])
	if st["VmHWM"] > limit {
		t.Errorf("peak memory %s passed %s", mib(st["VmHWM"]), mib(limit))
	}
	consOut(t, f, "sync")
	f.stop(t)
	wantFlchkClean(t, part)
}

// TestFossilFaultDribble has eight ordinary clients work beside one
// that sends its messages a byte every 10 ms (Tversion, Tattach, then
// walks and clunks, reading each reply): its requests are answered, and
// the ordinary clients' operations each finish within a bound.
func TestFossilFaultDribble(t *testing.T) {
	f, part := loadFossil(t, 256<<20)
	pid := f.cmd.Process.Pid
	r := dialRaw9P(t, f.tcp)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		msgs := []*plan9.Fcall{
			{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: 8192 + plan9.IOHDRSZ, Version: plan9.VERSION9P},
			{Type: plan9.Tattach, Tag: 1, Fid: 0, Afid: plan9.NOFID, Uname: "glenda"},
		}
		n := 0
		defer func() { done <- n }()
		for i := 0; ; i++ {
			var m *plan9.Fcall
			if i < len(msgs) {
				m = msgs[i]
			} else if i%2 == 0 {
				m = &plan9.Fcall{Type: plan9.Twalk, Tag: 1, Fid: 0, Newfid: 1, Wname: []string{"load"}}
			} else {
				m = &plan9.Fcall{Type: plan9.Tclunk, Tag: 1, Fid: 1}
			}
			b, _ := m.Bytes()
			for _, c := range b {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				if _, err := r.nc.Write([]byte{c}); err != nil {
					t.Errorf("dribbling: %v", err)
					return
				}
			}
			r.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
			rx, err := plan9.ReadFcall(r.br)
			if err != nil || rx.Type != m.Type+1 {
				t.Errorf("dribbling: %v: %v %v", m, rx, err)
				return
			}
			n++
		}
	}()
	wait := miniLoad(t, f.tcp, 8, 5*time.Second, 5*time.Second)
	lat := wait()
	close(stop)
	n := <-done
	lat.log(t, "8 clients beside one that dribbles", 5*time.Second)
	if n < 10 {
		t.Errorf("the dribbling client's requests: %d answered, want 10 or more", n)
	}
	st := procStatus(t, pid)
	t.Logf("the dribbling client had %d requests answered; fossil memory: RSS %s, peak %s; threads %d",
		n, mib(st["VmRSS"]), mib(st["VmHWM"]), st["Threads"])
	if limit := fossilMemLimit(loadCache, loadBlockSize, 12); st["VmHWM"] > limit {
		t.Errorf("peak memory %s passed %s", mib(st["VmHWM"]), mib(limit))
	}
	consOut(t, f, "sync")
	f.stop(t)
	wantFlchkClean(t, part)
}
