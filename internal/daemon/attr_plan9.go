package daemon

import "syscall"

// procAttr puts the background server in a note group of its own, so
// that a DEL typed in the window that started it does not reach it.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Rfork: syscall.RFNOTEG} }
