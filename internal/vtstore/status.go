package vtstore

import "github.com/plan9fossil/fossil/internal/vtdisk"

// Status is a snapshot of the store's layout and statistics, for the
// HTTP pages and the tools.
type Status struct {
	Index  IndexStatus
	Arenas []ArenaStatus
}

// IndexStatus describes the index.
type IndexStatus struct {
	Name      string
	Version   uint32
	BlockSize uint32
	TabSize   uint64
	Buckets   uint32
	Div       uint32
	Sects     []SectStatus
}

// SectStatus describes an index section.
type SectStatus struct {
	Name          string
	Start, Stop   uint32
	BucketMax     int
	PartitionName string
}

// ArenaStatus describes an arena.
type ArenaStatus struct {
	Name          string
	PartitionName string
	Version       uint32
	Offset        int64  // partition offset of the head
	Size          uint64 // bytes, head and trailer included
	BlockSize     uint32
	DataSize      uint64
	IndexStart    uint64 // the arena's range in the index address space
	IndexStop     uint64
	CTime, WTime  uint32
	Mem, Disk     vtdisk.TailStats // the whole log; what the index covers
	Sealed        bool
}

// Status returns a snapshot of the store.
func (s *Store) Status() Status {
	ix := s.index
	st := Status{Index: IndexStatus{
		Name:      ix.Map.Name,
		Version:   ix.Map.Version,
		BlockSize: ix.Map.BlockSize,
		TabSize:   ix.Sects[0].Header.TableSize(),
		Buckets:   ix.Buckets(),
		Div:       ix.Div,
	}}
	for i, sect := range ix.Sects {
		h := &sect.Header
		st.Index.Sects = append(st.Index.Sects, SectStatus{h.Name, h.Start, h.Stop, h.BucketMax(), s.isects[i].name})
	}
	for i, a := range s.arenas {
		t := a.trailer()
		m := ix.Map.Arenas[i]
		st.Arenas = append(st.Arenas, ArenaStatus{
			Name: a.Name(), PartitionName: a.part.name, Version: a.Head.Version,
			Offset: a.Offset, Size: a.Size, BlockSize: a.BlockSize, DataSize: a.DataSize(),
			IndexStart: m.Start, IndexStop: m.Stop,
			CTime: t.CTime, WTime: t.WTime, Mem: t.Mem, Disk: t.Disk, Sealed: t.Mem.Sealed,
		})
	}
	return st
}
