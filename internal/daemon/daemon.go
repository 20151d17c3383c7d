// Package daemon puts a server in the background the way the C venti and
// fossil do: the command the boot program or an operator runs returns
// once the server is ready (or has failed, with its error printed),
// leaving the server running. Go cannot fork, so the command starts
// itself again with a pipe on file descriptor 3 and waits for "ok" on it.
package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/plan9fossil/fossil/internal/osys"
)

// Child reports whether this process is the background copy, told so
// by the environment variable env.
func Child(env string) bool { return os.Getenv(env) != "" }

// Background starts this program again with the same arguments as a
// background process and waits until it calls Ready, or dies.
func Background(env string) error {
	exe, err := osys.Self()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	c := exec.Command(exe, os.Args[1:]...)
	c.Env = append(os.Environ(), env+"=3")
	c.ExtraFiles = []*os.File{w}
	c.SysProcAttr = procAttr()
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

// Ready tells the waiting foreground process, if any, that we serve.
func Ready(env string) {
	if os.Getenv(env) == "" {
		return
	}
	f := os.NewFile(3, "ready")
	fmt.Fprintln(f, "ok")
	f.Close()
	os.Unsetenv(env)
}
