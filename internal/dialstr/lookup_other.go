//go:build !plan9

package dialstr

// lookupAttr resolves $attr from the ndb file, there being no connection
// server outside Plan 9.
func lookupAttr(attr string) (string, error) {
	return LookupAttr(NdbFile(), Sysname(), attr)
}
