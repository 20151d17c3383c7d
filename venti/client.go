package venti

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"
)

// A Conn is a client's connection to a venti server. It multiplexes
// concurrent requests from many goroutines over one connection, matching
// replies to requests by tag, so up to 256 requests can be outstanding.
//
// Every method takes a context. When the context ends before the reply
// arrives the method returns at once; the request's tag stays reserved
// until the server answers it (venti has no flush), and its reply is
// dropped.
type Conn struct {
	rwc     io.ReadWriteCloser
	Version string // protocol version, "02"
	Sid     string // server's identity from Rhello (advisory)

	tags       chan uint8    // free tags; receiving one reserves it
	out        chan *[]byte  // marshalled requests for the writer; nil: flush and stop
	done       chan struct{} // closed when the connection fails or is closed
	writerDone chan struct{} // closed when the writer stops

	mu      sync.Mutex
	pending [256]*call // outstanding requests by tag
	err     error      // why the connection ended
}

// A call waits for the reply to one request. Calls are recycled once
// their reply has been taken; one given up on (its context ended) is
// left to the reader, which fills it in when the reply comes.
type call struct {
	done chan struct{} // buffered: the reader never blocks on it
	m    Msg           // the reply, set by the reader before done
}

var callPool = sync.Pool{New: func() any { return &call{done: make(chan struct{}, 1)} }}

// ErrClosed is returned by the methods of a Conn after Close.
var ErrClosed = errors.New("venti: connection closed")

// ErrHungUp reports a server that went away with requests outstanding.
var ErrHungUp = errors.New("venti: server hung up")

// NewConn starts a session over rwc: it exchanges version lines and says
// hello with the given uid (empty means "anonymous"). On failure rwc is
// closed.
func NewConn(ctx context.Context, rwc io.ReadWriteCloser, uid string) (*Conn, error) {
	if uid == "" {
		uid = "anonymous"
	}
	c := &Conn{
		rwc:        rwc,
		tags:       make(chan uint8, 256),
		out:        make(chan *[]byte, 64),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	for i := 0; i < 256; i++ {
		c.tags <- uint8(i)
	}
	br := bufio.NewReaderSize(rwc, 64<<10)
	stop := context.AfterFunc(ctx, func() { rwc.Close() })
	v, err := exchangeVersion(rwc, br)
	if !stop() {
		err = ctx.Err()
	}
	if err != nil {
		rwc.Close()
		return nil, err
	}
	c.Version = v
	go c.reader(br)
	go c.writer()
	var r Msg
	if err := c.rpc(ctx, &Msg{Type: Thello, Version: v, Uid: uid}, &r); err != nil {
		c.fail(err)
		return nil, fmt.Errorf("venti: hello: %w", err)
	}
	c.Sid = r.Sid
	return c, nil
}

// writer sends requests in order, flushing when no more are queued, so
// that many goroutines' requests share system calls.
func (c *Conn) writer() {
	defer close(c.writerDone)
	bw := bufio.NewWriterSize(c.rwc, 64<<10)
	for {
		var b *[]byte
		select {
		case b = <-c.out:
		case <-c.done:
			return
		}
		if b == nil {
			bw.Flush()
			return
		}
		_, err := bw.Write(*b)
		putBuf(b)
		if err != nil {
			c.fail(err)
			return
		}
		if len(c.out) == 0 {
			// Let goroutines with requests ready queue them, so
			// that one system call carries several.
			runtime.Gosched()
		}
		if len(c.out) == 0 {
			if err := bw.Flush(); err != nil {
				c.fail(err)
				return
			}
		}
	}
}

// reader delivers replies to the goroutines waiting for them, decoding
// each into its call. An Rread's data gets memory of its own, which goes
// to the caller; other replies are read into one buffer, reused (what
// is kept of them, a score or a string, is copied out).
func (c *Conn) reader(br *bufio.Reader) {
	small := make([]byte, 256)
	hungUp := func(err error) {
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			err = ErrHungUp
		}
		c.fail(err)
	}
	for {
		hdr, err := br.Peek(2) // size[2]
		if err != nil {
			hungUp(err)
			return
		}
		n := int(binary.BigEndian.Uint16(hdr))
		rread := false
		if n > 0 {
			if hdr, err = br.Peek(3); err != nil { // size[2] type[1]
				hungUp(err)
				return
			}
			rread = MsgType(hdr[2]) == Rread
		}
		var body []byte
		if rread {
			body = make([]byte, n)
		} else {
			if cap(small) < n {
				small = make([]byte, n)
			}
			body = small[:n]
		}
		br.Discard(2)
		if _, err := io.ReadFull(br, body); err != nil {
			hungUp(err)
			return
		}
		if n < 2 {
			c.fail(ProtocolError("short message"))
			return
		}
		if t := MsgType(body[0]); t&1 == 0 { // replies have odd types
			c.fail(ProtocolError(fmt.Sprintf("server sent %v", t)))
			return
		}
		tag := body[1]
		c.mu.Lock()
		cl := c.pending[tag]
		c.pending[tag] = nil
		c.mu.Unlock()
		if cl == nil {
			c.fail(ProtocolError(fmt.Sprintf("reply with unexpected tag %d", tag)))
			return
		}
		if err := cl.m.unmarshal(body); err != nil {
			c.fail(err)
			return
		}
		cl.done <- struct{}{}
		c.tags <- tag
	}
}

