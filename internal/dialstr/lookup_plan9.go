//go:build plan9

package dialstr

import (
	"fmt"
	"os"
	"strings"
)

// lookupAttr asks the connection server, which knows the whole network
// database and its inheritance rules: writing "tcp!$venti!0" to /net/cs
// answers with "/net/tcp/clone ADDRESS!0".
func lookupAttr(attr string) (string, error) {
	f, err := os.OpenFile("/net/cs", os.O_RDWR, 0)
	if err != nil {
		return LookupAttr(NdbFile(), Sysname(), attr)
	}
	defer f.Close()
	if _, err := f.WriteString("tcp!$" + attr + "!0"); err != nil {
		return "", fmt.Errorf("$%s: %v", attr, err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return "", err
	}
	buf := make([]byte, 512)
	n, err := f.Read(buf)
	if err != nil {
		return "", fmt.Errorf("$%s: %v", attr, err)
	}
	fields := strings.Fields(string(buf[:n]))
	if len(fields) < 2 {
		return "", fmt.Errorf("$%s: cs answered %q", attr, buf[:n])
	}
	addr := fields[1]
	if i := strings.LastIndexByte(addr, '!'); i >= 0 {
		addr = addr[:i]
	}
	return addr, nil
}
