package ingest

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/gocarina/gocsv"

	"github.com/p100/p100-importer/internal/charset"
	"github.com/p100/p100-importer/internal/validate"
)

// Options tune how a file is read and validated. The zero value detects
// everything: character set, delimiter, header, date form.
type Options struct {
	// Comma is the delimiter, an ASCII character; 0 detects it (Excel's
	// sep= line, else the first lines, among ',', ';', tab and '|').
	Comma rune
	// Encoding names the file's character set when it has no byte-order
	// mark: "" or "auto" detects it from the content; otherwise "utf-8",
	// "utf-16le", "windows-1250", "iso-8859-2", "windows-1252", ... A BOM
	// always wins.
	Encoding string
	// Required lists the fields a row must have; nil means DefaultRequired.
	Required []string
	// DocumentTypes lists the accepted documentType values; nil means
	// validate.KnownDocumentTypes.
	DocumentTypes []string
	// DateLayout is the Go layout of birthDate in the file; "" reads the
	// forms spreadsheets write (YYYY-MM-DD, DD.MM.YYYY, "YYYY-MM-DD
	// 00:00:00", slashed dates decided per column). Dates are sent as
	// YYYY-MM-DD whatever the layout.
	DateLayout string
	// Mapping maps header names as they appear in the file to API field
	// names, for headers the automatic matching does not recognise.
	Mapping map[string]string
	// Now is the clock for "not in the future" checks; nil means time.Now.
	Now func() time.Time
	// TempDir holds the duplicate check's spill file for files of more
	// than 65,536 rows; "" means the system's temporary directory.
	TempDir string
	// ExpectedRows, when known (from the file's size), sizes the duplicate
	// check's filter; 0 lets it grow as rows come.
	ExpectedRows int
	// Sheet names the sheet of a workbook to read; "" reads the first
	// sheet that has a header row.
	Sheet string
	// DupCheck, if set, is shared with the other inputs of the run: an
	// externalUserId of an earlier input is a duplicate here too.
	DupCheck *DupCheck

	detected *charset.Result // the character set found by Open's scan of the whole file
	format   string          // what Open found the file to be, for Dialect
	name     string          // the input's path, for duplicates across inputs
}

// Problem is one reason a row cannot be sent.
type Problem struct {
	Line   int    // physical line in the file
	Column string // header as written in the file; "" for row-level problems
	Reason string // in words; never a PESEL or document number in full
}

func (p Problem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
	}
	return fmt.Sprintf("line %d, column %q: %s", p.Line, p.Column, p.Reason)
}

// Record is one data row of the file, normalised and repaired. Its field
// rules run when it is checked (Check, or Valid, Problems, Reason); a Record
// is not safe for concurrent use.
type Record struct {
	Line  int    // physical line where the row starts
	User  User   // normalised values (as read, trimmed, for fields that failed)
	Notes []Note // what was repaired or decided about this row's values
	DupOf int    // line of the first row with this externalUserId, if a duplicate

	problems    []Problem
	check       func(*Record) // the field rules still to run; nil once run
	deferred    []fieldError  // rules failed while normalising, reported by check
	dateChecked bool          // birthDate already validated while normalising
	dateOK      bool          // birthDate is a valid date, in the API's form
	datePending bool          // birthDate is slashed and its column's order is not known yet
	peselRaw    string        // the PESEL as read, when it waits for birthDate to be settled

	input User              // the values as read, untrimmed
	extra map[string]string // values of columns that map to no field
	hash  []byte            // User.Hash, once computed
}

// Hash returns the digest of the row's normalised request fields (see
// User.Hash), computed once.
func (r *Record) Hash() []byte {
	if r.hash == nil {
		r.hash = r.User.Hash()
	}
	return r.hash
}

// Check runs the row's field rules, the first time it is called, and
// returns every reason the row cannot be sent (empty when it can). The rules
// wait for this call so that a rerun never pays for them on rows already
// imported: the importer checks a row where it decides to send it.
func (r *Record) Check() []Problem {
	if r.check != nil {
		check := r.check
		r.check = nil
		check(r)
	}
	return r.problems
}

// Valid reports whether the row can be sent (see Check).
func (r *Record) Valid() bool { return len(r.Check()) == 0 }

// Problems returns every reason the row cannot be sent (see Check).
func (r *Record) Problems() []Problem { return r.Check() }

// Reason joins the problems into one message: "column: reason; ...".
func (r *Record) Reason() string {
	problems := r.Problems()
	parts := make([]string, len(problems))
	for i, p := range problems {
		if p.Column == "" {
			parts[i] = p.Reason
		} else {
			parts[i] = p.Column + ": " + p.Reason
		}
	}
	return strings.Join(parts, "; ")
}

