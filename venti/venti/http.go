package main

import (
	"context"
	"fmt"
	"github.com/plan9fossil/fossil/internal/report"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/vtstore"
)

// httpd serves venti(8)'s status pages.
type httpd struct {
	store   *vtstore.Store
	cfg     *vtdisk.Config
	webroot string
	graphs  *sampler
}

func (h *httpd) mux() *http.ServeMux {
	m := http.NewServeMux()
	text := func(f func(w io.Writer) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if err := f(w); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}
	}
	m.HandleFunc("/index", text(h.index))
	m.HandleFunc("/storage", text(h.storage))
	m.HandleFunc("/xindex", h.xindex)
	m.HandleFunc("/stats", text(h.stats))
	m.HandleFunc("/flushicache", text(func(w io.Writer) error {
		if err := h.store.FlushIndex(); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w, "flushed icache")
		return err
	}))
	m.HandleFunc("/flushdcache", text(func(w io.Writer) error {
		if err := h.store.Sync(context.Background()); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w, "flushed dcache")
		return err
	}))
	if h.graphs != nil {
		m.HandleFunc("/graph/", h.graphs.serveGraph)
		m.HandleFunc("/graphs", h.graphs.serveIndex)
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if h.webroot == "" || strings.Contains(r.URL.Path, "..") {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(h.webroot, filepath.Clean("/"+r.URL.Path)))
	})
	return m
}

// storedBytes is the clump log's bytes less the clump headers, what the
// C venti calls compressed data.
func storedBytes(st vtdisk.TailStats) uint64 {
	return st.Used - uint64(st.Clumps)*vtdisk.ClumpSize
}

// storage is the log plus its directory.
func storage(st vtdisk.TailStats) uint64 {
	return st.Used + uint64(st.Clumps)*vtdisk.ClumpInfoSize
}

func statLine(st vtdisk.TailStats) string {
	return fmt.Sprintf("clumps=%s compressed clumps=%s data=%s compressed data=%s storage=%s",
		report.Commas(uint64(st.Clumps)), report.Commas(uint64(st.CClumps)), report.Commas(st.UncSize), report.Commas(storedBytes(st)), report.Commas(storage(st)))
}

func (h *httpd) index(w io.Writer) error {
	st := h.store.Status()
	ix := st.Index
	fmt.Fprintf(w, "index=%s version=%d blocksize=%d tabsize=%d\n", ix.Name, ix.Version, ix.BlockSize, ix.TabSize)
	fmt.Fprintf(w, "\tbuckets=%d div=%d\n", ix.Buckets, ix.Div)
	for _, s := range ix.Sects {
		fmt.Fprintf(w, "\tsect=%s for buckets [%d,%d) buckmax=%d\n", s.Name, s.Start, s.Stop, s.BucketMax)
	}
	for _, a := range st.Arenas {
		if a.Mem.Clumps == 0 {
			continue
		}
		data := a.Offset + int64(a.BlockSize)
		fmt.Fprintf(w, "arena=%s at index [%d,%d)\n", a.Name, a.IndexStart, a.IndexStop)
		fmt.Fprintf(w, "\tarena='%s' on %s at [%d,%d)\n", a.Name, a.PartitionName, data, data+int64(a.Size))
		fmt.Fprintf(w, "\tversion=%d created=%d modified=%d", a.Version, a.CTime, a.WTime)
		if a.Sealed {
			fmt.Fprint(w, " sealed")
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "\twritten: %s\n", statLine(a.Mem))
		fmt.Fprintf(w, "\tindexed: %s\n", statLine(a.Disk))
	}
	return nil
}

func (h *httpd) storage(w io.Writer) error {
	st := h.store.Status()
	var space, used uint64
	var total vtdisk.TailStats
	active := 0
	for _, a := range st.Arenas {
		space += a.DataSize
		used += storage(a.Mem)
		if a.Mem.Clumps > 0 {
			active++
		}
		total.Clumps += a.Mem.Clumps
		total.CClumps += a.Mem.CClumps
		total.UncSize += a.Mem.UncSize
		total.Used += a.Mem.Used
	}
	fmt.Fprintf(w, "index=%s\n", st.Index.Name)
	fmt.Fprintf(w, "total arenas=%d active=%d\n", len(st.Arenas), active)
	fmt.Fprintf(w, "total space=%s used=%s\n", report.Commas(space), report.Commas(used))
	fmt.Fprintf(w, "clumps=%s compressed clumps=%s data=%s compressed data=%s\n",
		report.Commas(uint64(total.Clumps)), report.Commas(uint64(total.CClumps)), report.Commas(total.UncSize), report.Commas(storedBytes(total)))
	return nil
}

func (h *httpd) xindex(w http.ResponseWriter, r *http.Request) {
	st := h.store.Status()
	ix := st.Index
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	fmt.Fprintf(w, "<index name=\"%s\" version=\"%d\" blocksize=\"%d\" tabsize=\"%d\" buckets=\"%d\" buckdiv=\"%d\">\n",
		ix.Name, ix.Version, ix.BlockSize, ix.TabSize, ix.Buckets, ix.Div)
	fmt.Fprintf(w, "\t<sects>\n")
	for _, s := range ix.Sects {
		fmt.Fprintf(w, "\t\t<sect name=\"%s\" start=\"%d\" stop=\"%d\"/>\n", s.Name, s.Start, s.Stop)
	}
	fmt.Fprintf(w, "\t</sects>\n\t<amaps>\n")
	for _, a := range st.Arenas {
		fmt.Fprintf(w, "\t\t<amap name=\"%s\" start=\"%d\" stop=\"%d\"/>\n", a.Name, a.IndexStart, a.IndexStop)
	}
	fmt.Fprintf(w, "\t</amaps>\n\t<arenas>\n")
	for _, a := range st.Arenas {
		m := a.Mem
		fmt.Fprintf(w, "\t\t<arena name=\"%s\" version=\"%d\" partition=\"%s\" blocksize=\"%d\" start=\"%d\" stop=\"%d\" created=\"%d\" modified=\"%d\" clumps=\"%d\" compressedclumps=\"%d\" data=\"%d\" compresseddata=\"%d\" storage=\"%d\"/>\n",
			a.Name, a.Version, a.PartitionName, a.BlockSize, a.Offset+int64(a.BlockSize), a.Offset+3*int64(a.BlockSize),
			a.CTime, a.WTime, m.Clumps, m.CClumps, m.UncSize, storedBytes(m), storage(m))
	}
	fmt.Fprintf(w, "\t</arenas>\n</index>\n")
}

func (h *httpd) stats(w io.Writer) error {
	s := &h.store.Stats
	for _, c := range counters(s) {
		fmt.Fprintf(w, "%s=%d\n", c.name, c.v.Load())
	}
	return nil
}
