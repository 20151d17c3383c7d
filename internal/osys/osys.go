// Package osys holds what differs between Plan 9 and the other systems
// the programs run on: how much memory the machine has, and (later)
// /srv posting, consoles and partitions. Each difference is a function
// with a file per system (_plan9.go, _linux.go, _other.go).
package osys
