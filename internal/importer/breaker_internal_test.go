package importer

import "testing"

func TestBreaker(t *testing.T) {
	tests := []struct {
		name     string
		cfg      BreakerConfig
		attempts string // f = transient failure, s = anything else
		wantOpen bool
	}{
		{"all good stays closed", BreakerConfig{Consecutive: 3, Window: 4}, "ssssssss", false},
		{"consecutive failures open it", BreakerConfig{Consecutive: 3, Window: 100}, "ssfff", true},
		{"a success resets the run of failures", BreakerConfig{Consecutive: 3, Window: 100}, "ffsffsff", false},
		{"rate over a full window opens it", BreakerConfig{Consecutive: 10, Window: 4, Rate: 0.5}, "fsfsff", true},   // last 4: f,s,f,f = 75%
		{"exactly the rate does not", BreakerConfig{Consecutive: 10, Window: 4, Rate: 0.5}, "fsfs", false},           // 50% is not above 50%
		{"a partial window is not judged", BreakerConfig{Consecutive: 10, Window: 10, Rate: 0.5}, "fffsf", false},    // 5 of 10 slots
		{"old failures leave the window", BreakerConfig{Consecutive: 10, Window: 4, Rate: 0.5}, "ffssfsfsfs", false}, // never more than 2 of the last 4
		{"defaults: 20 in a row", BreakerConfig{}, "ffffffffffffffffffff", true},
		{"defaults: 19 in a row", BreakerConfig{}, "fffffffffffffffffff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBreaker(tt.cfg)
			open := false
			for _, c := range tt.attempts {
				open = b.record(c == 'f')
			}
			if open != tt.wantOpen {
				t.Errorf("open = %v after %q, want %v", open, tt.attempts, tt.wantOpen)
			}
		})
	}
}
