package p100_test

// Tests of the P100 client over real loopback connections (httptest, or a
// bare net.Listener where the raw bytes on the wire matter).

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/p100/p100-importer/internal/p100"
)

// testKey is distinctive, so that a leak is found by a plain search.
const testKey p100.APIKey = "sk_live_CLIENTTEST_0123456789abcdef"

var testUser = &p100.CreateUserRequest{
	ExternalUserID: "ext-1", Email: "jan@example.com", FirstName: "Jan", LastName: "Kowalski",
	Address: "Adama Matuszczaka 51/4", City: "Rzeszów", Country: "PL", DocumentType: "PASSPORT",
	DocumentNumber: "CEV124630",
}

const createdBody = `{"userId":"7b0c4f2e-5f55-4d5c-9a53-2b0f1c2d3e4f","balances":[{"id":"b-eth","amount":"0","name":"eth"}]}`

// MustNew returns a client of baseURL with testKey.
func MustNew(tb testing.TB, baseURL string) *p100.Client {
	tb.Helper()
	c, err := p100.New(p100.Config{BaseURL: baseURL, APIKey: testKey, Timeout: 5 * time.Second})
	if err != nil {
		tb.Fatalf("New(%q): %v", baseURL, err)
	}
	tb.Cleanup(c.CloseIdleConnections)
	return c
}

// asError returns err as a *p100.Error or fails the test.
func asError(tb testing.TB, err error) *p100.Error {
	tb.Helper()
	var e *p100.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v (%T) is not a *p100.Error", err, err)
	}
	return e
}

// noKey fails the test when s holds the key.
func noKey(tb testing.TB, where, s string) {
	tb.Helper()
	if strings.Contains(s, string(testKey)) {
		tb.Errorf("%s holds the API key: %s", where, s)
	}
}

func TestNewChecksBaseURL(t *testing.T) {
	tests := []struct {
		url      string
		ok       bool
		insecure bool // refused as plain http to a remote host
	}{
		{"https://partner-api.p100.io", true, false},        // production
		{"https://partner-api-stage.p100.io/", true, false}, // trailing slash
		{"", true, false},                                       // staging by default
		{"http://127.0.0.1:8100", true, false},                  // the sandbox
		{"http://127.8.9.10:8100", true, false},                 // all of 127/8 is loopback
		{"http://localhost:8100", true, false},                  // loopback by name
		{"http://LOCALHOST:8100", true, false},                  // host names are case-insensitive
		{"http://[::1]:8100", true, false},                      // IPv6 loopback
		{"http://example.com", false, true},                     // the key would travel in clear
		{"http://10.0.0.1:8100", false, true},                   // private, but not loopback
		{"http://192.168.1.10", false, true},                    // ditto
		{"http://0.0.0.0:8100", false, true},                    // unspecified, not loopback
		{"http://localhost.example.com", false, true},           // a name that only starts like localhost
		{"http://127.0.0.1.nip.io", false, true},                // a name that resolves to loopback elsewhere
		{"http://[::ffff:10.0.0.1]:80", false, true},            // mapped IPv4, not loopback
		{"ftp://example.com", false, false},                     // not http(s)
		{"partner-api.p100.io", false, false},                   // no scheme
		{"https://user:pass@partner-api.p100.io", false, false}, // credentials in the URL
		{"https://partner-api.p100.io?x=1", false, false},       // a query
		{"https:///path", false, false},                         // no host
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := p100.New(p100.Config{BaseURL: tt.url, APIKey: testKey})
			if tt.ok != (err == nil) {
				t.Fatalf("New(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
			if c != nil {
				c.CloseIdleConnections()
			}
			if err == nil {
				return
			}
			if tt.insecure != errors.Is(err, p100.ErrInsecureURL) {
				t.Errorf("New(%q) = %v; ErrInsecureURL: %v, want %v", tt.url, err, errors.Is(err, p100.ErrInsecureURL), tt.insecure)
			}
			noKey(t, "error", err.Error())
			if strings.Contains(err.Error(), "pass@") {
				t.Errorf("error repeats the URL's password: %v", err)
			}
		})
	}
}

