package cons

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"9fans.net/go/plan9"
	"github.com/plan9fossil/fossil/internal/srv"
)

// The 9p command speaks 9P to fossil's own server over a connection
// of the console's, the way 9pcon(8) would from outside: it sends one
// T-message given in words, and prints it and the reply.

// nineMsize is the message size of the console's connection, the C
// fossil's 8192 bytes of data plus the header.
const nineMsize = 8192 + plan9.IOHDRSIZE

// nineTimeout bounds the wait for a reply, so that a server that
// never answers cannot hang the console.
const nineTimeout = 30 * time.Second

type nineState struct {
	conn net.Conn
	tag  uint16
}

type tmsg struct {
	name  string
	typ   uint8
	argc  int // 0: checked by fill
	usage string
	fill  func(s *nineState, f *plan9.Fcall, args []string) error
}

var tmsgs = []tmsg{
	{"Tversion", plan9.Tversion, 2, "msize version", func(s *nineState, f *plan9.Fcall, a []string) error {
		n, err := num(a[0])
		if err != nil {
			return err
		}
		if n > nineMsize {
			return errors.New("msize too big")
		}
		f.Msize, f.Version = uint32(n), a[1]
		return nil
	}},
	{"Tauth", plan9.Tauth, 3, "afid uname aname", func(s *nineState, f *plan9.Fcall, a []string) error {
		n, err := num(a[0])
		f.Afid, f.Uname, f.Aname = uint32(n), a[1], a[2]
		return err
	}},
	{"Tflush", plan9.Tflush, 1, "oldtag", func(s *nineState, f *plan9.Fcall, a []string) error {
		n, err := num(a[0])
		f.Oldtag = uint16(n)
		return err
	}},
	{"Tattach", plan9.Tattach, 4, "fid afid uname aname", func(s *nineState, f *plan9.Fcall, a []string) error {
		fid, err := num(a[0])
		afid, err2 := num(a[1])
		f.Fid, f.Afid, f.Uname, f.Aname = uint32(fid), uint32(afid), a[2], a[3]
		return errors.Join(err, err2)
	}},
	{"Twalk", plan9.Twalk, 0, "fid newfid [name...]", func(s *nineState, f *plan9.Fcall, a []string) error {
		if len(a) < 2 {
			return errors.New("usage: Twalk tag fid newfid [name...]")
		}
		if len(a)-2 > plan9.MAXWELEM {
			return errors.New("too many names")
		}
		fid, err := num(a[0])
		nfid, err2 := num(a[1])
		f.Fid, f.Newfid, f.Wname = uint32(fid), uint32(nfid), a[2:]
		return errors.Join(err, err2)
	}},
	{"Topen", plan9.Topen, 2, "fid mode", func(s *nineState, f *plan9.Fcall, a []string) error {
		fid, err := num(a[0])
		mode, err2 := num(a[1])
		f.Fid, f.Mode = uint32(fid), uint8(mode)
		return errors.Join(err, err2)
	}},
	{"Tcreate", plan9.Tcreate, 4, "fid name perm mode", func(s *nineState, f *plan9.Fcall, a []string) error {
		fid, err := num(a[0])
		perm, err2 := strconv.ParseUint(a[2], 8, 32)
		mode, err3 := num(a[3])
		f.Fid, f.Name, f.Perm, f.Mode = uint32(fid), a[1], plan9.Perm(perm), uint8(mode)
		return errors.Join(err, err2, err3)
	}},
	{"Tread", plan9.Tread, 3, "fid offset count", func(s *nineState, f *plan9.Fcall, a []string) error {
		fid, err := num(a[0])
		off, err2 := num(a[1])
		cnt, err3 := num(a[2])
		f.Fid, f.Offset, f.Count = uint32(fid), off, uint32(cnt)
		return errors.Join(err, err2, err3)
	}},
	{"Twrite", plan9.Twrite, 3, "fid offset data", func(s *nineState, f *plan9.Fcall, a []string) error {
		fid, err := num(a[0])
		off, err2 := num(a[1])
		f.Fid, f.Offset, f.Data = uint32(fid), off, []byte(a[2])
		return errors.Join(err, err2)
	}},
	{"Tclunk", plan9.Tclunk, 1, "fid", fidOnly},
	{"Tremove", plan9.Tremove, 1, "fid", fidOnly},
	{"Tstat", plan9.Tstat, 1, "fid", fidOnly},
	{"Twstat", plan9.Twstat, 7, "fid name uid gid mode mtime length", func(s *nineState, f *plan9.Fcall, a []string) error {
		fid, err := num(a[0])
		var d plan9.Dir
		d.Null()
		d.Name, d.Uid, d.Gid = a[1], a[2], a[3]
		mode, err2 := num(a[4])
		mtime, err3 := num(a[5])
		length, err4 := num(a[6])
		if err := errors.Join(err, err2, err3, err4); err != nil {
			return err
		}
		d.Mode, d.Mtime, d.Length = plan9.Perm(mode), uint32(mtime), length
		b, err := d.Bytes()
		if err != nil {
			return err
		}
		f.Fid, f.Stat = uint32(fid), b
		return nil
	}},
	{"nexttag", 0, 0, "", nil},
}

