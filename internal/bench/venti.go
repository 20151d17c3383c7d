//go:build !plan9

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plan9fossil/fossil/internal/vtstore"
	"github.com/plan9fossil/fossil/venti"
)

// Venti's configured caches for the bench: -C lump cache, -B block
// cache (the lump cache is their sum) and -I index cache. Its 64 MiB
// hold the pending index entries of all the bench's writes (about 1.7
// GiB of blocks; a flush starts at 1.8), so that no figure pays for
// rewriting the bench's small index, as the C figures did not.
const (
	ventiMem   = 16 << 20
	ventiBCMem = 16 << 20
	ventiICMem = 64 << 20
)

// ventiCaches is the memory venti is told it may use for caches.
const ventiCaches = ventiMem + ventiBCMem + ventiICMem

// ventiBloom is the size of the bench venti's bloom filter, which venti
// reads whole into memory.
const ventiBloom = 16 << 20

// ventiConfigured is the memory the bench venti is configured to use:
// its caches, its bloom filter and its write-behind queues.
const ventiConfigured = ventiCaches + ventiBloom + vtstore.WriteBehindMemory

// formatVenti makes a venti in dir with the venti-fmt tools: a sparse
// arenas partition of arenasSize bytes in arenas of arenaSize, an index
// section and a bloom filter, and returns its venti.conf.
func formatVenti(bin, dir, name string, arenasSize, arenaSize, isectSize int64) (string, error) {
	arenas := filepath.Join(dir, name+".arenas")
	isect := filepath.Join(dir, name+".isect")
	bloom := filepath.Join(dir, name+".bloom")
	for f, size := range map[string]int64{arenas: arenasSize, isect: isectSize, bloom: ventiBloom} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			return "", err
		}
		if err := os.Truncate(f, size); err != nil {
			return "", err
		}
	}
	conf := filepath.Join(dir, name+".conf")
	text := fmt.Sprintf("index main\narenas %s\nisect %s\nbloom %s\n", arenas, isect, bloom)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return "", err
	}
	for _, c := range [][]string{
		{"fmtarenas", "-a", fmt.Sprint(arenaSize), name, arenas},
		{"fmtisect", name + "isect", isect},
		{"fmtbloom", bloom},
		{"fmtindex", conf},
	} {
		if _, err := runCmd(filepath.Join(bin, c[0]), c[1:]...); err != nil {
			return "", err
		}
	}
	return conf, nil
}

// ventiArenas is the size of the bench venti's arenas partition for
// figures of size bytes: room for the runs of unique writes and more.
func ventiArenas(size int64) int64 { return max(2<<30, 8*size) }

// startVenti runs venti/venti -s on conf at tcp!ip!port with the
// bench's caches, and env added to its environment, and waits until it
// serves.
func startVenti(bin, conf, ip string, env ...string) (*server, string, error) {
	port, err := freePort(ip)
	if err != nil {
		return nil, "", err
	}
	addr := fmt.Sprintf("tcp!%s!%d", ip, port)
	cmd := exec.Command(filepath.Join(bin, "venti"), "-s", "-c", conf, "-a", addr,
		"-C", fmt.Sprint(ventiMem), "-B", fmt.Sprint(ventiBCMem), "-I", fmt.Sprint(ventiICMem))
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	s, err := startServer("venti", cmd)
	if err != nil {
		return nil, "", err
	}
	if err := s.waitFor("serving.", 60*time.Second, s.log, func() bool { return strings.Contains(s.log.String(), "serving.") }); err != nil {
		s.stop()
		return nil, "", err
	}
	return s, addr, nil
}

// makeBlocks returns n blocks of 8 KiB of incompressible data, each
// unique (its first 8 bytes are seed and its number).
func makeBlocks(seed uint64, n int) [][]byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 'b', 'e', 'n', 'c', 'h'}))
	all := make([]byte, n*8192)
	for i := 0; i+8 <= len(all); i += 8 {
		binary.LittleEndian.PutUint64(all[i:], r.Uint64())
	}
	blocks := make([][]byte, n)
	for i := range blocks {
		blocks[i] = all[i*8192 : (i+1)*8192 : (i+1)*8192]
		binary.BigEndian.PutUint32(blocks[i], uint32(seed))
		binary.BigEndian.PutUint32(blocks[i][4:], uint32(i))
	}
	return blocks
}

// each runs fn(i) for i in [0, n) on workers goroutines, stopping at
// the first error.
func each(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err; failed.Store(true) })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// ventiWrite writes the blocks on workers goroutines sharing c, then
// syncs, and returns the scores and the time taken.
func ventiWrite(c *venti.Conn, blocks [][]byte, workers int) ([]venti.Score, time.Duration, error) {
	ctx := context.Background()
	scores := make([]venti.Score, len(blocks))
	start := time.Now()
	err := each(len(blocks), workers, func(i int) error {
		s, err := c.Write(ctx, venti.DataType, blocks[i])
		scores[i] = s
		return err
	})
	if err == nil {
		err = c.Sync(ctx)
	}
	return scores, time.Since(start), err
}

