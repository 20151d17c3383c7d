package venti

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ProtocolVersion is the protocol version this package speaks. Version
// 04 (4-byte framing) is not offered: every Plan 9 venti speaks 02.
const ProtocolVersion = "02"

// versionLine is what each side sends first: venti-VERSIONS-COMMENT\n.
const versionLine = "venti-" + ProtocolVersion + "-libventi\n"

var errVersion = errors.New("venti: bad format in version string")

// exchangeVersion sends our version line and reads the peer's, as both
// client and server do at the start of a session (they write first, so
// neither waits on the other). It returns the version both speak.
func exchangeVersion(w io.Writer, r *bufio.Reader) (string, error) {
	werr := make(chan error, 1)
	go func() {
		_, err := io.WriteString(w, versionLine)
		werr <- err
	}()
	line, err := readVersionLine(r)
	if err == nil {
		err = <-werr
	}
	if err != nil {
		return "", err
	}
	for _, v := range strings.Split(line, ":") {
		if v == ProtocolVersion {
			return v, nil
		}
	}
	return "", fmt.Errorf("venti: unable to negotiate version (peer offers %s)", line)
}

// readVersionLine reads "venti-VERSIONS-COMMENT\n" and returns VERSIONS.
// The line is read a byte at a time from a buffered reader with a hard
// length limit, so a peer cannot make us buffer without bound.
func readVersionLine(r *bufio.Reader) (string, error) {
	const prefix = "venti-"
	var line []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if c == '\n' {
			break
		}
		n := len(line)
		if c < ' ' || c > 0x7e || n >= MaxStringSize || (n < len(prefix) && c != prefix[n]) {
			return "", errVersion
		}
		line = append(line, c)
	}
	if len(line) < len(prefix) {
		return "", errVersion
	}
	rest := string(line[len(prefix):])
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		rest = rest[:i]
	}
	return rest, nil
}
