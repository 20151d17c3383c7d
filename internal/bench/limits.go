//go:build !plan9

package main

import (
	"crypto/sha1"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Limits are what this machine can do at best, measured the way the
// fixtures measured them for the C programs: the SHA-1 rate of 8 KiB
// blocks (every venti write and verified read hashes one), the disk's
// sequential write rate including the fsync that makes it durable, its
// read rate, and the round trip of a small message over TCP loopback
// (what one 9P or venti request at a time cannot beat).
type Limits struct {
	SHA1One  float64 // MB/s, one core
	SHA1All  float64 // MB/s, every core hashing at once
	SHA1Sum  float64 // MB/s, sha1sum(1) of a file in the page cache, as the fixtures measured the hashing limit; 0 without sha1sum
	DiskW    float64 // MB/s, 1 MiB writes then fsync
	DiskR    float64 // MB/s, 1 MiB reads from the page cache
	DiskRDir float64 // MB/s, 1 MiB O_DIRECT reads; 0 when not possible
	RTT      float64 // loopback round trips a second, 64-byte messages
	DiskNote string  // what DiskRDir means or why it is missing
}

// Machine describes where the figures were measured.
type Machine struct {
	CPU      string
	Cores    int
	Go       string
	OS       string
	Date     time.Time
	LoadAvg  string // /proc/loadavg at the start
	LoadEnd  string // and at the end
	MemTotal string
}

func measureMachine() Machine {
	m := Machine{
		Cores: runtime.NumCPU(),
		Go:    runtime.Version(),
		OS:    runtime.GOOS + "/" + runtime.GOARCH,
		Date:  time.Now().UTC(),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if m.CPU == "" {
		m.CPU = "unknown"
	}
	m.LoadAvg = loadAvg()
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				m.MemTotal = strings.TrimSpace(v)
			}
		}
	}
	return m
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) > 3 {
		f = f[:3]
	}
	return strings.Join(f, " ")
}

// measureLimits measures the limits, hashing for about dur per figure
// and writing diskBytes to a file in dir.
func measureLimits(dir string, dur time.Duration, diskBytes int64) (Limits, error) {
	var l Limits
	l.SHA1One = sha1Rate(1, dur)
	l.SHA1All = sha1Rate(runtime.NumCPU(), dur)
	var err error
	file := filepath.Join(dir, "disk.test")
	defer os.Remove(file)
	if l.DiskW, err = diskWrite(file, diskBytes); err != nil {
		return l, err
	}
	if l.DiskR, err = diskRead(file); err != nil {
		return l, err
	}
	l.SHA1Sum = sha1sumRate(file)
	l.DiskRDir, l.DiskNote = directRead(file)
	if l.RTT, err = loopbackRTT(dur); err != nil {
		return l, err
	}
	return l, nil
}

// sha1Rate hashes 8 KiB blocks on n goroutines for dur and returns the
// total MB/s.
func sha1Rate(n int, dur time.Duration) float64 {
	var wg sync.WaitGroup
	counts := make([]int64, n)
	start := time.Now()
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 8192)
			for i := range buf {
				buf[i] = byte(i*7 + g)
			}
			var sum [sha1.Size]byte
			for time.Since(start) < dur {
				for range 64 {
					buf[0]++
					sum = sha1.Sum(buf)
					buf[1] ^= sum[0]
				}
				counts[g] += 64
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var total int64
	for _, c := range counts {
		total += c
	}
	return mbs(total*8192, el)
}

// sha1sumRate runs sha1sum(1) on file three times and returns the
// median MB/s, or 0 if there is no sha1sum. The fixtures took sha1sum's
// rate for the machine's hashing limit: measured the same way, the two
// machines' limits compare.
func sha1sumRate(file string) float64 {
	st, err := os.Stat(file)
	if err != nil {
		return 0
	}
	var rates []float64
	for range 3 {
		start := time.Now()
		if err := exec.Command("sha1sum", file).Run(); err != nil {
			return 0
		}
		rates = append(rates, mbs(st.Size(), time.Since(start)))
	}
	slices.Sort(rates)
	return rates[1]
}

// diskWrite writes size bytes in 1 MiB writes and syncs them, as the
// fixtures' dd with conv=fdatasync did.
func diskWrite(file string, size int64) (float64, error) {
	f, err := os.Create(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 31)
	}
	start := time.Now()
	for off := int64(0); off < size; off += int64(len(buf)) {
		buf[0], buf[1] = byte(off>>20), byte(off>>28)
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return mbs(size, time.Since(start)), nil
}

// diskRead reads the file through in 1 MiB reads. Without root the page
// cache cannot be dropped, so this is the rate of reads from memory,
// which is where the benchmarks' partitions are read from too.
func diskRead(file string) (float64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	start := time.Now()
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	return mbs(n, time.Since(start)), nil
}

// loopbackRTT is the rate of 64-byte ping-pongs over TCP on 127.0.0.1,
// one at a time, both ends in this process.
func loopbackRTT(dur time.Duration) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 64)
	start := time.Now()
	n := 0
	for time.Since(start) < dur {
		for range 100 {
			if _, err := c.Write(buf); err != nil {
				return 0, err
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				return 0, err
			}
		}
		n += 100
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// mbs is n bytes in d as MB/s (10^6 bytes, as the fixtures count).
func mbs(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / 1e6 / d.Seconds()
}

func (l Limits) String() string {
	return fmt.Sprintf("SHA-1 %.0f MB/s (one core), %.0f MB/s (all); disk write+fsync %.0f MB/s, read %.0f MB/s; loopback %.0f round trips/s",
		l.SHA1One, l.SHA1All, l.DiskW, l.DiskR, l.RTT)
}
