package validate_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/validate"
)

func TestText(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		max        int
		wantReason string // "" when accepted, else a fragment of the reason
	}{
		{"address", "Adama Matuszczaka 51/4", 200, ""},                                                    // the documented example
		{"non-ASCII", "Rzeszów", 100, ""},                                                                 // letters of any script
		{"empty", "", 100, ""},                                                                            // required-ness is not Text's business
		{"at the limit", strings.Repeat("a", 200), 200, ""},                                               // exactly max runes
		{"runes not bytes", strings.Repeat("ż", 200), 200, ""},                                            // 400 bytes, 200 runes
		{"one over", strings.Repeat("a", 201), 200, "is 201 characters long, the limit is 200"},           // max+1 runes
		{"the example reason", strings.Repeat("ż", 301), 200, "is 301 characters long, the limit is 200"}, // counts runes
		{"limit zero", "a", 0, "is 1 character long, the limit is 0"},                                     // a zero limit is not "no limit"
		{"bell", "abcd\a", 100, "contains a control character (U+0007) at character 5"},                   // the example reason
		{"tab", "a\tb", 100, "control character (U+0009) at character 2"},                                 // tab is a control character
		{"newline", "line one\nline two", 100, "control character (U+000A) at character 9"},               // one line only
		{"carriage return", "a\r", 100, "control character (U+000D)"},                                     // CR too
		{"NUL", "\x00", 100, "control character (U+0000) at character 1"},                                 // NUL first
		{"DEL", "a\x7f", 100, "control character (U+007F)"},                                               // DEL is Cc
		{"C1 control", "Zażółć\u0085", 100, "control character (U+0085) at character 7"},                  // positions count runes
		{"invalid UTF-8", "abcdefghijk\xff", 100, "is not valid UTF-8 at byte 12"},                        // the example reason
		{"invalid after multibyte", "żż\xffa", 100, "is not valid UTF-8 at byte 5"},                       // positions count bytes here
		{"truncated sequence", "a\xc5", 100, "is not valid UTF-8 at byte 2"},                              // half of ż
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate.Text(tt.in, tt.max)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("Text(%q, %d) = %v, want accepted", tt.in, tt.max, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Text(%q, %d) accepted, want refused with %q", tt.in, tt.max, tt.wantReason)
			}
			if reason := mustProblem(t, err).Reason; !strings.Contains(reason, tt.wantReason) {
				t.Errorf("Text(%q, %d) reason = %q, want it to contain %q", tt.in, tt.max, reason, tt.wantReason)
			}
		})
	}
}

func TestMaxLen(t *testing.T) {
	want := map[string]int{
		"externalUserId": 100,
		"email":          254,
		"firstName":      100,
		"lastName":       100,
		"address":        200,
		"city":           100,
		"documentNumber": 50,
	}
	if !maps.Equal(validate.MaxLen, want) {
		t.Errorf("MaxLen = %v, want %v", validate.MaxLen, want)
	}
}