// ventiRead reads the blocks of scores in the order given on workers
// goroutines. Each is checked against its score, as the C figures'
// reads were verified: venti.Conn.Read refuses a block whose SHA-1 is
// not the score asked for (hashing it again here would count the
// client's SHA-1 twice).
func ventiRead(c *venti.Conn, scores []venti.Score, order []int, workers int) (time.Duration, error) {
	ctx := context.Background()
	start := time.Now()
	err := each(len(order), workers, func(i int) error {
		b, err := c.Read(ctx, scores[order[i]], venti.DataType, 8192)
		if err == nil && len(b) != 8192 {
			err = fmt.Errorf("venti read %v: %d bytes, want 8192", scores[order[i]], len(b))
		}
		return err
	})
	return time.Since(start), err
}

// uniqueRuns is how many runs of unique writes the median is of.
const uniqueRuns = 3

// deepQueue is the requests outstanding for the second unique-write
// figure: with 16 (fossil's archiver) each side waits on the other's
// wake-ups between bursts, where 64 kept both busier in paired runs on
// a fresh venti (in the bench, one venti taking both, the gain is small
// and uneven).
const deepQueue = 64

// ventiResults are the venti figures, in MB/s.
type ventiResults struct {
	Unique16, Unique1      float64
	UniqueDeep             float64 // deepQueue at once
	Dup16, Dup1            float64
	SeqRead1, SeqRead16    float64
	RandRead1, RandRead16  float64
	UniqueBytes, ReadBytes int64
	Workers                int
}

// benchVenti measures a running venti at addr, moving about size bytes
// per figure (a quarter of it for the one-at-a-time writes).
func benchVenti(addr string, size int64) (ventiResults, error) {
	const workers = 16
	r := ventiResults{Workers: workers}
	c, err := venti.Dial(addr)
	if err != nil {
		return r, err
	}
	defer c.Close()
	n := int(size / 8192)
	// The headline figures are medians of three runs, each of new
	// blocks: on a shared machine one run can be a third off. Runs
	// with 16 and with a deeper queue take turns, so that both meet the
	// machine and venti (its log, its pending index entries) in the same
	// states. The first run's blocks serve the duplicate and read
	// figures.
	var blocks [][]byte
	var scores []venti.Score
	var rates, deep []float64
	for run := range uniqueRuns {
		b := makeBlocks(uint64(1+10*run), n)
		s, d, err := ventiWrite(c, b, workers)
		if err != nil {
			return r, fmt.Errorf("unique writes: %v", err)
		}
		if run == 0 {
			blocks, scores = b, s
		}
		rates = append(rates, mbs(int64(n)*8192, d))
		// The same with a deeper queue: what venti takes from a
		// client that keeps more requests outstanding (several
		// clients, or one not waiting on a tree walk as fossil's
		// archiver does). Half as many blocks, so that the index
		// entries of all the bench writes wait in memory: the
		// figures are of the log, as the C figures are.
		if _, d, err = ventiWrite(c, makeBlocks(uint64(1000+10*run), n/2), deepQueue); err != nil {
			return r, fmt.Errorf("unique writes, %d at once: %v", deepQueue, err)
		}
		deep = append(deep, mbs(int64(n/2)*8192, d))
	}
	slices.Sort(rates)
	slices.Sort(deep)
	r.Unique16, r.UniqueDeep = rates[len(rates)/2], deep[len(deep)/2]
	r.UniqueBytes = int64(n) * 8192
	var d time.Duration

	n1 := max(n/4, 1)
	if _, d, err = ventiWrite(c, makeBlocks(2, n1), 1); err != nil {
		return r, fmt.Errorf("unique writes, one at a time: %v", err)
	}
	r.Unique1 = mbs(int64(n1)*8192, d)

	if _, d, err = ventiWrite(c, blocks, workers); err != nil {
		return r, fmt.Errorf("duplicate writes: %v", err)
	}
	r.Dup16 = mbs(int64(n)*8192, d)
	if _, d, err = ventiWrite(c, blocks[:n1], 1); err != nil {
		return r, fmt.Errorf("duplicate writes, one at a time: %v", err)
	}
	r.Dup1 = mbs(int64(n1)*8192, d)

	// The reads need only the scores. Holding the blocks (and the
	// garbage of the other runs) would set this process's heap goal at
	// half a gigabyte, so that every block read came into fresh memory,
	// two page faults each, which under a hypervisor cost more than the
	// read: the client's bookkeeping, not venti.
	blocks = nil
	runtime.GC()

	seq := make([]int, n)
	for i := range seq {
		seq[i] = i
	}
	perm := rand.New(rand.NewPCG(3, 4)).Perm(n)
	r.ReadBytes = int64(n) * 8192
	for _, m := range []struct {
		order   []int
		workers int
		out     *float64
	}{
		{seq, 1, &r.SeqRead1}, {seq, workers, &r.SeqRead16},
		{perm, 1, &r.RandRead1}, {perm, workers, &r.RandRead16},
	} {
		d, err := ventiRead(c, scores, m.order, m.workers)
		if err != nil {
			return r, fmt.Errorf("reads: %v", err)
		}
		*m.out = mbs(int64(n)*8192, d)
	}
	return r, nil
}
