package cons

import "strings"

// Tokenize splits a console line into words the way Plan 9's
// tokenize(2) does, which is how the C console reads its lines:
// words are separated by blanks, tabs, carriage returns and newlines;
// a single quote starts and ends a quoted stretch, in which separators
// are ordinary characters and a doubled quote stands for one quote.
// Quoted stretches may be joined to unquoted text (a'b c'd is the one
// word "ab cd"), a pair of quotes alone is an empty word, and a quote
// left open runs to
// the end of the line. Nothing else is special: there are no
// variables, no backslash escapes, and # starts a comment only as the
// first character of the first word (see Console.Run).
func Tokenize(line string) []string {
	var words []string
	var w strings.Builder
	i := 0
	for {
		for i < len(line) && isSep(line[i]) {
			i++
		}
		if i >= len(line) {
			return words
		}
		w.Reset()
		quoting := false
		for ; i < len(line); i++ {
			ch := line[i]
			if !quoting && isSep(ch) {
				break
			}
			if ch != '\'' {
				w.WriteByte(ch)
				continue
			}
			switch {
			case !quoting:
				quoting = true
			case i+1 < len(line) && line[i+1] == '\'':
				w.WriteByte('\'')
				i++
			default:
				quoting = false
			}
		}
		words = append(words, w.String())
	}
}

func isSep(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// Quote returns s as a console word: unchanged if Tokenize would read
// it back as it is, else in single quotes with inner quotes doubled.
// It is Plan 9's %q: a word is quoted if it is empty or holds a quote,
// a blank or a control character.
func Quote(s string) string {
	if s != "" && !strings.ContainsFunc(s, needsQuote) {
		return s
	}
	return QuoteAlways(s)
}

// QuoteAlways returns s in single quotes with inner quotes doubled,
// as Plan 9's %#q does; error messages name commands and files so.
func QuoteAlways(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func needsQuote(r rune) bool { return r <= ' ' || r == '\'' }
