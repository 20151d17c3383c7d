// Con talks to a fossil console posted with "srv -p name": it sends
// the lines of its standard input as commands and copies the console's
// output to its standard output, until the input ends (and the output
// of its last command has come back) or fossil goes away.
//
//	fossil/con [-l] name
//
// name is a path, or a name in the directory fossil posts in (/srv,
// else $SRVDIR on Linux). On Linux it connects to the console's
// interactive socket name.sock; on Plan 9 it opens /srv/name, where
// con(1) does the same job. -l is accepted and ignored, so that the
// con -l /srv/fscons of habit works. See man/8/fossil-con.
//
// The source is in fossil/cons because Go refuses a package directory
// named con (a reserved file name on Windows); the command is
// installed as fossil/con.
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/plan9fossil/fossil/internal/arg"
	"github.com/plan9fossil/fossil/internal/srv"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// lastOutput bounds the wait for the last command's output where the
// connection cannot be half-closed (a Plan 9 pipe): without an end of
// file to wait for, con waits this long after its input ends.
const lastOutput = time.Second

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (status int) {
	cmd := arg.New("fossil/con", "[-l] name")
	cmd.Stderr = stderr
	cmd.Exit = func(n int) { status = n }
	if arg.Run(func() {
		args = cmd.Parse(args, func(f rune) {
			if f != 'l' {
				cmd.UsageExit()
			}
		})
		if len(args) != 1 {
			cmd.UsageExit()
		}
	}) {
		return status
	}
	conn, err := srv.DialConsole(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "fossil/con: %v\n", err)
		return 1
	}
	defer conn.Close()

	outDone := make(chan error, 1)
	go func() {
		_, err := io.Copy(stdout, conn)
		outDone <- err
	}()
	inDone := make(chan error, 1)
	go func() {
		_, err := io.Copy(conn, stdin)
		inDone <- err
	}()

	select {
	case err := <-outDone:
		// fossil closed the console.
		if err != nil {
			fmt.Fprintf(stderr, "fossil/con: %s: %v\n", args[0], err)
			return 1
		}
		return 0
	case err := <-inDone:
		if err != nil {
			fmt.Fprintf(stderr, "fossil/con: %s: %v\n", args[0], err)
			return 1
		}
	}
	// The input has ended. Tell the console so where the connection
	// allows it; it closes its side once the output is written.
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err == nil {
			<-outDone
			return 0
		}
	}
	select {
	case <-outDone:
	case <-time.After(lastOutput):
	}
	return 0
}