// fail ends the connection with err (the first error wins) and wakes
// every waiting request.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	close(c.done)
	c.rwc.Close()
}

func (c *Conn) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// rpc sends t and waits for its reply, which it puts in r. An Rerror
// comes back as an error carrying the server's text.
func (c *Conn) rpc(ctx context.Context, t, r *Msg) error {
	cl, err := c.start(ctx, t)
	if err != nil {
		return err
	}
	return c.finish(ctx, cl, t.Type, r)
}

// start sends t and returns the call that receives its reply. A context
// already ended sends nothing: the selects below choose at random among
// ready cases, and would often send it anyway.
func (c *Conn) start(ctx context.Context, t *Msg) (*call, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var tag uint8
	select {
	case tag = <-c.tags:
	case <-c.done:
		return nil, c.failure()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	t.Tag = tag
	b := getBuf()
	out, err := t.Marshal(*b)
	if err != nil {
		putBuf(b)
		c.tags <- tag
		return nil, err
	}
	*b = out
	cl := callPool.Get().(*call)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.err
	}
	c.pending[tag] = cl
	c.mu.Unlock()
	select {
	case c.out <- b:
	case <-c.done:
		return nil, c.failure()
	case <-ctx.Done():
		// Not sent, so no reply will come: take the tag back.
		putBuf(b)
		c.mu.Lock()
		if c.pending[tag] == cl {
			c.pending[tag] = nil
			c.tags <- tag
		}
		c.mu.Unlock()
		return nil, ctx.Err()
	}
	return cl, nil
}

// finish waits for the reply to a request of type t and puts it in r.
func (c *Conn) finish(ctx context.Context, cl *call, t MsgType, r *Msg) error {
	select {
	case <-cl.done:
		*r = cl.m
		cl.m = Msg{}
		callPool.Put(cl)
		if r.Type == Rerror {
			return ServerError(r.Error)
		}
		if r.Type != t+1 {
			err := ProtocolError(fmt.Sprintf("%v answered with %v", t, r.Type))
			c.fail(err)
			return err
		}
		return nil
	case <-c.done:
		return c.failure()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ServerError is an error reported by the server in an Rerror message.
type ServerError string

func (e ServerError) Error() string { return string(e) }

// Ping checks that the server answers.
func (c *Conn) Ping(ctx context.Context) error {
	var r Msg
	return c.rpc(ctx, &Msg{Type: Tping}, &r)
}

// Read reads the block with the given score and type, which may be at
// most max bytes long (MaxLumpSize if max is 0 or larger). The zero score
// reads as an empty block without asking the server. The block's score is
// checked against what was asked for.
func (c *Conn) Read(ctx context.Context, score Score, t Type, max int) ([]byte, error) {
	if score == ZeroScore {
		return []byte{}, nil
	}
	if max <= 0 || max > MaxLumpSize {
		max = MaxLumpSize
	}
	var r Msg
	if err := c.rpc(ctx, &Msg{Type: Tread, Score: score, BlockType: t, Count: uint16(max)}, &r); err != nil {
		return nil, err
	}
	if len(r.Data) > max {
		return nil, fmt.Errorf("venti: read %v: block of %d bytes is larger than %d", score, len(r.Data), max)
	}
	if got := Fingerprint(r.Data); got != score {
		return nil, fmt.Errorf("venti: read asked for %v got %v", score, got)
	}
	return r.Data, nil
}

// Write stores data as a block of type t and returns its score. An empty
// block is not sent: its score is ZeroScore. The server's answer is
// checked against the score computed here, while the request travels.
func (c *Conn) Write(ctx context.Context, t Type, data []byte) (Score, error) {
	if len(data) == 0 {
		return ZeroScore, nil
	}
	cl, err := c.start(ctx, &Msg{Type: Twrite, BlockType: t, Data: data})
	if err != nil {
		return Score{}, err
	}
	score := Fingerprint(data)
	var r Msg
	if err := c.finish(ctx, cl, Twrite, &r); err != nil {
		return Score{}, err
	}
	if r.Score != score {
		return Score{}, fmt.Errorf("venti: write: server returned score %v for block %v", r.Score, score)
	}
	return score, nil
}

// Sync waits until the server has written every block it acknowledged
// before the sync to permanent storage.
func (c *Conn) Sync(ctx context.Context) error {
	var r Msg
	return c.rpc(ctx, &Msg{Type: Tsync}, &r)
}

// Close says goodbye and closes the connection. Requests still waiting
// fail with ErrClosed.
func (c *Conn) Close() error {
	if c.failure() == nil {
		b, _ := (&Msg{Type: Tgoodbye}).Marshal(nil)
		// A server that stopped reading must not hold up Close.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
	send:
		for _, m := range []*[]byte{&b, nil} {
			select {
			case c.out <- m:
			case <-c.done:
				break send
			case <-ctx.Done():
				break send
			}
		}
		select {
		case <-c.writerDone:
		case <-c.done:
		case <-ctx.Done():
		}
	}
	c.fail(ErrClosed)
	return nil
}

// Err returns why the connection ended, or nil while it works.
func (c *Conn) Err() error { return c.failure() }
