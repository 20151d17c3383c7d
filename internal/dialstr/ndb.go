package dialstr

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/mischief/ndb"
)

// NdbFile is the network database consulted for $attr hosts where there
// is no connection server: $NDBFILE, else $PLAN9/ndb/local (plan9port's
// place), else Plan 9's /lib/ndb/local.
func NdbFile() string {
	if f := os.Getenv("NDBFILE"); f != "" {
		return f
	}
	if p := os.Getenv("PLAN9"); p != "" {
		f := filepath.Join(p, "ndb", "local")
		if _, err := os.Stat(f); err == nil {
			return f
		}
	}
	return ndb.NdbLocal
}

// Sysname is this system's name in ndb: $sysname, else the host name.
func Sysname() string {
	if s := os.Getenv("sysname"); s != "" {
		return s
	}
	if b, err := os.ReadFile("/dev/sysname"); err == nil && len(b) > 0 {
		return strings.TrimSpace(string(b))
	}
	h, _ := os.Hostname()
	return h
}

// LookupAttr finds the value of attr for system sys in the ndb file: in
// the system's own entry first, then in the entries of the ipnets that
// hold its address, most specific network first, as ndb(6) describes
// for attributes like venti= and auth=.
func LookupAttr(file, sys, attr string) (string, error) {
	db, err := ndb.Open(file)
	if err != nil {
		return "", err
	}
	recs := db.Search("sys", sys)
	if v := recs.Search(attr); v != "" {
		return v, nil
	}
	ip := net.ParseIP(recs.Search("ip"))
	if ip == nil {
		return "", fmt.Errorf("$%s: no entry for system %q in %s", attr, sys, file)
	}
	best, bestBits := "", -1
	for _, rec := range db.Search("ipnet", "") {
		n := ipnetOf(ndb.RecordSet{rec})
		if n == nil || !n.Contains(ip) {
			continue
		}
		v := ndb.RecordSet{rec}.Search(attr)
		if bits, _ := n.Mask.Size(); v != "" && bits > bestBits {
			best, bestBits = v, bits
		}
	}
	if best == "" {
		return "", fmt.Errorf("$%s: not set for system %q in %s", attr, sys, file)
	}
	return best, nil
}

// ipnetOf returns the network an ipnet entry describes (ip= and ipmask=,
// with the class mask when ipmask is absent).
func ipnetOf(rs ndb.RecordSet) *net.IPNet {
	ip := net.ParseIP(rs.Search("ip"))
	if ip == nil {
		return nil
	}
	mask := ip.DefaultMask()
	if m := net.ParseIP(rs.Search("ipmask")); m != nil {
		if m4 := m.To4(); m4 != nil {
			mask = net.IPMask(m4)
		} else {
			mask = net.IPMask(m)
		}
	}
	if ip4 := ip.To4(); ip4 != nil {
		ip = ip4
	}
	if mask == nil || len(mask) != len(ip) {
		return nil
	}
	return &net.IPNet{IP: ip.Mask(mask), Mask: mask}
}
