package daemon

import "syscall"

func procAttr() *syscall.SysProcAttr { return nil }
