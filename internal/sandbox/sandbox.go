package sandbox

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// DefaultAPIKey is the key a Server accepts when Config.APIKey is empty.
const DefaultAPIKey = "sandbox-key"

// Config sets up a Server. The zero value is a well-behaved server that
// accepts DefaultAPIKey, with no latency, no rate limit and no faults.
type Config struct {
	// APIKey is the only key accepted in the x-api-key header
	// (default DefaultAPIKey).
	APIKey string

	// Latency is added to every API request before it is looked at. The
	// request is processed even if the client has gone away meanwhile.
	Latency time.Duration

	// RateLimit is the number of API requests per second allowed over all
	// clients and endpoints (0: unlimited). Requests above it are answered
	// 429 with a Retry-After header.
	RateLimit float64
	// Burst is the token bucket's size (at least 1 when RateLimit is set).
	Burst int
	// RateWindow, when positive, makes RateLimit a fixed window instead:
	// at most RateLimit requests in each window of this length (Burst is
	// then unused). A 429's Retry-After is the rest of the window.
	RateWindow time.Duration
	// RateHeaders makes every API answer announce the limit: HeadersIETF
	// or HeadersX; "" sends none.
	RateHeaders string

	// KeepRequests keeps every created user's request fields, for
	// GET /_sandbox/users?requests=1: a test can then check what arrived,
	// byte for byte. Off by default (it costs memory per user).
	KeepRequests bool

	// FailRate is the fraction of create requests answered 400 P501
	// (service temporarily unavailable).
	FailRate float64
	// ErrorRate is the fraction of create requests answered 400 P500
	// (unknown exception).
	ErrorRate float64
	// ResetRate is the fraction of create requests whose connection is
	// closed without an answer: half of them before the request is
	// processed, half after it (the user created, if the request was valid
	// and new), so that the client cannot know the outcome.
	ResetRate float64
	// SlowRate is the fraction of create requests delayed by SlowLatency
	// on top of Latency (lookups are never slow). A slow request is
	// processed, and its user created, even if the client timed out and
	// went away. Slow requests are not counted as faults.
	SlowRate float64
	// SlowLatency is the extra delay of slow requests.
	SlowLatency time.Duration

	// Seed seeds the fault dice, so that a sequence of requests meets the
	// same faults on every run.
	Seed int64

	// Now is the clock of the rate limiter (default time.Now).
	Now func() time.Time
}

// Faults are the fault rates of a Server, each a fraction between 0 and 1
// of the create requests (see Config). The JSON form is the body of
// PUT /_sandbox/faults.
//
// RateLimit and Burst, when present, change the rate limit (requests per
// second, or per window with Config.RateWindow; 0 removes it) from the
// next request on; left out, the limit stays as it is. GET shows them.
type Faults struct {
	FailRate  float64 `json:"fail_rate"`
	ErrorRate float64 `json:"error_rate"`
	ResetRate float64 `json:"reset_rate"`
	SlowRate  float64 `json:"slow_rate"`

	RateLimit *float64 `json:"rate_limit,omitempty"`
	Burst     *int     `json:"burst,omitempty"`
}

func (f Faults) any() bool {
	return f.FailRate > 0 || f.ErrorRate > 0 || f.ResetRate > 0 || f.SlowRate > 0
}

func (f Faults) clamped() Faults {
	return Faults{
		FailRate:  clamp01(f.FailRate),
		ErrorRate: clamp01(f.ErrorRate),
		ResetRate: clamp01(f.ResetRate),
		SlowRate:  clamp01(f.SlowRate),
	}
}

func (f Faults) validate() error {
	if f.RateLimit != nil && !(*f.RateLimit >= 0) {
		return fmt.Errorf("rate_limit must not be negative, got %v", *f.RateLimit)
	}
	if f.Burst != nil && *f.Burst < 1 {
		return fmt.Errorf("burst must be at least 1, got %d", *f.Burst)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"fail_rate", f.FailRate}, {"error_rate", f.ErrorRate}, {"reset_rate", f.ResetRate}, {"slow_rate", f.SlowRate}} {
		if !(r.v >= 0 && r.v <= 1) { // also refuses NaN
			return fmt.Errorf("%s must be between 0 and 1, got %v", r.name, r.v)
		}
	}
	return nil
}

