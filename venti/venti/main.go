// Venti is the archival block server; see venti(8).
//
//	venti/venti [-Ldrsw] [-a address] [-B blockcachesize] [-c config]
//		[-C lumpcachesize] [-h httpaddress] [-I indexcachesize]
//		[-m free-memory-percent] [-W webroot]
//
// -c names a venti.conf file, or a partition holding a "venti config"
// block (the arenas partition, as Plan 9's boot program passes it).
// Without -s (or -d) venti starts a copy of itself in the background and
// exits once that copy serves, as the C venti does.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/dialstr"
	"github.com/plan9fossil/fossil/internal/memlimit"
	"github.com/plan9fossil/fossil/internal/osys"
	"github.com/plan9fossil/fossil/internal/vtdisk"
	"github.com/plan9fossil/fossil/internal/vtstore"
	"github.com/plan9fossil/fossil/venti"
)

type flags struct {
	addr, httpAddr, config, webroot string
	bcmem, mem, icmem               uint64
	memPercent                      int64
	debug, logging, readOnly        bool
	foreground, queueWrites         bool
}

func main() {
	cmd := arg.New("venti/venti", "[-Ldrsw] [-a address] [-B blockcachesize] [-c config] [-C lumpcachesize] [-h httpaddress] [-I indexcachesize] [-m free-memory-percent] [-W webroot]")
	var f flags
	f.config = "venti.conf"
	size := func() uint64 {
		v := cmd.Arg()
		n, err := vtdisk.ParseSize(v)
		if err != nil {
			cmd.Fatalf("bad size for -%s: %s", "size", v)
		}
		return n
	}
	args := cmd.Parse(os.Args[1:], func(c rune) {
		switch c {
		case 'a':
			f.addr = cmd.Arg()
		case 'B':
			f.bcmem = size()
		case 'c':
			f.config = cmd.Arg()
		case 'C':
			f.mem = size()
		case 'd':
			f.debug, f.foreground = true, true
		case 'h':
			f.httpAddr = cmd.Arg()
		case 'I':
			f.icmem = size()
		case 'L':
			f.logging = true
		case 'm':
			f.memPercent = cmd.Int()
		case 'r':
			f.readOnly = true
		case 's':
			f.foreground = true
		case 'w':
			f.queueWrites = true
		case 'W':
			f.webroot = cmd.Arg()
		default:
			cmd.UsageExit()
		}
	})
	if len(args) != 0 {
		cmd.UsageExit()
	}
	if !f.foreground && os.Getenv(readyEnv) == "" {
		if err := background(); err != nil {
			cmd.Fatalf("%v", err)
		}
		return
	}
	// VENTI_CPUPROFILE names a file for a CPU profile of the whole
	// run, written when the server stops (as FOSSIL_CPUPROFILE).
	if p := os.Getenv("VENTI_CPUPROFILE"); p != "" {
		if pf, err := os.Create(p); err == nil && pprof.StartCPUProfile(pf) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := serve(&f); err != nil {
		pprof.StopCPUProfile()
		cmd.Fatalf("%v", err)
	}
}

// logger prints lines the way the C venti's log does on standard error.
var logger = log.New(os.Stderr, "", log.LstdFlags)

func serve(f *flags) error {
	fmt.Fprint(os.Stderr, "venti: conf...")
	cfg, err := loadConfig(f.config)
	if err != nil {
		fmt.Fprintln(os.Stderr)
		return err
	}
	// Command-line options override the configuration.
	if f.addr != "" {
		cfg.Addr = f.addr
	}
	if f.httpAddr != "" {
		cfg.HTTPAddr = f.httpAddr
	}
	if f.webroot != "" {
		cfg.WebRoot = f.webroot
	}
	for _, o := range []struct{ flag, conf *uint64 }{{&f.mem, &cfg.Mem}, {&f.bcmem, &cfg.BCMem}, {&f.icmem, &cfg.ICMem}} {
		if *o.flag != 0 {
			*o.conf = *o.flag
		}
	}
	if f.memPercent > 0 {
		total := physicalMemory()
		share := total / 100 * uint64(f.memPercent) / 3
		cfg.Mem, cfg.BCMem, cfg.ICMem = share/3, share*2/3, share
	}
	if cfg.Addr == "" {
		cfg.Addr = "tcp!*!venti"
	}

	var httpLn net.Listener
	if cfg.HTTPAddr != "" {
		fmt.Fprintf(os.Stderr, "httpd %s...", cfg.HTTPAddr)
		if httpLn, err = dialstr.Listen(cfg.HTTPAddr, "http"); err != nil {
			fmt.Fprintln(os.Stderr)
			return fmt.Errorf("httpd: %v", err)
		}
	}
	fmt.Fprint(os.Stderr, "init...")
	opt := vtstore.Options{
		ReadOnly:   f.readOnly,
		LumpCache:  int64(cfg.Mem + cfg.BCMem),
		IndexCache: int64(cfg.ICMem),
		Logf:       logger.Printf,
	}
	store, err := vtstore.Open(cfg, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr)
		return err
	}
	// The operator sized the caches: hold the whole process near what
	// they, the bloom filter and the write-behind take.
	// 32 MiB of room above them: with 16, new blocks arriving at
	// 250 MB/s kept the collector running without pause.
	memlimit.Hold(opt.LumpCache+opt.IndexCache+store.Resident(), 32<<20)
	fmt.Fprintf(os.Stderr, "sync...")
	if err := store.Sync(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr)
		return err
	}
	fmt.Fprintf(os.Stderr, "announce %s...", cfg.Addr)
	ln, err := venti.Listen(cfg.Addr)
	if err != nil {
		fmt.Fprintln(os.Stderr)
		return err
	}
	srv := &venti.Server{Handler: store, Logf: logger.Printf, Debug: f.debug}
	if httpLn != nil {
		h := &httpd{store: store, cfg: cfg, webroot: cfg.WebRoot, graphs: newSampler(&store.Stats)}
		go http.Serve(httpLn, h.mux())
	}
	fmt.Fprintln(os.Stderr, "serving.")
	ready()

	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	sig := osys.StopSignals()
	select {
	case <-sig:
	case err = <-done:
	}
	// VENTI_MEMPROFILE names a file for a profile of the memory in use
	// when the server is told to stop, its caches still full.
	if p := os.Getenv("VENTI_MEMPROFILE"); p != "" {
		if pf, perr := os.Create(p); perr == nil {
			runtime.GC()
			pprof.WriteHeapProfile(pf)
			pf.Close()
		}
	}
	// A clean stop writes everything out; a kill -9 loses nothing that
	// was synced, and the next start indexes the rest.
	srv.Close()
	if cerr := store.Close(); err == nil || err == venti.ErrServerClosed {
		err = cerr
	}
	return err
}

// loadConfig reads venti.conf from a file or from the config block of a
// partition.
func loadConfig(name string) (*vtdisk.Config, error) {
	fd, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	size, err := vtdisk.SizeOf(fd)
	if err != nil {
		return nil, err
	}
	text, err := vtdisk.LoadConfig(fd, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	cfg, err := vtdisk.ParseConfig(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return cfg, nil
}
