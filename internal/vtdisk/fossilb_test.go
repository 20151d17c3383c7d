package vtdisk

import (
	"bytes"
	"os"
	"testing"

	"github.com/plan9fossil/fossil/venti"
)

// checkAll walks every arena of the partition that has clumps, checks
// every clump against its score, the directory and the trailer, and
// finds every clump in the index and the bloom filter. It returns the
// number of clumps and the clumps by score.
func checkAll(t *testing.T, p *ArenaPartition, ix *Index, bloom *Bloom) (int, map[venti.Score][]byte) {
	t.Helper()
	total := 0
	byScore := map[venti.Score][]byte{}
	for i := range p.Map {
		a, err := p.Arena(i)
		if err != nil {
			t.Fatal(err)
		}
		var infos []ClumpInfo
		var st TailStats
		end, n, err := a.Walk(func(aa uint64, c *Clump, stored []byte) error {
			data, err := c.Decode(stored)
			if err == nil {
				err = c.Verify(data)
			}
			if err != nil {
				return relocate(err, "walk: "+a.Name())
			}
			infos = append(infos, c.ClumpInfo)
			st.Clumps++
			if c.Encoding == EncodingWhack {
				st.CClumps++
			}
			st.Used += ClumpSize + uint64(c.Size)
			st.UncSize += uint64(c.UncSize)
			byScore[c.Score] = data

			e, found, err := ix.Lookup(c.Score, c.Type, false)
			if err != nil {
				return err
			}
			if !found {
				t.Errorf("%s: clump at %#x: %v type %d not in the index", a.Name(), aa, c.Score, c.Type)
				return nil
			}
			ai, eaa, ok := ix.ArenaAt(e.Addr)
			if !ok || ix.Map.Arenas[ai].Name != a.Name() || eaa != aa || e.Size != c.UncSize || e.Blocks != c.Blocks() {
				t.Errorf("%s: clump at %#x: index entry %+v", a.Name(), aa, e)
			}
			if bloom != nil && !bloom.Test(c.Score) {
				t.Errorf("%s: clump at %#x: %v not in the bloom filter", a.Name(), aa, c.Score)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if end != st.Used || n != st.Clumps {
			t.Errorf("%s: walk ends at %d after %d clumps, counted %d", a.Name(), end, n, st.Used)
		}
		if a.Tail.Disk != st || a.Tail.Mem != st {
			t.Errorf("%s: trailer stats %+v / %+v, log %+v", a.Name(), a.Tail.Disk, a.Tail.Mem, st)
		}
		if n > 0 {
			dir, err := a.ReadClumpInfos(0, int(n))
			if err != nil {
				t.Fatal(err)
			}
			for j := range dir {
				if dir[j] != infos[j] {
					t.Errorf("%s: directory entry %d %+v, clump %+v", a.Name(), j, dir[j], infos[j])
				}
			}
		}
		total += int(n)
	}
	return total, byScore
}

func TestFossilBArchive(t *testing.T) {
	f, size := partition(t, dirB, "arenas")
	p, err := OpenArenaPartition(f, size)
	if err != nil {
		t.Fatal(err)
	}
	sf, ssize := partition(t, dirB, "isect")
	s, err := OpenIndexSection(sf, ssize)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := OpenIndex(s)
	if err != nil {
		t.Fatal(err)
	}
	bf, _ := partition(t, dirB, "bloom")
	bloom, err := ReadBloom(bf)
	if err != nil {
		t.Fatal(err)
	}
	total, byScore := checkAll(t, p, ix, bloom)
	// README: "venti (a) partitions after the archive (236 clumps)".
	if total != 236 {
		t.Errorf("%d clumps, want 236", total)
	}
	// The archive's root blocks: fossil/last and the console's vac.
	for _, q := range []string{"2016745728b185e07a1ada97c0214f56cb630c8b", "d3482068eafcbdd1712a088ffeb8851786952835"} {
		if _, found, err := ix.Lookup(venti.MustParseScore(q), diskType(t, venti.RootType), false); err != nil || !found {
			t.Errorf("root %s: found=%v %v", q, found, err)
		}
	}
	// Files small enough to be one data block are stored as is.
	for _, name := range []string{"usr_root_hello.txt", "usr_root_dir1_small.bin"} {
		data, err := os.ReadFile(fixturePath(t, "fossil-b/data/"+name))
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := byScore[venti.Fingerprint(data)]; !ok || !bytes.Equal(got, data) {
			t.Errorf("%s: not stored as a block", name)
		}
	}
}
