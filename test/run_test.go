//go:build !plan9

package test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"9fans.net/go/plan9"

	"github.com/plan9fossil/fossil/internal/srv"
)

// TestRun is the newcomer's first command, README's ./run: it builds
// everything, makes the partitions, starts venti and fossil, and a
// 9P client can use the file system at once; stopped and run again it
// serves the same data.
func TestRun(t *testing.T) {
	if _, err := exec.LookPath("truncate"); err != nil {
		t.Skip("no truncate(1)")
	}
	data := t.TempDir()
	ip := "127.0.0.1"
	vport, hport, fport := freePort(t, ip), freePort(t, ip), freePort(t, ip)
	tag := fmt.Sprintf("r%d", os.Getpid())
	env := append(os.Environ(),
		"FOSSIL_DATA="+data,
		fmt.Sprintf("VENTI_ADDR=tcp!%s!%d", ip, vport),
		fmt.Sprintf("VENTI_HTTP=tcp!%s!%d", ip, hport),
		fmt.Sprintf("FOSSIL_ADDR=tcp!%s!%d", ip, fport),
		"FOSSIL_SRV=fossil."+tag, "FOSSIL_CONS=fscons."+tag,
	)
	start := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(root(), "run"), args...)
		cmd.Env = env
		cmd.Dir = root()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("./run %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		start("stop")
		// The console's log outlives fossil by design; not the test's.
		if dir, err := srv.Dir(); err == nil {
			os.Remove(filepath.Join(dir, "fscons."+tag+".log"))
		}
	})
	out := start()
	for _, want := range []string{"venti serving", "fossil serving 9P", "console", "snap -a"} {
		if !strings.Contains(out, want) {
			t.Errorf("./run says nothing of %q:\n%s", want, out)
		}
	}
	addr := fmt.Sprintf("%s:%d", ip, fport)
	user := os.Getenv("USER")
	if user == "" {
		user = "root"
	}
	fsys := mount(t, addr, user)
	w, err := fsys.Create("/usr/"+user+"/note", plan9.OWRITE, 0o664)
	if err != nil {
		t.Fatalf("create in the new home: %v", err)
	}
	w.Write([]byte("first run\n"))
	w.Close()
	start("stop")
	out = start()
	if strings.Contains(out, "making") {
		t.Errorf("second run formatted again:\n%s", out)
	}
	fsys = mount(t, addr, user)
	r, err := fsys.Open("/usr/"+user+"/note", plan9.OREAD)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(r)
	r.Close()
	if !bytes.Equal(got, []byte("first run\n")) {
		t.Errorf("after a second run: %q", got)
	}
}
