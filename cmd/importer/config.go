package main

// Job files: `importer run --config nightly.toml` reads a TOML file whose
// top-level keys are the long names of the run flags. Each key is set on
// the flag set with fs.Set, unless the same flag was given on the command
// line, so names, types, defaults and checks have one source: the flags.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/p100/p100-importer/internal/validate"

	"github.com/BurntSushi/toml"
)

// Where an effective setting came from, as --print-config tells it.
const (
	fromDefault = "default"
	fromFile    = "file"
	fromFlag    = "flag"
)

// refusedKeyHint is said of a job-file key that would hold the API key.
const refusedKeyHint = "put the key in P100_API_KEY or api-key-file"

// secretKeyNames are job-file keys refused because they would hold the
// API key itself; compared without case, '-' and '_'.
var secretKeyNames = []string{"apikey", "key", "token", "p100apikey", "secret", "password", "apitoken", "accesstoken"}

// pathFlags hold file paths: relative ones in a job file are taken from
// the job file's directory.
var pathFlags = map[string]bool{
	"input": true, "checkpoint": true, "api-key-file": true, "report": true, "summary": true,
	"metrics-file": true, "map-file": true, "cpuprofile": true,
}

// listFlags take comma-separated lists: a job file may give them as an
// array of strings.
var listFlags = map[string]bool{"required": true, "document-types": true, "retry": true, "map": true}

// commandLineOnly are flags a job file cannot set.
var commandLineOnly = map[string]string{
	"config":       "a job file cannot name another job file",
	"print-config": "give --print-config on the command line",
}

// jobFile is a job file read and applied to a flag set.
type jobFile struct {
	path string
	// source says where each flag's effective value came from.
	source map[string]string
}

// applyJobFile reads the job file at path and sets its keys on fs, except
// for flags already set on the command line. Keys are checked against
// known, the run flags: a key that names a run flag fs does not have is
// ignored (validate takes only the keys that say how to read the input).
// Every error is a usageError naming the file, the line and the key, and
// never echoes a value.
func applyJobFile(fs, known *flag.FlagSet, path string, apply func(name string) bool) (*jobFile, error) {
	jf := &jobFile{path: path, source: map[string]string{}}
	fs.Visit(func(f *flag.Flag) { jf.source[f.Name] = fromFlag })
	if path == "" {
		return jf, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--config: cannot read the job file: %w", err)
	}
	var values map[string]any
	md, err := toml.Decode(string(data), &values)
	if err != nil {
		return nil, jobParseError(path, data, err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, usagef("--config: %w", err)
	}
	for _, key := range md.Keys() {
		if len(key) != 1 {
			continue // inside a table: its top-level key is reported below
		}
		name := key[0]
		where := fmt.Sprintf("--config %s line %d", path, keyLine(data, name))
		if isSecretKey(name) {
			return nil, usagef("%s: key %q is not allowed: the API key never goes in a job file: %s", where, name, refusedKeyHint)
		}
		if why, ok := commandLineOnly[name]; ok {
			return nil, usagef("%s: key %q: %s", where, name, why)
		}
		f := known.Lookup(name)
		if f != nil && isNegation(f) {
			return nil, usagef("%s: key %q: write %s = false instead", where, name, strings.TrimPrefix(name, "no-"))
		}
		if f == nil {
			return nil, usagef("%s: unknown key %q%s", where, name, suggestKey(known, name))
		}
		target := fs.Lookup(name)
		if target == nil || (apply != nil && !apply(name)) {
			continue
		}
		args, err := flagArgs(f, values[name])
		if err != nil {
			return nil, usagef("%s: key %q: %v", where, name, err)
		}
		if jf.source[name] == fromFlag {
			continue // the command line wins
		}
		for _, a := range args {
			if pathFlags[name] && a != "" && a != "-" && !filepath.IsAbs(a) {
				a = filepath.Join(dir, a)
			}
			if err := fs.Set(name, a); err != nil {
				return nil, usagef("%s: key %q: %s", where, name, safeSetError(err))
			}
		}
		jf.source[name] = fromFile
	}
	return jf, nil
}

// flagArgs turns a TOML value into the flag arguments it stands for,
// checking its type against the flag's.
func flagArgs(f *flag.Flag, v any) ([]string, error) {
	kind := flagKind(f)
	switch kind {
	case "bool":
		if b, ok := v.(bool); ok {
			return []string{strconv.FormatBool(b)}, nil
		}
		return nil, wantType("a boolean (true or false, without quotes)", v)
	case "int":
		if n, ok := v.(int64); ok {
			return []string{strconv.FormatInt(n, 10)}, nil
		}
		return nil, wantType("an integer", v)
	case "float":
		switch n := v.(type) {
		case int64:
			return []string{strconv.FormatInt(n, 10)}, nil
		case float64:
			return []string{strconv.FormatFloat(n, 'g', -1, 64)}, nil
		}
		return nil, wantType("a number", v)
	case "duration":
		s, ok := v.(string)
		if !ok {
			return nil, wantType(`a duration as a string, such as "30s" or "5m"`, v)
		}
		if _, err := time.ParseDuration(s); err != nil {
			return nil, errors.New(`not a duration: want a string such as "30s", "5m" or "1h30m"`)
		}
		return []string{s}, nil
	case "rate":
		switch n := v.(type) {
		case int64:
			return []string{strconv.FormatInt(n, 10)}, nil
		case float64:
			return []string{strconv.FormatFloat(n, 'g', -1, 64)}, nil
		case string:
			return []string{n}, nil
		}
		return nil, wantType(`a number of requests per second, or "auto"`, v)
	case "inputs":
		switch x := v.(type) {
		case string:
			return []string{x}, nil
		case []any:
			out := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, wantType("a string or an array of strings (files, directories or globs)", v)
				}
				out = append(out, s)
			}
			if len(out) == 0 {
				return nil, errors.New("an empty array: name at least one file, directory or glob")
			}
			return out, nil
		}
		return nil, wantType("a string or an array of strings (files, directories or globs)", v)
	}
	// A string flag; numbers are taken as written (max-errors = 50).
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case int64:
		return []string{strconv.FormatInt(x, 10)}, nil
	case float64:
		return []string{strconv.FormatFloat(x, 'g', -1, 64)}, nil
	case []any:
		if listFlags[f.Name] {
			parts := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, wantType("a string or an array of strings", v)
				}
				parts = append(parts, s)
			}
			return []string{strings.Join(parts, ",")}, nil
		}
	}
	return nil, wantType("a string", v)
}

