package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// hostileInput is one input no real export looks like: `importer validate`
// must end on it with a clear error (exit 2) in bounded memory.
type hostileInput struct {
	name  string
	path  string // a file this case writes, or a device
	write func(w *bufio.Writer) error
	want  string // in stderr
}

// hostile: memory and the error on inputs that would make a naive reader
// load everything (issue 10, item 8).
func (b *bench) hostile(ctx context.Context) error {
	const mb = 1 << 20
	header := "externalUserId,email,firstName,lastName,address,city,country,documentType,documentNumber,pesel,birthCountry,birthDate\n"
	row := "u-1,jan@example.pl,Jan,Kowalski,Adama Matuszczaka 51/4,Rzeszów,PL,PASSPORT,CEV124630,44051401359,PL,1944-05-14\n"
	repeat := func(w *bufio.Writer, s string, n int) error {
		for range n {
			if _, err := w.WriteString(s); err != nil {
				return err
			}
		}
		return nil
	}
	cases := []hostileInput{
		{name: "/dev/zero", path: "/dev/zero", want: "binary data"},
		{name: "a 50 MB header line", want: "first line is longer than", write: func(w *bufio.Writer) error {
			return repeat(w, "column,", 50*mb/7)
		}},
		{name: "a 50 MB line after the header", want: "a line longer than", write: func(w *bufio.Writer) error {
			w.WriteString(header + row)
			return repeat(w, "x", 50*mb)
		}},
		{name: "an unterminated quote before 300,000 lines", want: "is still not closed", write: func(w *bufio.Writer) error {
			w.WriteString(header + row + `u-2,"jan@example.pl` + "\n")
			return repeat(w, strings.Replace(row, "u-1", "u-3", 1), 300_000)
		}},
		{name: "300,000 rows of only delimiters", want: "", write: func(w *bufio.Writer) error {
			w.WriteString(header)
			return repeat(w, ",,,,,,,,,,,\n", 300_000)
		}},
	}
	b.detail("### Hostile input (`importer validate --quiet`, issue 10)")
	b.detail("")
	b.detail("| input | size | exit | peak RSS MiB | message |")
	b.detail("|---|---|---|---|---|")
	worst, allClear := 0.0, true
	for _, c := range cases {
		path := c.path
		if c.write != nil {
			path = filepath.Join(b.dir, "hostile-"+strings.NewReplacer(" ", "-", ",", "", "/", "").Replace(c.name)+".csv")
			if err := writeWith(path, c.write); err != nil {
				return err
			}
		}
		size := "-"
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			size = fmt.Sprintf("%.0f MB", float64(fi.Size())/1e6)
		}
		res, _ := runChild(ctx, nil, b.o.importerBin(), "validate", "--input", path, "--quiet")
		msg := lastLine(string(res.Stderr))
		wantExit := 2
		if c.want == "" {
			wantExit = 0 // blank rows are skipped lines: a valid, empty file
			msg = lastLine(string(res.Stdout))
		}
		clear := res.Exit == wantExit && strings.Contains(string(res.Stderr), c.want)
		allClear = allClear && clear
		peak := mib(res.PeakRSS())
		worst = max(worst, peak)
		b.log("hostile %s: exit %d, peak RSS %.1f MiB", c.name, res.Exit, peak)
		if r := []rune(msg); len(r) > 140 {
			msg = string(r[:140]) + "..."
		}
		b.detail("| %s | %s | %d | %.1f | %s |", c.name, size, res.Exit, peak, strings.ReplaceAll(msg, "|", `\|`))
		if c.write != nil {
			os.Remove(path)
		}
	}
	b.detail("")
	b.target("hostile input: worst peak RSS of `importer validate` (5 inputs)", fmt.Sprintf("%.1f MiB", worst), "<= 64 MiB", worst <= 64)
	b.target("hostile input: each ends with its clear error (exit 2) or as an empty file", fmt.Sprint(allClear), "true", allClear)
	return nil
}

// writeWith writes a file through a buffered writer.
func writeWith(path string, fill func(*bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fill(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