// Reader reads Records from a CSV stream.
type Reader struct {
	opts     Options
	required []string
	filter   *recordFilter
	source   RowSource // rows already split into fields, instead of a file
	csv      *csv.Reader
	um       *gocsv.Unmarshaller
	dialect  Dialect
	header   []string          // as written in the file
	fieldOf  []string          // header index -> API field ("" for extra columns)
	columnOf map[string]string // API field -> header as written
	extra    bool              // the file has columns that map to no field
	seen     *seenIn
	slashed  slashOrder // how the birthDate column writes slashed dates
	repairs  map[Repair]int

	pending  []*Record // rows decoded ahead, or swallowed by an unterminated quote
	ahead    []*Record // rows read ahead to settle the birthDate column's form
	lastLine int       // physical line of the last record read, for I/O errors
	rows     int
}

// maxDateLookahead bounds how many rows are read ahead, held in memory, to
// find a slashed date that says whether the day or the month comes first.
const maxDateLookahead = 10_000

// NewReader reads the header of in and prepares to read rows. It returns a
// *HeaderError when the header is unusable, an *EncodingError when the
// character set is unclear, a *FormatError when in is not text, and a
// *RecordTooLongError when the first line passes MaxHeaderBytes: in every
// case nothing should be sent.
func NewReader(in io.Reader, opts Options) (*Reader, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DocumentTypes == nil {
		opts.DocumentTypes = validate.KnownDocumentTypes
	}
	r := &Reader{opts: opts, required: opts.Required, repairs: map[Repair]int{}}
	if r.required == nil {
		r.required = DefaultRequired
	}
	for _, f := range r.required {
		if !slices.Contains(Fields, f) {
			return nil, fmt.Errorf("required field %q is not an API field (known: %s)", f, strings.Join(Fields, ", "))
		}
	}
	if opts.Comma > unicode.MaxASCII || opts.Comma == '"' || opts.Comma == '\n' || opts.Comma == '\r' {
		return nil, fmt.Errorf("delimiter %q: want one ASCII character such as , ; | or tab", opts.Comma)
	}

	text, enc, err := decodeInput(in, opts)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(text, 64<<10)
	head, _ := br.Peek(64 << 10)
	breaks, crOnly := lineBreaks(head)
	if crOnly {
		br = bufio.NewReaderSize(crToLF{br}, 64<<10)
		head, _ = br.Peek(64 << 10)
	}
	matcher := newHeaderMatcher(opts.Mapping)
	guess := guessDialect(head, byte(opts.Comma), matcher)
	r.dialect = Dialect{Format: cmp.Or(opts.format, "CSV"), Encoding: enc.name, EncodingHow: enc.how,
		Comma: rune(guess.comma), CommaHow: guess.commaHow, LineBreaks: breaks}

	r.filter = newRecordFilter(br, guess.comma, guess.titles)
	r.csv = csv.NewReader(r.filter)
	r.csv.Comma = rune(guess.comma)
	r.csv.FieldsPerRecord = 0 // the header's count: a ragged row is a ParseError, and reading goes on
	r.csv.ReuseRecord = true

	um, err := gocsv.NewUnmarshaller(r.csv, User{})
	if err != nil {
		var tooLong *RecordTooLongError
		switch {
		case errors.As(err, &tooLong):
			return nil, err
		case errors.Is(err, io.EOF) && r.filter.Skipped().Lines() > 0:
			return nil, &HeaderError{Err: errors.New("the file has no header line: it holds only blank lines or lines of empty cells")}
		case errors.Is(err, io.EOF):
			return nil, &HeaderError{Err: errors.New("the file is empty: no header line")}
		}
		return nil, &HeaderError{Err: fmt.Errorf("read header: %w", err)}
	}
	r.um = um
	r.header = slices.Clone(um.Headers)
	r.dialect.HeaderLine, _ = r.csv.FieldPos(0)
	if err := r.mapHeader(matcher); err != nil {
		return nil, err
	}
	r.seen = newSeenIn(opts)
	return r, nil
}

// newSeenIn is the reader's duplicate check: its own, or Options.DupCheck.
func newSeenIn(opts Options) *seenIn {
	if opts.DupCheck != nil {
		return &seenIn{shared: opts.DupCheck, name: opts.name, base: -1}
	}
	return &seenIn{own: newSeenSet(opts.TempDir, opts.ExpectedRows)}
}

// Header returns the header as written in the file.
func (r *Reader) Header() []string { return r.header }

// Close releases the duplicate check's temporary file, if it has one.
func (r *Reader) Close() error { return r.seen.close() }

// Encoding returns the character set the file is read in.
func (r *Reader) Encoding() string { return r.dialect.Encoding }

// Comma returns the delimiter in use.
func (r *Reader) Comma() rune { return r.dialect.Comma }