// wantType says what a key wants and what it got, never the value.
func wantType(want string, got any) error {
	return fmt.Errorf("want %s, got %s", want, tomlTypeName(got))
}

func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date or time"
}

// flagKind names the type of value a flag takes.
func flagKind(f *flag.Flag) string {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "bool"
	}
	switch f.Value.(type) {
	case *rateValue:
		return "rate"
	case *inputList:
		return "inputs"
	}
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case int, int64, uint, uint64:
			return "int"
		case float64:
			return "float"
		case time.Duration:
			return "duration"
		}
	}
	return "string"
}

// safeSetError is a flag's refusal of a value, without the value (the
// standard flag errors are already value-free; a custom one may not be).
func safeSetError(err error) string {
	msg := err.Error()
	if strings.Contains(msg, `"`) {
		return "invalid value"
	}
	return msg
}

func normKey(s string) string {
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(s))
}

func isSecretKey(name string) bool {
	n := normKey(name)
	for _, s := range secretKeyNames {
		if n == s {
			return true
		}
	}
	return false
}

// keyLine finds the line of a top-level key in a job file; 0 if not found.
var keyLineRE = regexp.MustCompile(`^\s*("?)([A-Za-z0-9_-]+)("?)\s*=`)

func keyLine(data []byte, name string) int {
	for i, line := range bytes.Split(data, []byte("\n")) {
		if m := keyLineRE.FindSubmatch(line); m != nil && string(m[2]) == name {
			return i + 1
		}
	}
	return 0
}

// quotedRE finds quoted text in a parser message: it may be a value.
var quotedRE = regexp.MustCompile(`"[^"]{9,}"|'[^']{9,}'`)

// jobParseError reports a TOML syntax error with its line; the line's
// text, which may hold a value, is not echoed. A line that assigns a
// secret-looking key is refused as such.
func jobParseError(path string, data []byte, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return usagef("--config %s: not valid TOML", path)
	}
	lines := bytes.Split(data, []byte("\n"))
	if n := pe.Position.Line; n >= 1 && n <= len(lines) {
		if k, _, ok := bytes.Cut(lines[n-1], []byte("=")); ok && isSecretKey(strings.Trim(string(bytes.TrimSpace(k)), `"'`)) {
			return usagef("--config %s line %d: the API key never goes in a job file: %s", path, n, refusedKeyHint)
		}
	}
	msg := quotedRE.ReplaceAllString(pe.Message, "(text not shown)")
	return usagef("--config %s line %d: not valid TOML: %s", path, pe.Position.Line, msg)
}

