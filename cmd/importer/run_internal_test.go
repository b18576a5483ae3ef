package main

import "testing"

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
