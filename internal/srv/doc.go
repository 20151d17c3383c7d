// Package srv posts fossil's services: it makes names that clients
// open, and hands what arrives on them to the 9P server or to the
// console. It is what the console commands srv [-APWdp] name and
// listen [-INd] address of fossilcons(8) do.
//
// # Plan 9
//
// srv name makes a pipe, creates /srv/name (falling back to #s/name)
// with ORCLOSE and writes the number of one end into it, as srv(3)
// says; the kernel then hands that end to everyone who opens
// /srv/name, and removes the name when fossil exits, however it exits.
// Every mount of /srv/name shares the one stream (the kernel's mount
// driver multiplexes it), so the 9P server is given the other end once.
// srv -p name posts a console the same way: the console reads commands
// from its end of the pipe and writes its output there, so that
// "echo cmd >>/srv/fscons" runs a command and "con -l /srv/fscons"
// talks to the console. A name already in /srv is replaced.
//
// # Linux and other Unix systems
//
// There is no srv(3), so names are files in a directory: /srv if it
// exists and is writable, else the directory named by $SRVDIR (made if
// missing, mode 0700). Without either, posting fails with an error
// that says so. In that directory:
//
//   - srv name makes a Unix-domain socket "name". Each connection to it
//     is one 9P conversation, so plan9port's 9p(1) (9p -a
//     unix!$SRVDIR/name ls /) and Linux's v9fs (mount -t 9p -o
//     trans=unix) can both use it.
//
//   - srv -p name makes a FIFO "name". A line written into it is run
//     as a console command, so "echo cmd >>$SRVDIR/fscons" works from
//     sh and rc as it does on Plan 9. Everything the console prints
//     (the echoed command, its output, the prompt) is appended to
//     "name.log". A Unix-domain socket "name.sock" is a full
//     interactive console: each connection sends command lines and
//     receives the console's output; fossil/con name is the client.
//
// Names are made with the C fossil's modes: 0666 for a 9P service,
// 0600 with -P or -W and for consoles (and the console's log).
//
// A name left behind by a fossil that died is stale: a socket nobody
// accepts on, a FIFO nobody reads. Posting removes a stale name and
// takes its place; a name still in use by another process is refused,
// and a name that is some other kind of file is left alone and
// refused. On a clean exit (Services.Close) and on srv -d every name
// made is removed, except the console's log, which is kept as the
// record of what was done.
//
// # Connections
//
// Every connection, from srv or listen, is handed to the ServeFunc in
// a goroutine of its own, which must return when the connection ends
// (or when it is closed under it); srv then closes it. At most
// MaxConns connections (128, as the C fossil; "con -m" changes it) are
// served at once: further ones wait, and the waits are counted, as the
// console command con reports them.
package srv
