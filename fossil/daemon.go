package main

import (
	"github.com/plan9fossil/fossil/internal/daemon"
	"github.com/plan9fossil/fossil/internal/ninep"
)

const readyEnv = "FOSSIL_READY_FD"

func background() error { return daemon.Background(readyEnv) }
func ready()            { daemon.Ready(readyEnv) }

// authFunc is factotum: Plan 9's, or on other systems a plan9port
// factotum posted in the name space directory.
func authFunc() ninep.AuthFunc { return ninep.Factotum(ninep.OpenFactotum) }

// haveFactotum reports whether authentication can work at all.
func haveFactotum() bool {
	rwc, err := ninep.OpenFactotum()
	if err != nil {
		return false
	}
	rwc.Close()
	return true
}
