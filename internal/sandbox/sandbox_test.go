package sandbox_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/p100/p100-importer/internal/sandbox"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAuth(t *testing.T) {
	s := MustStart(t, sandbox.Config{})
	body, err := json.Marshal(validBody("auth-1"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		method  string
		path    string
		header  map[string][]string // sent as is
		message string              // "" for success
	}{
		// No header at all.
		{"create without key", http.MethodPost, "/v1/user/balances/crypto", nil, "Access Denied. xo1"},
		// The header present but empty counts as missing.
		{"create with empty key", http.MethodPost, "/v1/user/balances/crypto", map[string][]string{"x-api-key": {""}}, "Access Denied. xo1"},
		{"create with wrong key", http.MethodPost, "/v1/user/balances/crypto", map[string][]string{"x-api-key": {"nope"}}, "Access Denied. xo2"},
		// A prefix of the key is still wrong.
		{"create with key prefix", http.MethodPost, "/v1/user/balances/crypto", map[string][]string{"x-api-key": {testKey[:4]}}, "Access Denied. xo2"},
		{"lookup without key", http.MethodGet, "/v1/user/balances/auth-1", nil, "Access Denied. xo1"},
		{"lookup with wrong key", http.MethodGet, "/v1/user/balances/auth-1", map[string][]string{"x-api-key": {"nope"}}, "Access Denied. xo2"},
		// The header name's case does not matter on the wire.
		{"create with canonical header name", http.MethodPost, "/v1/user/balances/crypto", map[string][]string{"X-Api-Key": {testKey}}, ""},
	}
	unauthorized := int64(0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b []byte
			if tt.method == http.MethodPost {
				b = body
			}
			req := s.newRequest(t, tt.method, tt.path, "", b)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			r := s.MustDo(t, req)
			if tt.message == "" {
				if r.status != http.StatusCreated {
					t.Fatalf("status = %d, want 201 (body %s)", r.status, r.body)
				}
				return
			}
			unauthorized++
			e := MustAPIError(t, r, http.StatusUnauthorized, "401")
			if e.ErrorName == nil || *e.ErrorName != "access-denied" || e.ErrorMessage != tt.message {
				t.Errorf("body = %s, want access-denied %q", r.body, tt.message)
			}
		})
	}
	if st := s.Stats(); st.Unauthorized != unauthorized || st.Created != 1 {
		t.Errorf("stats = %+v, want unauthorized %d, created 1", st, unauthorized)
	}
}

