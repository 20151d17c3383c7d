package vac

import (
	"bytes"
	"reflect"
	"testing"
)

func packed(d *DirEntry) []byte {
	b := make([]byte, d.PackedSize())
	if err := d.Pack(b); err != nil {
		panic(err)
	}
	return b
}

// FuzzUnpackDirEntry checks that Unpack never panics and that what it
// accepts packs into bytes that read back the same; the same bytes
// unless the optional fields came in another order.
func FuzzUnpackDirEntry(f *testing.F) {
	f.Add(packed(&DirEntry{Elem: "active", MEntry: 1, Qid: 2, UID: "adm", GID: "adm", MID: "sys", Mode: ModeDir | 0555}))
	f.Add(packed(&DirEntry{Elem: "f", Version: 8, Plan9: true, P9Path: 1, QidSpace: true, QidMax: 9,
		Ext: []Extension{{DirGenEntry, []byte{0, 0, 0, 1}}}}))
	f.Add(packed(&DirEntry{Elem: "old", Version: 7, Ext: []Extension{{DirNTEntry, []byte{1}}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d DirEntry
		if d.Unpack(data) != nil {
			return
		}
		_ = d.String()
		out := make([]byte, d.PackedSize())
		if err := d.Pack(out); err != nil {
			t.Fatal(err)
		}
		var d2 DirEntry
		if err := d2.Unpack(out); err != nil || !reflect.DeepEqual(d, d2) {
			t.Fatalf("%+v != %+v (%v)", d2, d, err)
		}
		if len(out) != len(data) {
			t.Fatalf("repacked %d bytes, was %d", len(out), len(data))
		}
		// Only the order of the optional fields may differ.
		fixed := d.PackedSize()
		for _, x := range d.Ext {
			fixed -= 3 + len(x.Data)
		}
		if d.Plan9 {
			fixed -= 15
		}
		if d.QidSpace {
			fixed -= 19
		}
		if !bytes.Equal(out[:fixed], data[:fixed]) {
			t.Fatalf("repacked %x, was %x", out, data)
		}
	})
}

// FuzzUnpackMetaBlock checks that UnpackMetaBlock and everything done
// to a block it accepts never panic, and that changes that succeed
// leave a block that unpacks and checks.
func FuzzUnpackMetaBlock(f *testing.F) {
	buf := make([]byte, 512)
	mb, _ := NewMetaBlock(buf, 5)
	for _, n := range []string{"b", "abc", "ab"} {
		mb.Insert(entry(n))
	}
	mb.Delete(1)
	f.Add(bytes.Clone(buf))
	mb.old = true
	mb.pack()
	f.Add(bytes.Clone(buf))
	f.Add([]byte{0x56, 0x56, 0xfc, 0x7a, 0, 12, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		mb, err := UnpackMetaBlock(data)
		if err != nil {
			return
		}
		for i := 0; i < mb.Len(); i++ {
			if d, err := mb.DirEntry(i); err == nil {
				mb.Search(d.Elem)
			}
		}
		mb.DirEntries()
		mb.Lookup("x")
		checked := mb.Check() == nil
		ops := []func() error{
			func() error { _, err := mb.Insert(entry("new")); return err },
			func() error { return mb.Update(0, entry("zzzz-longer-name")) },
			func() error { return mb.Delete(0) },
		}
		for _, op := range ops {
			if op() != nil || !checked {
				continue
			}
			again, err := UnpackMetaBlock(bytes.Clone(mb.Bytes()))
			if err != nil {
				t.Fatalf("block after a change: %v", err)
			}
			if err := again.Check(); err != nil {
				t.Fatalf("block after a change: %v", err)
			}
		}
	})
}