// rawServer accepts one connection at a time on loopback, hands back the
// request head exactly as it arrived, and answers with resp.
func rawServer(t *testing.T, resp string) (url string, heads <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			var head strings.Builder
			length := 0
			for {
				line, err := br.ReadString('\n')
				head.WriteString(line)
				if err != nil || line == "\r\n" {
					break
				}
				if name, value, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":"); ok && strings.EqualFold(name, "Content-Length") {
					length, _ = strconv.Atoi(strings.TrimSpace(value))
				}
			}
			io.CopyN(io.Discard, br, int64(length))
			io.WriteString(c, resp)
			c.Close()
			ch <- head.String()
		}
	}()
	return "http://" + ln.Addr().String(), ch
}

func rawResponse(status, body string) string {
	return fmt.Sprintf("HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, len(body), body)
}

// TestAPIKeyHeaderIsLowercaseOnTheWire reads the request bytes themselves:
// http.Server would canonicalise the header name before a handler sees it.
func TestAPIKeyHeaderIsLowercaseOnTheWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func(c *p100.Client) error
		resp string
	}{
		{"create", func(c *p100.Client) error {
			_, err := c.CreateUser(context.Background(), testUser)
			return err
		}, rawResponse("201 Created", createdBody)},
		{"lookup", func(c *p100.Client) error {
			_, err := c.GetUser(context.Background(), "ext-1")
			return err
		}, rawResponse("200 OK", createdBody)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, heads := rawServer(t, tc.resp)
			if err := tc.call(MustNew(t, url)); err != nil {
				t.Fatal(err)
			}
			head := <-heads
			if !strings.Contains(head, "\r\nx-api-key: "+string(testKey)+"\r\n") {
				t.Errorf("no lowercase x-api-key line with the key in the request:\n%s", head)
			}
			if n := strings.Count(strings.ToLower(head), "\r\nx-api-key:"); n != 1 {
				t.Errorf("the key header appears %d times:\n%s", n, head)
			}
			if strings.Contains(head, "X-Api-Key") || strings.Contains(head, "X-API-KEY") {
				t.Errorf("a canonicalised key header was sent:\n%s", head)
			}
		})
	}
}

// recorder is a loopback httptest server that counts and keeps what it
// receives.
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Clone())
		r.mu.Unlock()
		if h != nil {
			h(w, req)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.headers)
}

// TestRedirectsAreNotFollowed: Go forwards custom headers such as x-api-key
// to a redirect's target; the client must not follow, and must say where
// the redirect pointed.
func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, call := range []string{"create", "lookup"} {
			t.Run(fmt.Sprintf("%d %s", status, call), func(t *testing.T) {
				target := newRecorder(t, nil)
				api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, target.URL+"/stolen"+r.URL.Path, status)
				})
				c := MustNew(t, api.URL)
				var err error
				if call == "create" {
					_, err = c.CreateUser(context.Background(), testUser)
				} else {
					_, err = c.GetUser(context.Background(), "ext-1")
				}
				if n := target.count(); n != 0 {
					t.Fatalf("the redirect target received %d requests; headers: %v", n, target.headers[0])
				}
				if api.count() != 1 {
					t.Errorf("the API received %d requests, want 1", api.count())
				}
				e := asError(t, err)
				if e.Code != p100.CodeRedirect || e.Class != p100.OffScript || !errors.Is(err, p100.ErrRedirect) {
					t.Errorf("error %v: code %q class %v, want %s, off-script, matching ErrRedirect", err, e.Code, e.Class, p100.CodeRedirect)
				}
				if msg := err.Error(); !strings.Contains(msg, "redirect") || !strings.Contains(msg, strings.TrimPrefix(target.URL, "http://")+"/stolen") {
					t.Errorf("error %q does not name the redirect's target %s", msg, target.URL)
				}
				noKey(t, "error", err.Error())
			})
		}
	}
	t.Run("300 with a Location", func(t *testing.T) {
		// Go does not follow 300 itself: the answer reaches the client.
		target := newRecorder(t, nil)
		api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", target.URL+"/elsewhere")
			w.WriteHeader(http.StatusMultipleChoices)
		})
		_, err := MustNew(t, api.URL).CreateUser(context.Background(), testUser)
		e := asError(t, err)
		if e.Code != p100.CodeRedirect || e.Class != p100.OffScript || !strings.Contains(e.Message, "/elsewhere") || target.count() != 0 {
			t.Errorf("error %v: code %q class %v; target hit %d times", err, e.Code, e.Class, target.count())
		}
	})
}

