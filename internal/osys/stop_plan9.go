package osys

import (
	"os"
	"os/signal"
	"strings"
)

// notifyStop catches every note: a note not caught kills the program
// or breaks its reads, and a boot fossil must survive an alarm.
func notifyStop(c chan os.Signal) { signal.Notify(c) }

func isStop(s os.Signal) bool {
	n := strings.TrimSpace(s.String())
	return n == "interrupt" || n == "hangup" || n == "kill" || n == "term"
}
