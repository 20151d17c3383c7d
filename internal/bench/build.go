//go:build !plan9

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// moduleRoot is the directory of the go.mod of the working directory's
// module.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the module: run from the checkout")
	}
	return filepath.Dir(mod), nil
}

// programs are the packages of the commands the bench runs; go build
// names each binary after its folder: venti, fmtarenas, ..., fossil,
// flfmt, flchk.
var programs = []string{
	"./venti/venti", "./venti/fmtarenas", "./venti/fmtisect", "./venti/fmtbloom", "./venti/fmtindex",
	"./fossil", "./fossil/flfmt", "./fossil/flchk",
}

// buildPrograms builds the commands into dir with one go build, as a
// user would build them.
func buildPrograms(root, dir string) error {
	args := append([]string{"build", "-o", dir + string(filepath.Separator)}, programs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	return nil
}

// runCmd runs a program to completion and returns its combined output.
func runCmd(bin string, args ...string) (string, error) {
	b, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return string(b), fmt.Errorf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, b)
	}
	return string(b), nil
}
