package srv

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// oRCLOSE is Plan 9's remove-on-close open mode (ORCLOSE in open(2)),
// which package syscall does not name. A /srv file created with it
// disappears when fossil exits, however it exits.
const oRCLOSE = 64

// Dir returns the directory names are posted in: /srv.
func Dir() (string, error) { return "/srv", nil }

// mode is the permission of a posted 9P name: the C fossil makes it
// 0600 when the connection bypasses permissions or wstat rules.
func (o Options) mode() uint32 {
	if o.NoPerm || o.WstatAllow {
		return 0600
	}
	return 0666
}

// postFd posts fd as /srv/name, as srv(3) describes: create the file
// and write the descriptor's number into it. The returned descriptor
// keeps the name alive; closing it removes the name. A name that is
// already there (left by a program that did not use ORCLOSE) is
// replaced; if /srv is not bound, #s is used directly.
func postFd(name string, fd uintptr, mode uint32) (srvfd int, path string, err error) {
	path = "/srv/" + name
	srvfd, err = syscall.Create(path, syscall.O_WRONLY|oRCLOSE, mode)
	if err != nil && syscall.Remove(path) == nil {
		srvfd, err = syscall.Create(path, syscall.O_WRONLY|oRCLOSE, mode)
	}
	if err != nil {
		first := err
		path = "#s/" + name
		if srvfd, err = syscall.Create(path, syscall.O_WRONLY|oRCLOSE, mode); err != nil {
			return -1, "", fmt.Errorf("srv: create /srv/%s: %v", name, first)
		}
	}
	if _, err := syscall.Write(srvfd, []byte(strconv.Itoa(int(fd)))); err != nil {
		syscall.Close(srvfd)
		return -1, "", fmt.Errorf("srv: write %s: %v", path, err)
	}
	return srvfd, path, nil
}

// postNine posts one end of a pipe and serves 9P on the other. Every
// mount of the name shares this one stream.
func (s *Services) postNine(name string, opts Options) (*post, error) {
	p0, p1, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("srv pipe: %v", err)
	}
	srvfd, path, err := postFd(name, p0.Fd(), opts.mode())
	p0.Close() // the /srv file holds it now
	if err != nil {
		p1.Close()
		return nil, err
	}
	// add holds s.mu while posting, and serve takes it.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serve(p1, path, opts)
	}()
	return &post{
		where:  strconv.Itoa(srvfd),
		remove: func() { syscall.Close(srvfd) },
	}, nil
}

// postConsole posts one end of a pipe as a console; the console reads
// commands from the other end and writes its output there.
func (s *Services) postConsole(name string) (*post, error) {
	p0, p1, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("srv pipe: %v", err)
	}
	srvfd, path, err := postFd(name, p0.Fd(), 0600)
	p0.Close()
	if err != nil {
		p1.Close()
		return nil, err
	}
	var once sync.Once
	closeP1 := func() { once.Do(func() { p1.Close() }) }
	stop := s.cfg.Console.Attach(ConsoleEnd{
		Name: path,
		In:   noteProof(p1),
		Out:  p1,
		// con(1) puts the terminal in raw mode, so the console
		// echoes what is typed, as the C fossil does.
		Echo:           true,
		ZeroReadNotEOF: true,
		Ended:          closeP1,
	})
	return &post{
		where: strconv.Itoa(srvfd),
		remove: func() {
			syscall.Close(srvfd)
			stop()
			closeP1()
		},
	}, nil
}

// DialConsole opens the console posted as name (srv -p name):
// /srv/name unless name is a path. What is written is run as console
// commands; what is read is the console's output, shared with every
// other reader of the console.
func DialConsole(name string) (io.ReadWriteCloser, error) {
	path := name
	if !strings.Contains(name, "/") {
		path = "/srv/" + name
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// noteProof makes reads of rwc go on after a note (alarm, interrupt)
// interrupts them: on Plan 9 a note breaks a blocked read with the
// error "interrupted", which would otherwise end the connection, and
// for a boot fossil the machine's root with it.
func noteProof(rwc io.ReadWriteCloser) io.ReadWriteCloser { return retryReads{rwc} }

type retryReads struct{ io.ReadWriteCloser }

func (r retryReads) Read(p []byte) (int, error) {
	for tries := 0; ; tries++ {
		n, err := r.ReadWriteCloser.Read(p)
		if err == nil || n > 0 || tries >= 1000 || !strings.Contains(err.Error(), "interrupted") {
			return n, err
		}
	}
}
