package vtdisk

import "github.com/plan9fossil/fossil/venti"

// Magic numbers at the start of the on-disk structures.
const (
	ArenaPartMagic uint32 = 0xa9e4a5e7 // arena partition header
	ArenaHeadMagic uint32 = 0xd15c4ead // arena head (first block of an arena)
	ArenaTailMagic uint32 = 0xf2a14ead // arena trailer (last block of an arena)
	ISectMagic     uint32 = 0xd15c5ec7 // index section header
	BloomMagic     uint32 = 0xb1004ead // bloom filter header

	// OldClumpMagic starts every clump of a version 4 arena. Version 5
	// arenas choose a random clump magic when they are formatted and
	// record it in their head and trailer.
	OldClumpMagic uint32 = 0xd15cb10c
	// ClumpFreeMagic (zero) where a clump header would start ends the
	// clump log of an arena.
	ClumpFreeMagic uint32 = 0
)

// Versions of the structures.
const (
	ArenaPartVersion = 3
	ArenaVersion4    = 4
	ArenaVersion5    = 5
	ISectVersion1    = 1
	ISectVersion2    = 2 // adds the bucket magic
	IndexVersion     = 1 // of the index map text
	BloomVersion     = 1
)

// Geometry shared by the partitions.
const (
	// PartBlank bytes at the start of every partition are left alone by
	// the formatters (boot blocks, disk labels), except for the venti
	// configuration block at its end.
	PartBlank = 256 << 10
	// HeadSize is the space for the header that follows PartBlank.
	HeadSize = 512
	// ConfigOffset and ConfigSize place the "venti config" block: the
	// last 8 KiB of the blank area.
	ConfigOffset = PartBlank - ConfigSize
	ConfigSize   = 8 << 10
	// NameSize is the size of the fixed name fields, NUL included.
	NameSize = 64
	// MaxBlockSize is the largest block size the formatters accept.
	MaxBlockSize = 64 << 10
	// MinBlockSize is the smallest block size this package accepts.
	MinBlockSize = 512
	// IndexBase is the index address of the first arena's data.
	IndexBase = 1 << 20
	// MaxAMap is the most entries an arena or section map may hold.
	MaxAMap = 2048
	// ClumpBlockShift: index entries count a clump's length in
	// units of 1<<ClumpBlockShift bytes.
	ClumpBlockShift = 9
	// DefaultTableSize is the size fmtarenas and fmtisect reserve for the
	// map tables ("bytes for index map").
	DefaultTableSize = 512 << 10
)

// Packed sizes in bytes.
const (
	ArenaPartSize  = 4 * 4
	ArenaHeadSize4 = 4 + 4 + NameSize + 4 + 8
	ArenaHeadSize5 = ArenaHeadSize4 + 4
	ArenaTailSize4 = 4 + 4 + NameSize + 4*4 + 8 + 8 + 1
	ArenaTailSize5 = ArenaTailSize4 + 4
	// TailStatsExtSize is the size of the optional memstats extension
	// of a trailer: a flag byte and a second set of statistics.
	TailStatsExtSize = 1 + 4 + 4 + 8 + 8 + 1
	ClumpInfoSize    = 1 + 2 + 2 + venti.ScoreSize
	ClumpSize        = 4 + ClumpInfoSize + 1 + 4 + 4
	ISectSize1       = 7*4 + 2*NameSize
	ISectSize2       = ISectSize1 + 4
	BucketHeadSize   = 2 + 4
	IEntrySize       = venti.ScoreSize + 4 + 2 + 8 + 2 + 1 + 1
	BloomHeadSize    = 4 * 4
)

// Bloom filter limits.
const (
	MaxBloomSize = 1 << 29 // bytes: 2^32 bits
	MaxBloomHash = 32
)

// CorruptType is the disk type of a clump that has been marked corrupt.
const CorruptType venti.DiskType = 0xff

// An Encoding says how a clump's bytes are stored.
type Encoding uint8

const (
	EncodingNone  Encoding = 1 // stored as is
	EncodingWhack Encoding = 2 // whack-compressed
)

func (e Encoding) String() string {
	switch e {
	case EncodingNone:
		return "none"
	case EncodingWhack:
		return "whack"
	}
	return "encoding" + itoa(uint64(e))
}