func TestCreate(t *testing.T) {
	s := MustStart(t, sandbox.Config{})
	r := s.MustCreate(t, validBody("bca65c48-df49-4831-a7b2-de79033219"))
	if r.status != http.StatusCreated {
		t.Fatalf("status = %d, want 201 (body %s)", r.status, r.body)
	}
	var got createResponse
	MustDecode(t, r, &got)

	t.Run("ids", func(t *testing.T) {
		ids := []string{got.UserID}
		for _, b := range got.Balances {
			ids = append(ids, b.ID)
		}
		for _, id := range ids {
			if !uuidV4.MatchString(id) {
				t.Errorf("id %q is not a version 4 UUID", id)
			}
		}
		slices.Sort(ids)
		if len(slices.Compact(ids)) != 8 {
			t.Errorf("ids are not all distinct: %v", ids)
		}
	})

	t.Run("balances", func(t *testing.T) {
		var names []string
		for _, b := range got.Balances {
			names = append(names, b.Name)
			if b.Wallet != nil {
				t.Errorf("%s: wallet = %q, want null", b.Name, *b.Wallet)
			}
			if b.Rate <= 0 {
				t.Errorf("%s: rate = %v, want > 0", b.Name, b.Rate)
			}
			if !regexp.MustCompile(`^0\.0+$`).MatchString(b.Amount) {
				t.Errorf("%s: amount = %q, want a zero decimal string", b.Name, b.Amount)
			}
			if hasConfig := b.NetworkConfig != nil; hasConfig == (b.Name == "eur") {
				t.Errorf("%s: has networkConfig = %v", b.Name, hasConfig)
			}
		}
		if want := []string{"eth", "usdc", "eur", "ltc", "btc", "doge", "pol"}; !slices.Equal(names, want) {
			t.Errorf("balance names = %v, want %v", names, want)
		}
	})

	t.Run("raw eur has no networkConfig key", func(t *testing.T) {
		var raw struct {
			Balances []map[string]json.RawMessage `json:"balances"`
		}
		MustDecode(t, r, &raw)
		for _, b := range raw.Balances {
			_, has := b["networkConfig"]
			if string(b["name"]) == `"eur"` && has {
				t.Errorf("eur balance has networkConfig: %v", b)
			}
			if string(b["wallet"]) != "null" {
				t.Errorf("wallet = %s, want null", b["wallet"])
			}
		}
	})

	t.Run("same shape as the documented example", func(t *testing.T) {
		doc, err := os.ReadFile("testdata/create/doc-example.json")
		if err != nil {
			t.Fatal(err)
		}
		want, gotShape := withoutIDs(t, doc), withoutIDs(t, r.body)
		if !reflect.DeepEqual(gotShape, want) {
			g, _ := json.MarshalIndent(gotShape, "", "  ")
			w, _ := json.MarshalIndent(want, "", "  ")
			t.Errorf("body differs from the documented example apart from ids:\ngot  %s\nwant %s", g, w)
		}
	})

	t.Run("stored", func(t *testing.T) {
		if users := s.MustUsers(t); users["bca65c48-df49-4831-a7b2-de79033219"] != got.UserID || len(users) != 1 {
			t.Errorf("users = %v, want only the new user -> %s", users, got.UserID)
		}
	})
}

// withoutIDs decodes a create answer and blanks its userId and balance ids.
func withoutIDs(tb testing.TB, body []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		tb.Fatalf("decode: %v", err)
	}
	m["userId"] = "ID"
	bs, _ := m["balances"].([]any)
	for _, b := range bs {
		b.(map[string]any)["id"] = "ID"
	}
	return m
}

func TestCreateConflict(t *testing.T) {
	s := MustStart(t, sandbox.Config{})
	first := s.MustCreate(t, validBody("dup"))
	if first.status != http.StatusCreated {
		t.Fatalf("first create: status %d (body %s)", first.status, first.body)
	}
	var created createResponse
	MustDecode(t, first, &created)

	// Another person, same externalUserId.
	again := validBody("dup")
	again["email"] = "other@example.com"
	e := MustAPIError(t, s.MustCreate(t, again), http.StatusBadRequest, "P411")
	if e.ErrorName == nil || *e.ErrorName != "user-exists" || e.ErrorMessage != "User with externalUserId already exists" {
		t.Errorf("P411 body = %+v", e)
	}
	if users := s.MustUsers(t); users["dup"] != created.UserID {
		t.Errorf("user dup = %q after the conflict, want the first userId %q", users["dup"], created.UserID)
	}
	if st := s.Stats(); st.Created != 1 || st.Conflicts != 1 || st.Users != 1 {
		t.Errorf("stats = %+v, want created 1, conflicts 1, users 1", st)
	}
}

