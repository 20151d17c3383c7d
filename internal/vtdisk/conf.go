package vtdisk

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Config is a parsed venti.conf (venti(8)).
//
// Each line is a keyword and at most one argument, separated by
// blanks; '#' starts a comment; blank lines are ignored:
//
//	index name        the index (required by the server; once)
//	arenas file       an arena partition (any number, in order)
//	isect file        an index section (any number, in order)
//	bloom file        the bloom filter partition (once)
//	mem size          lump cache size (once)
//	bcmem size        block cache size (once)
//	icmem size        index cache size (once)
//	addr netaddr      venti service address (once)
//	httpaddr netaddr  HTTP service address (once)
//	webroot dir       directory for unrecognized HTTP requests (once)
//	queuewrites       queue writes in memory
//
// Sizes take an optional k, m, g or t suffix (case-insensitive). File
// names may end in ":lo-hi" to name part of a file (see ParsePartName).
type Config struct {
	Index  string
	Arenas []string
	ISects []string
	Bloom  string
	// Mem, BCMem and ICMem are in bytes; zero when not given.
	Mem, BCMem, ICMem uint64
	Addr              string
	HTTPAddr          string
	WebRoot           string
	QueueWrites       bool
}

// ParseConfig parses venti.conf text. Unknown keywords, wrong numbers
// of arguments, bad sizes and repeated once-only keywords are errors
// naming the line. Unlike the C venti, a last line without a newline is
// not ignored.
func ParseConfig(text string) (*Config, error) {
	c := &Config{}
	l := newLines([]byte(text), true)
	seen := map[string]bool{}
	for {
		s, ok := l.next()
		if !ok {
			return c, nil
		}
		where := fmt.Sprintf("config line %d", l.num)
		f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' })
		key := f[0]
		var arg string
		switch key {
		case "queuewrites":
			if len(f) != 1 {
				return nil, errorf(where, ErrSyntax, "queuewrites takes no argument: %q", s)
			}
			c.QueueWrites = true
			continue
		case "index", "arenas", "isect", "bloom", "mem", "bcmem", "icmem", "addr", "httpaddr", "webroot":
			if len(f) != 2 {
				return nil, errorf(where, ErrSyntax, "%s takes one argument: %q", key, s)
			}
			arg = f[1]
		default:
			return nil, errorf(where, ErrSyntax, "unknown keyword %q", key)
		}
		switch key {
		case "arenas", "isect":
		default:
			if seen[key] {
				return nil, errorf(where, ErrSyntax, "duplicate %s line", key)
			}
			seen[key] = true
		}
		var err error
		switch key {
		case "index":
			if !ValidName(arg) {
				return nil, errorf(where, ErrSyntax, "illegal index name %q", arg)
			}
			c.Index = arg
		case "arenas":
			c.Arenas = append(c.Arenas, arg)
		case "isect":
			c.ISects = append(c.ISects, arg)
		case "bloom":
			c.Bloom = arg
		case "mem":
			c.Mem, err = ParseSize(arg)
		case "bcmem":
			c.BCMem, err = ParseSize(arg)
		case "icmem":
			c.ICMem, err = ParseSize(arg)
		case "addr":
			c.Addr = arg
		case "httpaddr":
			c.HTTPAddr = arg
		case "webroot":
			c.WebRoot = arg
		}
		if err != nil {
			return nil, errorf(where, ErrSyntax, "illegal size %q", arg)
		}
	}
}

// ParseSize parses a size as venti.conf and the fmt tools write them: a
// number (decimal, 0x hexadecimal or 0 octal) with an optional suffix
// k, m, g or t (case-insensitive) for KiB, MiB, GiB or TiB.
func ParseSize(s string) (uint64, error) {
	mult := uint64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		case 't', 'T':
			mult = 1 << 40
		}
		if mult != 1 {
			s = s[:len(s)-1]
		}
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, fmt.Errorf("vtdisk: bad size %q", s)
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil || v > (1<<64-1)/mult {
		return 0, fmt.Errorf("vtdisk: bad size %q", s)
	}
	return v * mult, nil
}

// ParsePartName splits a partition name of venti.conf, "file" or
// "file:lo-hi", into the file and the byte range [lo, hi). Either bound
// may be omitted ("file:lo", "file:-hi", "file:lo-"); hi zero means the
// end of the file. Bounds take the suffixes ParseSize does.
func ParsePartName(name string) (file string, lo, hi uint64, err error) {
	i := strings.LastIndexByte(name, ':')
	if i < 0 {
		return name, 0, 0, nil
	}
	file, r := name[:i], name[i+1:]
	bad := fmt.Errorf("vtdisk: bad partition range in %q", name)
	los, his, dash := strings.Cut(r, "-")
	if los != "" {
		if lo, err = ParseSize(los); err != nil {
			return "", 0, 0, bad
		}
	}
	if his != "" {
		if !dash {
			return "", 0, 0, bad
		}
		if hi, err = ParseSize(his); err != nil {
			return "", 0, 0, bad
		}
	}
	if hi != 0 && hi < lo {
		return "", 0, 0, bad
	}
	return file, lo, hi, nil
}

// LoadConfig returns the venti.conf text of r, which is either a plain
// configuration file (at most ConfigSize bytes) or a partition larger
// than PartBlank holding a configuration block, as the C venti's -c
// option accepts.
func LoadConfig(r io.ReaderAt, size int64) (string, error) {
	switch {
	case size > PartBlank:
		return ReadConfig(r)
	case size > ConfigSize:
		return "", errorf("config file", ErrTooLarge, "%d bytes, max %d", size, ConfigSize)
	}
	buf := make([]byte, size)
	if err := readAt(r, buf, 0, "config file"); err != nil {
		return "", err
	}
	return string(buf), nil
}

// String formats the configuration as venti.conf text that ParseConfig
// reads back as c: one line per setting, in the order of venti(8).
func (c *Config) String() string {
	var b strings.Builder
	line := func(key, arg string) {
		if arg != "" {
			b.WriteString(key + " " + arg + "\n")
		}
	}
	line("index", c.Index)
	for _, a := range c.Arenas {
		line("arenas", a)
	}
	for _, s := range c.ISects {
		line("isect", s)
	}
	line("bloom", c.Bloom)
	for _, m := range []struct {
		key string
		v   uint64
	}{{"mem", c.Mem}, {"bcmem", c.BCMem}, {"icmem", c.ICMem}} {
		if m.v != 0 {
			line(m.key, strconv.FormatUint(m.v, 10))
		}
	}
	line("addr", c.Addr)
	line("httpaddr", c.HTTPAddr)
	line("webroot", c.WebRoot)
	if c.QueueWrites {
		b.WriteString("queuewrites\n")
	}
	return b.String()
}