func fidOnly(s *nineState, f *plan9.Fcall, a []string) error {
	fid, err := num(a[0])
	f.Fid = uint32(fid)
	return err
}

// num reads a number as strtoull(s, 0, 0) does; ~0 is all ones, as
// 9pcon takes it for "don't change" fields of Twstat.
func num(s string) (uint64, error) {
	if s == "~0" {
		return ^uint64(0), nil
	}
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number '%s'", s)
	}
	return n, nil
}

func (c *Console) cmd9p(x *Ctx, argv []string) error {
	f := NewFlags(argv, "usage: 9p T-message ...")
	for f.Next() {
		return f.Usage()
	}
	args := f.Args()
	if len(args) < 1 {
		return f.Usage()
	}
	var m *tmsg
	for i := range tmsgs {
		if tmsgs[i].name == args[0] {
			m = &tmsgs[i]
		}
	}
	if m == nil {
		return f.Usage()
	}
	args = args[1:]
	if m.argc != 0 && len(args) != m.argc {
		return fmt.Errorf("usage: %s %s", m.name, m.usage)
	}
	c.nineMu.Lock()
	defer c.nineMu.Unlock()
	s := &c.nine
	if m.fill == nil { // nexttag
		if len(args) != 1 {
			return errors.New("usage: nexttag tag")
		}
		n, err := num(args[0])
		if err != nil {
			return err
		}
		s.tag = uint16(n) - 1
		return nil
	}
	t := &plan9.Fcall{Type: m.typ}
	if err := m.fill(s, t, args); err != nil {
		if strings.HasPrefix(err.Error(), "usage:") {
			return err
		}
		return fmt.Errorf("%s: %v", m.name, err)
	}
	if m.typ == plan9.Tversion {
		t.Tag = plan9.NOTAG
	} else {
		s.tag++
		t.Tag = s.tag
	}
	if s.conn == nil {
		if c.cfg.Serve == nil {
			return errors.New("9p: no 9P server")
		}
		mine, theirs := net.Pipe()
		go c.cfg.Serve(theirs, "console", srv.Options{NoAuth: true})
		s.conn = mine
	}
	s.conn.SetDeadline(time.Now().Add(nineTimeout))
	if err := plan9.WriteFcall(s.conn, t); err != nil {
		c.drop9p()
		return fmt.Errorf("%s: write error: %v", m.name, err)
	}
	x.Tabf("-> %v", t)
	r, err := plan9.ReadFcall(s.conn)
	if err != nil {
		c.drop9p()
		return fmt.Errorf("%s: read error: %v", m.name, err)
	}
	x.Tabf("<- %v", r)
	return nil
}

// drop9p forgets a broken connection; the next 9p makes a new one.
func (c *Console) drop9p() {
	if c.nine.conn != nil {
		c.nine.conn.Close()
		c.nine.conn = nil
	}
}
