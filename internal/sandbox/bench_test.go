package sandbox_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/p100/p100-importer/internal/sandbox"
)

// BenchmarkCreateHandler measures the handler alone: the sandbox's own
// cost per create, without the network.
func BenchmarkCreateHandler(b *testing.B) {
	s := sandbox.New(sandbox.Config{APIKey: testKey})
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			raw, _ := json.Marshal(validBody(fmt.Sprint("b-", n.Add(1))))
			req := httptest.NewRequest(http.MethodPost, "/v1/user/balances/crypto", strings.NewReader(string(raw)))
			req.Header.Set("Content-Type", "application/json")
			req.Header["x-api-key"] = []string{testKey}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkCreateHTTP measures creates over real loopback HTTP, client
// included.
func BenchmarkCreateHTTP(b *testing.B) {
	s := MustStart(b, sandbox.Config{})
	s.client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			raw, _ := json.Marshal(validBody(fmt.Sprint("h-", n.Add(1))))
			resp, err := s.client.Do(s.newRequest(b, http.MethodPost, "/v1/user/balances/crypto", testKey, raw))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