// TestResponseBodyCap: a body over the cap (1 MiB by default) is read no
// further than the cap: an error answer over it is an error; a 201 over it
// is still a created user, its userId unknown (it must never be sent
// again); a body of exactly the cap is read.
func TestResponseBodyCap(t *testing.T) {
	body := func(n int) string { // valid JSON of exactly n bytes
		head, tail := `{"userId":"u-1","pad":"`, `"}`
		return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
	}
	tests := []struct {
		name    string
		cap     int64 // Config.MaxResponseBytes
		status  int
		size    int
		wantErr bool
	}{
		{"2 MiB created", 0, 201, 2 << 20, false},
		{"2 MiB error", 0, 400, 2 << 20, true},
		{"1 MiB + 1 created", 0, 201, 1<<20 + 1, false},
		{"exactly 1 MiB created", 0, 201, 1 << 20, false},
		{"custom cap", 100, 201, 101, false},
		{"under a custom cap", 100, 201, 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var written atomic.Int64
			srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				n, _ := io.WriteString(w, body(tt.size))
				written.Store(int64(n))
			})
			c, err := p100.New(p100.Config{BaseURL: srv.URL, APIKey: testKey, MaxResponseBytes: tt.cap, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			u, err := c.CreateUser(context.Background(), testUser)
			if !tt.wantErr {
				limit := tt.cap
				if limit == 0 {
					limit = 1 << 20
				}
				wantID := "u-1"
				if int64(tt.size) > limit {
					wantID = "" // created; the body was not read: look the user up
				}
				if err != nil || u.UserID != wantID {
					t.Fatalf("CreateUser = %+v, %v; want the user with userId %q", u, err, wantID)
				}
				return
			}
			e := asError(t, err)
			limit := tt.cap
			if limit == 0 {
				limit = 1 << 20
			}
			if e.Code != p100.CodeBadResponse || !strings.Contains(e.Message, fmt.Sprintf("larger than %d bytes", limit)) {
				t.Errorf("error %v: code %q message %q, want %s saying the answer is larger than %d bytes", err, e.Code, e.Message, p100.CodeBadResponse, limit)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("the error is %d bytes long: it carries the body", len(err.Error()))
			}
		})
	}
}

