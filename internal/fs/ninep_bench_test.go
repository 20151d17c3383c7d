//go:build !plan9

package fs

import (
	"net"
	"testing"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"

	"github.com/plan9fossil/fossil/internal/ninep"
)

type benchFsys struct{ fs *Fs }

func (b benchFsys) Open(p string) (ninep.File, error) { return b.fs.Open(p) }
func (b benchFsys) Flags() ninep.FsysFlags {
	return ninep.FsysFlags{NoAuth: true, NoPerm: true}
}

// BenchmarkNinep8K is the 9P path of the file server: the engine served
// by package ninep over loopback TCP, 8 KiB requests one at a time from
// 9fans.net/go's client, 64 MiB written then read.
func BenchmarkNinep8K(b *testing.B) {
	fs := benchFs(b, 256<<20)
	srv := ninep.NewServer(ninep.Config{Fsys: func(string) (ninep.Fsys, error) { return benchFsys{fs}, nil }})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go srv.ServeConn(c, "bench", ninep.ConnOptions{NoAuth: true, NoPerm: true})
		}
	}()
	c, err := client.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	fsys, err := c.Attach(nil, "glenda", "main/active")
	if err != nil {
		b.Fatal(err)
	}
	const n = 64 << 20
	buf := make([]byte, 8192)
	b.SetBytes(2 * n)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		f, err := fsys.Create("/bench", plan9.OWRITE|plan9.OTRUNC, 0o664)
		if err != nil {
			b.Fatal(err)
		}
		for off := 0; off < n; off += len(buf) {
			if _, err := f.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
		b.ReportMetric(float64(n)/time.Since(t0).Seconds()/1e6, "write-MB/s")
		t0 = time.Now()
		f, err = fsys.Open("/bench", plan9.OREAD)
		if err != nil {
			b.Fatal(err)
		}
		for {
			m, err := f.Read(buf)
			if m == 0 || err != nil {
				break
			}
		}
		f.Close()
		b.ReportMetric(float64(n)/time.Since(t0).Seconds()/1e6, "read-MB/s")
		fsys.Remove("/bench")
	}
}
