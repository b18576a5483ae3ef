package p100_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/p100"
)

func TestErrorSaysTheStatusOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  p100.Error
		want string
	}{
		// P100's 401 body carries errorCode "401".
		{p100.Error{Status: 401, Code: "401", Name: "access-denied", Message: "Access Denied. xo2"}, "p100: HTTP 401 (access-denied): Access Denied. xo2"},
		// A body that is not P100's: the client's HTTP_<status>.
		{p100.Error{Status: 502, Code: "HTTP_502", Message: "Bad Gateway"}, "p100: HTTP 502: Bad Gateway"},
		// P100's own code differs from the status: both.
		{p100.Error{Status: 400, Code: "P403", Message: "city: required"}, "p100: HTTP 400 P403: city: required"},
		// No answer: the client's code.
		{p100.Error{Code: p100.CodeNetwork, Err: errors.New("connection reset")}, "p100: NETWORK: connection reset"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	// A loopback port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	// A server that answers 503.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	tests := []struct {
		name, url   string
		unreachable bool
	}{
		{"connection refused", closed, true},
		{"503", srv.URL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := p100.New(p100.Config{BaseURL: tt.url, APIKey: "k", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CreateUser(context.Background(), &p100.CreateUserRequest{ExternalUserID: "x"})
			var apiErr *p100.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want a *p100.Error", err)
			}
			if got := apiErr.Unreachable(); got != tt.unreachable {
				t.Errorf("Unreachable() = %v, want %v (%v)", got, tt.unreachable, err)
			}
			if tt.unreachable && (apiErr.Addr != tt.url || strings.Contains(apiErr.Addr, "/v1")) {
				t.Errorf("Addr = %q, want %q without a path", apiErr.Addr, tt.url)
			}
		})
	}
}
