//go:build !plan9 && !windows

package daemon

import "syscall"

// procAttr puts the background server in a session of its own, so that
// a ^C in the terminal that started it does not reach it.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
