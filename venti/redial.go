package venti

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plan9fossil/fossil/internal/dialstr"
)

// DialRedial is DialContext for a client that must outlive restarts of
// its server, as a file server archiving to venti must. The Conn it
// returns works as any other, but sits on a connection that, when the
// server goes away, dials the address again:
//
//   - Requests without a reply when the connection broke are sent again
//     on the new connection, which is safe because every venti request
//     is idempotent (a block written twice is stored once).
//   - While the server cannot be reached, requests fail at once with an
//     error saying so, and the address is dialed again in the
//     background, every 100 ms at first, then every 2 s, until the
//     server answers or the Conn is closed.
//   - A server that dies may lose the writes it acknowledged but had not
//     yet synced (a venti's write buffer). So after a connection breaks
//     with such writes, the next Sync fails, once, rather than vouch for
//     blocks it cannot know are stored; the writer must write them
//     again.
//
// The first connection must succeed: DialRedial returns its error.
func DialRedial(ctx context.Context, addr string) (*Conn, error) {
	addr = Addr(addr)
	return newRedialConn(ctx, func(ctx context.Context) (io.ReadWriteCloser, error) {
		return dialstr.Dial(ctx, addr, "venti")
	})
}

// NewRedialConn is DialRedial with a function that makes connections,
// for servers not reached by dial strings (tests, proxies).
func NewRedialConn(ctx context.Context, dial func(context.Context) (io.ReadWriteCloser, error)) (*Conn, error) {
	return newRedialConn(ctx, dial)
}

func newRedialConn(ctx context.Context, dial func(context.Context) (io.ReadWriteCloser, error)) (*Conn, error) {
	r := &redialer{dial: dial, out: map[uint8]*redialReq{}, closed: make(chan struct{})}
	r.cond.L = &r.mu
	nc, br, sid, err := r.handshake(ctx)
	if err != nil {
		return nil, err
	}
	r.nc, r.sid, r.state = nc, sid, redialUp
	go r.pump(r.gen, br)
	// The Conn exchanges versions and says hello over the redialer,
	// which has done both with the server already: it swallows the
	// Conn's version line and Thello and answers them itself.
	r.in = append(r.in, versionLine...)
	return NewConn(ctx, r, "")
}

// Redial timing: how long one attempt may take, and the pauses between
// attempts while the server is away.
const (
	redialTimeout  = 5 * time.Second
	redialFirst    = 100 * time.Millisecond
	redialMaxPause = 2 * time.Second
)

// States of a redialer.
const (
	redialUp        = iota // connected
	redialRedialing        // the connection broke; the first redial is under way
	redialDown             // that redial failed: requests fail at once
	redialClosed
)

// errLostWrites is what a Sync gets after the connection broke with
// writes acknowledged and not synced.
const errLostWrites = "venti: the connection to the server broke after it acknowledged writes it had not synced; they may be lost and must be written again"

// A redialer is the io.ReadWriteCloser under a redialing Conn: it reads
// the requests the Conn writes, one frame (size[2] body) at a time,
// remembers those not yet answered, and passes them to the server's
// current connection; it passes the server's replies up to the Conn,
// only whole frames, so a connection breaking in the middle of a reply
// leaves nothing half read. The Conn never sees a connection break:
// its requests are sent again or answered with Rerror.
type redialer struct {
	dial   func(context.Context) (io.ReadWriteCloser, error)
	closed chan struct{} // closed by Close: the redial loop stops

	wmu sync.Mutex // one writer at a time on the server's connection

	mu    sync.Mutex
	cond  sync.Cond // broadcast when in grows or the state changes
	state int
	gen   uint64             // counts connections; a stale one's errors are ignored
	nc    io.ReadWriteCloser // the server's connection, when up
	sid   string             // from the first Rhello
	err   error              // why the server is unreachable, when down

	out   map[uint8]*redialReq // requests without a reply, by tag
	seq   uint64               // orders out
	in    []byte               // whole frames for the Conn to read
	wpart []byte               // a frame the Conn has written in part
	vdone bool                 // the Conn's version line has been swallowed

	// Writes acknowledged on the current connection, and how many of
	// them a Sync has covered; lost is set when a connection broke with
	// acked > synced, until a Sync has failed for it.
	acked, synced uint64
	lost          bool
}

type redialReq struct {
	seq   uint64
	frame []byte
	acked uint64 // a Tsync: acked when it was sent
}

