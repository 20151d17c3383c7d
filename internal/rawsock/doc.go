// Package rawsock reads and writes network connections with raw system
// calls where the platform allows it (Linux), and leaves them as they are
// elsewhere.
//
// A Go program's read or write on a socket goes through the scheduler's
// system-call bookkeeping: the goroutine offers its processor to others
// for the length of the call, and when every processor was idle, as in a
// server waiting for one client's next request, the call first wakes the
// runtime's monitor thread from its sleep. A socket that Go's poller
// manages is non-blocking, so the call does not wait for the peer: issued
// raw it costs the kernel's work and nothing more. When there is nothing
// to read or no room to write, the poller waits as before, and deadlines
// and Close work as with the net package's methods. A raw call cannot be
// preempted, so each moves at most 256 KiB.
//
// Measured on a two-core virtual machine, one request at a time (a 9P
// client writing 8 KiB at a time to fossil, a venti client writing a block
// and waiting for its score), the bookkeeping was about a quarter of the
// CPU each side spent a request (BenchmarkVenti8K compares the two ways).
//
// Package dialstr wraps what it dials and accepts, so venti, fossil and
// their tools all take this path.
package rawsock
