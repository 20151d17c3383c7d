//go:build !plan9

package test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"
)

// Benchmarks of fossil/fossil over TCP loopback with the 9fans client,
// one request at a time per client as Plan 9's kernel sends them for
// one process. With the same client the C fossil wrote 70 MB/s and
// read 57 MB/s with 8 KiB requests on the machine these were written
// on.
//
//	go test -run '^$' -bench Fossil ./test/
//
// FOSSIL_CPUPROFILE=file in the environment makes the server write a
// CPU profile of its run there, when the benchmark stops it.

const (
	benchFileSize = 256 << 20
	cWriteMBs     = 70
	cReadMBs      = 57
)

// benchFossil is a fossil/fossil serving a fresh partition for a
// benchmark, with authentication off and no venti, and a directory
// /b glenda may write.
type benchFossil struct {
	cmd    *exec.Cmd
	addr   string
	stderr bytes.Buffer
}

func startBenchFossil(b *testing.B, size int64) *benchFossil {
	b.Helper()
	part := filepath.Join(b.TempDir(), "fossil")
	if err := os.WriteFile(part, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Truncate(part, size); err != nil {
		b.Fatal(err)
	}
	if r := run(b, nil, nil, "fossil/flfmt", "-y", "-l", "bench", part); !r.ok {
		b.Fatalf("flfmt: %s", r.stderr)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Skipf("no loopback: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	f := &benchFossil{addr: fmt.Sprintf("127.0.0.1:%d", port)}
	f.cmd = exec.Command(bin(b, "fossil/fossil"),
		"-c", "fsys main config "+part,
		"-c", "fsys main open -A -V -c 1000",
		"-c", "create /active/b glenda glenda d775",
		"-c", fmt.Sprintf("listen tcp!127.0.0.1!%d", port))
	f.cmd.Env = append(os.Environ(), "FOSSIL_FOREGROUND=1")
	f.cmd.Stderr = &f.stderr
	if err := f.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		// SIGTERM first, so that a CPU profile is written.
		f.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { f.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			f.cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("tcp", f.addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("fossil did not start: %s", f.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return f
}

// msizeConn offers the server msize in the client's Tversion: the 9fans
// client always asks for 128 KiB and takes what the server answers.
type msizeConn struct {
	net.Conn
	msize uint32
	once  sync.Once
}

func (c *msizeConn) Write(b []byte) (int, error) {
	var f *plan9.Fcall
	c.once.Do(func() {
		if m, err := plan9.UnmarshalFcall(b); err == nil && m.Type == plan9.Tversion {
			f = m
		}
	})
	if f == nil {
		return c.Conn.Write(b)
	}
	f.Msize = c.msize
	nb, err := f.Bytes()
	if err != nil {
		return 0, err
	}
	if _, err := c.Conn.Write(nb); err != nil {
		return 0, err
	}
	return len(b), nil
}

// mountMsize attaches as glenda with the given msize.
func mountMsize(b testing.TB, addr string, msize uint32) *client.Fsys {
	b.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Minute))
	c, err := client.NewConn(&msizeConn{Conn: nc, msize: msize})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	fsys, err := c.Attach(nil, "glenda", "")
	if err != nil {
		b.Fatal(err)
	}
	return fsys
}

// writeSeq writes size bytes to a new (or truncated) file, one request
// of iosize bytes at a time.
func writeSeq(fsys *client.Fsys, name string, size, iosize int) error {
	fid, err := fsys.Create(name, plan9.OWRITE|plan9.OTRUNC, 0o644)
	if err != nil {
		if fid, err = fsys.Open(name, plan9.OWRITE|plan9.OTRUNC); err != nil {
			return err
		}
	}
	defer fid.Close()
	buf := randBytes(int64(len(name)), iosize)
	for off := 0; off < size; off += iosize {
		buf[0], buf[1] = byte(off>>13), byte(off>>21) // no two blocks alike
		n, err := fid.WriteAt(buf, int64(off))
		if err != nil || n != iosize {
			return fmt.Errorf("%s: write at %d: %d %v", name, off, n, err)
		}
	}
	return nil
}

// readSeq reads a file through, one request of iosize bytes at a time.
func readSeq(fsys *client.Fsys, name string, size, iosize int) error {
	fid, err := fsys.Open(name, plan9.OREAD)
	if err != nil {
		return err
	}
	defer fid.Close()
	buf := make([]byte, iosize)
	total := 0
	for {
		n, err := fid.Read(buf)
		total += n
		if err == io.EOF || n == 0 {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: read at %d: %v", name, total, err)
		}
	}
	if total != size {
		return fmt.Errorf("%s: read %d bytes, want %d", name, total, size)
	}
	return nil
}

// summary prints one line for a benchmark of bytes each iteration.
func summary(b *testing.B, what string, n int, bytesPer int64, target float64) {
	el := b.Elapsed()
	mbs := float64(bytesPer) * float64(n) / 1e6 / el.Seconds()
	line := fmt.Sprintf("fossilbench: %s: %.1f MB/s (%d × %d MiB in %v)", what, mbs, n, bytesPer>>20, el.Round(time.Millisecond))
	if target > 0 {
		line += fmt.Sprintf("; C fossil %.0f MB/s, %.2fx", target, mbs/target)
	}
	fmt.Println(line)
}

func benchWrite(b *testing.B, msize uint32, iosize int, target float64) {
	f := startBenchFossil(b, 1<<30)
	fsys := mountMsize(b, f.addr, msize)
	b.SetBytes(benchFileSize)
	n := 0
	for b.Loop() {
		if err := writeSeq(fsys, "/b/big", benchFileSize, iosize); err != nil {
			b.Fatal(err)
		}
		n++
	}
	summary(b, fmt.Sprintf("sequential write, %d-byte requests, msize %d", iosize, msize), n, benchFileSize, target)
}

func benchRead(b *testing.B, msize uint32, iosize int, target float64) {
	f := startBenchFossil(b, 1<<30)
	fsys := mountMsize(b, f.addr, msize)
	if err := writeSeq(fsys, "/b/big", benchFileSize, iosize); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchFileSize)
	n := 0
	for b.Loop() {
		if err := readSeq(fsys, "/b/big", benchFileSize, iosize); err != nil {
			b.Fatal(err)
		}
		n++
	}
	summary(b, fmt.Sprintf("sequential read, %d-byte requests, msize %d", iosize, msize), n, benchFileSize, target)
}

func BenchmarkFossilWrite8K(b *testing.B) {
	benchWrite(b, 8192+plan9.IOHDRSZ, 8192, cWriteMBs)
}

func BenchmarkFossilRead8K(b *testing.B) {
	benchRead(b, 8192+plan9.IOHDRSZ, 8192, cReadMBs)
}

func BenchmarkFossilWrite64K(b *testing.B) {
	benchWrite(b, 65536+plan9.IOHDRSZ, 65536, 0)
}

func BenchmarkFossilRead64K(b *testing.B) {
	benchRead(b, 65536+plan9.IOHDRSZ, 65536, 0)
}

// benchTree makes /b/d1/d2/d3/file for the stat and walk benchmarks.
func benchTree(b *testing.B, fsys *client.Fsys) {
	path := "/b"
	for _, d := range []string{"d1", "d2", "d3"} {
		path += "/" + d
		fid, err := fsys.Create(path, plan9.OREAD, plan9.DMDIR|0o775)
		if err != nil {
			b.Fatal(err)
		}
		fid.Close()
	}
	fid, err := fsys.Create(path+"/file", plan9.OWRITE, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	fid.Write([]byte("some data"))
	fid.Close()
}

func opsSummary(b *testing.B, what string, n int) {
	el := b.Elapsed()
	fmt.Printf("fossilbench: %s: %.0f/s (%d in %v, %v each)\n", what, float64(n)/el.Seconds(), n, el.Round(time.Millisecond), (el / time.Duration(max(n, 1))).Round(100*time.Nanosecond))
}

// BenchmarkFossilStat: Tstat on a fid, one at a time.
func BenchmarkFossilStat(b *testing.B) {
	f := startBenchFossil(b, 64<<20)
	fsys := mountMsize(b, f.addr, 8192+plan9.IOHDRSZ)
	benchTree(b, fsys)
	fid, err := fsys.Open("/b/d1/d2/d3/file", plan9.OREAD)
	if err != nil {
		b.Fatal(err)
	}
	defer fid.Close()
	n := 0
	for b.Loop() {
		if _, err := fid.Stat(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	opsSummary(b, "Tstat", n)
}

// BenchmarkFossilWalk: a walk of four names to a new fid and its clunk.
func BenchmarkFossilWalk(b *testing.B) {
	f := startBenchFossil(b, 64<<20)
	fsys := mountMsize(b, f.addr, 8192+plan9.IOHDRSZ)
	benchTree(b, fsys)
	root, err := fsys.Open("/", plan9.OREAD)
	if err != nil {
		b.Fatal(err)
	}
	root.Close()
	n := 0
	for b.Loop() {
		// Fsys.Stat walks from the root, stats and clunks: three
		// messages, of which the walk is four names long.
		if _, err := fsys.Stat("b/d1/d2/d3/file"); err != nil {
			b.Fatal(err)
		}
		n++
	}
	opsSummary(b, "Twalk(4 names)+Tstat+Tclunk", n)
}

// benchParallel runs 16 clients, each on its own connection, writing
// (or reading) its own 16 MiB file at once.
func benchParallel(b *testing.B, read bool) {
	const clients, size = 16, 16 << 20
	f := startBenchFossil(b, 1<<30)
	var mounts []*client.Fsys
	for i := range clients {
		fsys := mountMsize(b, f.addr, 8192+plan9.IOHDRSZ)
		mounts = append(mounts, fsys)
		if read {
			if err := writeSeq(fsys, fmt.Sprintf("/b/f%d", i), size, 8192); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.SetBytes(clients * size)
	n := 0
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make([]error, clients)
		for i, fsys := range mounts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("/b/f%d", i)
				if read {
					errs[i] = readSeq(fsys, name, size, 8192)
				} else {
					errs[i] = writeSeq(fsys, name, size, 8192)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		n++
	}
	what := "writing"
	if read {
		what = "reading"
	}
	summary(b, fmt.Sprintf("16 clients each %s its own 16 MiB file, 8 KiB requests", what), n, clients*size, 0)
}

func BenchmarkFossilParallelWrite(b *testing.B) { benchParallel(b, false) }

func BenchmarkFossilParallelRead(b *testing.B) { benchParallel(b, true) }
