package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/sandbox"
)

// FuzzCreateBody checks that any body gets a well-formed answer: 201 with
// a userId, or 400 P403/P411 with a JSON error, never a crash.
func FuzzCreateBody(f *testing.F) {
	valid, err := json.Marshal(validBody("fuzz"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(valid), `{}`, `[]`, `null`, `{"email":1}`, `{"externalUserId":"a\u0000b"}`,
		`{"externalUserId":"x","externalUserId":null}`, `{"a":{"b":[1,2,{"c":"d}"}]}}`, "{\"city\":\"\xff\"}",
		`{"\u0065xternalUserId":"esc","email":"a@b.co","firstName":"J","lastName":"D","address":"A","city":"C","country":"PL","documentType":"ID_CARD","documentNumber":"1"}`,
	} {
		f.Add(seed)
	}
	s := sandbox.New(sandbox.Config{APIKey: testKey})
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/user/balances/crypto", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header["x-api-key"] = []string{testKey}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)

		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("answer is not JSON: %v (%q)", err, rec.Body.Bytes())
		}
		switch rec.Code {
		case http.StatusCreated:
			// encoding/json, exact about names when decoding into a map,
			// must find the externalUserId the sandbox stored.
			var sent map[string]any
			if err := json.Unmarshal([]byte(body), &sent); err != nil {
				t.Fatalf("201 for a body encoding/json refuses: %v", err)
			}
			ext, _ := sent["externalUserId"].(string)
			if got := s.Users()[ext]; got == "" || got != answer["userId"] {
				t.Errorf("stored %q -> %q, answered userId %v", ext, got, answer["userId"])
			}
		case http.StatusBadRequest:
			code := answer["errorCode"]
			if code != "P403" && code != "P411" {
				t.Errorf("unexpected errorCode %v", code)
			}
			if msg, _ := answer["errorMessage"].(string); msg == "" {
				t.Errorf("no errorMessage: %v", answer)
			}
		default:
			t.Errorf("status %d", rec.Code)
		}
	})
}
