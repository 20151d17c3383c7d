//go:build !plan9

package ninep

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"9fans.net/go/plan9"

	"github.com/plan9fossil/fossil/internal/users"
	"github.com/plan9fossil/fossil/internal/vac"
)

// stream packs messages into one byte stream.
func stream(fcs ...*plan9.Fcall) []byte {
	var b []byte
	for _, f := range fcs {
		m, err := f.Bytes()
		if err != nil {
			panic(err)
		}
		b = append(b, m...)
	}
	return b
}

// FuzzServe feeds arbitrary bytes to a live server as a client's 9P
// stream, with arbitrary connection options. The server must not
// panic, must return when the client hangs up, and must then hold no
// connection, fid, request, worker, goroutine or open File.
func FuzzServe(f *testing.F) {
	ver := &plan9.Fcall{Type: plan9.Tversion, Tag: plan9.NOTAG, Msize: 8192, Version: "9P2000"}
	att := &plan9.Fcall{Type: plan9.Tattach, Tag: 1, Fid: 0, Afid: plan9.NOFID, Uname: "glenda"}
	var wd plan9.Dir
	wd.Null()
	wd.Name = "y"
	f.Add(uint8(1), stream(ver, att,
		&plan9.Fcall{Type: plan9.Twalk, Tag: 2, Fid: 0, Newfid: 1, Wname: []string{"tmp"}},
		&plan9.Fcall{Type: plan9.Tcreate, Tag: 3, Fid: 1, Name: "x", Perm: 0664, Mode: plan9.ORDWR | plan9.ORCLOSE},
		&plan9.Fcall{Type: plan9.Twrite, Tag: 4, Fid: 1, Offset: 3, Data: []byte("hello")},
		&plan9.Fcall{Type: plan9.Tread, Tag: 5, Fid: 1, Count: 100},
		&plan9.Fcall{Type: plan9.Tflush, Tag: 6, Oldtag: 5},
		&plan9.Fcall{Type: plan9.Tstat, Tag: 7, Fid: 1},
		&plan9.Fcall{Type: plan9.Twstat, Tag: 8, Fid: 1, Stat: packDir(&wd)},
		&plan9.Fcall{Type: plan9.Twalk, Tag: 9, Fid: 0, Newfid: 2, Wname: []string{"tmp", "y"}},
		&plan9.Fcall{Type: plan9.Tremove, Tag: 10, Fid: 2},
		&plan9.Fcall{Type: plan9.Tclunk, Tag: 11, Fid: 1},
	))
	f.Add(uint8(1), stream(ver, att,
		&plan9.Fcall{Type: plan9.Twalk, Tag: 2, Fid: 0, Newfid: 1, Wname: []string{"tmp"}},
		&plan9.Fcall{Type: plan9.Topen, Tag: 3, Fid: 1, Mode: plan9.OREAD},
		&plan9.Fcall{Type: plan9.Tread, Tag: 4, Fid: 1, Count: 200},
		&plan9.Fcall{Type: plan9.Tread, Tag: 5, Fid: 1, Offset: 100, Count: 200},
		&plan9.Fcall{Type: plan9.Twalk, Tag: 6, Fid: 0, Newfid: 0, Wname: []string{"..", "tmp", "f"}},
		&plan9.Fcall{Type: plan9.Topen, Tag: 7, Fid: 0, Mode: plan9.OWRITE | plan9.OTRUNC},
		ver,
		&plan9.Fcall{Type: plan9.Tstat, Tag: 8, Fid: 0},
	))
	f.Add(uint8(0), stream(ver,
		&plan9.Fcall{Type: plan9.Tauth, Tag: 1, Afid: 5, Uname: "glenda"},
		&plan9.Fcall{Type: plan9.Tread, Tag: 2, Fid: 5, Count: 10},
		&plan9.Fcall{Type: plan9.Twrite, Tag: 3, Fid: 5, Data: []byte("password:glenda")},
		&plan9.Fcall{Type: plan9.Tattach, Tag: 4, Fid: 0, Afid: 5, Uname: "glenda"},
		&plan9.Fcall{Type: plan9.Tattach, Tag: 5, Fid: 1, Afid: plan9.NOFID, Uname: "none", Aname: "main"},
	))
	f.Add(uint8(15), []byte("\x13\x00\x00\x00\x64\xff\xff\x00\x20\x00\x00\x06\x009P2000\x07\x00\x00\x00\x78\x01"))
	tab, err := users.Parse(testUsers)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, flags uint8, data []byte) {
		fs := newMemFS()
		fs.mk("active", "adm", "sys", vac.ModeDir|0775, "")
		fs.mk("active/tmp", "adm", "sys", vac.ModeDir|0777, "")
		fs.mk("active/tmp/f", "glenda", "sys", vac.ModeExclusive|0664, "data")
		fs.mk("active/tmp/log", "glenda", "sys", vac.ModeAppend|0666, "")
		var errs syncBuffer
		srv := NewServer(Config{
			Fsys:     func(string) (Fsys, error) { return fs, nil },
			Users:    func() *users.Table { return tab },
			Errors:   &errs,
			MaxMsgs:  8,
			MaxProcs: 4,
			Auth:     passwordAuth,
		})
		opts := ConnOptions{NoAuth: flags&1 != 0, NoPerm: flags&2 != 0, WstatAllow: flags&4 != 0, NoneOK: flags&8 != 0}
		base := runtime.NumGoroutine()
		cli, sc := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- srv.ServeConn(sc, "fuzz", opts) }()
		drained := make(chan struct{})
		go func() {
			io.Copy(io.Discard, cli)
			close(drained)
		}()
		cli.SetWriteDeadline(time.Now().Add(timeout))
		cli.Write(data)
		cli.Close()
		select {
		case <-done:
		case <-time.After(timeout):
			t.Fatalf("ServeConn still running: %+v", srv.Stats())
		}
		<-drained
		if err := waitIdle(srv); err != nil {
			t.Fatal(err)
		}
		if err := fs.check(); err != nil {
			t.Fatal(err)
		}
		if s := errs.String(); s != "" {
			t.Fatalf("server reported: %s", s)
		}
		if err := goroutines(base); err != nil {
			t.Fatal(err)
		}
	})
}