func TestCreateValidation(t *testing.T) {
	s := MustStart(t, sandbox.Config{})
	with := func(changes map[string]any) map[string]any {
		b := validBody("v-" + fmt.Sprint(len(changes)))
		for k, v := range changes {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	tests := []struct {
		name    string
		body    any // map, or raw []byte
		ctype   string
		message string
	}{
		// The brief's example: two failures joined in one sentence.
		{"email and country", with(map[string]any{"email": "john.gmail.com", "country": "Poland"}), "",
			"email must be an email, country must be a valid ISO 3166-1 alpha-2 code"},
		// Every required field missing, in field order.
		{"empty object", []byte(`{}`), "",
			"externalUserId should not be empty, email should not be empty, firstName should not be empty, " +
				"lastName should not be empty, address should not be empty, city should not be empty, " +
				"country should not be empty, documentType should not be empty, documentNumber should not be empty"},
		// Blank counts as missing.
		{"blank first name", with(map[string]any{"firstName": " \t"}), "", "firstName should not be empty"},
		// null counts as missing.
		{"null city", with(map[string]any{"city": nil, "documentNumber": nil}), "",
			"city should not be empty, documentNumber should not be empty"},
		// Field names are case-sensitive, as in a JavaScript server.
		{"misspelt key", with(map[string]any{"externalUserId": nil, "ExternalUserId": "x"}), "", "externalUserId should not be empty"},
		{"email with two @", with(map[string]any{"email": "a@b@c.com"}), "", "email must be an email"},
		{"email without dot in domain", with(map[string]any{"email": "john@localhost"}), "", "email must be an email"},
		{"email with space", with(map[string]any{"email": "john doe@gmail.com"}), "", "email must be an email"},
		{"lower-case country", with(map[string]any{"country": "pl"}), "", "country must be a valid ISO 3166-1 alpha-2 code"},
		{"unknown document type", with(map[string]any{"documentType": "passport"}), "",
			"documentType must be one of the following values: PASSPORT, ID_CARD, RESIDENCE_PERMIT"},
		{"bad optional fields", with(map[string]any{"pesel": "1234567890", "birthCountry": "POL", "birthDate": "2000-02-30"}), "",
			"pesel must be a string of 11 digits, birthCountry must be a valid ISO 3166-1 alpha-2 code, " +
				"birthDate must be a valid date in YYYY-MM-DD format"},
		{"number instead of string", with(map[string]any{"pesel": 12345678901, "lastName": true}), "",
			"lastName must be a string, pesel must be a string"},
		{"not JSON", []byte(`{"externalUserId":`), "", "request body must be a JSON object"},
		{"JSON array", []byte(`[1,2]`), "", "request body must be a JSON object"},
		{"trailing data", []byte(`{} {}`), "", "request body must be a JSON object"},
		{"empty body", []byte(``), "", "request body must be a JSON object"},
		{"too big", []byte(`{"address":"` + strings.Repeat("a", 70_000) + `"}`), "",
			"request body must not be larger than 65536 bytes"},
		{"form content type", with(nil), "application/x-www-form-urlencoded", "Content-Type must be application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, ok := tt.body.([]byte)
			if !ok {
				var err error
				if raw, err = json.Marshal(tt.body); err != nil {
					t.Fatal(err)
				}
			}
			req := s.newRequest(t, http.MethodPost, "/v1/user/balances/crypto", testKey, raw)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			r := s.MustDo(t, req)
			e := MustAPIError(t, r, http.StatusBadRequest, "P403")
			if e.ErrorName != nil {
				t.Errorf("P403 has errorName %q; P100 sends none", *e.ErrorName)
			}
			if e.ErrorMessage != tt.message {
				t.Errorf("errorMessage =\n  %q\nwant\n  %q", e.ErrorMessage, tt.message)
			}
		})
	}
	t.Run("valid variants", func(t *testing.T) {
		for i, changes := range []map[string]any{
			// Optional fields left out.
			{"pesel": nil, "birthCountry": nil, "birthDate": nil},
			// Optional fields empty.
			{"pesel": "", "birthCountry": "", "birthDate": ""},
			// Content type with a charset; unknown fields ignored; escapes.
			{"documentType": "ID_CARD", "extra": 1, "firstName": "Zo\u00eb \"Z\""},
		} {
			b := with(changes)
			b["externalUserId"] = fmt.Sprintf("valid-%d", i)
			raw, _ := json.Marshal(b)
			req := s.newRequest(t, http.MethodPost, "/v1/user/balances/crypto", testKey, raw)
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			if r := s.MustDo(t, req); r.status != http.StatusCreated {
				t.Errorf("variant %d: status %d (body %s)", i, r.status, r.body)
			}
		}
	})
	if st := s.Stats(); st.Rejected != int64(len(tests)) || st.Created != 3 {
		t.Errorf("stats = %+v, want rejected %d, created 3", st, len(tests))
	}
}

func TestLookup(t *testing.T) {
	s := MustStart(t, sandbox.Config{})
	for _, id := range []string{"plain", "with/slash and space", "crypto", "zażółć"} {
		t.Run("found "+id, func(t *testing.T) {
			cr := s.MustCreate(t, validBody(id))
			if cr.status != http.StatusCreated {
				t.Fatalf("create: status %d (body %s)", cr.status, cr.body)
			}
			var created createResponse
			MustDecode(t, cr, &created)

			r := s.MustLookup(t, id)
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200 (body %s)", r.status, r.body)
			}
			var got createResponse
			MustDecode(t, r, &got)
			if got.UserID != created.UserID || got.ExternalUserID != id {
				t.Errorf("lookup = %s/%s, want %s/%s", got.UserID, got.ExternalUserID, created.UserID, id)
			}
			if !reflect.DeepEqual(got.Balances, created.Balances) {
				t.Errorf("lookup balances differ from the create's:\n%+v\n%+v", got.Balances, created.Balances)
			}
		})
	}
	t.Run("not found", func(t *testing.T) {
		e := MustAPIError(t, s.MustLookup(t, "nobody"), http.StatusBadRequest, "P412")
		if e.ErrorName == nil || *e.ErrorName != "invalid-user" || e.ErrorMessage != "User not found" {
			t.Errorf("P412 body = %+v", e)
		}
	})
	if st := s.Stats(); st.Lookups != 5 || st.Requests != 9 {
		t.Errorf("stats = %+v, want lookups 5, requests 9", st)
	}
}