// suggestKey returns ` (did you mean "input"?)` for the flag closest to a
// mistyped key, or "".
func suggestKey(fs *flag.FlagSet, name string) string {
	best, bestD := "", 1<<30
	fs.VisitAll(func(f *flag.Flag) {
		if _, skip := commandLineOnly[f.Name]; skip || isNegation(f) {
			return
		}
		if d := validate.EditDistance(strings.ToLower(name), f.Name); d < bestD {
			best, bestD = f.Name, d
		}
	})
	if best != "" && (bestD <= 2 || bestD <= len(name)/3) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if n := normKey(name); n != name {
		// base_url, BaseURL: the same letters without separators.
		var found string
		fs.VisitAll(func(f *flag.Flag) {
			if normKey(f.Name) == n {
				found = f.Name
			}
		})
		if found != "" {
			return fmt.Sprintf(" (did you mean %q?)", found)
		}
	}
	return " (keys are the long names of the run flags: see importer run --help)"
}

// inputKeys reports whether name is one of the flags that say how to read
// the input, the keys of a job file `importer validate --config` takes.
func inputKeys() func(name string) bool {
	var in input
	fs := flag.NewFlagSet("input", flag.ContinueOnError)
	in.register(fs)
	return func(name string) bool { return fs.Lookup(name) != nil }
}

// printConfig writes the effective settings of fs as TOML, every key with
// where its value came from; the API key is never shown, only whether one
// is set and from where.
func printConfig(w io.Writer, fs *flag.FlagSet, jf *jobFile, getenv func(string) string) error {
	var b bytes.Buffer
	fmt.Fprintln(&b, "# effective settings of importer run (--print-config); nothing was sent")
	if jf.path != "" {
		abs, err := filepath.Abs(jf.path)
		if err != nil {
			abs = jf.path
		}
		fmt.Fprintf(&b, "# job file: %s\n", abs)
	} else {
		fmt.Fprintln(&b, "# job file: none (--config not given)")
	}
	fmt.Fprintf(&b, "# API key: %s\n", keySource(fs, jf, getenv))
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if _, skip := commandLineOnly[f.Name]; !skip && !isNegation(f) {
			names = append(names, f.Name)
		}
	})
	sort.Strings(names)
	for _, name := range names {
		f := fs.Lookup(name)
		src := jf.source[name]
		if src == "" {
			src = fromDefault
			if name == "base-url" && getenv("P100_BASE_URL") != "" {
				src = "default (env P100_BASE_URL)"
			}
		}
		if name == "api-key-file" && f.Value.String() != "" {
			if _, err := os.Stat(f.Value.String()); err != nil {
				// Pasted by mistake, the "path" could be the key itself.
				fmt.Fprintf(&b, "# api-key-file = (not shown: no such file, in case it is the key itself)  # %s\n", src)
				continue
			}
		}
		line, err := tomlLine(f)
		if err != nil {
			return fmt.Errorf("print config: %s: %w", name, err)
		}
		fmt.Fprintf(&b, "%s  # %s\n", line, src)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// keySource says whether an API key is set and where from.
func keySource(fs *flag.FlagSet, jf *jobFile, getenv func(string) string) string {
	if f := fs.Lookup("api-key-file"); f != nil && f.Value.String() != "" {
		if _, err := os.Stat(f.Value.String()); err != nil {
			return "from --api-key-file (" + jf.sourceOf("api-key-file") + "), but the file cannot be read"
		}
		return "set, from --api-key-file (" + jf.sourceOf("api-key-file") + ")"
	}
	if strings.TrimSpace(getenv("P100_API_KEY")) != "" {
		return "set, from the environment variable P100_API_KEY"
	}
	return "not set: set P100_API_KEY or api-key-file"
}

func (jf *jobFile) sourceOf(name string) string {
	if s := jf.source[name]; s != "" {
		if s == fromFile {
			return "the job file"
		}
		return "the command line"
	}
	return fromDefault
}

// tomlLine renders one flag's value as a TOML key = value line; paths are
// made absolute, so that the line says which file is meant wherever it is
// read.
func tomlLine(f *flag.Flag) (string, error) {
	s := f.Value.String()
	var v any = s
	if pathFlags[f.Name] {
		v = absPath(s)
	}
	switch flagKind(f) {
	case "bool":
		v = s == "true"
	case "int":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", err
		}
		v = n
	case "float":
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "", err
		}
		v = n
	case "rate":
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			v = n
		}
	case "inputs":
		paths := f.Value.(*inputList).in.Paths
		switch len(paths) {
		case 0:
			v = ""
		case 1:
			v = absPath(paths[0])
		default:
			abs := make([]string, len(paths))
			for i, p := range paths {
				abs[i] = absPath(p)
			}
			v = abs
		}
	}
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(map[string]any{f.Name: v}); err != nil {
		return "", err
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

// absPath makes a path absolute; "" and "-" (standard input) stay.
func absPath(p string) string {
	if p == "" || p == "-" {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
