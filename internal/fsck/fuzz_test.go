package fsck

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/plan9fossil/fossil/internal/fsck/fsckdamage"
	"github.com/plan9fossil/fossil/venti"
)

var (
	fuzzOnce   sync.Once
	fuzzBase   memPart
	fuzzLayout *fsckdamage.Layout
)

// fuzzPart is a small file system with every kind of block: directories
// nested four deep, a file of nine blocks under a pointer block, an
// empty file and an empty directory. Each call returns a copy.
func fuzzPart(t testing.TB) (memPart, *fsckdamage.Layout) {
	fuzzOnce.Do(func() {
		m := make(memPart, 2<<20)
		l, err := fsckdamage.Build(m, int64(len(m)), []fsckdamage.File{
			{Path: "adm/users", Data: []byte("adm:adm:adm:\n")},
			{Path: "usr/glenda/bin/rc/x", Data: bytes.Repeat([]byte("x"), 20000)},
			{Path: "usr/glenda/ptr", Data: bytes.Repeat([]byte("p"), 9*8192)},
			{Path: "usr/glenda/empty", Data: []byte{}},
			{Path: "tmp/"},
		})
		if err != nil {
			panic(err)
		}
		fuzzBase, fuzzLayout = m, l
	})
	if fuzzLayout == nil {
		t.Fatal("no fuzz partition")
	}
	return append(memPart(nil), fuzzBase...), fuzzLayout
}

// noVenti fails every venti read.
type noVenti struct{}

func (noVenti) ReadVenti(score venti.Score, t venti.Type) ([]byte, error) {
	return nil, errors.New("no such block")
}

// FuzzCheck feeds the checker a file system whose metadata the fuzzer
// damages: each four bytes of input flip bits of one byte of the super
// block, the label blocks or the blocks in use. The check must end
// without a panic and with a consistent report, whatever it finds.
func FuzzCheck(f *testing.F) {
	_, l := fuzzPart(f)
	bs := int(l.Header.BlockSize)
	superOff := int64(l.Header.Super) * int64(bs)
	labelOff := int64(l.Header.Label) * int64(bs)
	labelLen := int64(l.Header.Data-l.Header.Label) * int64(bs)
	dataOff := int64(l.Header.Data) * int64(bs)
	dataLen := int64(l.Next) * int64(bs)
	region := int64(bs) + labelLen + dataLen

	f.Add([]byte{})
	f.Add([]byte{0, 0, 6, 0xff})       // the low epoch
	f.Add([]byte{0, 0x20, 0x00, 0x01}) // a label's state
	f.Add([]byte{0, 0x20, 0x0f, 0x08, 0, 0x40, 0x10, 0x80})
	f.Add([]byte{0x01, 0x00, 0x00, 0xff, 0x01, 0x00, 0x28, 0x04}) // entries
	f.Fuzz(func(t *testing.T, patch []byte) {
		m, _ := fuzzPart(t)
		for ; len(patch) >= 4; patch = patch[4:] {
			pos := (int64(patch[0])<<16 | int64(patch[1])<<8 | int64(patch[2])) * 7 % region
			var off int64
			switch {
			case pos < int64(bs):
				off = superOff + pos
			case pos < int64(bs)+labelLen:
				off = labelOff + pos - int64(bs)
			default:
				off = dataOff + pos - int64(bs) - labelLen
			}
			m[off] ^= patch[3] | 1
		}
		for _, o := range []Options{
			{Venti: true, Snapshots: true, PrintBlocks: true, PrintDirs: true, PrintFiles: true, PrintBad: true},
			{Fix: true, Fixer: &recorder{}, KillBad: true, CacheBlocks: 3},
		} {
			src, err := OpenDisk(m, int64(len(m)), noVenti{})
			if err != nil {
				t.Fatal(err) // the header is not touched
			}
			rep, err := Check(src, o, io.Discard)
			if err != nil {
				if _, serr := src.ReadSuper(); serr == nil {
					t.Fatalf("check failed with a good super block: %v", err)
				}
				continue
			}
			if rep.Used+rep.Free != rep.Total || rep.Lost > rep.Used || rep.Visited > rep.Total {
				t.Fatalf("report %+v", rep)
			}
		}
	})
}
