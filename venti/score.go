package venti

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"
)

// ScoreSize is the size of a score in bytes.
const ScoreSize = 20

// A Score names a block: the SHA-1 hash of the block's contents.
type Score [ScoreSize]byte

// ZeroScore is the score of the zero-length block. Clients never send
// that block to a server: reading or writing it is answered locally.
var ZeroScore = Score(sha1.Sum(nil))

// Fingerprint returns the score of data.
func Fingerprint(data []byte) Score {
	return Score(sha1.Sum(data))
}

// String returns the score as 40 lower-case hexadecimal digits, the form
// venti/write prints.
func (s Score) String() string {
	return hex.EncodeToString(s[:])
}

// IsZero reports whether s is the zero score (the score of no data).
func (s Score) IsZero() bool { return s == ZeroScore }

var errBadScore = errors.New("bad score")

// ParseScore parses a score printed as 40 hexadecimal digits with an
// optional label prefix such as "vac:" (venti(6): scores may carry a
// label: prefix describing their format). It returns the score and the
// label without its colon ("" when there is none).
func ParseScore(s string) (Score, string, error) {
	var sc Score
	label := ""
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		label, s = s[:i], s[i+1:]
	}
	if len(s) != 2*ScoreSize {
		return sc, label, errBadScore
	}
	if _, err := hex.Decode(sc[:], []byte(s)); err != nil {
		return sc, label, errBadScore
	}
	return sc, label, nil
}

// MustParseScore is ParseScore for scores known to be well formed, as in
// tests and tables; it panics on a malformed one.
func MustParseScore(s string) Score {
	sc, _, err := ParseScore(s)
	if err != nil {
		panic("venti: bad score " + s)
	}
	return sc
}
