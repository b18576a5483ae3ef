package p100

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	json "github.com/goccy/go-json" // 4x faster than encoding/json on the 2 KB create answer
)

// Base URLs of P100's environments.
const (
	StagingURL    = "https://partner-api-stage.p100.io"
	ProductionURL = "https://partner-api.p100.io"
)

// Paths of the endpoints the importer uses.
const (
	createPath = "/v1/user/balances/crypto"
	userPath   = "/v1/user/balances/"
)

// APIKey is the partner's secret. Its String, GoString and JSON forms are
// redacted, so printing a config or an error can never leak it.
type APIKey string

func (APIKey) String() string               { return "[redacted]" }
func (APIKey) GoString() string             { return `p100.APIKey("[redacted]")` }
func (APIKey) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }
func (APIKey) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }
func (k APIKey) reveal() string             { return string(k) }

// Format redacts the key for every fmt verb, also those (%d, %t, ...) for
// which fmt would otherwise print the underlying string.
func (k APIKey) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, k.GoString())
		return
	}
	io.WriteString(f, "[redacted]")
}

// CreateUserRequest is the body of POST /v1/user/balances/crypto, field
// names exactly as P100 documents them.
type CreateUserRequest struct {
	ExternalUserID string `json:"externalUserId"`
	Email          string `json:"email"`
	FirstName      string `json:"firstName"`
	LastName       string `json:"lastName"`
	Address        string `json:"address"`
	City           string `json:"city"`
	Country        string `json:"country"`
	DocumentType   string `json:"documentType"`
	DocumentNumber string `json:"documentNumber"`
	Pesel          string `json:"pesel,omitempty"`
	BirthCountry   string `json:"birthCountry,omitempty"`
	BirthDate      string `json:"birthDate,omitempty"`
}

// Balance is one of a user's balances; the client keeps only what the
// importer records.
type Balance struct {
	ID   string `json:"id"`
	Name string `json:"name"` // lower-case currency: eth, usdc, eur, ...
}

// User is P100's answer to a create or a lookup.
type User struct {
	UserID   string    `json:"userId"`
	Balances []Balance `json:"balances"`
}

// BalanceIDs returns the balance ids by currency.
func (u *User) BalanceIDs() map[string]string {
	if len(u.Balances) == 0 {
		return nil
	}
	m := make(map[string]string, len(u.Balances))
	for _, b := range u.Balances {
		m[b.Name] = b.ID
	}
	return m
}

// Config sets up a Client.
type Config struct {
	BaseURL string // StagingURL when empty
	APIKey  APIKey
	// Timeout bounds one request, response body included; 0 means 30s.
	Timeout time.Duration
	// MaxResponseBytes caps a response body; 0 means 1 MiB.
	MaxResponseBytes int64
	// MaxConns is how many connections to keep open to the API (the number
	// of workers); 0 means 16.
	MaxConns int
	// UserAgent is sent with every request.
	UserAgent string
	// OnHeaders, if set, is given the headers of every answer (its
	// rate-limit fields), from the goroutine that made the request,
	// before the call returns.
	OnHeaders func(http.Header) `json:"-"`
}

// Client calls the P100 Partner API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	createURL string     // base + createPath, built once
	buffers   *sync.Pool // *bytes.Buffer answers are read into: otherwise one a request, grown 3 times
	key       *APIKey    // a pointer: fmt prints unexported fields raw, but not through a pointer
	http      *http.Client
	timeout   time.Duration
	maxBody   int64
	agent     string
	onHeaders func(http.Header)
}

// New returns a Client for cfg. It refuses a base URL that is not https,
// unless it names a loopback host (the local sandbox).
func New(cfg Config) (*Client, error) {
	raw := cfg.BaseURL
	if raw == "" {
		raw = StagingURL
	}
	base, err := ParseBaseURL(raw)
	if err != nil {
		return nil, err
	}
	key := cfg.APIKey
	c := &Client{base: base, createURL: base.JoinPath(createPath).String(), key: &key, timeout: cfg.Timeout,
		maxBody: cfg.MaxResponseBytes, agent: cfg.UserAgent, onHeaders: cfg.OnHeaders, buffers: &sync.Pool{}}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	if c.maxBody <= 0 {
		c.maxBody = 1 << 20
	}
	conns := cfg.MaxConns
	if conns <= 0 {
		conns = 16
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	transport.MaxIdleConns = conns
	transport.MaxIdleConnsPerHost = conns
	transport.Proxy = http.ProxyFromEnvironment
	c.http = &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return fmt.Errorf("%w to %s", ErrRedirect, req.URL.Redacted())
		},
	}
	return c, nil
}

