//go:build !plan9

package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/vtstore"
	"github.com/plan9fossil/fossil/venti"
)

// A Profile is a CPU profile written by a run with -cpuprofile, and
// the top of what go tool pprof -top says of it.
type Profile struct {
	Name string
	File string
	What string
	Top  string
}

// pprofTop is the first lines of go tool pprof -top.
func pprofTop(file string, lines int) string {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", file).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("go tool pprof: %v\n%s", err, out)
	}
	all := strings.Split(string(out), "\n")
	if len(all) > lines {
		all = all[:lines]
	}
	return strings.Join(all, "\n")
}

// profileVenti profiles venti's unique 8 KiB writes. venti/venti has no
// profiling switch, so the store (package vtstore) and the protocol
// server (venti.Server) run in this process, on a venti formatted by
// the same tools, with the same caches; the profile holds the client's
// side too.
func profileVenti(bin, dir, ip, file string, size int64) (Profile, error) {
	p := Profile{Name: "venti unique 8 KiB writes (in process)", File: filepath.Base(file),
		What: "the venti store and protocol server in the bench's process, 16 writers on one connection; the client's costs are in it too"}
	conf, err := formatVenti(bin, dir, "prof", 4<<30, 2<<30, 256<<20)
	if err != nil {
		return p, err
	}
	text, err := os.ReadFile(conf)
	if err != nil {
		return p, err
	}
	cfg, err := vtdisk.ParseConfig(string(text))
	if err != nil {
		return p, err
	}
	store, err := vtstore.Open(cfg, vtstore.Options{LumpCache: ventiMem + ventiBCMem, IndexCache: ventiICMem})
	if err != nil {
		return p, err
	}
	defer store.Close()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return p, err
	}
	srv := &venti.Server{Handler: store}
	go srv.Serve(l)
	defer srv.Close()
	c, err := venti.Dial(fmt.Sprintf("tcp!%s!%d", ip, l.Addr().(*net.TCPAddr).Port))
	if err != nil {
		return p, err
	}
	defer c.Close()
	blocks := makeBlocks(9, int(size/8192))
	f, err := os.Create(file)
	if err != nil {
		return p, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return p, err
	}
	_, d, werr := ventiWrite(c, blocks, 16)
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return p, err
	}
	if werr != nil {
		return p, werr
	}
	if err := store.Sync(context.Background()); err != nil {
		return p, err
	}
	p.What += fmt.Sprintf("; %.0f MB/s while profiled", mbs(int64(len(blocks))*8192, d))
	p.Top = pprofTop(file, 35)
	return p, nil
}
