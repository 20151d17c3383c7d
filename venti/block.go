package venti

import "bytes"

// ZeroTruncate returns buf without the zeros that venti(6) says a client
// strips before writing a block of type t: trailing zero bytes of a data
// block, trailing zero scores of a pointer block (any slop after the last
// whole score goes too). Directory blocks are data as far as truncation
// goes; a root block is cut to RootSize.
func ZeroTruncate(t Type, buf []byte) []byte {
	if t == RootType {
		return buf[:min(len(buf), RootSize)]
	}
	if t.Depth() == 0 {
		n := len(buf)
		for n > 0 && buf[n-1] == 0 {
			n--
		}
		return buf[:n]
	}
	n := len(buf) / ScoreSize * ScoreSize
	for n > 0 && bytes.Equal(buf[n-ScoreSize:n], ZeroScore[:]) {
		n -= ScoreSize
	}
	return buf[:n]
}

// ZeroExtend undoes ZeroTruncate: it grows buf (a block of type t read
// from a server) to size bytes, with zero bytes for data and zero scores
// for pointer blocks. A block already size bytes long or longer is
// returned as it is.
func ZeroExtend(t Type, buf []byte, size int) []byte {
	n := len(buf)
	if n >= size {
		return buf
	}
	buf = append(buf, make([]byte, size-n)...)
	if t.Depth() == 0 || t == RootType {
		return buf
	}
	for p := (n + ScoreSize - 1) / ScoreSize * ScoreSize; p+ScoreSize <= size; p += ScoreSize {
		copy(buf[p:], ZeroScore[:])
	}
	return buf
}

// PointerScores returns the scores held in a pointer block, in order,
// ignoring any slop after the last whole score.
func PointerScores(block []byte) []Score {
	s := make([]Score, len(block)/ScoreSize)
	for i := range s {
		copy(s[i][:], block[i*ScoreSize:])
	}
	return s
}
