package fsdisk

import (
	"bytes"
	"io"
	"strings"
)

// The config block: console commands kept in the partition, read by
// fossil -f and written by fossil/conf -w.
const (
	ConfigOffset = 127 << 10 // byte offset in the partition
	ConfigSize   = 1024      // bytes, magic line included
	ConfigMagic  = "fossil config\n"
)

const whereConfig = "config block"

// PackConfig returns the ConfigSize bytes of a config block holding
// text: ConfigMagic, the text, zeros. Like fossil/conf it refuses text
// that does not fit with the magic line; it also refuses text with a
// NUL, which would end it early.
func PackConfig(text string) ([]byte, error) {
	if n := len(ConfigMagic) + len(text); n > ConfigSize {
		return nil, errorf(whereConfig, ErrTooLarge, "config is too long: %d bytes, max %d", n, ConfigSize)
	}
	if strings.IndexByte(text, 0) >= 0 {
		return nil, errorf(whereConfig, ErrCorrupt, "config holds a NUL byte")
	}
	b := make([]byte, ConfigSize)
	copy(b, ConfigMagic)
	copy(b[len(ConfigMagic):], text)
	return b, nil
}

// UnpackConfig returns the text of a config block: what follows the
// magic line, up to the first NUL or the end of the block.
func UnpackConfig(b []byte) (string, error) {
	b = b[:min(len(b), ConfigSize)]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if !bytes.HasPrefix(b, []byte(ConfigMagic)) {
		return "", errorf(whereConfig, ErrConfig, "")
	}
	return string(b[len(ConfigMagic):]), nil
}

// ReadConfig reads the config text of a partition.
func ReadConfig(r io.ReaderAt) (string, error) {
	b := make([]byte, ConfigSize)
	n, err := r.ReadAt(b, ConfigOffset)
	if n == 0 {
		if err == nil || err == io.EOF {
			return "", errorf(whereConfig, ErrShort, "partition ends before %d", ConfigOffset)
		}
		return "", within(whereConfig, err)
	}
	return UnpackConfig(b[:n])
}

// WriteConfig writes a config block holding text into a partition.
func WriteConfig(w io.WriterAt, text string) error {
	b, err := PackConfig(text)
	if err != nil {
		return err
	}
	if _, err := w.WriteAt(b, ConfigOffset); err != nil {
		return within(whereConfig, err)
	}
	return nil
}

// ConfigCommands splits config text into the console commands fossil -f
// runs: its non-empty lines, without those starting with '#'. A '*'
// standing alone as a word becomes partition, the partition's name.
func ConfigCommands(text, partition string) []string {
	var cmds []string
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexByte(line, '*'); i >= 0 &&
			(i == 0 || isSpace(line[i-1])) && (i+1 == len(line) || isSpace(line[i+1])) {
			line = line[:i] + partition + line[i+1:]
		}
		cmds = append(cmds, line)
	}
	return cmds
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