// Dialect returns how the file is read: format, character set, delimiter,
// line breaks, and how each was decided.
func (r *Reader) Dialect() Dialect { return r.dialect }

// Skipped returns the lines read so far that hold no user.
func (r *Reader) Skipped() Skipped {
	if r.filter == nil {
		return Skipped{}
	}
	return r.filter.Skipped()
}

// Repairs returns how many values of each kind were repaired so far.
func (r *Reader) Repairs() map[Repair]int { return maps.Clone(r.repairs) }

// ColumnOf returns the header, as written, of the column mapped to field.
func (r *Reader) ColumnOf(field string) (string, bool) {
	c, ok := r.columnOf[field]
	return c, ok
}

// FieldAt returns the API field of the i-th column, "" for an ignored one.
func (r *Reader) FieldAt(i int) string {
	if i < 0 || i >= len(r.fieldOf) {
		return ""
	}
	return r.fieldOf[i]
}

// Unknown returns the columns that map to no API field (ignored).
func (r *Reader) Unknown() []string {
	var out []string
	for i, f := range r.fieldOf {
		if f == "" {
			out = append(out, r.header[i])
		}
	}
	return out
}

// Rows returns how many data rows have been returned so far.
func (r *Reader) Rows() int { return r.rows }

// Next returns the next data row, valid or not, or io.EOF after the last.
// Any other error means the input itself cannot be read on (an I/O error,
// a record past its size limit, a birthDate column whose form no row
// settles).
func (r *Reader) Next() (*Record, error) {
	rec, err := r.nextSettled()
	if err == nil {
		r.rows++
	}
	return rec, err
}

// nextSettled returns the next row with its birthDate settled: a slashed
// date whose column order is still unknown makes the reader read ahead
// until a row tells (a day above 12), within maxDateLookahead rows.
func (r *Reader) nextSettled() (*Record, error) {
	var rec *Record
	if len(r.ahead) > 0 {
		rec, r.ahead = r.ahead[0], r.ahead[1:]
	} else {
		var err error
		if rec, err = r.next(); err != nil {
			return nil, err
		}
	}
	if !rec.datePending {
		return rec, nil
	}
	for r.slashed.order == orderUnknown && len(r.ahead) < maxDateLookahead {
		next, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		r.ahead = append(r.ahead, next)
	}
	if r.slashed.order == orderUnknown {
		return nil, &DateFormError{Column: r.columnName(FieldBirthDate), Line: rec.Line}
	}
	r.settleDate(rec)
	return rec, nil
}

func (r *Reader) next() (*Record, error) {
	if len(r.pending) > 0 {
		rec := r.pending[0]
		r.pending = r.pending[1:]
		return rec, nil
	}
	rec, pe, err := r.read()
	if err != nil || pe == nil {
		return rec, err
	}
	if !errors.Is(pe.Err, csv.ErrQuote) || pe.Line <= pe.StartLine {
		return r.parseErrorRecord(pe), nil
	}
	// A quote error spanning lines: either a quoted field that is never
	// closed (the reader swallowed the rest of the file: the next read is
	// the end) or a closed multi-line field followed by junk.
	next, nextPE, err := r.read()
	switch {
	case errors.Is(err, io.EOF):
		return r.unterminatedQuote(pe), nil
	case err != nil:
		return nil, err
	case nextPE != nil:
		r.pending = append(r.pending, r.parseErrorRecord(nextPE))
	default:
		r.pending = append(r.pending, next)
	}
	return r.parseErrorRecord(pe), nil
}

// read decodes the next line: a record, or the CSV syntax error of an
// unreadable line (reading can go on after it), or io.EOF.
func (r *Reader) read() (*Record, *csv.ParseError, error) {
	if r.source != nil {
		return r.readSource()
	}
	var (
		v     any
		extra map[string]string
		err   error
	)
	if r.extra {
		v, extra, err = r.um.ReadUnmatched()
	} else {
		v, err = r.um.Read()
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe, nil
		}
		if errors.Is(err, io.EOF) {
			return nil, nil, io.EOF
		}
		return nil, nil, fmt.Errorf("read after line %d: %w", r.lastLine, err)
	}
	line, _ := r.csv.FieldPos(0)
	r.lastLine = line
	rec := &Record{Line: line, input: v.(User), extra: extra}
	if err := r.prepare(rec); err != nil {
		return nil, nil, err
	}
	return rec, nil, nil
}

// Columns returns the row's values in the file's column order, as read
// (untrimmed), for reports that must be fed back as input.
func (r *Reader) Columns(rec *Record) []string {
	out := make([]string, len(r.header))
	for i, f := range r.fieldOf {
		if f != "" {
			out[i] = rec.input.Get(f)
		} else {
			out[i] = rec.extra["\x00extra\x00"+r.header[i]]
		}
	}
	return out
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
