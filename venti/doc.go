// Package venti speaks the Venti protocol and knows Venti's data formats.
//
// Venti is Plan 9's archival block store: a block is named by its score,
// the SHA-1 hash of its contents, so blocks are written once and duplicates
// cost nothing. venti(6) describes the protocol and the structures that
// clients such as fossil and vac(1) build from blocks:
//
//   - Score, the zero score and the optional label prefix ("vac:") of
//     printed scores;
//   - Type, the block types (data, directory, root and the pointer levels)
//     and the older numbering used on disk and on the wire;
//   - Entry (40 bytes) and Root (300 bytes), packed exactly as venti(6)
//     and vac(1) lay them out, pointer blocks and zero truncation;
//   - the protocol messages (Msg), their 16-bit length framing and tags;
//   - Conn, a client that multiplexes concurrent requests on one
//     connection, and Server, a connection loop over a Handler;
//   - Dial, which understands Plan 9 dial strings, $venti and the venti=
//     attribute of ndb(6).
//
// The package follows 9fans.net/go/plan9 in shape: exported types mirror
// the protocol and errors read like Plan 9's ("venti: read: no block").
package venti
