package ninep

import (
	"encoding/binary"
	"sync"

	"9fans.net/go/plan9"
)

// Reads are the bulk of a file server's traffic: each Rread's data is
// read into a pooled buffer, with room before it for the header so that
// the message is packed around the data in place, instead of two new
// buffers a request, which at hundreds of megabytes a second kept the
// collector busy and, under a memory limit, the process faulting fresh
// pages in.

var bufPool sync.Pool // of *[]byte

// getBuf returns a buffer of n bytes from the pool, or a new one.
func getBuf(n int) *[]byte {
	if p, _ := bufPool.Get().(*[]byte); p != nil && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n)
	return &b
}

// putBuf returns a buffer to the pool; nil is allowed.
func putBuf(p *[]byte) {
	if p != nil {
		bufPool.Put(p)
	}
}

// rreadHeader is the size of an Rread before its data: size[4] type[1]
// tag[2] count[4] (read(5)).
const rreadHeader = 4 + 1 + 2 + 4

// getReadBuf returns a pooled buffer for a read of up to count bytes,
// with room before them for the Rread's header, and the part the data
// goes in: the reply is then packed around the data where it lies.
func getReadBuf(count int) (p *[]byte, data []byte) {
	p = getBuf(rreadHeader + count)
	return p, (*p)[rreadHeader:]
}

// packRreadIn packs the Rread rx in buf when its data lies there as
// getReadBuf placed it, and returns the message; otherwise nil.
func packRreadIn(rx *plan9.Fcall, buf *[]byte) []byte {
	n := rreadHeader + len(rx.Data)
	if buf == nil || len(rx.Data) == 0 || cap(*buf) < n {
		return nil
	}
	b := (*buf)[:n]
	if &b[rreadHeader] != &rx.Data[0] {
		return nil
	}
	putRreadHeader(b, rx)
	return b
}

// packRread packs an Rread of rx.Data into a pooled buffer.
func packRread(rx *plan9.Fcall) *[]byte {
	p := getBuf(rreadHeader + len(rx.Data))
	putRreadHeader(*p, rx)
	copy((*p)[rreadHeader:], rx.Data)
	return p
}

// putRreadHeader writes the header of the Rread rx into b, which holds
// the whole message.
func putRreadHeader(b []byte, rx *plan9.Fcall) {
	binary.LittleEndian.PutUint32(b[0:], uint32(len(b)))
	b[4] = plan9.Rread
	binary.LittleEndian.PutUint16(b[5:], rx.Tag)
	binary.LittleEndian.PutUint32(b[7:], uint32(len(rx.Data)))
}