// TestErrorClassification: each answer P100 may give maps to a class (what
// the importer does) and a code (what the report says), per docs/p100-api.md.
func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantOK     bool // a created user (its userId checked when the body has one)
		class      p100.Class
		code       string
		retryAfter string
	}{
		{"201 created", 201, nil, createdBody, true, 0, "", ""},
		// A 2xx is a created user, whatever its body: never sent again.
		{"201 without userId", 201, nil, `{"balances":[]}`, true, 0, "", ""},
		{"201 unreadable", 201, nil, `<html>`, true, 0, "", ""},
		{"201 empty", 201, nil, ``, true, 0, "", ""},
		{"200 with a userId", 200, nil, createdBody, true, 0, "", ""},
		// Answers P100 does not give: not a row's outcome.
		{"200 captive portal", 200, nil, `<html><title>Log in to the hotel wifi</title></html>`, false, p100.OffScript, "HTTP_200", ""},
		{"204 no content", 204, nil, ``, false, p100.OffScript, "HTTP_204", ""},
		{"405 method not allowed", 405, nil, `{"message":"Method Not Allowed"}`, false, p100.OffScript, "HTTP_405", ""},
		{"400 empty body", 400, nil, ``, false, p100.OffScript, "HTTP_400", ""},
		{"400 another service's JSON", 400, nil, `{"error":"bad request"}`, false, p100.OffScript, "HTTP_400", ""},
		{"400 P403 validation", 400, nil, `{"errorCode":"P403","errorMessage":"email must be an email, city should not be empty"}`, false, p100.Permanent, "P403", ""},
		{"400 P411 user exists", 400, nil, `{"errorCode":"P411","errorName":"user-exists","errorMessage":"exists"}`, false, p100.Conflict, "P411", ""},
		{"400 P500 unknown exception", 400, nil, `{"errorCode":"P500","errorName":"unknown-exception","errorMessage":"x"}`, false, p100.Transient, "P500", ""},
		{"400 P501 unavailable", 400, nil, `{"errorCode":"P501","errorName":"service-unavailable","errorMessage":"x"}`, false, p100.Transient, "P501", ""},
		{"400 unknown code", 400, nil, `{"errorCode":"P999","errorName":"new-thing","errorMessage":"x"}`, false, p100.Permanent, "P999", ""},
		{"400 without JSON", 400, nil, `Bad Request`, false, p100.OffScript, "HTTP_400", ""},
		{"401 wrong key", 401, nil, `{"errorCode":"401","errorName":"access-denied","errorMessage":"Access Denied. xo2"}`, false, p100.Fatal, "401", ""},
		{"401 without errorCode", 401, nil, `{"message":"Access Denied. xo1"}`, false, p100.Fatal, "HTTP_401", ""},
		{"403", 403, nil, `{}`, false, p100.OffScript, "HTTP_403", ""},
		{"404", 404, nil, `not found`, false, p100.OffScript, "HTTP_404", ""},
		{"408 request timeout", 408, nil, ``, false, p100.Transient, "HTTP_408", ""},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "7"}, `{"errorCode":"429","errorMessage":"Too many requests"}`, false, p100.Transient, p100.CodeRateLimited, "7"},
		{"429 bare", 429, nil, ``, false, p100.Transient, p100.CodeRateLimited, ""},
		{"500", 500, nil, ``, false, p100.Transient, "HTTP_500", ""},
		{"502 from a proxy", 502, nil, `<html>bad gateway</html>`, false, p100.Transient, "HTTP_502", ""},
		{"503 with P501", 503, nil, `{"errorCode":"P501"}`, false, p100.Transient, "P501", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			u, err := MustNew(t, srv.URL).CreateUser(context.Background(), testUser)
			if tt.wantOK {
				if err != nil || u == nil {
					t.Fatalf("CreateUser = %+v, %v; want a created user", u, err)
				}
				if tt.body == createdBody && (u.UserID == "" || u.BalanceIDs()["eth"] != "b-eth") {
					t.Fatalf("CreateUser = %+v; want the user with its eth balance", u)
				}
				if tt.body != createdBody && u.UserID != "" {
					t.Fatalf("CreateUser = %+v; want no userId", u)
				}
				return
			}
			e := asError(t, err)
			if e.Class != tt.class || e.Code != tt.code || e.Status != tt.status || e.RetryAfter != tt.retryAfter {
				t.Errorf("got class %v code %q status %d Retry-After %q; want %v %q %d %q (%v)",
					e.Class, e.Code, e.Status, e.RetryAfter, tt.class, tt.code, tt.status, tt.retryAfter, err)
			}
			if p100.ClassOf(err) != tt.class {
				t.Errorf("ClassOf = %v, want %v", p100.ClassOf(err), tt.class)
			}
			noKey(t, "error", err.Error())
		})
	}
	t.Run("connection refused", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		_, err := MustNew(t, "http://"+addr).CreateUser(context.Background(), testUser)
		if e := asError(t, err); e.Class != p100.Transient || e.Code != p100.CodeNetwork {
			t.Errorf("class %v code %q, want transient %s", e.Class, e.Code, p100.CodeNetwork)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(300 * time.Millisecond) })
		c, _ := p100.New(p100.Config{BaseURL: srv.URL, APIKey: testKey, Timeout: 50 * time.Millisecond})
		defer c.CloseIdleConnections()
		_, err := c.CreateUser(context.Background(), testUser)
		if e := asError(t, err); e.Class != p100.Transient || e.Code != p100.CodeTimeout {
			t.Errorf("class %v code %q, want transient %s", e.Class, e.Code, p100.CodeTimeout)
		}
	})
	t.Run("lookup of an unknown user", func(t *testing.T) {
		for _, answer := range []struct {
			status int
			body   string
		}{{400, `{"errorCode":"P412","errorName":"invalid-user"}`}, {404, ``}} {
			srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(answer.status)
				io.WriteString(w, answer.body)
			})
			if _, err := MustNew(t, srv.URL).GetUser(context.Background(), "nobody"); !errors.Is(err, p100.ErrNotFound) {
				t.Errorf("%d %s: %v, want ErrNotFound", answer.status, answer.body, err)
			}
		}
	})
}

