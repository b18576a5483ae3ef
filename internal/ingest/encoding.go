package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/p100/p100-importer/internal/charset"
)

// Byte-order marks.
var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// sniffTextBytes is how much of a stream is looked at to tell its character
// set when the whole file cannot be read first (standard input).
const sniffTextBytes = 256 << 10

// EncodingError means the file is not UTF-8 and its content does not tell
// which legacy character set it is in: nothing may be read from it until a
// person says which reading is right.
type EncodingError struct {
	Result charset.Result
}

func (e *EncodingError) Error() string {
	var b strings.Builder
	b.WriteString("the file is not UTF-8, and its content does not make its character set clear; pass the --encoding under which these words read right:")
	for _, c := range e.Result.Candidates {
		fmt.Fprintf(&b, "\n  --encoding %-13s %s", c.Encoding, strings.Join(c.Words, ", "))
	}
	b.WriteString("\n(or save the file as \"CSV UTF-8\" from your spreadsheet)")
	return b.String()
}

// encodingChoice is the character set a text is read in, and why.
type encodingChoice struct {
	name string
	how  string
}

// decodeInput returns a UTF-8 stream for in. A byte-order mark decides for
// UTF-8 and UTF-16 (and is dropped); then --encoding; then the evidence
// found by a scan of the whole file (opts.detected); otherwise the first
// 256 KiB of the stream are looked at. UTF-8 is passed as it is, so an
// invalid byte is reported on its row rather than silently replaced.
func decodeInput(in io.Reader, opts Options) (io.Reader, encodingChoice, error) {
	br := bufio.NewReaderSize(in, sniffTextBytes)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		br.Discard(3)
		return br, encodingChoice{"UTF-8", "its byte-order mark"}, nil
	case bytes.HasPrefix(head, bomUTF16LE):
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()), encodingChoice{"UTF-16LE", "its byte-order mark"}, nil
	case bytes.HasPrefix(head, bomUTF16BE):
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()), encodingChoice{"UTF-16BE", "its byte-order mark"}, nil
	}
	name := strings.ToLower(strings.TrimSpace(opts.Encoding))
	how := "--encoding"
	if name == "" || name == "auto" {
		res := opts.detected
		if res == nil {
			sample, _ := br.Peek(sniffTextBytes)
			switch f := sniff(sample); f {
			case FormatUTF16LE:
				return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()), encodingChoice{"UTF-16LE", "every other byte is zero (no byte-order mark)"}, nil
			case FormatUTF16BE:
				return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()), encodingChoice{"UTF-16BE", "every other byte is zero (no byte-order mark)"}, nil
			case FormatText:
			default:
				return nil, encodingChoice{}, formatError(f)
			}
			d := charset.NewDetector()
			d.Write(sample)
			r := d.Result()
			res = &r
			if r.Decided {
				r.How += fmt.Sprintf("; from the first %d KiB", max(len(sample)>>10, 1))
			}
		}
		if !res.Decided {
			return nil, encodingChoice{}, &EncodingError{Result: *res}
		}
		name, how = res.Encoding, res.How
	}
	switch name {
	case "utf-8", "utf8":
		return br, encodingChoice{"UTF-8", how}, nil
	case "utf-16le", "utf16le":
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()), encodingChoice{"UTF-16LE", how}, nil
	case "utf-16be", "utf16be", "utf-16", "utf16":
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()), encodingChoice{"UTF-16BE", how}, nil
	}
	enc, canonical, err := lookupEncoding(name)
	if err != nil {
		return nil, encodingChoice{}, err
	}
	return transform.NewReader(br, enc.NewDecoder()), encodingChoice{canonical, how}, nil
}

// lookupEncoding finds a legacy encoding by IANA or WHATWG name
// (windows-1250, iso-8859-2, cp1252, latin2, ibm852, ...).
func lookupEncoding(name string) (encoding.Encoding, string, error) {
	// The name shown is the one given (folded), which is what a person
	// passes to --encoding again.
	if enc, err := ianaindex.IANA.Encoding(name); err == nil && enc != nil {
		return enc, strings.ToLower(name), nil
	}
	if enc, err := htmlindex.Get(name); err == nil {
		return enc, strings.ToLower(name), nil
	}
	return nil, "", fmt.Errorf("unknown encoding %q: use a name such as utf-8, utf-16le, windows-1250, iso-8859-2, windows-1252, iso-8859-15 or ibm852, or leave --encoding out to detect it", name)
}

// crToLF turns old-Mac line breaks (CR alone) into LF, one for one, so line
// numbers stay those of the file.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}