func TestRateLimit(t *testing.T) {
	tests := []struct {
		name       string
		rate       float64
		burst      int
		allowed    int    // requests that pass at one instant
		retryAfter string // of the first refused one
		wait       time.Duration
	}{
		// Two tokens, one more per second.
		{"burst of two", 1, 2, 2, "1", time.Second},
		// One token every four seconds: wait four.
		{"slow refill", 0.25, 1, 1, "4", 4 * time.Second},
		// 2.5 s rounds up to 3.
		{"rounded up", 0.4, 1, 1, "3", 2500 * time.Millisecond},
		// Fast refill still says at least one second.
		{"at least one second", 100, 3, 3, "1", 10 * time.Millisecond},
		// Burst 0 counts as 1.
		{"burst zero", 1, 0, 1, "1", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			s := MustStart(t, sandbox.Config{RateLimit: tt.rate, Burst: tt.burst, Now: clock.Now})
			for i := range tt.allowed {
				if r := s.MustCreate(t, validBody(fmt.Sprint("ok-", i))); r.status != http.StatusCreated {
					t.Fatalf("request %d: status %d (body %s)", i, r.status, r.body)
				}
			}
			for _, kind := range []string{"create", "lookup"} {
				var r response
				if kind == "create" {
					r = s.MustCreate(t, validBody("refused"))
				} else {
					r = s.MustLookup(t, "ok-0")
				}
				e := MustAPIError(t, r, http.StatusTooManyRequests, "429")
				if e.ErrorName == nil || *e.ErrorName != "too-many-requests" || e.ErrorMessage != "Too many requests" {
					t.Errorf("%s: 429 body = %s", kind, r.body)
				}
				if got := r.header.Get("Retry-After"); got != tt.retryAfter {
					t.Errorf("%s: Retry-After = %q, want %q", kind, got, tt.retryAfter)
				}
			}
			// Refused requests must not have used up the refill.
			clock.Advance(tt.wait)
			if r := s.MustCreate(t, validBody("after-wait")); r.status != http.StatusCreated {
				t.Errorf("after waiting %v: status %d (body %s)", tt.wait, r.status, r.body)
			}
			st := s.Stats()
			if st.Throttled != 2 || st.Created != int64(tt.allowed)+1 || st.Requests != int64(tt.allowed)+3 {
				t.Errorf("stats = %+v", st)
			}
			if _, ok := s.Users()["refused"]; ok {
				t.Error("a throttled create created its user")
			}
		})
	}
	t.Run("unauthorized requests use no tokens", func(t *testing.T) {
		clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
		s := MustStart(t, sandbox.Config{RateLimit: 1, Burst: 1, Now: clock.Now})
		for range 3 {
			r := s.MustDo(t, s.newRequest(t, http.MethodGet, "/v1/user/balances/x", "wrong", nil))
			MustAPIError(t, r, http.StatusUnauthorized, "401")
		}
		if r := s.MustCreate(t, validBody("x")); r.status != http.StatusCreated {
			t.Errorf("status %d, want 201", r.status)
		}
	})
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		cfg    sandbox.Config
		code   string
		errTag string
		msg    string
	}{
		{"fail rate", sandbox.Config{FailRate: 1}, "P501", "service-unavailable", "Service temporarily unavailable"},
		{"error rate", sandbox.Config{ErrorRate: 1}, "P500", "unknown-exception", "Unknown exception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustStart(t, tt.cfg)
			for i := range 5 {
				e := MustAPIError(t, s.MustCreate(t, validBody(fmt.Sprint("f-", i))), http.StatusBadRequest, tt.code)
				if e.ErrorName == nil || *e.ErrorName != tt.errTag || e.ErrorMessage != tt.msg {
					t.Errorf("body = %+v", e)
				}
			}
			// Faults come before validation: an invalid body meets them too.
			MustAPIError(t, s.MustCreate(t, []byte(`{}`)), http.StatusBadRequest, tt.code)
			// Lookups are never faulted.
			MustAPIError(t, s.MustLookup(t, "f-0"), http.StatusBadRequest, "P412")
			if st := s.Stats(); st.Faults != 6 || st.Created != 0 || st.Users != 0 || st.Rejected != 0 {
				t.Errorf("stats = %+v, want 6 faults and nothing else", st)
			}
		})
	}

	t.Run("mixed rates follow the seed", func(t *testing.T) {
		count := func() map[string]int {
			s := MustStart(t, sandbox.Config{FailRate: 0.3, ErrorRate: 0.2, Seed: 7})
			n := map[string]int{}
			for i := range 200 {
				r := s.MustCreate(t, validBody(fmt.Sprint("m-", i)))
				var e apiError
				_ = json.Unmarshal(r.body, &e)
				n[fmt.Sprint(r.status, e.ErrorCode)]++
			}
			return n
		}
		first, second := count(), count()
		if !reflect.DeepEqual(first, second) {
			t.Errorf("same seed, different outcomes: %v vs %v", first, second)
		}
		if n := first["400P501"]; n < 40 || n > 80 {
			t.Errorf("P501 %d of 200, want about 60", n)
		}
		if n := first["400P500"]; n < 20 || n > 60 {
			t.Errorf("P500 %d of 200, want about 40", n)
		}
		if n := first["201"]; n < 80 || n > 120 {
			t.Errorf("201 %d of 200, want about 100", n)
		}
	})
}

