package validate_test

import (
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/validate"
)

func TestEmail(t *testing.T) {
	// Addresses at the length limits: 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254
	// bytes, and one more letter for 255.
	local64 := strings.Repeat("a", 64)
	at254 := local64 + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
	at255 := at254 + "d"

	tests := []struct {
		name       string
		in         string
		wantReason string // "" when the address is accepted, else a fragment of the reason
	}{
		// Accepted.
		{"documented example", "johndoe@gmail.com", ""},                          // from P100's docs
		{"plus tag and dots", "jan.kowalski+tag@poczta.onet.pl", ""},             // sub-addressing and a dotted local part
		{"upper case", "Jan.Kowalski@Example.PL", ""},                            // case is kept, not judged
		{"apostrophe", "o'brien@example.ie", ""},                                 // atext allows '
		{"all atext symbols", "!#$%&'*+-/=?^_`{|}~@example.com", ""},             // every RFC 5322 atext symbol
		{"hyphenated subdomain", "a-b@mail-1.sub-domain.example.com", ""},        // hyphens inside labels
		{"punycode domain", "jan@xn--gl-mja.pl", ""},                             // an A-label is plain ASCII
		{"IDN domain", "jan@gęślą.pl", ""},                                       // a U-label with Polish letters
		{"non-ASCII local part", "zażółć@gęślą.pl", ""},                          // allowed: RFC 6531 letters before the @
		{"Cyrillic", "почта@пример.рф", ""},                                      // letters of any script
		{"combining mark", "jose\u0301@example.com", ""},                         // a decomposed é is a letter plus a mark
		{"local part 64 bytes", local64 + "@x.pl", ""},                           // at the local-part limit
		{"local part 64 bytes non-ASCII", strings.Repeat("ż", 32) + "@x.pl", ""}, // 32 runes of 2 bytes each
		{"254 bytes", at254, ""},                                                 // at the total limit
		{"label 63", "a@" + strings.Repeat("b", 63) + ".pl", ""},                 // at the label limit
		{"digits in the domain", "a@123.example.pl", ""},                         // only the last label may not be all digits
		// Refused.
		{"empty", "", "is empty"}, // nothing to check
		{"display name", "John <j@x.pl>", "without a display name or angle brackets"},                          // a mail header, not an address
		{"angle brackets only", "<j@x.pl>", "without a display name or angle brackets"},                        // brackets without a name
		{"no at", "jan.kowalski.poczta.pl", "has no @"},                                                        // a dot where the @ should be
		{"two at", "jan@kowalski@poczta.pl", "has 2 @ signs"},                                                  // exactly one is required
		{"quoted local part", `"jan@k"@x.pl`, "has 2 @ signs"},                                                 // quoted local parts are not supported
		{"nothing before at", "@poczta.pl", "nothing before the @"},                                            // empty local part
		{"nothing after at", "jan@", "nothing after the @"},                                                    // empty domain
		{"no dot in domain", "jan@localhost", "the domain has no dot"},                                         // a bare host name
		{"leading dot label", "jan@.poczta.pl", "the domain starts with a dot"},                                // an empty first label
		{"trailing dot", "jan@poczta.pl.", "the domain ends with a dot"},                                       // a DNS root dot is not part of an address
		{"double dot domain", "jan@poczta..pl", "two dots in a row"},                                           // an empty label in the middle
		{"leading hyphen label", "jan@-poczta.pl", "starts with a hyphen"},                                     // labels may not start with -
		{"trailing hyphen label", "jan@poczta-.pl", "ends with a hyphen"},                                      // labels may not end with -
		{"underscore in domain", "jan@po_czta.pl", "is not allowed in the domain"},                             // not a host name character
		{"IP literal", "jan@[127.0.0.1]", "is not allowed in the domain"},                                      // domain literals are refused
		{"IP address", "jan@127.0.0.1", "ends in a number"},                                                    // the last label is all digits
		{"label 64", "a@" + strings.Repeat("b", 64) + ".pl", "a domain label is 64 characters long"},           // one over the label limit
		{"leading dot local", ".jan@x.pl", "starts with a dot"},                                                // dot-atom rule
		{"trailing dot local", "jan.@x.pl", "ends with a dot"},                                                 // dot-atom rule
		{"double dot local", "ja..n@x.pl", "two dots in a row"},                                                // dot-atom rule
		{"comma in local", "jan,k@x.pl", "is not allowed before the @"},                                        // not atext
		{"emoji in local", "jan😀@x.pl", "is not allowed before the @"},                                         // a symbol, not a letter
		{"guillemet in local", "jan«@x.pl", "is not allowed before the @"},                                     // non-ASCII punctuation
		{"local part 65 bytes", local64 + "a@x.pl", "65 bytes long, the limit is 64"},                          // one over the local-part limit
		{"local part 66 bytes non-ASCII", strings.Repeat("ż", 33) + "@x.pl", "66 bytes long, the limit is 64"}, // 33 runes but 66 bytes
		{"255 bytes", at255, "is 255 bytes long, the limit is 254"},                                            // one over the total limit
		{"space inside", "jan kowalski@x.pl", "contains a space at character 4"},                               // a typo, not an address
		{"leading space", " jan@x.pl", "contains a space at character 1"},                                      // nothing is trimmed
		{"trailing space", "jan@x.pl ", "contains a space at character 9"},                                     // nothing is trimmed
		{"no-break space", "jan\u00a0@x.pl", "contains a space"},                                               // any Unicode space counts
		{"tab", "jan\t@x.pl", "control character (U+0009) at character 4"},                                     // control characters are refused
		{"newline", "jan@x.pl\n", "control character (U+000A)"},                                                // a header injection attempt
		{"invalid UTF-8", "jan\xff@x.pl", "not valid UTF-8 at byte 4"},                                         // a broken encoding
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate.Email(tt.in)
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("Email(%q) = %v, want accepted", tt.in, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Email(%q) accepted, want refused with %q", tt.in, tt.wantReason)
			}
			reason := mustProblem(t, err).Reason
			if !strings.Contains(reason, tt.wantReason) {
				t.Errorf("Email(%q) reason = %q, want it to contain %q", tt.in, reason, tt.wantReason)
			}
			if len(tt.in) >= 4 && strings.Contains(reason, tt.in) {
				t.Errorf("Email(%q) reason %q repeats the address", tt.in, reason)
			}
		})
	}
}
