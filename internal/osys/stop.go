package osys

import (
	"os"
)

// StopSignals returns a channel that receives when the program is asked
// to stop: SIGINT or SIGTERM on Unix, the notes "interrupt", "hangup"
// or "kill" on Plan 9 (whatever follows them, such as the newline that
// echo interrupt >/proc/N/note leaves, which os/signal's exact match
// on note names would miss).
func StopSignals() <-chan os.Signal {
	c := make(chan os.Signal, 8)
	out := make(chan os.Signal, 1)
	notifyStop(c)
	go func() {
		for s := range c {
			if isStop(s) {
				select {
				case out <- s:
				default:
				}
			}
		}
	}()
	return out
}
