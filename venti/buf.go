package venti

import "sync"

// Message buffers are recycled: a venti connection moves a block of up
// to 56 KiB through one for every request, and fresh memory for each
// costs more in page faults and garbage collection than the copy
// itself.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, MaxMsgSize+2)
	return &b
}}

func getBuf() []byte { return (*bufPool.Get().(*[]byte))[:0] }

func putBuf(b []byte) {
	if cap(b) >= MaxMsgSize+2 {
		b = b[:0]
		bufPool.Put(&b)
	}
}

// readMsgBuf is ReadMsg into a pooled buffer, which the caller returns
// with putBuf once it is done with the message (whose Data aliases it).
func readMsgBuf(r interface{ Read([]byte) (int, error) }) (*Msg, []byte, error) {
	buf := getBuf()
	m, err := readMsgInto(r, buf)
	if err != nil {
		putBuf(buf)
		return nil, nil, err
	}
	return m, buf, nil
}
