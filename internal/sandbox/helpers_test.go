package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/sandbox"
)

const testKey = "test-key"

// sandboxServer is a sandbox behind a real loopback HTTP server.
type sandboxServer struct {
	*sandbox.Server
	URL    string
	client *http.Client
}

// MustStart starts a sandbox with cfg (APIKey defaults to testKey) and
// stops it when the test ends.
func MustStart(tb testing.TB, cfg sandbox.Config) *sandboxServer {
	tb.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	s := sandbox.New(cfg)
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	client := ts.Client()
	client.Timeout = 10 * time.Second
	return &sandboxServer{Server: s, URL: ts.URL, client: client}
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// apiError is P100's error body; ErrorName is a pointer to tell a missing
// errorName from an empty one.
type apiError struct {
	ErrorCode    string  `json:"errorCode"`
	ErrorName    *string `json:"errorName"`
	ErrorMessage string  `json:"errorMessage"`
}

type balance struct {
	ID            string                     `json:"id"`
	Amount        string                     `json:"amount"`
	Name          string                     `json:"name"`
	Wallet        *string                    `json:"wallet"`
	Rate          float64                    `json:"rate"`
	NetworkConfig map[string]json.RawMessage `json:"networkConfig"`
}

type createResponse struct {
	UserID         string    `json:"userId"`
	ExternalUserID string    `json:"externalUserId"` // lookups only
	Balances       []balance `json:"balances"`
}

// validBody is a create request that passes validation, modelled on the
// documented example.
func validBody(externalID string) map[string]any {
	return map[string]any{
		"externalUserId": externalID,
		"email":          "johndoe@gmail.com",
		"firstName":      "John",
		"lastName":       "Doe",
		"address":        "Adama Matuszczaka 51/4",
		"city":           "Rzeszów",
		"country":        "PL",
		"documentType":   "PASSPORT",
		"documentNumber": "CEV124630",
		"pesel":          "12345678901",
		"birthCountry":   "PL",
		"birthDate":      "2000-01-01",
	}
}

// newRequest builds a request carrying key in the lower-case header, the
// way P100 documents it and the importer sends it.
func (s *sandboxServer) newRequest(tb testing.TB, method, path, key string, body []byte) *http.Request {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, s.URL+path, rd)
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header["x-api-key"] = []string{key}
	}
	return req
}

// MustDo sends req and reads the answer; a transport error fails the test.
func (s *sandboxServer) MustDo(tb testing.TB, req *http.Request) response {
	tb.Helper()
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// MustCreate posts body (marshalled unless already []byte) with testKey.
func (s *sandboxServer) MustCreate(tb testing.TB, body any) response {
	tb.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			tb.Fatalf("marshal body: %v", err)
		}
	}
	return s.MustDo(tb, s.newRequest(tb, http.MethodPost, "/v1/user/balances/crypto", testKey, raw))
}

// MustLookup gets the user with externalID with testKey.
func (s *sandboxServer) MustLookup(tb testing.TB, externalID string) response {
	tb.Helper()
	return s.MustDo(tb, s.newRequest(tb, http.MethodGet, "/v1/user/balances/"+url.PathEscape(externalID), testKey, nil))
}

// MustDecode unmarshals r's body into v, failing on anything but JSON.
func MustDecode(tb testing.TB, r response, v any) {
	tb.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("Content-Type = %q, want application/json", ct)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.body, err)
	}
}

// MustAPIError checks that r is status with errorCode code and returns
// the error body.
func MustAPIError(tb testing.TB, r response, status int, code string) apiError {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	var e apiError
	MustDecode(tb, r, &e)
	if e.ErrorCode != code {
		tb.Fatalf("errorCode = %q, want %q (body %s)", e.ErrorCode, code, r.body)
	}
	return e
}

// MustStats reads GET /_sandbox/stats.
func (s *sandboxServer) MustStats(tb testing.TB) sandbox.Stats {
	tb.Helper()
	r := s.MustDo(tb, s.newRequest(tb, http.MethodGet, "/_sandbox/stats", "", nil))
	if r.status != http.StatusOK {
		tb.Fatalf("stats: status %d", r.status)
	}
	var st sandbox.Stats
	MustDecode(tb, r, &st)
	return st
}

// MustUsers reads GET /_sandbox/users.
func (s *sandboxServer) MustUsers(tb testing.TB) map[string]string {
	tb.Helper()
	r := s.MustDo(tb, s.newRequest(tb, http.MethodGet, "/_sandbox/users", "", nil))
	if r.status != http.StatusOK {
		tb.Fatalf("users: status %d", r.status)
	}
	var m map[string]string
	MustDecode(tb, r, &m)
	return m
}

// fakeClock is a settable clock for the rate limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