// ParseBaseURL checks a base URL: https, or http to a loopback host.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", raw, err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("base URL %q: want https://host[:port]", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("base URL %q: must not carry credentials, a query or a fragment", u.Redacted())
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("base URL %q: %w", raw, ErrInsecureURL)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CloseIdleConnections closes kept-alive connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// CreateUser creates a user without KYC. A P411 answer is an *Error of
// class Conflict: the externalUserId is already used.
//
// A 201, or another 2xx whose body holds a userId, is a created user. A 201
// whose body is unreadable or lacks the userId is a created user too: the
// User comes back with an empty UserID (look it up; never send the create
// again). Another 2xx without a userId is not an answer of P100's: an
// *Error of class OffScript.
func (c *Client) CreateUser(ctx context.Context, r *CreateUserRequest) (*User, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	var u User
	status, err := c.do(ctx, http.MethodPost, c.createURL, body, &u)
	switch {
	case err != nil:
		return nil, err
	case u.UserID != "", status == http.StatusCreated:
		return &u, nil
	}
	return nil, &Error{Class: OffScript, Status: status, Code: fmt.Sprintf("HTTP_%d", status),
		Message: fmt.Sprintf("HTTP %d without a userId: P100 answers a create with 201", status)}
}

// GetUser looks a user up by externalUserId. An unknown user gives an error
// matching ErrNotFound.
func (c *Client) GetUser(ctx context.Context, externalUserID string) (*User, error) {
	target := c.base.String() + userPath + url.PathEscape(externalUserID)
	var u User
	_, err := c.do(ctx, http.MethodGet, target, nil, &u)
	var apiErr *Error
	if errors.As(err, &apiErr) && (apiErr.Status == http.StatusNotFound || apiErr.Code == CodeInvalidUser) {
		return nil, fmt.Errorf("look up user: %w (%v)", ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	if u.UserID == "" {
		return nil, &Error{Class: OffScript, Code: CodeBadResponse, Message: "a lookup answered without a userId"}
	}
	return &u, nil
}

// apiErrorBody is P100's error answer.
type apiErrorBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorName    string `json:"errorName"`
	ErrorMessage string `json:"errorMessage"`
}

// do sends one request. A 2xx answer is decoded into out (a body that does
// not decode leaves out as it was: the caller judges what it got) and its
// status returned; anything else is an *Error.
func (c *Client) do(ctx context.Context, method, target string, body []byte, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	// Set the map entry directly: Header.Set would canonicalise the name to
	// X-Api-Key, and P100 documents the lowercase spelling.
	req.Header["x-api-key"] = []string{c.key.reveal()}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return 0, transportError(ctx, err)
	}
	defer resp.Body.Close()
	if c.onHeaders != nil {
		c.onHeaders(resp.Header)
	}

	buf, _ := c.buffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = bytes.NewBuffer(make([]byte, 0, 4096))
	}
	defer c.buffers.Put(buf)
	buf.Reset()
	_, readErr := buf.ReadFrom(io.LimitReader(resp.Body, c.maxBody+1))
	data := buf.Bytes() // decoded below; json copies what it keeps
	success := resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case success:
		// The request was processed: whatever the body, the caller must
		// not take it for a failure (a created user would be sent again).
		if readErr == nil && int64(len(data)) <= c.maxBody {
			_ = json.Unmarshal(data, out)
		}
		return resp.StatusCode, nil
	case readErr != nil:
		return resp.StatusCode, transportError(ctx, readErr)
	case int64(len(data)) > c.maxBody:
		return resp.StatusCode, &Error{Class: Transient, Status: resp.StatusCode, Code: CodeBadResponse,
			Message: fmt.Sprintf("response larger than %d bytes", c.maxBody)}
	}
	return resp.StatusCode, responseError(resp, data)
}

func responseError(resp *http.Response, data []byte) *Error {
	e := &Error{Status: resp.StatusCode}
	var body apiErrorBody
	if json.Unmarshal(data, &body) == nil {
		e.Code = Sanitize(body.ErrorCode, 40)
		e.Name = Sanitize(body.ErrorName, 60)
		e.Message = Sanitize(body.ErrorMessage, maxMessage)
	}
	p100Body := strings.HasPrefix(e.Code, "P") || resp.StatusCode == http.StatusUnauthorized
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		e.Code = CodeRedirect
		e.Message = "redirect to " + Sanitize(resp.Header.Get("Location"), 200) + " not followed"
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Code = CodeRateLimited
	case e.Code == "":
		e.Code = fmt.Sprintf("HTTP_%d", resp.StatusCode)
		if e.Message == "" {
			e.Message = Sanitize(string(data), 120)
		}
	}
	code := e.Code
	if !p100Body {
		code = "" // not P100's error body: an HTML page, an empty body, another service's JSON
	}
	e.Class = classify(resp.StatusCode, code)
	e.RetryAfter = Sanitize(resp.Header.Get("Retry-After"), 64)
	return e
}

// transportError wraps a failure without a usable response.
func transportError(ctx context.Context, err error) *Error {
	e := &Error{Class: Transient, Code: CodeNetwork, Err: err}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		e.Err = urlErr.Err // the URL carries no secret, but says nothing new either
		if u, perr := url.Parse(urlErr.URL); perr == nil {
			e.Addr = u.Scheme + "://" + u.Host
		}
	}
	if errors.Is(err, ErrRedirect) {
		e.Class, e.Code = OffScript, CodeRedirect
		return e
	}
	// A certificate that does not verify fails for every request: retrying
	// would only trip the circuit breaker later.
	var (
		certErr     *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalidErr) {
		e.Class, e.Code = Fatal, CodeTLS
		e.Message = "the API's TLS certificate does not verify"
		return e
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
		e.Code = CodeTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		e.Message = "connection closed without an answer: the request may have been processed"
	}
	return e
}