// handshake dials the server, exchanges versions and says hello.
func (r *redialer) handshake(ctx context.Context) (io.ReadWriteCloser, *bufio.Reader, string, error) {
	nc, err := r.dial(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	br := bufio.NewReaderSize(nc, 64<<10)
	sid, err := func() (string, error) {
		v, err := exchangeVersion(nc, br)
		if err != nil {
			return "", err
		}
		hello, err := (&Msg{Type: Thello, Version: v, Uid: "anonymous"}).Marshal(nil)
		if err != nil {
			return "", err
		}
		if _, err := nc.Write(hello); err != nil {
			return "", err
		}
		frame, err := readSizedFrame(br)
		if err != nil {
			return "", err
		}
		m, err := UnmarshalMsg(frame[2:])
		switch {
		case err != nil:
			return "", err
		case m.Type == Rerror:
			return "", fmt.Errorf("venti: hello: %s", m.Error)
		case m.Type != Rhello:
			return "", ProtocolError(fmt.Sprintf("Thello answered with %v", m.Type))
		}
		return m.Sid, nil
	}()
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		nc.Close()
		return nil, nil, "", err
	}
	return nc, br, sid, nil
}

// readSizedFrame reads one message with its size prefix.
func readSizedFrame(br *bufio.Reader) ([]byte, error) {
	hdr, err := br.Peek(2)
	if err != nil {
		return nil, err
	}
	frame := make([]byte, 2+int(binary.BigEndian.Uint16(hdr)))
	if _, err := io.ReadFull(br, frame); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return frame, nil
}

// Read gives the Conn the server's replies and the redialer's own.
func (r *redialer) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if len(r.in) > 0 {
			n := copy(p, r.in)
			r.in = r.in[n:]
			if len(r.in) == 0 {
				r.in = nil
			}
			r.cond.Broadcast() // a pump may wait for room
			return n, nil
		}
		if r.state == redialClosed {
			return 0, io.EOF
		}
		r.cond.Wait()
	}
}

// maxIn bounds the replies read ahead of the Conn.
const maxIn = 1 << 20

// pump reads the replies of connection gen until it breaks.
func (r *redialer) pump(gen uint64, br *bufio.Reader) {
	for {
		frame, err := readSizedFrame(br)
		r.mu.Lock()
		for err == nil && len(r.in) > maxIn && r.gen == gen && r.state == redialUp {
			r.cond.Wait()
		}
		if r.gen != gen || r.state != redialUp {
			r.mu.Unlock()
			return
		}
		if err != nil {
			r.brokeLocked(gen, err)
			r.mu.Unlock()
			return
		}
		r.replyLocked(frame)
		r.cond.Broadcast()
		r.mu.Unlock()
	}
}

// replyLocked takes a reply from the server for the Conn.
func (r *redialer) replyLocked(frame []byte) {
	if len(frame) >= 4 {
		tag := frame[3]
		if q := r.out[tag]; q != nil {
			delete(r.out, tag)
			switch MsgType(frame[2]) {
			case Rwrite:
				r.acked++
			case Rsync:
				r.synced = max(r.synced, q.acked)
			}
		}
	}
	r.in = append(r.in, frame...)
}

// failLocked answers the request of tag with an Rerror of its own.
func (r *redialer) failLocked(tag uint8, msg string) {
	delete(r.out, tag)
	b, err := (&Msg{Type: Rerror, Tag: tag, Error: msg}).Marshal(r.in)
	if err == nil {
		r.in = b
	}
	r.cond.Broadcast()
}

func (r *redialer) unavailable() string {
	return fmt.Sprintf("venti: server unavailable: %v", r.err)
}

// brokeLocked handles the end of connection gen: it closes it and
// starts redialing, unless that was done already.
func (r *redialer) brokeLocked(gen uint64, err error) {
	if r.state != redialUp || gen != r.gen {
		return
	}
	r.state = redialRedialing
	r.err = err
	r.nc.Close()
	r.nc = nil
	if r.acked > r.synced {
		r.lost = true
	}
	r.acked, r.synced = 0, 0
	r.cond.Broadcast()
	go r.redial()
}

// redial dials the server until it answers or the redialer is closed.
// The requests waiting are sent again on the new connection; if the
// first attempt fails, they fail, and so do new ones until a later
// attempt succeeds.
func (r *redialer) redial() {
	pause := redialFirst
	for {
		ctx, cancel := context.WithTimeout(context.Background(), redialTimeout)
		go func() {
			select {
			case <-r.closed:
				cancel()
			case <-ctx.Done():
			}
		}()
		nc, br, _, err := r.handshake(ctx)
		cancel()
		r.wmu.Lock()
		r.mu.Lock()
		if r.state == redialClosed {
			r.mu.Unlock()
			r.wmu.Unlock()
			if nc != nil {
				nc.Close()
			}
			return
		}
		if err == nil {
			r.gen++
			r.nc, r.state = nc, redialUp
			gen := r.gen
			var frames []byte
			for _, tag := range r.waitingLocked() {
				q := r.out[tag]
				if MsgType(q.frame[2]) == Tsync {
					if r.lost {
						r.lost = false
						r.failLocked(tag, errLostWrites)
						continue
					}
					q.acked = 0
				}
				frames = append(frames, q.frame...)
			}
			r.cond.Broadcast()
			r.mu.Unlock()
			go r.pump(gen, br)
			_, err := nc.Write(frames)
			r.wmu.Unlock()
			if err != nil {
				r.mu.Lock()
				r.brokeLocked(gen, err)
				r.mu.Unlock()
			}
			return
		}
		r.err = err
		if r.state == redialRedialing {
			r.state = redialDown
			for tag := range r.out {
				r.failLocked(tag, r.unavailable())
			}
		}
		r.mu.Unlock()
		r.wmu.Unlock()
		select {
		case <-r.closed:
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, redialMaxPause)
	}
}

