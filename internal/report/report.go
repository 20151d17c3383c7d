// Package report formats what the long-running tools tell an operator:
// numbers with thousands separators, as Plan 9's %,d prints them, and a
// progress line saying what is being done, how far and how fast.
package report

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Commas formats v with thousands separators: 99,868,672.
func Commas(v uint64) string {
	s := strconv.FormatUint(v, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Progress shows how a long write goes on one line of standard error,
// rewritten in place at most four times a second. It is nil, and its
// methods do nothing, when standard error is not a terminal (a
// character device), so logs and scripts see only the tool's report.
type Progress struct {
	w           io.Writer
	what        string
	total       int64
	start, last time.Time
	shown       bool
}

// NewProgress starts reporting on work of total bytes.
func NewProgress(what string, total int64) *Progress {
	fi, err := os.Stderr.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	now := time.Now()
	return &Progress{w: os.Stderr, what: what, total: total, start: now, last: now}
}

// Update reports that done bytes are done.
func (p *Progress) Update(done int64) {
	if p == nil {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 250*time.Millisecond && done < p.total {
		return
	}
	p.last = now
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 1e-9) / (1 << 20)
	fmt.Fprintf(p.w, "\r%s: %s of %s MB (%d%%), %.1f MB/s ",
		p.what, Commas(uint64(done>>20)), Commas(uint64(p.total>>20)), done*100/max(p.total, 1), rate)
	p.shown = true
}

// Finish ends the progress line.
func (p *Progress) Finish() {
	if p != nil && p.shown {
		fmt.Fprintf(p.w, "\n")
	}
}
