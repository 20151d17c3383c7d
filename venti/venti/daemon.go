package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/plan9fossil/fossil/internal/osys"
)

// readyEnv tells a background copy of venti which file descriptor to
// report readiness on.
const readyEnv = "VENTI_READY_FD"

// background starts this venti again as a background process and waits
// until it serves, or dies: the C venti's foreground process likewise
// exits once the server is ready, which the boot program relies on.
func background() error {
	exe, err := osys.Self()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	c := exec.Command(exe, os.Args[1:]...)
	c.Env = append(os.Environ(), readyEnv+"=3")
	c.ExtraFiles = []*os.File{w}
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	if err := c.Start(); err != nil {
		return err
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	if line == "ok\n" {
		return nil
	}
	if err := c.Wait(); err != nil {
		return fmt.Errorf("server did not start: %v", err)
	}
	return errors.New("server did not start")
}

// ready tells the foreground process, if any, that we serve.
func ready() {
	if os.Getenv(readyEnv) == "" {
		return
	}
	f := os.NewFile(3, "ready")
	fmt.Fprintln(f, "ok")
	f.Close()
	os.Unsetenv(readyEnv)
}

func physicalMemory() uint64 { return osys.PhysicalMemory() }
