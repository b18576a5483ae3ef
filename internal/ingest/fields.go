package ingest

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
)

// The API's field names, exactly as P100 documents them.
const (
	FieldExternalUserID = "externalUserId"
	FieldEmail          = "email"
	FieldFirstName      = "firstName"
	FieldLastName       = "lastName"
	FieldAddress        = "address"
	FieldCity           = "city"
	FieldCountry        = "country"
	FieldDocumentType   = "documentType"
	FieldDocumentNumber = "documentNumber"
	FieldPesel          = "pesel"
	FieldBirthCountry   = "birthCountry"
	FieldBirthDate      = "birthDate"
)

// Fields lists the request fields in the documented order.
var Fields = []string{
	FieldExternalUserID, FieldEmail, FieldFirstName, FieldLastName, FieldAddress, FieldCity,
	FieldCountry, FieldDocumentType, FieldDocumentNumber, FieldPesel, FieldBirthCountry, FieldBirthDate,
}

// DefaultRequired is the required set docs/p100-api.md gives; P100 does not publish
// it, so the user can override it.
var DefaultRequired = []string{
	FieldExternalUserID, FieldEmail, FieldFirstName, FieldLastName, FieldAddress, FieldCity,
	FieldCountry, FieldDocumentType, FieldDocumentNumber,
}

// User holds one user's request fields. Its field set matches
// p100.CreateUserRequest, so one converts to the other directly; its csv
// tags are the API's names, which is what gocsv decodes a row into (after
// the header is renamed to them). Every field is a string, validated by our
// own code (gocsv's conversions give poor messages).
type User struct {
	ExternalUserID string `csv:"externalUserId"`
	Email          string `csv:"email"`
	FirstName      string `csv:"firstName"`
	LastName       string `csv:"lastName"`
	Address        string `csv:"address"`
	City           string `csv:"city"`
	Country        string `csv:"country"`
	DocumentType   string `csv:"documentType"`
	DocumentNumber string `csv:"documentNumber"`
	Pesel          string `csv:"pesel"`
	BirthCountry   string `csv:"birthCountry"`
	BirthDate      string `csv:"birthDate"`
}

// fieldPtr returns the address of a User's field by API name.
func (u *User) fieldPtr(name string) *string {
	switch name {
	case FieldExternalUserID:
		return &u.ExternalUserID
	case FieldEmail:
		return &u.Email
	case FieldFirstName:
		return &u.FirstName
	case FieldLastName:
		return &u.LastName
	case FieldAddress:
		return &u.Address
	case FieldCity:
		return &u.City
	case FieldCountry:
		return &u.Country
	case FieldDocumentType:
		return &u.DocumentType
	case FieldDocumentNumber:
		return &u.DocumentNumber
	case FieldPesel:
		return &u.Pesel
	case FieldBirthCountry:
		return &u.BirthCountry
	case FieldBirthDate:
		return &u.BirthDate
	}
	return nil
}

// Get returns a field by API name ("" for an unknown name).
func (u *User) Get(name string) string {
	if p := u.fieldPtr(name); p != nil {
		return *p
	}
	return ""
}

// Set sets a field by API name; unknown names are ignored.
func (u *User) Set(name, value string) {
	if p := u.fieldPtr(name); p != nil {
		*p = value
	}
}

// Hash is a digest of the normalised request fields: the row's content as
// the API would see it, blind to extra columns and to column order.
func (u *User) Hash() []byte {
	h := sha256.New()
	for _, f := range Fields {
		h.Write([]byte(u.Get(f)))
		h.Write([]byte{0x1f})
	}
	return h.Sum(nil)[:16]
}

// MarshalFields encodes the non-empty fields as a JSON object keyed by API
// field name, the form the checkpoint keeps for rows not yet succeeded.
func (u *User) MarshalFields() []byte {
	m := make(map[string]string, len(Fields))
	for _, f := range Fields {
		if v := u.Get(f); v != "" {
			m[f] = v
		}
	}
	b, _ := json.Marshal(m) // a map of strings always encodes
	return b
}

// normalizeHeader folds a header name for matching: case, spaces, dashes
// and underscores do not count ("External User ID" == "external_user_id").
func normalizeHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch r {
		case ' ', '-', '_', '\t', '.':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
