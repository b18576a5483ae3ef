package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

func TestGeneratedRowsAreValidAndDistinct(t *testing.T) {
	const n = 5000
	path := filepath.Join(t.TempDir(), "rows.csv")
	if err := writeRows(path, n); err != nil {
		t.Fatal(err)
	}
	bodies, err := requestBodies(path) // fails on any row the importer would refuse
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != n {
		t.Fatalf("%d bodies, want %d", len(bodies), n)
	}
	ids, docs := map[string]bool{}, map[string]bool{}
	for _, b := range bodies {
		var req struct{ ExternalUserID, DocumentNumber, Pesel string }
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatal(err)
		}
		if ids[req.ExternalUserID] || docs[req.DocumentNumber] {
			t.Fatalf("duplicate in %s", b)
		}
		if req.Pesel == "" {
			t.Fatalf("no pesel in %s", b)
		}
		ids[req.ExternalUserID], docs[req.DocumentNumber] = true, true
	}
}

func TestRowsAreDeterministic(t *testing.T) {
	a, b := rowValues(123456), rowValues(123456)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("field %d: %q then %q", i, a[i], b[i])
		}
	}
}
