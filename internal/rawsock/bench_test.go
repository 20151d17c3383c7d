//go:build linux

package rawsock_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plan9fossil/fossil/internal/rawsock"
	"github.com/plan9fossil/fossil/internal/vtmem"
	"github.com/plan9fossil/fossil/venti"
)

// TestMain is also the venti server of BenchmarkVenti8K, when the
// benchmark starts this program as one.
func TestMain(m *testing.M) {
	if mode := os.Getenv("RAWSOCK_VENTI"); mode != "" {
		rawsock.SetEnabled(mode == "raw")
		l, err := venti.Listen("tcp!127.0.0.2!0")
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println(l.Addr())
		(&venti.Server{Handler: &vtmem.Store{}}).Serve(l)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// BenchmarkVenti8K writes unique 8 KiB blocks one at a time, each
// waiting for the last, to a venti server (a memory store) in another
// process, with both sides' connections read and written through the
// net package's methods or through the raw calls. One request at a time
// leaves the server's processors idle between requests, the case the
// raw calls are for; it reports both sides' CPU time a block.
func BenchmarkVenti8K(b *testing.B) {
	for _, mode := range []string{"net", "raw"} {
		b.Run(mode, func(b *testing.B) {
			rawsock.SetEnabled(mode == "raw")
			defer rawsock.SetEnabled(true)
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "RAWSOCK_VENTI="+mode)
			out, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer cmd.Wait()
			defer cmd.Process.Kill()
			addr, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			z, err := venti.Dial("tcp!" + strings.Replace(strings.TrimSpace(addr), ":", "!", 1))
			if err != nil {
				b.Fatal(err)
			}
			defer z.Close()
			block := make([]byte, 8192)
			b.SetBytes(int64(len(block)))
			server, client := cpuTime(b, cmd.Process.Pid), cpuTime(b, os.Getpid())
			n := 0
			for b.Loop() {
				binary.BigEndian.PutUint64(block, uint64(n))
				if _, err := z.Write(context.Background(), venti.DataType, block); err != nil {
					b.Fatal(err)
				}
				n++
			}
			server, client = cpuTime(b, cmd.Process.Pid)-server, cpuTime(b, os.Getpid())-client
			b.ReportMetric(float64(server.Microseconds())/float64(n), "server-µs/op")
			b.ReportMetric(float64(client.Microseconds())/float64(n), "client-µs/op")
		})
	}
}

// cpuTime is the user and system time of process pid so far.
func cpuTime(b *testing.B, pid int) time.Duration {
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command's name, which is in parentheses;
	// utime and stime are the 12th and 13th of them, in clock ticks
	// (100 a second on Linux).
	f := strings.Fields(string(s[bytes.LastIndexByte(s, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
