package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestCommas(t *testing.T) {
	for v, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 99868672: "99,868,672", 135899: "135,899"} {
		if got := Commas(v); got != want {
			t.Errorf("Commas(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := &Progress{w: &buf, what: "zeroing", total: 64 << 20, start: time.Now().Add(-time.Second), last: time.Now().Add(-time.Second)}
	p.Update(32 << 20)
	p.Finish()
	if got := buf.String(); !strings.HasPrefix(got, "\rzeroing: 32 of 64 MB (50%), ") || !strings.HasSuffix(got, "MB/s \n") {
		t.Errorf("progress line %q", got)
	}
	var nilp *Progress
	nilp.Update(1)
	nilp.Finish()
}
