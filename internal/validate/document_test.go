package validate_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/validate"
)

func TestKnownDocumentTypes(t *testing.T) {
	want := []string{"PASSPORT", "ID_CARD", "RESIDENCE_PERMIT"}
	if !slices.Equal(validate.KnownDocumentTypes, want) {
		t.Errorf("KnownDocumentTypes = %q, want %q", validate.KnownDocumentTypes, want)
	}
}

func TestDocumentType(t *testing.T) {
	known := validate.KnownDocumentTypes
	tests := []struct {
		name       string
		in         string
		allowed    []string
		want       string // the canonical type when accepted
		wantReason string // a fragment of the reason when refused
	}{
		{"passport", "PASSPORT", known, "PASSPORT", ""},                                                        // the documented example
		{"id card", "ID_CARD", known, "ID_CARD", ""},                                                           // a known type
		{"residence permit", "RESIDENCE_PERMIT", known, "RESIDENCE_PERMIT", ""},                                // a known type
		{"lower case and padding", " passport ", known, "PASSPORT", ""},                                        // trimmed and upper-cased
		{"mixed case", "Id_Card", known, "ID_CARD", ""},                                                        // upper-cased
		{"lower-case allowed list", "PASSPORT", []string{"passport"}, "PASSPORT", ""},                          // the list is compared without case
		{"override narrows", "ID_CARD", []string{"PASSPORT"}, "", "use one of PASSPORT"},                       // a user override is honoured
		{"override widens", "DRIVING_LICENCE", []string{"PASSPORT", "DRIVING_LICENCE"}, "DRIVING_LICENCE", ""}, // and may add types
		{"unknown", "DRIVING_LICENCE", known, "", "use one of PASSPORT, ID_CARD, RESIDENCE_PERMIT"},            // the reason lists the choices
		{"space instead of underscore", "ID CARD", known, "", "is not an allowed document type"},               // no fuzzy matching
		{"empty", "", known, "", "is empty; use one of PASSPORT"},                                              // nothing given
		{"document number in the wrong column", "CEV124630", known, "", "is not an allowed document type"},     // not repeated in the reason
		{"empty allowed list", "PASSPORT", nil, "", "no document types are allowed"},                           // refuses loudly instead of guessing
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := validate.DocumentType(tt.in, tt.allowed)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("DocumentType(%q, %q) = %v, want %q", tt.in, tt.allowed, err, tt.want)
				}
				if got != tt.want {
					t.Errorf("DocumentType(%q, %q) = %q, want %q", tt.in, tt.allowed, got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("DocumentType(%q, %q) = %q, want refused with %q", tt.in, tt.allowed, got, tt.wantReason)
			}
			if got != "" {
				t.Errorf("DocumentType(%q) returned %q with an error, want empty", tt.in, got)
			}
			reason := mustProblem(t, err).Reason
			if !strings.Contains(reason, tt.wantReason) {
				t.Errorf("DocumentType(%q, %q) reason = %q, want it to contain %q", tt.in, tt.allowed, reason, tt.wantReason)
			}
			if len(tt.in) >= 4 && strings.Contains(reason, strings.TrimSpace(tt.in)) {
				t.Errorf("DocumentType(%q) reason %q repeats the input", tt.in, reason)
			}
		})
	}
}
