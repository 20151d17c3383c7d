//go:build !plan9

package main

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/client"
)

// The 9P client side: the 9fans.net/go client over TCP loopback, one
// request at a time per connection, as the fixtures measured the C
// fossil with it.

// versionConn rewrites the msize of the client's Tversion: the 9fans
// client always offers 128 KiB, and the server's answer decides. With
// msize 8 KiB + IOHDRSZ every 8 KiB read or write is one message, as
// Plan 9's kernel sends them.
type versionConn struct {
	net.Conn
	msize uint32
	once  sync.Once
}

func (c *versionConn) Write(p []byte) (int, error) {
	var tv *plan9.Fcall
	c.once.Do(func() {
		if f, err := plan9.UnmarshalFcall(p); err == nil && f.Type == plan9.Tversion {
			tv = f
		}
	})
	if tv == nil {
		return c.Conn.Write(p)
	}
	tv.Msize = c.msize
	b, err := tv.Bytes()
	if err != nil {
		return 0, err
	}
	if _, err := c.Conn.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// mount attaches to the fossil at addr (host:port) as glenda with
// requests of up to iosize bytes of data.
func mount(addr string, iosize int) (*client.Fsys, func(), error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.NewConn(&versionConn{Conn: nc, msize: uint32(iosize + plan9.IOHDRSZ)})
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	fsys, err := c.Attach(nil, "glenda", "")
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return fsys, func() { c.Close() }, nil
}

// writeFile writes size bytes of incompressible data, unique in every
// 8 KiB, to a new or truncated file, iosize bytes a request.
func writeFile(fsys *client.Fsys, name string, size int64, iosize int, seed uint64) error {
	fid, err := fsys.Create(name, plan9.OWRITE|plan9.OTRUNC, 0o664)
	if err != nil {
		if fid, err = fsys.Open(name, plan9.OWRITE|plan9.OTRUNC); err != nil {
			return err
		}
	}
	defer fid.Close()
	src := makeBlocks(seed, 64) // 512 KiB of data to cycle through
	buf := make([]byte, iosize)
	for off := int64(0); off < size; off += int64(iosize) {
		for i := 0; i < iosize; i += 8192 {
			k := (off + int64(i)) / 8192
			n := copy(buf[i:], src[k%int64(len(src))])
			if n >= 16 {
				// no two 8 KiB blocks of the file alike
				buf[i+8], buf[i+9], buf[i+10], buf[i+11] = byte(k), byte(k>>8), byte(k>>16), byte(k>>24)
			}
		}
		n, err := fid.WriteAt(buf, off)
		if err != nil || n != iosize {
			return fmt.Errorf("%s: write at %d: %d bytes, %v", name, off, n, err)
		}
	}
	return nil
}

// readFile reads a file through, iosize bytes a request, and checks
// its length.
func readFile(fsys *client.Fsys, name string, size int64, iosize int) error {
	fid, err := fsys.Open(name, plan9.OREAD)
	if err != nil {
		return err
	}
	defer fid.Close()
	buf := make([]byte, iosize)
	var total int64
	for {
		n, err := fid.Read(buf)
		total += int64(n)
		if err == io.EOF || (err == nil && n == 0) {
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

// mkdir makes a directory.
func mkdir(fsys *client.Fsys, name string) error {
	fid, err := fsys.Create(name, plan9.OREAD, plan9.DMDIR|0o775)
	if err != nil {
		return err
	}
	return fid.Close()
}

// smallFile creates a file holding a few bytes: four messages, a walk
// to the directory, the create, the write and the clunk.
func smallFile(fsys *client.Fsys, name string) error {
	fid, err := fsys.Create(name, plan9.OWRITE, 0o664)
	if err != nil {
		return err
	}
	if _, err := fid.Write([]byte("a small file\n")); err != nil {
		fid.Close()
		return err
	}
	return fid.Close()
}
