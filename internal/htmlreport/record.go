package htmlreport

import (
	"cmp"
	"net/url"
	"regexp"
	"slices"

	"github.com/p100/p100-importer/internal/importer"
)

// Bounds of what a report lists, so that its size does not grow with the
// input's: a million-row run makes a report of the same size as a small one.
const (
	FirstLines = 10 // line numbers listed per error code
	MaxCodes   = 40 // error codes listed apart; the rest are counted as OtherCode
	// HistoryRuns is how many runs the table of last runs shows.
	HistoryRuns = 10
)

// OtherCode gathers the error codes beyond MaxCodes, and codes that do not
// look like one (the report never prints an API's free text).
const OtherCode = "OTHER"

// Record is what a report needs besides the run's summary; its JSON form
// is kept with the run in the checkpoint. It holds no personal data.
type Record struct {
	Version     string             `json:"version"`
	BaseHost    string             `json:"base_host"` // the API's host (and port), without scheme, path or credentials
	Timeline    *importer.Timeline `json:"timeline,omitempty"`
	NotImported []NotImported      `json:"not_imported,omitempty"`
}

// NotImported counts the rows of one outcome and error code that were not
// imported, with the first lines they were on.
type NotImported struct {
	Outcome string `json:"outcome"`
	Code    string `json:"code"`
	Rows    int    `json:"rows"`
	Lines   []int  `json:"lines,omitempty"` // the first FirstLines, in the order settled
}

// Host returns the host (and port) of a base URL, "" if it has none.
func Host(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// Collector gathers the rows not imported, by outcome and code, for the
// Record; not safe for concurrent use (the importer tells rows on one
// goroutine).
type Collector struct {
	byKey map[[2]string]*NotImported
}

var codeShape = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,24}$`)

// Add counts a row not imported.
func (c *Collector) Add(outcome importer.Outcome, code string, line int) {
	if c.byKey == nil {
		c.byKey = map[[2]string]*NotImported{}
	}
	if code == "" {
		code = "-"
	} else if !codeShape.MatchString(code) {
		code = OtherCode
	}
	k := [2]string{string(outcome), code}
	n := c.byKey[k]
	if n == nil {
		if len(c.byKey) >= MaxCodes {
			k[1] = OtherCode
			n = c.byKey[k]
		}
		if n == nil {
			n = &NotImported{Outcome: k[0], Code: k[1]}
			c.byKey[k] = n
		}
	}
	n.Rows++
	if line > 0 && len(n.Lines) < FirstLines {
		n.Lines = append(n.Lines, line)
	}
}

// List returns what was gathered, most rows first.
func (c *Collector) List() []NotImported {
	out := make([]NotImported, 0, len(c.byKey))
	for _, n := range c.byKey {
		out = append(out, *n)
	}
	slices.SortFunc(out, func(a, b NotImported) int {
		return cmp.Or(cmp.Compare(b.Rows, a.Rows), cmp.Compare(a.Outcome, b.Outcome), cmp.Compare(a.Code, b.Code))
	})
	return out
}
