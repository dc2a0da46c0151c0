package evals

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// writePyString writes s as a JSON string the way Python's json.dumps
// does, so that a request body is the bytes lm-eval sends, not merely an
// equal value: '"' and '\' escaped, \n \r \t \b \f in short form, other
// control characters as \u00XX; with ensureASCII (json.dumps' default)
// everything outside printable ASCII as \uXXXX, a surrogate pair above
// U+FFFF. Unlike Go's encoder, '<', '>' and '&' stay as they are.
func writePyString(b *strings.Builder, s string, ensureASCII bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (ensureASCII && r > 0x7e && r <= 0xffff):
			fmt.Fprintf(b, `\u%04x`, r)
		case ensureASCII && r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
