//go:build !plan9

package osys

import (
	"os"
	"os/signal"
	"syscall"
)

func notifyStop(c chan os.Signal) { signal.Notify(c, os.Interrupt, syscall.SIGTERM) }

func isStop(os.Signal) bool { return true }
