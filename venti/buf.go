package venti

import "sync"

// Message buffers are recycled: a venti connection moves a block of up
// to 56 KiB through one for every request, and fresh memory for each
// costs more in page faults and garbage collection than the copy
// itself. They travel as pointers, so that recycling one allocates
// nothing.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, MaxMsgSize+2)
	return &b
}}

// getBuf returns an empty buffer that holds any message.
func getBuf() *[]byte {
	b := bufPool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// putBuf recycles a buffer from getBuf; nil is ignored.
func putBuf(b *[]byte) {
	if b != nil && cap(*b) >= MaxMsgSize+2 {
		bufPool.Put(b)
	}
}

// readMsgBuf is ReadMsg into m and a pooled buffer, which the caller
// returns with putBuf once it is done with the message (whose Data
// aliases it).
func readMsgBuf(r interface{ Read([]byte) (int, error) }, m *Msg) (*[]byte, error) {
	buf := getBuf()
	b, err := readFrame(r, *buf)
	if err == nil {
		*buf = b
		err = m.unmarshal(b)
	}
	if err != nil {
		putBuf(buf)
		return nil, err
	}
	return buf, nil
}
