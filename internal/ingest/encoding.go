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
)

// Byte-order marks.
var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// decodeInput returns a UTF-8 stream for in and the name of the encoding
// used. A byte-order mark decides for UTF-8 and UTF-16 (and is dropped);
// otherwise name does ("" or "utf-8": UTF-8, bytes passed as they are so an
// invalid sequence is reported on its row rather than silently replaced).
func decodeInput(in io.Reader, name string) (io.Reader, string, error) {
	br := bufio.NewReaderSize(in, 64<<10)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		br.Discard(3)
		return br, "UTF-8 (with BOM)", nil
	case bytes.HasPrefix(head, bomUTF16LE):
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()), "UTF-16LE (BOM)", nil
	case bytes.HasPrefix(head, bomUTF16BE):
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()), "UTF-16BE (BOM)", nil
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "utf-8", "utf8":
		return br, "UTF-8", nil
	case "utf-16le", "utf16le":
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()), "UTF-16LE", nil
	case "utf-16be", "utf16be", "utf-16", "utf16":
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()), "UTF-16BE", nil
	}
	enc, canonical, err := lookupEncoding(name)
	if err != nil {
		return nil, "", err
	}
	return transform.NewReader(br, enc.NewDecoder()), canonical, nil
}

// lookupEncoding finds a legacy encoding by IANA or WHATWG name
// (windows-1250, iso-8859-2, cp1252, latin2, ...).
func lookupEncoding(name string) (encoding.Encoding, string, error) {
	if enc, err := ianaindex.IANA.Encoding(name); err == nil && enc != nil {
		canonical, _ := ianaindex.IANA.Name(enc)
		return enc, canonical, nil
	}
	if enc, err := htmlindex.Get(name); err == nil {
		canonical, _ := htmlindex.Name(enc)
		return enc, canonical, nil
	}
	return nil, "", fmt.Errorf("unknown encoding %q: use a name such as utf-8, utf-16le, windows-1250, iso-8859-2 or windows-1252", name)
}