func TestReset(t *testing.T) {
	s := MustStart(t, sandbox.Config{ResetRate: 1, Seed: 42})
	const attempts = 200
	for i := range attempts {
		raw, _ := json.Marshal(validBody(fmt.Sprint("r-", i)))
		req := s.newRequest(t, http.MethodPost, "/v1/user/balances/crypto", testKey, raw)
		resp, err := s.client.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("attempt %d: got status %d, want no answer", i, resp.StatusCode)
		}
		var ue interface{ Timeout() bool }
		if errors.As(err, &ue) && ue.Timeout() {
			t.Fatalf("attempt %d: timed out (%v), want the connection closed", i, err)
		}
	}
	st := s.MustStats(t)
	if st.Faults != attempts || st.Requests != attempts {
		t.Errorf("stats = %+v, want %d faults and requests", st, attempts)
	}
	// Half the resets come after the user was created.
	if st.Created < attempts*35/100 || st.Created > attempts*65/100 {
		t.Errorf("created %d of %d reset requests, want about half", st.Created, attempts)
	}
	users := s.MustUsers(t)
	if int64(len(users)) != st.Created || st.Users != st.Created {
		t.Errorf("%d users listed, stats %+v", len(users), st)
	}
	for ext, id := range users {
		if !strings.HasPrefix(ext, "r-") || uuid.Validate(id) != nil {
			t.Errorf("unexpected user %q -> %q", ext, id)
		}
	}

	t.Run("a repeat answers P411 for the hidden ones", func(t *testing.T) {
		s.SetFaults(sandbox.Faults{})
		conflicts := 0
		for i := range attempts {
			r := s.MustCreate(t, validBody(fmt.Sprint("r-", i)))
			if r.status == http.StatusBadRequest {
				MustAPIError(t, r, http.StatusBadRequest, "P411")
				conflicts++
			} else if r.status != http.StatusCreated {
				t.Fatalf("status %d (body %s)", r.status, r.body)
			}
		}
		if int64(conflicts) != st.Created {
			t.Errorf("%d conflicts, want %d (the users created behind a reset)", conflicts, st.Created)
		}
	})
}

