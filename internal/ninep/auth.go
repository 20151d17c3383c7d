package ninep

import (
	"io"

	"9fans.net/go/plan9"
)

// An AuthFunc starts the server's side of an authentication
// conversation, for a Tauth from user uname for attach name aname. On
// Plan 9 the conversation is factotum's (see Factotum).
type AuthFunc func(uname, aname string) (AuthConv, error)

// An AuthConv is one authentication conversation, which the client
// holds by reading and writing its auth fid. Calls come one at a time.
type AuthConv interface {
	// Read returns the next message for the client; nothing once
	// the conversation is over.
	Read(p []byte) (int, error)
	// Write takes a message from the client.
	Write(p []byte) (int, error)
	// User returns the user the client proved to be, once the
	// conversation has ended well.
	User() (string, error)
	// Close ends the conversation.
	Close() error
}

// An authSession is the conversation behind an auth fid.
type authSession struct {
	conv  AuthConv
	uname string
}

func (a *authSession) read(count uint32) (*plan9.Fcall, error) {
	buf := make([]byte, count)
	n, err := a.conv.Read(buf)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return &plan9.Fcall{Type: plan9.Rread, Data: buf[:n]}, nil
}

func (a *authSession) write(data []byte) (*plan9.Fcall, error) {
	n, err := a.conv.Write(data)
	if err != nil {
		return nil, err
	}
	return &plan9.Fcall{Type: plan9.Rwrite, Count: uint32(n)}, nil
}

func (a *authSession) close() {
	a.conv.Close()
}

// auth answers Tauth with a new auth fid, unless the file system asked
// for or the connection needs no authentication.
func (c *conn) auth(r *request) (*plan9.Fcall, error) {
	tx := r.tx
	if c.inUse(tx.Afid) {
		return nil, errFidInUse
	}
	if c.opts.NoAuth {
		return nil, errNoAuthNeeded
	}
	fsname, _ := splitAname(tx.Aname)
	fsys, err := c.fsys(fsname)
	if err != nil {
		return nil, err
	}
	if fsys.Flags().NoAuth {
		return nil, errNoAuthNeeded
	}
	if c.s.cfg.Auth == nil {
		return nil, errAuthUnavail
	}
	conv, err := c.s.cfg.Auth(tx.Uname, tx.Aname)
	if err != nil {
		return nil, err
	}
	qid := plan9.Qid{Type: plan9.QTAUTH, Path: c.s.authPath.Add(1)}
	f := &fid{
		num:    tx.Afid,
		fsname: fsname,
		uname:  tx.Uname,
		qid:    qid,
		omode:  -1,
		auth:   &authSession{conv: conv, uname: tx.Uname},
	}
	if !c.claim(r) {
		conv.Close()
		return nil, errAbandoned
	}
	if err := c.install(f); err != nil {
		conv.Close()
		return nil, err
	}
	return &plan9.Fcall{Type: plan9.Rauth, Aqid: qid}, nil
}

// checkAuth checks that auth fid afid has proved the client to be
// uname.
func (c *conn) checkAuth(afid uint32, uname string) error {
	af, err := c.lookup(afid)
	if err != nil {
		return errNotAuthFid
	}
	defer af.put()
	af.mu.Lock()
	defer af.mu.Unlock()
	if af.auth == nil {
		return errNotAuthFid
	}
	if af.auth.uname != uname {
		return errUnameAuth
	}
	user, err := af.auth.conv.User()
	if err != nil {
		c.s.debugf("%s: authentication of %s: %v\n", c.name, uname, err)
		return errAuthFailed
	}
	if user != uname {
		c.s.debugf("%s: %s authenticated as %s\n", c.name, uname, user)
		return errUnameAuth
	}
	return nil
}
