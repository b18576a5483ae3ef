package main

import (
	"bufio"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/p100/p100-importer/internal/ingest"
	"github.com/p100/p100-importer/internal/p100"
)

// header is the CSV header of generated files: every API field, in the
// documented order.
var header = ingest.Fields

var (
	firstNames = []string{"Jan", "Anna", "Zofia", "Łukasz", "Piotr", "Katarzyna", "Tomasz", "Małgorzata", "Paweł", "Ewa", "Michał"}
	lastNames  = []string{"Kowalski", "Nowak", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański", "Woźniak", "Dąbrowska"}
	streets    = []string{"ul. Długa", "ul. Świętokrzyska", "al. Jerozolimskie", "os. Złotego Wieku", "ul. Piotrkowska", "ul. Floriańska"}
	cities     = []string{"Warszawa", "Kraków", "Gdańsk", "Rzeszów", "Łódź", "Wrocław", "Poznań", "Lublin", "Szczecin"}
)

// epoch is the earliest generated birth date; every date is before 2006.
var epoch = time.Date(1950, time.January, 1, 0, 0, 0, 0, time.UTC)

// rowValues returns row i (0-based) of a generated file, in header order.
// It depends on i alone, so every file is the same on every machine: ids,
// e-mails and document numbers are distinct, and every row passes the
// importer's validation (country PL, documentType PASSPORT, a PESEL whose
// check digit and birth date agree with birthDate).
func rowValues(i int) []string {
	birth := epoch.AddDate(0, 0, (i*7919)%20000) // 1950-01-01 .. 2004-10-03
	return []string{
		fmt.Sprintf("bench-%08d", i),
		fmt.Sprintf("user.%08d@example.com", i),
		firstNames[i%len(firstNames)],
		lastNames[(i/7)%len(lastNames)],
		fmt.Sprintf("%s %d/%d", streets[i%len(streets)], 1+i%197, 1+i%31),
		cities[(i/3)%len(cities)],
		"PL",
		"PASSPORT",
		documentNumber(i),
		pesel(birth, i%10000),
		"PL",
		birth.Format("2006-01-02"),
	}
}

// documentNumber is three letters and six digits, distinct for every i
// below 26^3 * 10^6.
func documentNumber(i int) string {
	n := i / 1_000_000
	l := []byte{byte('A' + n/676%26), byte('A' + n/26%26), byte('A' + n%26)}
	return fmt.Sprintf("%s%06d", l, i%1_000_000)
}

// pesel encodes birth and a 4-digit serial as a valid PESEL.
func pesel(birth time.Time, serial int) string {
	month := int(birth.Month())
	if birth.Year() >= 2000 {
		month += 20
	}
	s := fmt.Sprintf("%02d%02d%02d%04d", birth.Year()%100, month, birth.Day(), serial)
	sum := 0
	for k, w := range [...]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3} {
		sum += int(s[k]-'0') * w
	}
	return s + strconv.Itoa((10-sum%10)%10)
}

// writeRows writes a CSV file of rows 0..n-1.
func writeRows(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("generate rows: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	w := csv.NewWriter(bw)
	if err := w.Write(header); err != nil {
		f.Close()
		return fmt.Errorf("generate rows: %w", err)
	}
	for i := range n {
		if err := w.Write(rowValues(i)); err != nil {
			f.Close()
			return fmt.Errorf("generate rows: %w", err)
		}
	}
	w.Flush()
	if err := errors.Join(w.Error(), bw.Flush(), f.Close()); err != nil {
		return fmt.Errorf("generate rows: %w", err)
	}
	return nil
}

// requestBodies reads a generated CSV file the way the importer does
// (ingest.NewReader with the CLI's defaults) and returns each row's request
// body exactly as the importer's client encodes it, so vegeta sends the same
// bytes. A row that does not validate is an error: the generator is wrong.
func requestBodies(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("encode bodies: %w", err)
	}
	defer f.Close()
	r, err := ingest.NewReader(f, ingest.Options{})
	if err != nil {
		return nil, fmt.Errorf("encode bodies: %s: %w", path, err)
	}
	var bodies [][]byte
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return bodies, nil
		}
		if err != nil {
			return nil, fmt.Errorf("encode bodies: %s: %w", path, err)
		}
		if !rec.Valid() {
			return nil, fmt.Errorf("encode bodies: %s line %d: generated row is invalid: %s", path, rec.Line, rec.Reason())
		}
		body, err := json.Marshal(p100.CreateUserRequest(rec.User))
		if err != nil {
			return nil, fmt.Errorf("encode bodies: line %d: %w", rec.Line, err)
		}
		bodies = append(bodies, body)
	}
}

// target is one line of a vegeta JSON targets file.
type target struct {
	Method string              `json:"method"`
	URL    string              `json:"url"`
	Body   string              `json:"body"` // base64
	Header map[string][]string `json:"header"`
}

// writeTargets writes one vegeta JSON target per body, POSTing to the
// create endpoint of baseURL with the headers the importer sends.
func writeTargets(path, baseURL, apiKey string, bodies [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write targets: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	enc := json.NewEncoder(bw) // one object per line
	hdr := map[string][]string{
		"x-api-key":    {apiKey},
		"Content-Type": {"application/json"},
		"Accept":       {"application/json"},
	}
	url := baseURL + "/v1/user/balances/crypto"
	for _, b := range bodies {
		if err := enc.Encode(target{Method: "POST", URL: url, Body: base64.StdEncoding.EncodeToString(b), Header: hdr}); err != nil {
			f.Close()
			return fmt.Errorf("write targets: %w", err)
		}
	}
	if err := errors.Join(bw.Flush(), f.Close()); err != nil {
		return fmt.Errorf("write targets: %w", err)
	}
	return nil
}