func TestSlow(t *testing.T) {
	s := MustStart(t, sandbox.Config{SlowRate: 1, SlowLatency: 300 * time.Millisecond})
	raw, _ := json.Marshal(validBody("slow-1"))
	req := s.newRequest(t, http.MethodPost, "/v1/user/balances/crypto", testKey, raw)
	impatient := *s.client
	impatient.Timeout = 50 * time.Millisecond
	start := time.Now()
	resp, err := impatient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want a client timeout", resp.StatusCode)
	}
	if time.Since(start) > 250*time.Millisecond {
		t.Errorf("client waited %v", time.Since(start))
	}
	// The server carries on and creates the user after the delay.
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Created != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the slow request never created its user")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := s.Users()["slow-1"]; !ok {
		t.Error("slow-1 not in users")
	}
	// A patient client gets the answer.
	if r := s.MustCreate(t, validBody("slow-2")); r.status != http.StatusCreated {
		t.Errorf("status %d, want 201", r.status)
	}
	if st := s.Stats(); st.Faults != 0 {
		t.Errorf("slow requests counted as faults: %+v", st)
	}
}

func TestSetFaults(t *testing.T) {
	t.Run("method", func(t *testing.T) {
		s := MustStart(t, sandbox.Config{FailRate: 1})
		MustAPIError(t, s.MustCreate(t, validBody("a")), http.StatusBadRequest, "P501")
		s.SetFaults(sandbox.Faults{ErrorRate: 1})
		MustAPIError(t, s.MustCreate(t, validBody("a")), http.StatusBadRequest, "P500")
		s.SetFaults(sandbox.Faults{})
		if r := s.MustCreate(t, validBody("a")); r.status != http.StatusCreated {
			t.Errorf("after the sandbox stops failing: status %d", r.status)
		}
		// Rates are clamped.
		s.SetFaults(sandbox.Faults{FailRate: 7, ErrorRate: -1})
		if got := s.Faults(); got != (sandbox.Faults{FailRate: 1}) {
			t.Errorf("Faults() = %+v", got)
		}
	})

	t.Run("endpoint", func(t *testing.T) {
		s := MustStart(t, sandbox.Config{FailRate: 1})
		put := func(body string) response {
			req := s.newRequest(t, http.MethodPut, "/_sandbox/faults", "", []byte(body))
			return s.MustDo(t, req)
		}
		MustAPIError(t, s.MustCreate(t, validBody("b")), http.StatusBadRequest, "P501")

		if r := put(`{"fail_rate":0,"error_rate":1,"reset_rate":0,"slow_rate":0}`); r.status != http.StatusNoContent {
			t.Fatalf("PUT: status %d (body %s)", r.status, r.body)
		}
		MustAPIError(t, s.MustCreate(t, validBody("b")), http.StatusBadRequest, "P500")

		// Refused bodies leave the rates alone.
		for _, bad := range []string{`{"failRate":0}`, `{"fail_rate":2}`, `{"fail_rate":-0.1}`, `nope`} {
			MustAPIError(t, put(bad), http.StatusBadRequest, "400")
		}
		if got := s.Faults(); got != (sandbox.Faults{ErrorRate: 1}) {
			t.Errorf("after refused PUTs: %+v", got)
		}

		// PUT replaces: left-out rates become 0.
		if r := put(`{}`); r.status != http.StatusNoContent {
			t.Fatalf("PUT: status %d", r.status)
		}
		if r := s.MustCreate(t, validBody("b")); r.status != http.StatusCreated {
			t.Errorf("after the sandbox stops failing: status %d (body %s)", r.status, r.body)
		}
		r := s.MustDo(t, s.newRequest(t, http.MethodGet, "/_sandbox/faults", "", nil))
		var f sandbox.Faults
		MustDecode(t, r, &f)
		if f.RateLimit == nil || *f.RateLimit != 0 || f.Burst == nil {
			t.Errorf("GET faults: rate_limit %v, burst %v; want 0 and the bucket's size", f.RateLimit, f.Burst)
		}
		if f.RateLimit, f.Burst = nil, nil; f != (sandbox.Faults{}) {
			t.Errorf("GET faults = %+v", f)
		}
	})
}

