package ratelimit_test

import (
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/ratelimit"
)

func TestDecrease(t *testing.T) {
	tests := []struct {
		name           string
		current, floor float64
		want           float64
	}{
		{"halves", 100, 5, 50},          // plain multiplicative decrease
		{"stops at the floor", 8, 5, 5}, // 4 would be below the floor
		{"stays at the floor", 5, 5, 5}, // repeated 429s at the floor
		{"fractional rates", 1, 0.1, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ratelimit.Decrease(tt.current, tt.floor); got != tt.want {
				t.Errorf("Decrease(%v, %v) = %v, want %v", tt.current, tt.floor, got, tt.want)
			}
		})
	}
}

func TestIncrease(t *testing.T) {
	tests := []struct {
		name            string
		current, target float64
		want            float64
	}{
		{"adds a twentieth of the target", 50, 100, 55}, // step 5
		{"never passes the target", 98, 100, 100},       // 103 capped
		{"small targets step by 0.5", 1, 2, 1.5},        // 2/20 = 0.1 < 0.5
		{"at target stays", 10, 10, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ratelimit.Increase(tt.current, tt.target); got != tt.want {
				t.Errorf("Increase(%v, %v) = %v, want %v", tt.current, tt.target, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	base, max := 100*time.Millisecond, 5*time.Second
	tests := []struct {
		name  string
		retry int
		u     float64
		want  time.Duration
	}{
		{"first retry, no jitter", 1, 0, 50 * time.Millisecond},               // half of 100ms
		{"first retry, full jitter", 1, 0.999999, 99999950 * time.Nanosecond}, // just under 100ms
		{"doubles", 3, 0, 200 * time.Millisecond},                             // half of 400ms
		{"capped at max", 10, 0, 2500 * time.Millisecond},                     // 51.2s capped to 5s, half fixed
		{"huge retry numbers do not overflow", 200, 0.5, 3750 * time.Millisecond},
		{"retry 0 treated as 1", 0, 0, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ratelimit.Backoff(tt.retry, base, max, tt.u); got != tt.want {
				t.Errorf("Backoff(%d, u=%v) = %v, want %v", tt.retry, tt.u, got, tt.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"seconds", "3", 3 * time.Second, true},
		{"fractional seconds", "0.5", 500 * time.Millisecond, true},
		{"http date", "Tue, 24 Nov 2026 02:00:07 GMT", 7 * time.Second, true},
		{"date in the past", "Tue, 24 Nov 2026 01:00:00 GMT", 0, true},
		{"absent", "", 0, false},
		{"garbage", "soon", 0, false},
		{"negative", "-4", 0, false},
		{"capped at a day", "999999999", 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ratelimit.ParseRetryAfter(tt.value, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