func clamp01(v float64) float64 {
	switch {
	case v > 1:
		return 1
	case v >= 0:
		return v
	default: // negative or NaN
		return 0
	}
}

// Stats counts what a Server did since it was created. The JSON form is
// the body of GET /_sandbox/stats. A create reset after it was processed
// counts twice: in Faults and in its outcome (Created, Conflicts or
// Rejected), which the client never heard of.
type Stats struct {
	// Requests counts API requests (create and lookup), refused ones
	// included.
	Requests int64 `json:"requests"`
	// Created counts users created.
	Created int64 `json:"created"`
	// Conflicts counts P411 (externalUserId already used).
	Conflicts int64 `json:"conflicts"`
	// Rejected counts P403 (validation).
	Rejected int64 `json:"rejected"`
	// Throttled counts 429.
	Throttled int64 `json:"throttled"`
	// Faults counts injected faults: P500, P501 and resets.
	Faults int64 `json:"faults"`
	// Unauthorized counts 401.
	Unauthorized int64 `json:"unauthorized"`
	// Lookups counts lookup requests, refused ones included.
	Lookups int64 `json:"lookups"`
	// Users is the number of users the server holds.
	Users int64 `json:"users"`
}

// counters are the live form of Stats.
type counters struct {
	requests, created, conflicts, rejected, throttled, faults, unauthorized, lookups atomic.Int64
}

// Server is the sandbox P100 Partner API. It is an http.Handler, safe for
// concurrent use, serving:
//
//	POST /v1/user/balances/crypto            create a user (API key)
//	GET  /v1/user/balances/{externalUserId}  look a user up (API key)
//	GET  /_sandbox/stats                     Stats as JSON
//	GET  /_sandbox/users                     externalUserId -> userId
//	GET  /_sandbox/users?requests=1          externalUserId -> fields received (Config.KeepRequests)
//	GET  /_sandbox/faults, PUT /_sandbox/faults  read or replace Faults
//
// Anything else is a JSON 404, or 405 for a known path.
type Server struct {
	apiKey      []byte
	latency     time.Duration
	slowLatency time.Duration
	now         func() time.Time
	gate        *gate
	keepReqs    bool

	faults atomic.Pointer[Faults]
	diceMu sync.Mutex
	dice   *mrand.Rand // guarded by diceMu

	balances balanceTemplates
	users    *store
	stats    counters
	mux      *http.ServeMux
}

// New returns a Server set up by cfg. Out-of-range fault rates are clamped
// to [0, 1] and negative durations count as zero.
func New(cfg Config) *Server {
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	balances, err := newBalanceTemplates(currencies)
	if err != nil {
		// The table is static; a failure is a programming error.
		panic(fmt.Sprintf("sandbox: %v", err))
	}
	s := &Server{
		apiKey:      []byte(cfg.APIKey),
		latency:     max(cfg.Latency, 0),
		slowLatency: max(cfg.SlowLatency, 0),
		now:         cfg.Now,
		dice:        mrand.New(mrand.NewPCG(uint64(cfg.Seed), 0x5eed_9100)),
		balances:    balances,
		users:       newStore(),
		keepReqs:    cfg.KeepRequests,
	}
	s.gate = newGate(cfg.RateLimit, cfg.Burst, cfg.RateWindow, cfg.RateHeaders)
	s.SetFaults(Faults{
		FailRate:  cfg.FailRate,
		ErrorRate: cfg.ErrorRate,
		ResetRate: cfg.ResetRate,
		SlowRate:  cfg.SlowRate,
	})
	s.routes()
	return s
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	// Patterns carry no method so that a wrong method gets a JSON 405
	// from the handlers instead of ServeMux's plain-text one.
	mux.HandleFunc("/v1/user/balances/crypto", s.serveCrypto)
	mux.HandleFunc("/v1/user/balances/{externalUserId}", s.serveLookup)
	mux.HandleFunc("/_sandbox/stats", s.serveStats)
	mux.HandleFunc("/_sandbox/users", s.serveUsers)
	mux.HandleFunc("/_sandbox/faults", s.serveFaults)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, bodyNotFound)
	})
	s.mux = mux
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// SetFaults changes the fault rates of the create requests that arrive
// from now on, and the rate limit when f sets it. Rates are clamped to
// [0, 1].
func (s *Server) SetFaults(f Faults) {
	if f.RateLimit != nil || f.Burst != nil {
		limit, burst := s.gate.current()
		if f.RateLimit != nil {
			limit = *f.RateLimit
		}
		if f.Burst != nil {
			burst = *f.Burst
		}
		s.gate.setLimit(limit, burst)
	}
	f = f.clamped()
	s.faults.Store(&f)
}

