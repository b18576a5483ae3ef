package main

import "testing"

func TestAutoWorkers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		workers int
		rate    float64
		want    int
	}{
		{"explicit count wins", 3, 300, 3},
		{"unlimited rate", 0, 0, 8},
		{"low rates get the floor", 0, 2, 8},
		{"rate x 1s", 0, 20, 20},
		{"fractional rate rounds up", 0, 12.5, 13},
		{"capped", 0, 300, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := autoWorkers(tt.workers, tt.rate); got != tt.want {
				t.Errorf("autoWorkers(%d, %v) = %d, want %d", tt.workers, tt.rate, got, tt.want)
			}
		})
	}
}

func TestParseMaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		n       int
		pct     float64
		wantErr bool
	}{
		{"", 0, 0, false},
		{"50", 50, 0, false},
		{"5%", 0, 5, false},
		{"0.5%", 0, 0.5, false},
		{"0", 0, 0, true},
		{"-3", 0, 0, true},
		{"101%", 0, 0, true},
		{"many", 0, 0, true},
	}
	for _, tt := range tests {
		n, pct, err := parseMaxErrors(tt.in)
		if n != tt.n || pct != tt.pct || (err != nil) != tt.wantErr {
			t.Errorf("parseMaxErrors(%q) = %d, %v, %v", tt.in, n, pct, err)
		}
	}
}
