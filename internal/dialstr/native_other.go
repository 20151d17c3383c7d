//go:build !plan9

package dialstr

import (
	"context"
	"net"
)

// Only Plan 9 dials and announces without Go's net package
// (native_plan9.go).
func nativeDial(context.Context, string, string) (net.Conn, bool, error) { return nil, false, nil }
func nativeListen(string, string) (net.Listener, bool, error)            { return nil, false, nil }
