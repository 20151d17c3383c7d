package test

import (
	"archive/tar"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPlan9Boot boots Plan 9 from our fossil, in two runs of the kit on
// one disk:
//
// Stage 1 (test/plan9/boot/stage1.rc), on the kit's root: mk install of
// the repository's mkfile, run by Plan 9's mk, puts our commands over
// the C ones in /386/bin; a 9pc kernel is built from the kit's kernel
// sources with a configuration (test/plan9/boot/kernel/pcgo) whose
// boot directory is pcf's /386/bin/fossil/fossil and /386/bin/venti/venti,
// now ours, and written to a partition of the disk; the disk also gets
// fossil, arenas and isect partitions, a venti and a fossil (ours, their
// configurations stored in the partitions as the boot program reads
// them), and the fossil a small root: what init, rc and the bootstrap
// of stage 2 need, with the installed fossil and venti commands.
//
// Stage 2 (test/plan9/boot2/autorun.rc): the kit's 9boot loads no kernel
// over 8 MB, and ours is 10 (our fossil and venti in /boot), so the kit
// boots as usual and reboots into our kernel from its partition, having
// set bootargs=local!#S/sdC0/fossil and venti=#S/sdC0/arenas in the
// configuration the next kernel gets. Its boot program starts our
// venti and our fossil from /boot, the root is our fossil, whose
// profile mounts the host's tree to run the checks: /boot holds our
// binaries, /srv/fscons answers, files written to the root survive a
// sync, and our venti stores and returns a block.
//
// The boot transcript (stage 2's serial console) is logged.
func TestPlan9Boot(t *testing.T) {
	plan9vm(t)
	img := disk(t, 192)

	dir1, xfer := plan9BootDir(t, "boot")
	t0 := time.Now()
	runPlan9(t, dir1, "-t", "1500", "-d", img, "-d", xfer)
	t.Logf("stage 1 (mk install, kernel build, disk and root): %v", time.Since(t0).Round(time.Second))
	sums, err := os.ReadFile(filepath.Join(dir1, "out", "boot.sha1"))
	if err != nil {
		t.Fatalf("stage 1 left no out/boot.sha1: %v", err)
	}
	t.Logf("/boot's sums:\n%s", sums)

	dir2 := t.TempDir()
	copyTree(t, filepath.Join(root(), "test", "plan9", "boot2"), dir2)
	if err := os.WriteFile(filepath.Join(dir2, "boot.sha1"), sums, 0o644); err != nil {
		t.Fatal(err)
	}
	if d := os.Getenv("PLAN9VM_BOOT_SAVE"); d != "" {
		// for work on stage 2: the disk stage 1 made
		exec.Command("cp", "--sparse=always", img, filepath.Join(d, "disk.img")).Run()
		os.WriteFile(filepath.Join(d, "boot.sha1"), sums, 0o644)
	}
	t0 = time.Now()
	runPlan9(t, dir2, "-t", "900", "-d", img)
	t.Logf("stage 2 (the kit, then our kernel from our fossil, checks): %v", time.Since(t0).Round(time.Second))
	serial, _ := os.ReadFile(filepath.Join(dir2, "serial.log"))
	t.Logf("stage 2 boot transcript (serial console):\n%s", serial)
}

// The transfer disk (the second of stage 1, /dev/sdC1): the guest's
// u9fs moves some 130 KB/s under TCG, a disk megabytes, so the inputs
// come as a tar file on it.
const xferSize = 128 << 20

// plan9BootDir makes stage 1's directory, the files of test/plan9/NAME
// (root/ is the tree stage 1 copies into the fossil) and want.sha1 (the
// sums of our fossil and venti), and its transfer disk, a tar file of
// k/ (the kit's kernel sources, patched, with our configuration, the
// headers the kit lacks and the libraries) and repo/ (the mkfile, rc/
// and bin/386/..., our commands built stripped, as mk all puts them).
func plan9BootDir(t *testing.T, name string) (dir, xfer string) {
	t.Helper()
	dir = t.TempDir()
	copyTree(t, filepath.Join(root(), "test", "plan9", name), dir)
	os.RemoveAll(filepath.Join(dir, "kernel"))

	repo := filepath.Join(t.TempDir(), "repo")
	copyTree(t, filepath.Join(root(), "rc"), filepath.Join(repo, "rc"))
	mk, err := os.ReadFile(filepath.Join(root(), "mkfile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "mkfile"), mk, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range mkfileCmds(t, string(mk)) {
		pkg := "./" + c
		switch c {
		case "fossil/fossil":
			pkg = "./fossil"
		case "fossil/con":
			pkg = "./fossil/cons"
		}
		build := exec.Command("go", "build", "-ldflags=-s -w", "-o", filepath.Join(repo, "bin", "386", c), pkg)
		build.Dir = root()
		build.Env = append(os.Environ(), "GOOS=plan9", "GOARCH=386")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", c, err, out)
		}
	}
	// The sums stage 1 must find installed, from the host's builds.
	var want strings.Builder
	for _, c := range []string{"fossil/fossil", "venti/venti"} {
		fmt.Fprintf(&want, "%s %s\n", sha1File(t, filepath.Join(repo, "bin", "386", c)), c)
	}
	if err := os.WriteFile(filepath.Join(dir, "want.sha1"), []byte(want.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	xfer = filepath.Join(t.TempDir(), "xfer.img")
	f, err := os.Create(xfer)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	addTree(t, tw, kernelTree(t), "k")
	addTree(t, tw, repo, "repo")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.Seek(0, io.SeekCurrent); n > xferSize {
		t.Fatalf("the transfer disk's inputs take %d bytes, more than %d", n, xferSize)
	}
	if err := f.Truncate(xferSize); err != nil {
		t.Fatal(err)
	}
	return dir, xfer
}

// mkfileCmds returns the mkfile's CMDS.
func mkfileCmds(t *testing.T, mk string) []string {
	i := strings.Index(mk, "\nCMDS=")
	if i < 0 {
		t.Fatal("mkfile: no CMDS")
	}
	var cmds []string
	for _, line := range strings.Split(mk[i+1:], "\n") {
		line = strings.TrimPrefix(line, "CMDS=")
		cont := strings.HasSuffix(line, "\\")
		cmds = append(cmds, strings.Fields(strings.TrimSuffix(line, "\\"))...)
		if !cont {
			break
		}
	}
	if len(cmds) == 0 {
		t.Fatal("mkfile: empty CMDS")
	}
	return cmds
}

func sha1File(t *testing.T, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// copyTree copies the files under src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o755)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// kernelLibs are the libraries of the kit's 386/lib that a 9pc kernel
// and its boot program link with.
var kernelLibs = []string{
	"libc.a", "libip.a", "libsec.a", "libmp.a", "libdraw.a", "libmemdraw.a",
	"libmemlayer.a", "libauth.a", "libauthsrv.a", "libbio.a", "libndb.a", "libflate.a",
}

// kernelStandIns are our stand-ins for headers the kernel build
// includes that the kit lacks (test/plan9/boot/kernel/), by where the
// build looks for them.
var kernelStandIns = map[string]string{
	"sys.h":   "sys/src/libc/9syscall/sys.h",
	"x16.h":   "sys/src/boot/pc/x16.h",
	"dosfs.h": "sys/src/boot/pc/dosfs.h",
	"elf.h":   "sys/src/libmach/elf.h",
	"pcgo":    "sys/src/9/pc/pcgo",
}

// kernelPatches let the pc kernel be bigger than 8 MB, as it is with
// our fossil and venti in /boot: l.s maps the first 32 MB (not 8) before
// paging is on, with six more page tables after CPU0PTE1, which mem.h
// reserves (CPU0END), and memory.c knows that much is mapped (MemMin).
// Each old text must occur once.
var kernelPatches = []struct{ file, old, new string }{
	{"sys/src/9/pc/mem.h",
		"#define CPU0END		(CPU0PTE1+BY2PG)\n",
		"#define CPU0PTE2	(KZERO+0x18000)		/* plan9vm: bootstrap PTE's for 8MB-32MB, 6 pages */\n" +
			"#define CPU0END		(CPU0PTE2+6*BY2PG)\n"},
	{"sys/src/9/pc/memory.c",
		"	MemMin		= 8*MB,\n",
		"	MemMin		= 32*MB,	/* plan9vm: l.s maps 32MB */\n"},
	{"sys/src/9/pc/l.s",
		"_setpte1:\n	MOVL	BX, (AX)\n	ADDL	$(1<<PGSHIFT), BX\n	ADDL	$4, AX\n	LOOP	_setpte1\n",
		"_setpte1:\n	MOVL	BX, (AX)\n	ADDL	$(1<<PGSHIFT), BX\n	ADDL	$4, AX\n	LOOP	_setpte1\n" + `
	/* plan9vm: 6 more page tables map KZERO+8MB to KZERO+32MB */
	MOVL	$PADDR(CPU0PDB), AX
	ADDL	$(PDO(KZERO)+2*4), AX		/* page directory entry for KZERO+8MB */
	MOVL	$PADDR(CPU0PTE2), DX
	ORL	$(PTEWRITE|PTEVALID), DX
	MOVL	$6, CX
_setpde2:
	MOVL	DX, (AX)
	ADDL	$4, AX
	ADDL	$BY2PG, DX
	LOOP	_setpde2

	MOVL	$PADDR(CPU0PTE2), AX		/* BX goes on from 8MB */
	MOVL	$(6*1024), CX
_setpte2:
	MOVL	BX, (AX)
	ADDL	$(1<<PGSHIFT), BX
	ADDL	$4, AX
	LOOP	_setpte2
`},
}

// kernelTree returns the kernel build tree stage 1 unpacks: the kit's
// kernel sources, patched, with our configuration and the stand-in
// headers, and the libraries (386/lib/*.a).
func kernelTree(t *testing.T) string {
	t.Helper()
	kit := filepath.Join(root(), "..", "shared", "plan9vm", "plan9-386-kernel-src.tar.xz")
	src := t.TempDir()
	if b, err := exec.Command("tar", "-xJf", kit, "-C", src).CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v\n%s", kit, err, b)
	}
	src = filepath.Join(src, "plan9")
	for _, p := range kernelPatches {
		f := filepath.Join(src, p.file)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), p.old); n != 1 {
			t.Fatalf("patch %s: the text to replace occurs %d times", p.file, n)
		}
		if err := os.WriteFile(f, []byte(strings.Replace(string(b), p.old, p.new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Old times, so that mk makes nothing from the stand-ins (systab.h
	// from sys.h).
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for from, to := range kernelStandIns {
		b, err := os.ReadFile(filepath.Join(root(), "test", "plan9", "boot", "kernel", from))
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(src, to)
		os.MkdirAll(filepath.Dir(f), 0o755)
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	libs, err := os.ReadDir(filepath.Join(src, "386", "lib"))
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{}
	for _, l := range kernelLibs {
		keep[l] = true
	}
	for _, l := range libs {
		if !keep[l.Name()] {
			os.RemoveAll(filepath.Join(src, "386", "lib", l.Name()))
		}
	}
	return src
}

// addTree adds the files under dir to tw, named below prefix, in a form
// Plan 9's tar reads (USTAR), with their modification times.
func addTree(t *testing.T, tw *tar.Writer, dir, prefix string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h := &tar.Header{
			Name:     path.Join(prefix, filepath.ToSlash(rel)),
			Mode:     0o775,
			Size:     fi.Size(),
			ModTime:  fi.ModTime().Truncate(time.Second),
			Typeflag: tar.TypeReg,
			Uname:    "glenda",
			Gname:    "glenda",
			Format:   tar.FormatUSTAR,
		}
		if fi.IsDir() {
			h.Name += "/"
			h.Size, h.Typeflag = 0, tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		if fi.IsDir() {
			return nil
		}
		r, err := os.Open(p)
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = io.Copy(tw, r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
