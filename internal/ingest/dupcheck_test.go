package ingest_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/p100/p100-importer/internal/ingest"
)

// A DupCheck shared by inputs read one after another finds an id of an
// earlier file, naming that file and its line, and still finds the
// duplicates within a file as before.
func TestDupCheckAcrossInputs(t *testing.T) {
	dir := t.TempDir()
	header := "externalUserId,email,firstName,lastName,address,city,country,documentType,documentNumber\n"
	row := func(id string) string {
		return id + ",a@example.com,Jan,Nowak,ul. A 1,Gdańsk,PL,ID_CARD,ABC123456\n"
	}
	files := map[string]string{
		"1.csv": header + row("a") + row("b") + row("c"),
		"2.csv": header + row("d") + row("b") + row("d"), // b from 1.csv line 3; d twice here
		"3.csv": header + "\n\n" + row("e") + row("c") + row("d"),
	}
	dups := ingest.NewDupCheck(dir)
	defer dups.Close()
	var paths []string
	var ins []*ingest.Input
	for _, name := range []string{"1.csv", "2.csv", "3.csv"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(files[name]), 0o600); err != nil {
			t.Fatal(err)
		}
		// Every file is opened first, as a run does, then read in turn.
		in, err := ingest.Open(context.Background(), p, ingest.Options{DupCheck: dups})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		paths, ins = append(paths, p), append(ins, in)
	}
	got := map[string]string{} // file:line -> reason of a duplicate
	for i, in := range ins {
		for {
			rec, err := in.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.DupOf > 0 {
				got[filepath.Base(paths[i])+":"+strconv.Itoa(rec.Line)] = rec.Reason()
			}
		}
	}
	want := map[string]string{
		"2.csv:3": "duplicate of " + paths[0] + " line 3: the same externalUserId appears in an earlier input of this run",
		"2.csv:4": "duplicate of line 2: the same externalUserId appears twice in this file",
		"3.csv:5": "duplicate of " + paths[0] + " line 4",
		"3.csv:6": "duplicate of " + paths[1] + " line 2",
	}
	if len(got) != len(want) {
		t.Errorf("duplicates %q, want %d of them", got, len(want))
	}
	for k, w := range want {
		if !strings.Contains(got[k], w) {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}

	// Without a shared check, each file is on its own.
	p := filepath.Join(dir, "2.csv")
	in, err := ingest.Open(context.Background(), p, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	n := 0
	for {
		rec, err := in.Next()
		if err == io.EOF {
			break
		}
		if rec.DupOf > 0 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("2.csv alone: %d duplicates, want 1", n)
	}
}
