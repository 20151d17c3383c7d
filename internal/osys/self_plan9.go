package osys

import (
	"os"
	"path/filepath"
	"strings"
)

// Self returns the path of the running program, to start another copy
// of it. Plan 9 has no reliable answer from the kernel (os.Executable
// reports /bin/bin), so argv[0] is resolved the way rc resolves
// commands: as given if rooted or explicitly relative, else through
// $path (". /bin" by default), where venti/venti is /bin/venti/venti.
func Self() (string, error) {
	p := os.Args[0]
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") {
		return p, nil
	}
	dirs := []string{".", "/bin"}
	if v := os.Getenv("path"); v != "" {
		dirs = strings.FieldsFunc(v, func(r rune) bool { return r == 0 || r == ' ' })
	}
	for _, d := range dirs {
		c := filepath.Join(d, p)
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			if d == "." {
				c = "./" + p
			}
			return c, nil
		}
	}
	return "", &os.PathError{Op: "find", Path: p, Err: os.ErrNotExist}
}
