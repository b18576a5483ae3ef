package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// inputExtensions are the names a directory given as --input is read for.
var inputExtensions = []string{".csv", ".csv.gz", ".tsv", ".txt", ".xlsx"}

// expandInputs turns the --input values into the files to import, in
// order: a file as given; a directory's files named *.csv, *.csv.gz,
// *.tsv, *.txt or *.xlsx (any case, not hidden), sorted by name; a glob's
// matches, sorted, hidden files left out as a shell does (the importer
// expands it itself, so cron need not). A
// directory or glob that yields no file, a file given twice and standard
// input among other inputs are usage errors. Files named in exclude (the
// run's own report) are never taken from a directory or a glob.
func expandInputs(values []string, exclude ...string) ([]string, error) {
	var out []string
	skip := map[string]bool{}
	for _, e := range exclude {
		if e != "" {
			skip[cleanAbs(e)] = true
		}
	}
	for _, v := range values {
		if v == "-" {
			if len(values) > 1 {
				return nil, usagef("--input -: standard input must be the only input")
			}
			return []string{v}, nil
		}
		fi, err := os.Stat(v)
		switch {
		case err == nil && fi.IsDir():
			files, err := dirInputs(v, skip)
			if err != nil {
				return nil, err
			}
			out = append(out, files...)
		case err == nil, !hasGlobMeta(v):
			out = append(out, v) // a file, or a missing one: opening it says so
		default:
			matches, err := filepath.Glob(v)
			if err != nil {
				return nil, usagef("--input %q: not a valid glob pattern: %w", v, err)
			}
			slices.Sort(matches)
			n := 0
			hidden := strings.HasPrefix(filepath.Base(v), ".")
			for _, m := range matches {
				if !hidden && strings.HasPrefix(filepath.Base(m), ".") {
					continue // as a shell's glob: * does not match a leading dot
				}
				if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() && !skip[cleanAbs(m)] {
					out = append(out, m)
					n++
				}
			}
			if n == 0 {
				return nil, usagef("--input %q matches no file", v)
			}
		}
	}
	seen := map[string]string{}
	for _, f := range out {
		key := cleanAbs(f)
		if first, dup := seen[key]; dup {
			return nil, usagef("--input: %s is given twice (also as %s): each file is imported once a run", f, first)
		}
		seen[key] = f
	}
	return out, nil
}

// dirInputs lists a directory's input files, sorted by name.
func dirInputs(dir string, skip map[string]bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, usagef("--input %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if strings.HasPrefix(name, ".") || !hasInputExtension(name) {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() || skip[cleanAbs(p)] {
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, usagef("--input %s: the directory holds no input file (%s)", dir, strings.Join(inputExtensions, ", "))
	}
	return out, nil
}

func hasInputExtension(name string) bool {
	lower := strings.ToLower(name)
	for _, ext := range inputExtensions {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

func hasGlobMeta(s string) bool { return strings.ContainsAny(s, "*?[") }

func cleanAbs(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}
