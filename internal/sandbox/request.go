package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// maxBodyBytes caps a create request's body.
const maxBodyBytes = 64 << 10

// createRequest is the body of POST /v1/user/balances/crypto.
type createRequest struct {
	ExternalUserID string
	Email          string
	FirstName      string
	LastName       string
	Address        string
	City           string
	Country        string
	DocumentType   string
	DocumentNumber string
	Pesel          string
	BirthCountry   string
	BirthDate      string
}

// field is one body field: its JSON name, exactly as documented, and where
// its value goes.
type field struct {
	name     string
	required bool
	value    func(*createRequest) *string
}

// fields lists the body fields in the order their errors are reported.
var fields = [...]field{
	{"externalUserId", true, func(r *createRequest) *string { return &r.ExternalUserID }},
	{"email", true, func(r *createRequest) *string { return &r.Email }},
	{"firstName", true, func(r *createRequest) *string { return &r.FirstName }},
	{"lastName", true, func(r *createRequest) *string { return &r.LastName }},
	{"address", true, func(r *createRequest) *string { return &r.Address }},
	{"city", true, func(r *createRequest) *string { return &r.City }},
	{"country", true, func(r *createRequest) *string { return &r.Country }},
	{"documentType", true, func(r *createRequest) *string { return &r.DocumentType }},
	{"documentNumber", true, func(r *createRequest) *string { return &r.DocumentNumber }},
	{"pesel", false, func(r *createRequest) *string { return &r.Pesel }},
	{"birthCountry", false, func(r *createRequest) *string { return &r.BirthCountry }},
	{"birthDate", false, func(r *createRequest) *string { return &r.BirthDate }},
}

// fieldIndex finds a field by its exact (case-sensitive) JSON name, as a
// JavaScript server would; encoding/json's case-insensitive matching would
// accept misspelt names the real API ignores.
func fieldIndex(name []byte) int {
	for i := range fields {
		if fields[i].name == string(name) { // no allocation
			return i
		}
	}
	return -1
}

// parsedBody is a decoded create body and the fields that were not strings.
type parsedBody struct {
	req     createRequest
	notText [len(fields)]bool // by index in fields
	// invalid, when not empty, is the whole-body problem (not JSON, too
	// big, wrong content type); nothing else is reported then.
	invalid string
}

// readCreateRequest reads and decodes a create body. Problems with the body
// are not errors here: they end up in parsedBody for validate to report as
// P403, after the slow-fault delay, like any other validation failure.
func readCreateRequest(w http.ResponseWriter, r *http.Request) parsedBody {
	var p parsedBody
	if !isJSON(r.Header.Get("Content-Type")) {
		p.invalid = "Content-Type must be application/json"
		return p
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, maxBodyBytes), r.ContentLength)
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			p.invalid = fmt.Sprintf("request body must not be larger than %d bytes", maxBodyBytes)
		} else {
			p.invalid = "request body could not be read"
		}
		return p
	}
	if err := decodeCreateRequest(body, &p); err != nil {
		p.invalid = "request body must be a JSON object"
	}
	return p
}

// readBody reads r to the end into a buffer sized by the Content-Length
// hint, so that the usual small body costs one allocation.
func readBody(r io.Reader, hint int64) ([]byte, error) {
	n := 512
	if hint > 0 && hint < maxBodyBytes {
		n = int(hint) + 1 // room for the read that meets EOF
	}
	buf := make([]byte, 0, n)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
	}
}

