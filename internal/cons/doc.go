// Package cons is fossil's console: the commands of fossilcons(8),
// the current file system, and the ends commands are typed on (the
// terminal of fossil -t, the consoles posted with srv -p, the -c
// options and the -f configuration block).
//
// # Lines
//
// A line is split into words as Plan 9's tokenize(2) splits it (see
// Tokenize): blanks separate words, single quotes quote, and a doubled
// quote inside quotes is a quote. A line whose first word starts with
// # is a comment. The first word names the command; an unknown one prints
// "name: - eh?". A command that fails prints its error, alone on a
// line, with no prefix: "usage: echo [-n] ...", "fsys: 'main' not
// open", "file system main is halted". Run returns the error too.
//
// # Output
//
// Everything printed goes to every attached end, as all of the C
// fossil's console output does: an operator on con(1) sees the output
// of the commands a cron job echoes into /srv/fscons. While no end is
// attached (the -c commands at start), output goes to standard error.
// After a line typed on an end has run, the prompt is printed: the
// current file system's name and ": " ("main: "), or "prompt: " before
// "fsys name" has chosen one. The other ends see the typed line itself
// before its output, so a log of a console reads like a session.
//
// The C commands print their results in a form that scripts and the
// C fossil's transcripts show: a result line starts with a tab, which
// the command prints, not the console:
//
//	main: df
//		main: 40,960 used + 33,300,480 free = 33,341,440 (0.1% used)
//	main: epoch
//		low 1 hi 4
//	main: vac /archive/2026/1123
//	vac:d3482068eafcbdd1712a088ffeb8851786952835
//
// df, epoch, sync, snaptime, stat, wstat, printconfig, users, msg,
// srv, listen, fsys, who, block and clre/clrp (the restoring commands
// they print) use the tab; vac, echo, dflag, label, bfree, check's
// report and the errors do not. Ctx.Tabf prints a tabbed line;
// Ctx.Printf prints exactly what it is given.
//
// # File systems
//
// "fsys name" makes name, which must be open, the current file system
// (or "all", for every one). "fsys name cmd ..." runs a command on a
// file system; commands registered with RegisterFsys may also be typed
// bare, for the current one. config, open and unconfig act on the
// table of file systems and need the prefix; venti and close may be
// typed bare. The table is the main program's FsysTable; the console
// checks usage and prints the C fossil's errors.
//
// # What the main program supplies
//
// The console depends on no other part of fossil. Config gives it:
//
//   - FsysTable and Fsys, on the engine, for fsys and printconfig,
//     and the per-file-system commands (df, snap, epoch, sync,
//     check, ...) registered with RegisterFsys;
//   - UserTable, for users and uname;
//   - Server, the 9P server's who and msg;
//   - Dflag, which toggles the debug flag;
//   - a srv.ServeFunc, which serves 9P on the connections srv and
//     listen make (and the 9p command's own).
//
// # Ends
//
// An end reads command lines and receives output (srv.ConsoleEnd).
// Lines are edited as the C console edits them: backspace, ^U (kill
// the line), ^W (kill a word), DEL (abandon the line), ^D on an empty
// line. An end whose other side does not echo (con(1) in raw mode on
// Plan 9) has what it types echoed back. Commands run one at a time,
// whichever end they come from. Output is buffered for each end; one
// that does not read loses its oldest output rather than blocking the
// file server. How names are posted, on Plan 9 and on Linux, is
// package srv's business; see its documentation and fossil-con(8).
package cons
