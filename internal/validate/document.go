package validate

import "strings"

// KnownDocumentTypes are the identity document types P100 documents for
// documentType. Treat the slice as read-only; pass a copy to change it.
var KnownDocumentTypes = []string{"PASSPORT", "ID_CARD", "RESIDENCE_PERMIT"}

// DocumentType trims and upper-cases s and returns it if it is one of allowed
// (compared without regard to case), usually [KnownDocumentTypes] or a
// user-supplied override. The reason for a refusal lists the allowed values
// and does not repeat s, which may be a misplaced document number. An empty
// allowed list refuses everything, loudly, rather than falling back to a
// default.
func DocumentType(s string, allowed []string) (string, error) {
	v := strings.ToUpper(strings.TrimSpace(s))
	if len(allowed) == 0 {
		return "", problemf("cannot be checked: no document types are allowed")
	}
	for _, a := range allowed {
		if strings.EqualFold(v, strings.TrimSpace(a)) {
			return v, nil
		}
	}
	if v == "" {
		return "", problemf("is empty; use one of %s", strings.Join(allowed, ", "))
	}
	return "", problemf("is not an allowed document type; use one of %s", strings.Join(allowed, ", "))
}