// Faults returns the current fault rates (RateLimit and Burst nil: see
// RateLimit).
func (s *Server) Faults() Faults {
	return *s.faults.Load()
}

// RateLimit returns the rate limit in force (0: none) and the bucket's size.
func (s *Server) RateLimit() (limit float64, burst int) {
	return s.gate.current()
}

// Stats returns the counters of the server.
func (s *Server) Stats() Stats {
	return Stats{
		Requests:     s.stats.requests.Load(),
		Created:      s.stats.created.Load(),
		Conflicts:    s.stats.conflicts.Load(),
		Rejected:     s.stats.rejected.Load(),
		Throttled:    s.stats.throttled.Load(),
		Faults:       s.stats.faults.Load(),
		Unauthorized: s.stats.unauthorized.Load(),
		Lookups:      s.stats.lookups.Load(),
		Users:        int64(s.users.len()),
	}
}

// Users returns externalUserId -> userId for every user the server holds.
func (s *Server) Users() map[string]string {
	return s.users.ids()
}

// Answers that never change.
var (
	bodyNoKey      = []byte(`{"errorCode":"401","errorName":"access-denied","errorMessage":"Access Denied. xo1"}`)
	bodyWrongKey   = []byte(`{"errorCode":"401","errorName":"access-denied","errorMessage":"Access Denied. xo2"}`)
	bodyThrottled  = []byte(`{"errorCode":"429","errorName":"too-many-requests","errorMessage":"Too many requests"}`)
	bodyP501       = []byte(`{"errorCode":"P501","errorName":"service-unavailable","errorMessage":"Service temporarily unavailable"}`)
	bodyP500       = []byte(`{"errorCode":"P500","errorName":"unknown-exception","errorMessage":"Unknown exception"}`)
	bodyP411       = []byte(`{"errorCode":"P411","errorName":"user-exists","errorMessage":"User with externalUserId already exists"}`)
	bodyP412       = []byte(`{"errorCode":"P412","errorName":"invalid-user","errorMessage":"User not found"}`)
	bodyNotFound   = []byte(`{"errorCode":"404","errorName":"not-found","errorMessage":"Not found"}`)
	bodyNotAllowed = []byte(`{"errorCode":"405","errorName":"method-not-allowed","errorMessage":"Method not allowed"}`)
)

// p403 is the body of a validation error: P100 sends no errorName.
type p403 struct {
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// errorBody is the body of the sandbox's own errors (/_sandbox/*).
type errorBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorName    string `json:"errorName"`
	ErrorMessage string `json:"errorMessage"`
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client going away is not our problem
}

func writeValue(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, bodyP500)
		return
	}
	writeJSON(w, status, body)
}

func notAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeJSON(w, http.StatusMethodNotAllowed, bodyNotAllowed)
}

// serveCrypto routes /v1/user/balances/crypto: POST creates a user, GET
// looks up the user whose externalUserId is "crypto".
func (s *Server) serveCrypto(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.create(w, r)
	case http.MethodGet, http.MethodHead:
		s.lookup(w, r, "crypto")
	default:
		notAllowed(w, "GET, HEAD, POST")
	}
}

func (s *Server) serveLookup(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		notAllowed(w, "GET, HEAD")
		return
	}
	// ServeMux matches the escaped path and unescapes wildcard values,
	// so "a%2Fb" arrives here as "a/b".
	s.lookup(w, r, r.PathValue("externalUserId"))
}