// isJSON reports whether a Content-Type header names JSON.
func isJSON(contentType string) bool {
	if contentType == "application/json" {
		return true // the common case, without parsing
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// decodeCreateRequest decodes a JSON object into p, keeping only the
// documented fields, matched by exact name (unknown ones are ignored, null
// counts as absent), and noting the ones that are not strings.
//
// encoding/json would match names case-insensitively and so accept
// misspelt fields that a JavaScript server ignores; this walk over the
// object, once json.Valid has vouched for its syntax, is exact and cheap.
func decodeCreateRequest(body []byte, p *parsedBody) error {
	if !json.Valid(body) {
		return errors.New("body is not valid JSON")
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return errors.New("body is not a JSON object")
	}
	i++
	for {
		i = skipSpace(body, i)
		switch body[i] {
		case '}':
			return nil // json.Valid guarantees only white space follows
		case ',':
			i = skipSpace(body, i+1)
		}
		keyEnd := stringEnd(body, i)
		key := body[i+1 : keyEnd-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			k, err := unquote(body[i:keyEnd])
			if err != nil {
				return fmt.Errorf("read key: %w", err)
			}
			key = []byte(k)
		}
		i = skipSpace(body, keyEnd)
		i = skipSpace(body, i+1) // the colon
		valueEnd := valueEnd(body, i)
		raw := body[i:valueEnd]
		i = valueEnd

		f := fieldIndex(key)
		if f < 0 {
			continue
		}
		dst := fields[f].value(&p.req)
		*dst, p.notText[f] = "", false
		switch raw[0] {
		case 'n': // null
		case '"':
			var err error
			if *dst, err = unquote(raw); err != nil {
				return fmt.Errorf("read value of %q: %w", key, err)
			}
		default:
			p.notText[f] = true
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just after the string literal at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; ; j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
}

// valueEnd returns the index just after the (valid) JSON value at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	default: // number, true, false, null
		j := i
		for j < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[j])) {
			j++
		}
		return j
	}
}

// unquote decodes a JSON string literal, skipping encoding/json for the
// common case of a literal without escapes.
func unquote(raw []byte) (string, error) {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("unquote: %w", err)
	}
	return s, nil
}

// documentTypes are the accepted values of documentType.
var documentTypes = []string{"PASSPORT", "ID_CARD", "RESIDENCE_PERMIT"}

// validate returns P403's message for p, or "" when the request is valid.
// Every failure is reported, joined in one sentence in field order.
func (p *parsedBody) validate() string {
	if p.invalid != "" {
		return p.invalid
	}
	var msgs []string
	for i, f := range fields {
		v := *f.value(&p.req)
		switch {
		case p.notText[i]:
			msgs = append(msgs, f.name+" must be a string")
			continue
		case strings.TrimSpace(v) == "":
			if f.required {
				msgs = append(msgs, f.name+" should not be empty")
			}
			continue // an empty optional field counts as absent
		}
		if m := checkField(f.name, v); m != "" {
			msgs = append(msgs, m)
		}
	}
	return strings.Join(msgs, ", ")
}

// checkField checks the format of a non-empty value.
func checkField(name, v string) string {
	switch name {
	case "email":
		if !isEmail(v) {
			return "email must be an email"
		}
	case "country", "birthCountry":
		if !isCountryCode(v) {
			return name + " must be a valid ISO 3166-1 alpha-2 code"
		}
	case "documentType":
		for _, t := range documentTypes {
			if v == t {
				return ""
			}
		}
		return "documentType must be one of the following values: " + strings.Join(documentTypes, ", ")
	case "pesel":
		if len(v) != 11 || !allDigits(v) {
			return "pesel must be a string of 11 digits"
		}
	case "birthDate":
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return "birthDate must be a valid date in YYYY-MM-DD format"
		}
	}
	return ""
}

// isEmail accepts local@domain.tld: one '@', text on both sides, a dot
// inside the domain, no white space.
func isEmail(v string) bool {
	if strings.ContainsAny(v, " \t\r\n") || strings.Count(v, "@") != 1 {
		return false
	}
	local, domain, _ := strings.Cut(v, "@")
	dot := strings.LastIndexByte(domain, '.')
	return local != "" && dot > 0 && dot < len(domain)-1
}

func isCountryCode(v string) bool {
	return len(v) == 2 && 'A' <= v[0] && v[0] <= 'Z' && 'A' <= v[1] && v[1] <= 'Z'
}

func allDigits(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}
