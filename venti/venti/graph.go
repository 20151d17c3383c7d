package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plan9fossil/fossil/internal/vtstore"
)

type counter struct {
	name string
	v    *atomic.Int64
}

// counters are the statistics the pages show and the graphs plot.
func counters(s *vtstore.Stats) []counter {
	return []counter{
		{"reads", &s.Reads}, {"readbytes", &s.ReadBytes}, {"readmisses", &s.ReadMisses},
		{"writes", &s.Writes}, {"writebytes", &s.WriteBytes}, {"dupwrites", &s.DupWrites},
		{"cachehits", &s.CacheHits}, {"indexreads", &s.IndexReads}, {"bloomskips", &s.BloomSkips},
		{"syncs", &s.Syncs}, {"indexflushes", &s.IndexFlushes}, {"flushedentries", &s.FlushedEntries},
	}
}

// A sampler records, once a second, how much each counter grew, for the
// last ten minutes: the graphs show rates, which is what an operator
// watching load wants.
type sampler struct {
	mu      sync.Mutex
	names   []string
	rates   map[string][]int64 // per-second increases, oldest first
	last    map[string]int64
	keep    int
	counter []counter
}

func newSampler(s *vtstore.Stats) *sampler {
	sm := &sampler{rates: map[string][]int64{}, last: map[string]int64{}, keep: 600, counter: counters(s)}
	for _, c := range sm.counter {
		sm.names = append(sm.names, c.name)
		sm.last[c.name] = c.v.Load()
	}
	go func() {
		for range time.Tick(time.Second) {
			sm.sample()
		}
	}()
	return sm
}

func (sm *sampler) sample() {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	for _, c := range sm.counter {
		v := c.v.Load()
		r := append(sm.rates[c.name], v-sm.last[c.name])
		if len(r) > sm.keep {
			r = r[len(r)-sm.keep:]
		}
		sm.rates[c.name] = r
		sm.last[c.name] = v
	}
}

func (sm *sampler) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintln(w, "<html><head><title>venti</title><meta http-equiv=refresh content=5></head><body>")
	fmt.Fprintln(w, "<p>Per-second rates over the last ten minutes.</p>")
	for _, n := range sm.names {
		fmt.Fprintf(w, "<p>%s<br><img src=\"/graph/%s\"></p>\n", n, n)
	}
	fmt.Fprintln(w, "</body></html>")
}

// serveGraph draws /graph/NAME as a PNG: one column per second, the
// newest at the right, scaled to the largest value shown.
func (sm *sampler) serveGraph(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/graph/")
	name, _, _ = strings.Cut(name, "/")
	sm.mu.Lock()
	rates, ok := sm.rates[name]
	rates = append([]int64(nil), rates...)
	_, known := sm.last[name]
	sm.mu.Unlock()
	if !ok && !known {
		http.NotFound(w, r)
		return
	}
	const wd, ht = 600, 120
	img := image.NewRGBA(image.Rect(0, 0, wd, ht))
	bg := color.RGBA{0xff, 0xff, 0xea, 0xff} // acme's pale yellow
	fg := color.RGBA{0x44, 0x88, 0x44, 0xff}
	grid := color.RGBA{0xdd, 0xdd, 0xcc, 0xff}
	for y := 0; y < ht; y++ {
		for x := 0; x < wd; x++ {
			c := bg
			if y%(ht/4) == 0 || x%60 == 0 {
				c = grid
			}
			img.Set(x, y, c)
		}
	}
	var max int64 = 1
	for _, v := range rates {
		if v > max {
			max = v
		}
	}
	for i, v := range rates {
		x := wd - len(rates) + i
		h := int(v * (ht - 1) / max)
		for y := ht - 1; y >= ht-1-h; y-- {
			img.Set(x, y, fg)
		}
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("X-Venti-Max", fmt.Sprint(max))
	png.Encode(w, img)
}