func TestStats(t *testing.T) {
	s := MustStart(t, sandbox.Config{})
	s.MustCreate(t, validBody("s-1"))                                                           // created
	s.MustCreate(t, validBody("s-1"))                                                           // conflict
	s.MustCreate(t, []byte(`{}`))                                                               // rejected
	s.MustDo(t, s.newRequest(t, http.MethodPost, "/v1/user/balances/crypto", "", []byte(`{}`))) // unauthorized
	s.MustLookup(t, "s-1")                                                                      // lookup
	s.MustLookup(t, "s-2")                                                                      // lookup, not found
	s.MustDo(t, s.newRequest(t, http.MethodGet, "/_sandbox/users", "", nil))                    // not an API request
	s.SetFaults(sandbox.Faults{FailRate: 1})
	s.MustCreate(t, validBody("s-3")) // fault

	want := sandbox.Stats{Requests: 7, Created: 1, Conflicts: 1, Rejected: 1, Faults: 1, Unauthorized: 1, Lookups: 2, Users: 1}
	if got := s.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	if got := s.MustStats(t); got != want {
		t.Errorf("GET /_sandbox/stats = %+v, want %+v", got, want)
	}

	t.Run("keys", func(t *testing.T) {
		r := s.MustDo(t, s.newRequest(t, http.MethodGet, "/_sandbox/stats", "", nil))
		var m map[string]json.RawMessage
		MustDecode(t, r, &m)
		var keys []string
		for k, v := range m {
			keys = append(keys, k)
			var n int64
			if err := json.Unmarshal(v, &n); err != nil {
				t.Errorf("%s = %s, not an integer", k, v)
			}
		}
		slices.Sort(keys)
		want := []string{"conflicts", "created", "faults", "lookups", "rejected", "requests", "throttled", "unauthorized", "users"}
		if !slices.Equal(keys, want) {
			t.Errorf("keys = %v, want %v", keys, want)
		}
	})
}

