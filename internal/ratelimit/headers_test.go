package ratelimit_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/ratelimit"
)

func TestParseQuota(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name    string
		headers map[string]string
		want    ratelimit.Quota
		ok      bool
	}{
		{"ietf structured fields", map[string]string{
			"RateLimit-Policy": `"default";q=400;w=1`, "RateLimit": `"default";r=123;t=1`},
			ratelimit.Quota{Limit: 400, Window: time.Second, Remaining: 123, Reset: time.Second}, true},
		{"ietf: the most restrictive of two policies", map[string]string{
			"RateLimit-Policy": `"burst";q=100;w=1, "day";q=86400;w=86400`, "RateLimit": `"burst";r=50;t=1, "day";r=40000;t=3600`},
			ratelimit.Quota{Limit: 86400, Window: 86400 * time.Second, Remaining: 40000, Reset: 3600 * time.Second}, true},
		{"ietf older drafts: separate fields", map[string]string{
			"RateLimit-Limit": "100", "RateLimit-Remaining": "7", "RateLimit-Reset": "30", "RateLimit-Policy": "100;w=60"},
			ratelimit.Quota{Limit: 100, Window: time.Minute, Remaining: 7, Reset: 30 * time.Second}, true},
		{"ietf draft 03: one field", map[string]string{"RateLimit": "limit=100, remaining=50, reset=5"},
			ratelimit.Quota{Limit: 100, Remaining: 50, Reset: 5 * time.Second}, true},
		{"x-ratelimit, reset in seconds", map[string]string{
			"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "12"},
			ratelimit.Quota{Limit: 60, Remaining: 0, Reset: 12 * time.Second}, true},
		{"x-ratelimit, reset as a Unix time", map[string]string{
			"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": "1800003600"},
			ratelimit.Quota{Limit: 5000, Remaining: 4999, Reset: time.Hour}, true},
		{"x-ratelimit, reset in Unix milliseconds", map[string]string{
			"X-RateLimit-Limit": "10", "X-RateLimit-Reset": "1800000000500"},
			ratelimit.Quota{Limit: 10, Remaining: -1, Reset: 500 * time.Millisecond}, true},
		{"none", map[string]string{"Retry-After": "1"}, ratelimit.Quota{Remaining: -1}, false},
		{"garbage", map[string]string{"X-RateLimit-Limit": "lots", "RateLimit-Policy": `"x";q=-1;w=abc`, "RateLimit": "r=;t=x"},
			ratelimit.Quota{Remaining: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			got, ok := ratelimit.ParseQuota(h, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseQuota = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