// waitingLocked returns the tags of the requests waiting for replies,
// in the order they were written.
func (r *redialer) waitingLocked() []uint8 {
	tags := make([]uint8, 0, len(r.out))
	for tag := range r.out {
		tags = append(tags, tag)
	}
	slices.SortFunc(tags, func(a, b uint8) int { return cmp.Compare(r.out[a].seq, r.out[b].seq) })
	return tags
}

// Write takes the Conn's requests and passes them on.
func (r *redialer) Write(p []byte) (int, error) {
	r.mu.Lock()
	if r.state == redialClosed {
		r.mu.Unlock()
		return 0, ErrClosed
	}
	q := p
	if !r.vdone {
		i := bytes.IndexByte(q, '\n')
		if i < 0 {
			r.mu.Unlock()
			return len(p), nil
		}
		r.vdone = true
		q = q[i+1:]
	}
	r.wpart = append(r.wpart, q...)
	var send []byte
	for len(r.wpart) >= 2 {
		n := 2 + int(binary.BigEndian.Uint16(r.wpart))
		if len(r.wpart) < n {
			break
		}
		if frame := r.requestLocked(r.wpart[:n]); frame != nil {
			send = append(send, frame...)
		}
		r.wpart = r.wpart[n:]
	}
	if len(r.wpart) == 0 {
		r.wpart = nil
	} else {
		r.wpart = append([]byte(nil), r.wpart...)
	}
	if len(send) == 0 {
		r.mu.Unlock()
		return len(p), nil
	}
	gen := r.gen
	r.mu.Unlock()

	// A redial between here and the write has sent these requests
	// already, with the others waiting: send them only on the
	// connection they were meant for.
	r.wmu.Lock()
	r.mu.Lock()
	nc := r.nc
	if r.gen != gen || r.state != redialUp {
		nc = nil
	}
	r.mu.Unlock()
	var err error
	if nc != nil {
		_, err = nc.Write(send)
	}
	r.wmu.Unlock()
	if err != nil {
		// The requests stay waiting and go out again after the
		// redial, or fail.
		r.mu.Lock()
		r.brokeLocked(gen, err)
		r.mu.Unlock()
	}
	return len(p), nil
}

// requestLocked handles one frame the Conn wrote and returns what to
// send to the server now, if anything.
func (r *redialer) requestLocked(frame []byte) []byte {
	if len(frame) < 4 {
		return frame // malformed: let the server say so
	}
	t, tag := MsgType(frame[2]), frame[3]
	switch t {
	case Thello:
		b, err := (&Msg{Type: Rhello, Tag: tag, Sid: r.sid}).Marshal(r.in)
		if err == nil {
			r.in = b
		}
		r.cond.Broadcast()
		return nil
	case Tgoodbye:
		if r.state != redialUp {
			return nil
		}
		return frame
	case Tsync:
		if r.lost {
			r.lost = false
			r.failLocked(tag, errLostWrites)
			return nil
		}
	}
	r.seq++
	r.out[tag] = &redialReq{seq: r.seq, frame: append([]byte(nil), frame...), acked: r.acked}
	switch r.state {
	case redialUp:
		return frame
	case redialDown:
		r.failLocked(tag, r.unavailable())
	}
	return nil // redialing: sent or failed when the attempt ends
}

// Close closes the server's connection and stops redialing.
func (r *redialer) Close() error {
	r.mu.Lock()
	if r.state == redialClosed {
		r.mu.Unlock()
		return nil
	}
	r.state = redialClosed
	nc := r.nc
	r.nc = nil
	close(r.closed)
	r.cond.Broadcast()
	r.mu.Unlock()
	if nc != nil {
		return nc.Close()
	}
	return nil
}

// IsUnavailable reports whether err is the error of a request made
// through DialRedial's Conn while the server could not be reached.
func IsUnavailable(err error) bool {
	var se ServerError
	return errors.As(err, &se) && strings.HasPrefix(string(se), "venti: server unavailable")
}
