package ninep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// factotumMax bounds a factotum RPC message: verb, space and data.
// Factotum's own limit is 4096 bytes; the rest is slack.
const factotumMax = 8192

// A FactotumRPC speaks the RPC protocol of factotum(4) over an rpc
// file: each call writes a request, "verb" or "verb data", and reads
// the reply, "status" or "status data". Calls must not overlap.
type FactotumRPC struct {
	rw  io.ReadWriter
	buf []byte
}

// NewFactotumRPC returns a client for the rpc file rw.
func NewFactotumRPC(rw io.ReadWriter) *FactotumRPC {
	return &FactotumRPC{rw: rw, buf: make([]byte, factotumMax)}
}

// Call makes one RPC and returns the reply's status ("ok", "done",
// "error", "phase", "needkey", "toosmall", ...) and data.
func (r *FactotumRPC) Call(verb string, data []byte) (status string, reply []byte, err error) {
	req := []byte(verb)
	if len(data) > 0 {
		req = append(append(req, ' '), data...)
	}
	if len(req) > factotumMax {
		return "", nil, errors.New("factotum: message too long")
	}
	if _, err := r.rw.Write(req); err != nil {
		return "", nil, fmt.Errorf("factotum: %v", err)
	}
	n, err := r.rw.Read(r.buf)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", nil, fmt.Errorf("factotum: %v", err)
	}
	st, rest, _ := bytes.Cut(r.buf[:n], []byte(" "))
	return string(st), bytes.Clone(rest), nil
}

// AuthInfo is what factotum reports about a finished conversation
// (authsrv(2)): the client's and server's users, a capability and the
// session secret.
type AuthInfo struct {
	Cuid, Suid, Cap string
	Secret          []byte
}

// UnmarshalAuthInfo unpacks factotum's reply to authinfo: cuid, suid
// and cap as strings, then the secret, each with a 2-byte little-endian
// length.
func UnmarshalAuthInfo(b []byte) (*AuthInfo, error) {
	d := decoder{b: b}
	ai := &AuthInfo{Cuid: d.str(), Suid: d.str(), Cap: d.str()}
	ai.Secret = d.take(int(d.u16()))
	if d.bad {
		return nil, errors.New("factotum: bad authinfo")
	}
	return ai, nil
}

// Bytes packs ai as factotum does.
func (ai *AuthInfo) Bytes() []byte {
	var b []byte
	for _, s := range [][]byte{[]byte(ai.Cuid), []byte(ai.Suid), []byte(ai.Cap), ai.Secret} {
		b = le.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return b
}

// Factotum returns an AuthFunc that runs each conversation in a
// factotum rpc file got from open (OpenFactotum, or a test's), with
// the p9any protocol in the server role, as Plan 9's file servers do.
func Factotum(open func() (io.ReadWriteCloser, error)) AuthFunc {
	return func(uname, aname string) (AuthConv, error) {
		rwc, err := open()
		if err != nil {
			return nil, err
		}
		rpc := NewFactotumRPC(rwc)
		st, data, err := rpc.Call("start", []byte("proto=p9any role=server"))
		if err == nil && st != "ok" {
			err = replyError(st, data)
		}
		if err != nil {
			rwc.Close()
			return nil, err
		}
		return &factotumConv{rpc: rpc, rwc: rwc}, nil
	}
}

// replyError is the error of a factotum reply other than ok.
func replyError(status string, data []byte) error {
	if status == "error" {
		return fmt.Errorf("factotum: %s", data)
	}
	if len(data) == 0 {
		return fmt.Errorf("factotum: %s", status)
	}
	return fmt.Errorf("factotum: %s %s", status, data)
}

// A factotumConv relays an auth fid to factotum.
type factotumConv struct {
	rpc *FactotumRPC
	rwc io.ReadWriteCloser

	mu      sync.Mutex
	done    bool
	pending []byte // what factotum called too small to use yet
	user    string
}

func (f *factotumConv) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return 0, io.EOF
	}
	st, data, err := f.rpc.Call("read", nil)
	if err != nil {
		return 0, err
	}
	switch st {
	case "ok":
		if len(data) > len(p) {
			return 0, fmt.Errorf("factotum: message of %d bytes for a read of %d", len(data), len(p))
		}
		return copy(p, data), nil
	case "done":
		f.done = true
		return 0, io.EOF
	}
	return 0, replyError(st, data)
}

func (f *factotumConv) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return 0, errors.New("factotum: conversation over")
	}
	msg := append(f.pending, p...)
	st, data, err := f.rpc.Call("write", msg)
	if err != nil {
		return 0, err
	}
	switch st {
	case "ok":
		f.pending = nil
		return len(p), nil
	case "toosmall":
		// Factotum wants more of the message: keep this part and
		// send it again with the next write.
		f.pending = msg
		return len(p), nil
	case "done":
		f.pending = nil
		f.done = true
		return len(p), nil
	}
	return 0, replyError(st, data)
}

func (f *factotumConv) User() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.user != "" {
		return f.user, nil
	}
	if !f.done {
		return "", errors.New("factotum: authentication not finished")
	}
	st, data, err := f.rpc.Call("authinfo", nil)
	if err != nil {
		return "", err
	}
	if st != "ok" {
		return "", replyError(st, data)
	}
	ai, err := UnmarshalAuthInfo(data)
	if err != nil {
		return "", err
	}
	if ai.Cuid == "" {
		return "", errors.New("factotum: no user in authinfo")
	}
	f.user = ai.Cuid
	return f.user, nil
}

func (f *factotumConv) Close() error {
	return f.rwc.Close()
}
