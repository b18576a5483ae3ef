package validate_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/p100/p100-importer/internal/validate"
)

// mustProblem asserts that err is a validate.Problem with a reason and
// returns it.
func mustProblem(tb testing.TB, err error) validate.Problem {
	tb.Helper()
	var p validate.Problem
	if !errors.As(err, &p) {
		tb.Fatalf("error %v (%T) is not a validate.Problem", err, err)
	}
	if p.Reason == "" {
		tb.Fatalf("Problem has an empty Reason")
	}
	return p
}

func TestProblem(t *testing.T) {
	t.Run("Error returns Reason", func(t *testing.T) {
		var err error = validate.Problem{Reason: "check digit is wrong"}
		if got := err.Error(); got != "check digit is wrong" {
			t.Errorf("Error() = %q, want %q", got, "check digit is wrong")
		}
	})
	t.Run("survives wrapping", func(t *testing.T) {
		_, err := validate.PESEL("4405140135")
		wrapped := fmt.Errorf("line 7, column pesel: %w", err)
		if p := mustProblem(t, wrapped); p.Reason != err.Error() {
			t.Errorf("unwrapped Reason = %q, want %q", p.Reason, err.Error())
		}
	})
}

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"document number", "CEV124630", "******630"},                   // the example from the API docs
		{"pesel", "44051401359", "********359"},                         // 11 digits keep only the last 3
		{"four runes", "abcd", "*bcd"},                                  // the shortest string that shows anything
		{"three runes", "abc", "***"},                                   // 3 runes or fewer are fully masked
		{"two runes", "ab", "**"},                                       // fully masked, length kept
		{"empty", "", ""},                                               // nothing to hide
		{"counts runes not bytes", "Zażółć", "***ółć"},                  // multi-byte letters are one character each
		{"three multi-byte runes", "żół", "***"},                        // 6 bytes but 3 runes: fully masked
		{"emoji", "ab😀cd", "**😀cd"},                                     // a 4-byte rune is kept whole
		{"invalid utf-8 is one rune per bad byte", "a\xffbcd", "**bcd"}, // range yields U+FFFD per bad byte
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validate.Mask(tt.in); got != tt.want {
				t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
