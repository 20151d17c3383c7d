//go:build !plan9

package ninep

import (
	"bytes"
	"testing"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"
)

// BenchmarkIO8K moves 8 KiB per request through the server, over
// loopback TCP, with the 9fans client and the memory file system: the
// server's share of what fossil costs a client.
func BenchmarkIO8K(b *testing.B) {
	const size = 8 << 20
	e := newEnv(b, Config{})
	e.fs.mk("active/tmp/big", "glenda", "sys", 0666, string(make([]byte, size)))
	conn, err := client.NewConn(e.dial(e.listen(ConnOptions{NoAuth: true})))
	if err != nil {
		b.Fatal(err)
	}
	fsys, err := conn.Attach(nil, "glenda", "")
	if err != nil {
		b.Fatal(err)
	}
	f, err := fsys.Open("tmp/big", plan9.ORDWR)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	block := bytes.Repeat([]byte("fossil!\n"), 1024)
	b.Run("write", func(b *testing.B) {
		b.SetBytes(int64(len(block)))
		for i := range b.N {
			if n, err := f.WriteAt(block, int64(i*len(block)%size)); err != nil || n != len(block) {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		buf := make([]byte, len(block))
		b.SetBytes(int64(len(buf)))
		for i := range b.N {
			if n, err := f.ReadAt(buf, int64(i*len(buf)%size)); err != nil || n != len(buf) {
				b.Fatal(n, err)
			}
		}
	})
}