// admit applies what every API request meets first: latency, the API key
// and the rate limit. It answers and returns false when the request is
// refused.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) bool {
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	// Go's server canonicalises incoming header names, so Get finds the
	// key whatever its spelling on the wire (P100's is lower-case
	// x-api-key). A request handed to ServeHTTP directly (a test's
	// recorder or in-process transport) keeps the map key as the client
	// set it, hence the second look.
	key := r.Header.Get("x-api-key")
	if key == "" {
		if v := r.Header["x-api-key"]; len(v) > 0 {
			key = v[0]
		}
	}
	switch {
	case key == "":
		s.stats.unauthorized.Add(1)
		writeJSON(w, http.StatusUnauthorized, bodyNoKey)
		return false
	case subtle.ConstantTimeCompare([]byte(key), s.apiKey) != 1:
		s.stats.unauthorized.Add(1)
		writeJSON(w, http.StatusUnauthorized, bodyWrongKey)
		return false
	}
	ok, delay, q := s.gate.admit(s.now())
	s.gate.writeHeaders(w, q)
	if !ok {
		s.stats.throttled.Add(1)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(delay)))
		writeJSON(w, http.StatusTooManyRequests, bodyThrottled)
		return false
	}
	return true
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	secs := int((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}

// outcome is what the fault dice decided for one create request.
type outcome int

const (
	proceed outcome = iota
	resetBefore
	resetAfter
	failP501
	failP500
)

// roll draws the fault dice of one create request. One draw picks at most
// one of reset, P501 and P500, so that each rate is the exact fraction of
// requests it names (as long as they add up to 1 at most; beyond that the
// earlier ones win). A second draw decides whether the request is slow.
func (s *Server) roll(f Faults) (o outcome, slow bool) {
	s.diceMu.Lock()
	u, v := s.dice.Float64(), s.dice.Float64()
	s.diceMu.Unlock()
	switch {
	case u < f.ResetRate/2:
		o = resetBefore
	case u < f.ResetRate:
		o = resetAfter
	case u < f.ResetRate+f.FailRate:
		o = failP501
	case u < f.ResetRate+f.FailRate+f.ErrorRate:
		o = failP500
	}
	return o, v < f.SlowRate
}

// create serves POST /v1/user/balances/crypto.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	if !s.admit(w, r) {
		return
	}
	o, slow := proceed, false
	if f := s.faults.Load(); f.any() {
		o, slow = s.roll(*f)
	}
	switch o {
	case resetBefore:
		s.stats.faults.Add(1)
		reset(w)
		return
	case failP501:
		s.stats.faults.Add(1)
		writeJSON(w, http.StatusBadRequest, bodyP501)
		return
	case failP500:
		s.stats.faults.Add(1)
		writeJSON(w, http.StatusBadRequest, bodyP500)
		return
	}

	// Read the body before a slow delay: the client may be gone after it.
	body := readCreateRequest(w, r)
	if slow && s.slowLatency > 0 {
		time.Sleep(s.slowLatency)
	}
	status, answer := s.createUser(&body)
	if o == resetAfter {
		// The user (if valid) exists now; the client never hears of it.
		s.stats.faults.Add(1)
		reset(w)
		return
	}
	writeJSON(w, status, answer)
}

// createUser validates a request and creates its user. It returns the
// status and body of the answer.
func (s *Server) createUser(p *parsedBody) (int, []byte) {
	if msg := p.validate(); msg != "" {
		s.stats.rejected.Add(1)
		body, err := json.Marshal(p403{ErrorCode: "P403", ErrorMessage: msg})
		if err != nil {
			return http.StatusInternalServerError, bodyP500
		}
		return http.StatusBadRequest, body
	}
	u, err := s.newUser()
	if err != nil {
		return http.StatusInternalServerError, bodyP500
	}
	if s.keepReqs {
		req := p.req
		u.req = &req
	}
	if !s.users.insert(p.req.ExternalUserID, u) {
		s.stats.conflicts.Add(1)
		return http.StatusBadRequest, bodyP411
	}
	s.stats.created.Add(1)
	b := make([]byte, 0, len(`{"userId":"","balances":}`)+36+s.balances.size)
	b = append(b, `{"userId":"`...)
	b = appendUUID(b, u.id)
	b = append(b, `","balances":`...)
	b = s.balances.appendBalances(b, u.balanceIDs)
	b = append(b, '}')
	return http.StatusCreated, b
}