// TestErrorTextIsSanitised: what P100 says ends up on a terminal and in
// reports: control characters (terminal escapes, bell, line breaks) and
// invisible format characters are gone, and the message is cut short.
func TestErrorTextIsSanitised(t *testing.T) {
	evil := "\x1b]0;pwned\x07\x1b[31mred\x1b[0m\r\nlevel=ERROR msg=forged\u202ereversed\u200b\x00"
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := json.Marshal(map[string]string{
			"errorCode":    "P4\x1b[2J03",
			"errorName":    "bad\x07name\x1b[1m",
			"errorMessage": evil + strings.Repeat("long ", 2000),
		})
		w.WriteHeader(http.StatusBadRequest)
		w.Write(body)
	})
	_, err := MustNew(t, srv.URL).CreateUser(context.Background(), testUser)
	e := asError(t, err)
	for name, s := range map[string]string{"Code": e.Code, "Name": e.Name, "Message": e.Message, "Error()": err.Error()} {
		for _, r := range s {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Errorf("%s holds %U: %q", name, r, s)
				break
			}
		}
	}
	if !strings.Contains(e.Message, "red") || !strings.Contains(e.Message, "reversed") {
		t.Errorf("the printable text is lost: %q", e.Message)
	}
	if n := utf8.RuneCountInString(e.Message); n > 301 {
		t.Errorf("message is %d runes, want it cut to about 300", n)
	}
	if !strings.HasSuffix(e.Message, "…") {
		t.Errorf("a cut message should end with an ellipsis: %q", e.Message[len(e.Message)-20:])
	}

	t.Run("non-JSON body", func(t *testing.T) {
		srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>\x1b[31m"+strings.Repeat("x", 5000)+"</html>")
		})
		_, err := MustNew(t, srv.URL).CreateUser(context.Background(), testUser)
		e := asError(t, err)
		if strings.ContainsRune(e.Message, 0x1b) || utf8.RuneCountInString(e.Message) > 121 {
			t.Errorf("message %q: want it stripped and cut to about 120 runes", e.Message)
		}
	})
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"plain text", 100, "plain text"},                            // unchanged
		{"a\x1b[31mb", 100, "a [31mb"},                               // ESC becomes a space; the rest is harmless text
		{"line 1\r\nline 2", 100, "line 1 line 2"},                   // no line breaks: no forged log lines
		{"tab\there", 100, "tab here"},                               // tabs too
		{"  padded  ", 100, "padded"},                                // trimmed
		{"a\x00\x07\x7fb", 100, "a b"},                               // a run of controls collapses to one space
		{"right\u202eto left", 100, "right to left"},                 // bidirectional override
		{"zero\u200bwidth", 100, "zero width"},                       // invisible format character
		{"\u0085next line", 100, "next line"},                        // C1 control
		{strings.Repeat("a", 20), 10, strings.Repeat("a", 10) + "…"}, // cut with an ellipsis
		{strings.Repeat("ż", 20), 5, "żżżżż…"},                       // cut by runes, not bytes
		{"exactly10!", 10, "exactly10!"},                             // at the limit: not cut
		{"\x1b\x1b", 10, ""},                                         // nothing printable
	}
	for _, tt := range tests {
		if got := p100.Sanitize(tt.in, tt.max); got != tt.want {
			t.Errorf("Sanitize(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// TestAPIKeyIsRedacted: printing the key or a Config the usual ways (%s,
// %v, %+v, %#v, %q, %x, JSON, slog) never shows the key.
func TestAPIKeyIsRedacted(t *testing.T) {
	cfg := p100.Config{BaseURL: "http://127.0.0.1:1", APIKey: testKey}
	for _, verb := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%10.3s"} {
		noKey(t, verb+" of the key", fmt.Sprintf(verb, testKey))
		noKey(t, verb+" of a Config", fmt.Sprintf(verb, cfg))
		noKey(t, verb+" of a *Config", fmt.Sprintf(verb, &cfg))
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	noKey(t, "JSON of a Config", string(b))
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("x", "key", testKey, "config", cfg)
	slog.New(slog.NewJSONHandler(&log, nil)).Info("x", "key", testKey, "config", cfg)
	noKey(t, "slog output", log.String())
}

// TestAPIKeyRedactedWithAnyVerb: a verb that does not suit a string (a slip
// such as %d) makes fmt print the bad-verb form
// "%!d(p100.APIKey=...)", which shows the underlying string unless the type
// implements fmt.Formatter.
func TestAPIKeyRedactedWithAnyVerb(t *testing.T) {
	cfg := p100.Config{BaseURL: "http://127.0.0.1:1", APIKey: testKey}
	for _, verb := range []string{"%d", "%t", "%e", "%c", "%U"} {
		noKey(t, verb+" of the key", fmt.Sprintf(verb, testKey))
		noKey(t, verb+" of a Config", fmt.Sprintf(verb, cfg))
	}
}

// TestClientPrintDoesNotRevealKey: printing a Client (a debug log line,
// slog.Any) must not show the key. fmt cannot call String on an unexported
// field, so an APIKey kept by value in Client prints as the raw string.
func TestClientPrintDoesNotRevealKey(t *testing.T) {
	c := MustNew(t, "http://127.0.0.1:1")
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		noKey(t, verb+" of a *Client", fmt.Sprintf(verb, c))
		noKey(t, verb+" of a Client", fmt.Sprintf(verb, *c))
	}
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("x", "client", c)
	slog.New(slog.NewJSONHandler(&log, nil)).Info("x", "client", c)
	noKey(t, "slog of a *Client", log.String())
}

// TestTLSIsVerified: a server whose certificate the system does not trust
// never sees a request (so never the key).
func TestTLSIsVerified(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	_, err := MustNew(t, srv.URL).CreateUser(context.Background(), testUser)
	var certErr *tls.CertificateVerificationError
	if !errors.As(err, &certErr) {
		t.Errorf("error %v (%T): want a certificate verification error", err, err)
	}
	// Every request would fail the same way: fatal, not retried.
	if c := p100.ClassOf(err); c != p100.Fatal {
		t.Errorf("class = %v, want fatal", c)
	}
	if hits.Load() != 0 {
		t.Errorf("the untrusted server received %d requests", hits.Load())
	}
}

// TestTLSMinimumVersion: a server that speaks at most TLS 1.1 is refused,
// while one with the same (trusted) certificate speaking TLS 1.2 or 1.3 is
// used. The certificate is trusted through SSL_CERT_FILE, which Go reads
// once per process: the checks run in a child process.
func TestTLSMinimumVersion(t *testing.T) {
	if os.Getenv("P100_TLS_CHILD") == "1" {
		tlsMinimumVersionChild(t)
		return
	}
	probe := httptest.NewTLSServer(http.NotFoundHandler())
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: probe.Certificate().Raw})
	probe.Close()
	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTLSMinimumVersion$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "P100_TLS_CHILD=1", "SSL_CERT_FILE="+certFile, "SSL_CERT_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestTLSMinimumVersion") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func tlsMinimumVersionChild(t *testing.T) {
	var hits atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, createdBody)
	})
	modern := httptest.NewUnstartedServer(handler)
	modern.StartTLS()
	defer modern.Close()
	if _, err := MustNew(t, modern.URL).CreateUser(context.Background(), testUser); err != nil {
		t.Fatalf("TLS 1.2+ server with a trusted certificate: %v", err)
	}
	old := httptest.NewUnstartedServer(handler)
	old.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	old.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the refused handshake is expected
	old.StartTLS()
	defer old.Close()
	before := hits.Load()
	_, err := MustNew(t, old.URL).CreateUser(context.Background(), testUser)
	if err == nil || hits.Load() != before {
		t.Errorf("TLS 1.1 server: err %v, %d requests received; want a refused handshake", err, hits.Load()-before)
	}
}
