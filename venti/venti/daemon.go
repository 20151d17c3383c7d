package main

import (
	"github.com/plan9fossil/fossil/internal/daemon"
	"github.com/plan9fossil/fossil/internal/osys"
)

// readyEnv tells a background copy of venti which file descriptor to
// report readiness on.
const readyEnv = "VENTI_READY_FD"

// background starts this venti again in the background and waits until
// it serves: the C venti's foreground process likewise exits once the
// server is ready, which the boot program relies on.
func background() error { return daemon.Background(readyEnv) }

// ready tells the foreground process, if any, that we serve.
func ready() { daemon.Ready(readyEnv) }

func physicalMemory() uint64 { return osys.PhysicalMemory() }