// newUser makes a user with fresh version 4 UUIDs, from a single read of
// the system's random source.
func (s *Server) newUser() (*user, error) {
	n := 1 + len(s.balances.tails)
	random := make([]byte, 16*n)
	if _, err := rand.Read(random); err != nil {
		return nil, fmt.Errorf("read random: %w", err)
	}
	rd := bytes.NewReader(random)
	ids := make([]uuid.UUID, n)
	for i := range ids {
		id, err := uuid.NewRandomFromReader(rd)
		if err != nil {
			return nil, fmt.Errorf("new uuid: %w", err)
		}
		ids[i] = id
	}
	return &user{id: ids[0], balanceIDs: ids[1:]}, nil
}

// reset closes the client's connection without an answer, like a server
// that died or a network that dropped the request.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2, a wrapping writer): abort the handler,
		// which drops the connection or stream without a response.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // send RST, like a real reset
	}
	_ = conn.Close()
}

// lookup serves GET /v1/user/balances/{externalUserId}. Lookups meet the
// latency, the API key and the rate limit but never the fault dice: the
// importer uses them to reconcile after faults, and a reliable lookup keeps
// those tests about the creates.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, externalID string) {
	s.stats.requests.Add(1)
	s.stats.lookups.Add(1)
	if !s.admit(w, r) {
		return
	}
	u := s.users.get(externalID)
	if u == nil {
		writeJSON(w, http.StatusBadRequest, bodyP412)
		return
	}
	ext, err := json.Marshal(externalID)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, bodyP500)
		return
	}
	b := make([]byte, 0, 64+len(ext)+36+s.balances.size)
	b = append(b, `{"userId":"`...)
	b = appendUUID(b, u.id)
	b = append(b, `","externalUserId":`...)
	b = append(b, ext...)
	b = append(b, `,"balances":`...)
	b = s.balances.appendBalances(b, u.balanceIDs)
	b = append(b, '}')
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		notAllowed(w, "GET, HEAD")
		return
	}
	writeValue(w, http.StatusOK, s.Stats())
}

func (s *Server) serveUsers(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		notAllowed(w, "GET, HEAD")
		return
	}
	if r.URL.Query().Get("requests") != "" {
		writeValue(w, http.StatusOK, s.Requests())
		return
	}
	writeValue(w, http.StatusOK, s.Users())
}

// Requests returns, with KeepRequests, externalUserId -> the fields of the
// request that created the user, by their API names (empty ones left out).
func (s *Server) Requests() map[string]map[string]string {
	out := map[string]map[string]string{}
	for ext, req := range s.users.requests() {
		m := map[string]string{}
		for i := range fields {
			if v := *fields[i].value(&req); v != "" {
				m[fields[i].name] = v
			}
		}
		out[ext] = m
	}
	return out
}

// serveFaults shows (GET) or replaces (PUT) the fault rates. PUT replaces
// all four: a rate left out of the body becomes 0. The rate limit changes
// only when the body has rate_limit or burst.
func (s *Server) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		f := s.Faults()
		limit, burst := s.RateLimit()
		f.RateLimit, f.Burst = &limit, &burst
		writeValue(w, http.StatusOK, f)
	case http.MethodPut:
		f, err := decodeFaults(w, r)
		if err != nil {
			writeValue(w, http.StatusBadRequest, errorBody{
				ErrorCode: "400", ErrorName: "bad-request", ErrorMessage: err.Error(),
			})
			return
		}
		s.SetFaults(f)
		w.WriteHeader(http.StatusNoContent)
	default:
		notAllowed(w, "GET, HEAD, PUT")
	}
}

func decodeFaults(w http.ResponseWriter, r *http.Request) (Faults, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields() // a misspelt rate must not pass silently
	var f Faults
	if err := dec.Decode(&f); err != nil {
		return Faults{}, fmt.Errorf("decode faults: %w", err)
	}
	if dec.More() {
		return Faults{}, errors.New("decode faults: data after the JSON object")
	}
	if err := f.validate(); err != nil {
		return Faults{}, fmt.Errorf("decode faults: %w", err)
	}
	return f, nil
}
