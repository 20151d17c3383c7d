package test

import "testing"

// TestPlan9OurFormats formats venti partitions with our fmtarenas,
// fmtisect, fmtbloom, fmtindex and conf inside Plan 9, starts the C
// venti on them (configured from the arena partition), writes and reads
// blocks with the C clients, checks the result with the C checkarenas
// and checkindex, and compares our rdarena, printarena and
// printarenapart with the C ones (test/plan9/ventifmt).
func TestPlan9OurFormats(t *testing.T) {
	plan9vm(t)
	dir := plan9Dir(t, "ventifmt", "venti/fmtarenas", "venti/fmtisect", "venti/fmtbloom",
		"venti/fmtindex", "venti/conf", "venti/rdarena", "venti/printarena", "venti/printarenapart")
	runPlan9(t, dir, "-d", disk(t, 64))
}