func TestRouting(t *testing.T) {
	s := MustStart(t, sandbox.Config{})
	tests := []struct {
		name   string
		method string
		path   string
		status int
		allow  string
	}{
		{"unknown path", http.MethodGet, "/v2/nothing", http.StatusNotFound, ""},
		{"root", http.MethodGet, "/", http.StatusNotFound, ""},
		{"lookup with empty id", http.MethodGet, "/v1/user/balances/", http.StatusNotFound, ""},
		{"lookup too deep", http.MethodGet, "/v1/user/balances/a/b", http.StatusNotFound, ""},
		{"delete user", http.MethodDelete, "/v1/user/balances/crypto", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{"post to a user", http.MethodPost, "/v1/user/balances/someone", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"post stats", http.MethodPost, "/_sandbox/stats", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"delete users", http.MethodDelete, "/_sandbox/users", http.StatusMethodNotAllowed, "GET, HEAD"},
		{"post faults", http.MethodPost, "/_sandbox/faults", http.StatusMethodNotAllowed, "GET, HEAD, PUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.MustDo(t, s.newRequest(t, tt.method, tt.path, testKey, nil))
			want := map[int]string{404: "404", 405: "405"}[tt.status]
			MustAPIError(t, r, tt.status, want)
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
}

func TestConcurrentCreates(t *testing.T) {
	s := MustStart(t, sandbox.Config{})
	const workers, perWorker = 16, 40
	var wg sync.WaitGroup
	userIDs := make([][]string, workers)
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				ext := fmt.Sprintf("w%d-%d", w, i)
				raw, _ := json.Marshal(validBody(ext))
				req := s.newRequest(t, http.MethodPost, "/v1/user/balances/crypto", testKey, raw)
				resp, err := s.client.Do(req)
				if err != nil {
					errs <- err
					continue
				}
				var cr createResponse
				err = json.NewDecoder(resp.Body).Decode(&cr)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated || err != nil {
					errs <- fmt.Errorf("%s: status %d, decode %v", ext, resp.StatusCode, err)
					continue
				}
				userIDs[w] = append(userIDs[w], cr.UserID)
				// Every worker also races the others on one shared id.
				if i == 0 {
					raw, _ := json.Marshal(validBody("shared"))
					resp, err := s.client.Do(s.newRequest(t, http.MethodPost, "/v1/user/balances/crypto", testKey, raw))
					if err != nil {
						errs <- err
						continue
					}
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	all := slices.Concat(userIDs...)
	slices.Sort(all)
	if len(slices.Compact(all)) != workers*perWorker {
		t.Errorf("%d distinct userIds, want %d", len(all), workers*perWorker)
	}
	users := s.MustUsers(t)
	if len(users) != workers*perWorker+1 {
		t.Errorf("%d users, want %d", len(users), workers*perWorker+1)
	}
	want := sandbox.Stats{Requests: workers*perWorker + workers, Created: workers*perWorker + 1, Conflicts: workers - 1, Users: workers*perWorker + 1}
	if got := s.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

// TestKeepRequests: with KeepRequests, GET /_sandbox/users?requests=1
// shows the fields each created user arrived with, byte for byte; without
// it, nothing is kept.
func TestKeepRequests(t *testing.T) {
	s := MustStart(t, sandbox.Config{KeepRequests: true})
	body := validBody("k-1")
	body["firstName"] = "Anaïs"
	s.MustCreate(t, body)
	s.MustCreate(t, []byte(`{}`)) // rejected: not kept
	var got map[string]map[string]string
	MustDecode(t, s.MustDo(t, s.newRequest(t, http.MethodGet, "/_sandbox/users?requests=1", "", nil)), &got)
	if len(got) != 1 || got["k-1"]["firstName"] != "Anaïs" || got["k-1"]["externalUserId"] != "k-1" {
		t.Errorf("requests = %v", got)
	}
	off := MustStart(t, sandbox.Config{})
	off.MustCreate(t, validBody("k-2"))
	if reqs := off.Requests(); len(reqs) != 0 {
		t.Errorf("kept without KeepRequests: %v", reqs)
	}
}
