package p100

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"unicode"
)

// Class tells the caller what an error means for the row and the run.
type Class int

// The classes of errors.
const (
	// Transient errors may succeed when retried: P500, P501, 429, 5xx,
	// timeouts, connection resets, unreadable responses.
	Transient Class = iota
	// Permanent errors will fail again for this row: P403 and other 4xx.
	Permanent
	// Fatal errors will fail for every row: 401, access denied.
	Fatal
	// Conflict is P411: the externalUserId is already used; the user exists.
	Conflict
	// OffScript is an answer P100 does not give: a 404, 405 or other
	// unexpected 4xx, a redirect, an HTML or empty error body, an
	// unexpected 2xx. The tool is not talking to the API it thinks (a wrong
	// base URL, a proxy, a captive portal): no row's outcome can be taken
	// from it, and every further request would get the same.
	OffScript
)

func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case Fatal:
		return "fatal"
	case Conflict:
		return "conflict"
	case OffScript:
		return "off-script"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Error codes the client gives to failures that carry no P100 errorCode.
const (
	CodeTimeout     = "TIMEOUT"      // no answer within the request timeout
	CodeNetwork     = "NETWORK"      // connection refused, reset, DNS...
	CodeRateLimited = "429"          // too many requests
	CodeBadResponse = "BAD_RESPONSE" // an answer the client could not read
	CodeRedirect    = "REDIRECT"     // a 3xx, never followed
	CodeTLS         = "TLS"          // the server's certificate does not verify
)

// P100's documented error codes.
const (
	CodeValidation  = "P403"
	CodeUserExists  = "P411"
	CodeUnknown     = "P500"
	CodeUnavailable = "P501"
	CodeInvalidUser = "P412"
)

// Sentinel errors.
var (
	// ErrNotFound is returned by GetUser for an unknown externalUserId.
	ErrNotFound = errors.New("user not found")
	// ErrInsecureURL refuses a plain-http base URL to a non-loopback host.
	// ErrRedirect: the API answered with a redirect, which is never followed
	// (Go would forward the x-api-key header to the new location).
	ErrRedirect    = errors.New("refusing to follow a redirect")
	ErrInsecureURL = errors.New("refusing plain http to a non-loopback host: the API key would travel in clear text")
)

// maxMessage is how much of P100's errorMessage is kept.
const maxMessage = 300

// Error is a failed call to the API.
type Error struct {
	Class      Class
	Status     int    // HTTP status; 0 when no response arrived
	Code       string // P100 errorCode, or one of the client's Code* values
	Name       string // P100 errorName, when given
	Message    string // P100 errorMessage, sanitised and truncated
	RetryAfter string // the Retry-After header as received, if any
	Err        error  // underlying transport error, if any
	// Addr is scheme://host of the request, for errors without an answer
	// (no path: it may hold an externalUserId).
	Addr string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("p100: ")
	switch {
	case e.Status == 0:
		b.WriteString(e.Code)
	case e.Code == strconv.Itoa(e.Status) || e.Code == fmt.Sprintf("HTTP_%d", e.Status):
		// P100's 401 body has errorCode "401": say it once.
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	default:
		fmt.Fprintf(&b, "HTTP %d %s", e.Status, e.Code)
	}
	if e.Name != "" {
		fmt.Fprintf(&b, " (%s)", e.Name)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Unreachable reports whether nothing answered at the API's address: the
// connection was refused, the name does not resolve, or there is no route
// to the host. A wrong --base-url, not an API that fails.
func (e *Error) Unreachable() bool {
	if e.Status != 0 || e.Err == nil {
		return false
	}
	var dnsErr *net.DNSError
	return errors.Is(e.Err, syscall.ECONNREFUSED) || errors.Is(e.Err, syscall.EHOSTUNREACH) ||
		errors.Is(e.Err, syscall.ENETUNREACH) || errors.As(e.Err, &dnsErr)
}

// ClassOf returns the class of err: an *Error's own, Transient otherwise.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Transient
}

// classify maps an HTTP status and the errorCode of a P100 error body ("" when
// the body is not one) to a Class, per docs/p100-api.md: only P100's own,
// documented answers decide a row; anything else is OffScript.
func classify(status int, code string) Class {
	switch {
	case status == 401:
		return Fatal
	case status == 429 || status == 408 || status >= 500:
		return Transient // a gateway's HTML 502 too: worth a retry
	case status == 400 && strings.HasPrefix(code, "P"):
		switch code {
		case CodeUserExists:
			return Conflict
		case CodeUnknown, CodeUnavailable:
			return Transient
		}
		return Permanent // P403, and P100's other codes
	}
	return OffScript
}

// Sanitize makes text from the API or a CSV safe to print: control
// characters (terminal escapes included) and invisible format characters
// (bidirectional overrides) become spaces, runs of spaces
// collapse, and the result is cut to max runes with an ellipsis.
func Sanitize(s string, max int) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
				n++
			}
			space = true
			continue
		}
		if n >= max {
			return strings.TrimSpace(b.String()) + "…"
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}
