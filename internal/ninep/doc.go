// Package ninep is fossil's 9P2000 file server: it serves the trees of
// File and Fsys (tree.go), which the fossil engine provides, to clients
// on any number of connections, with fossil's rules for attach names,
// authentication and permissions. Messages are 9fans.net/go/plan9's
// Fcall; the connection loop, the fid table and the flush handling are
// the package's own.
//
// # Requests
//
// Each connection has a reader, the goroutine that called ServeConn. It
// reads a message, decodes it (a malformed message ends that connection
// only), answers Tversion and Tflush itself and hands every other
// request to a pool of worker goroutines shared by all connections.
// Requests of one connection run concurrently and are answered in
// whatever order they finish, as 9P allows; a tag already in use draws
// an error.
//
// Two limits, the console's msg -m and -p, bound the work. A
// connection may have MaxMsgs requests outstanding; while it has that
// many its reader reads on only for flushes (up to MaxMsgs of those
// waiting) and holds any other request until one finishes, so a
// client flooding the server costs it a bounded amount of memory and no
// goroutines. Workers, at most MaxProcs of them, start when requests
// are queued and exit when none are, so an idle server has none. A
// panic in a File method ends only its request, with an Rerror, and is
// reported on Config.Errors.
//
// # Flush
//
// flush(5) says a server must not answer a request after answering its
// flush. The C fossil's manual admits a race that broke this. Here each
// request is, under the connection's lock, either abandonable or
// committed:
//
//   - A request that changes nothing outside the fid table until it is
//     done (auth, attach, walk, open without OTRUNC, read, stat) stays
//     abandonable while it works. A flush marks it flushed, forgets its
//     tag and is answered at once; the worker, when the File call
//     returns, finds the mark when it tries to commit (claim), undoes
//     what it made (Files walked to, an exclusive-use lock, a new
//     fid's references) and sends nothing. A directory read moves the
//     fid's position only if it commits.
//   - A request that changes the file system as it runs (write,
//     create, remove, wstat, clunk, open with OTRUNC) is committed from
//     the start, as is any request about to send its reply. A flush of
//     it waits: it is answered right after the reply, so the client sees
//     the change the request made.
//
// Several flushes of one request are answered in order; a flush of a
// tag not in use is answered at once. A request flushed while still
// queued never runs. Tversion and a hang-up abandon what they can, wait
// for the rest and then clunk every fid.
//
// # Fids
//
// The fid table maps the client's fid numbers to fids, each counting
// the table and the requests using it as references; the last to let
// go closes its File. A fid's state (the File, its directory, open
// mode, directory read position, exclusive-use lock) changes under the
// fid's own lock. A walk without names clones a fid by sharing its File
// (fileRef), since File has no way to copy a reference. A fid for a
// plain file also holds the directory it was walked from, which remove,
// ORCLOSE and renames need; a directory's parent is walked to as "..".
// ".." at the attach point stays there.
//
// Clunk and remove take the fid out of the table before anything else,
// so the fid is gone even when the remove fails (remove(5)); a file
// opened ORCLOSE is removed at clunk, or when the connection ends.
// Exclusive-use files (DMEXCL) are open on one fid at a time across all
// connections. Writes to append-only files go to the end, one at a
// time per file.
//
// # Attach and permissions
//
// The attach name is fs[/dir], empty meaning main/active. Without
// authentication, on a connection or a file system that asks for none
// (-A), users are who they say and strangers are none. Otherwise the
// client must present an auth fid whose conversation (AuthFunc; on Plan
// 9 factotum, see Factotum and OpenFactotum) proved it to be the user
// named, except that none may attach without one once somebody has
// authenticated on the connection (fossil(4)'s chaperone rule).
//
// Files record owners and groups by id; 9P names them by name; the
// users table (package users) translates both ways and answers group
// questions. Permission is Plan 9's: one of the other, owner or group
// triplets must allow the whole access; members of noworld lose the
// other triplet (mode&0770, 0771 for directories); if group write
// exists only its members may change anything; -P turns the checks off
// and -W lets wstat change owners and groups freely. Trees that are
// read-only (snapshots, archives) refuse every change.
package ninep
