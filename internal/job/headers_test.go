package job_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p100/p100-importer/internal/job"
	"github.com/p100/p100-importer/internal/p100"
	"github.com/p100/p100-importer/internal/sandbox"
)

// TestRateAutoPacesToHeaders: with --rate auto against an API that
// announces its limit, the run never meets a 429, whichever header style it
// uses, and the limit found is the announced one.
func TestRateAutoPacesToHeaders(t *testing.T) {
	t.Parallel()
	for _, style := range []string{sandbox.HeadersIETF, sandbox.HeadersX} {
		t.Run(style, func(t *testing.T) {
			t.Parallel()
			const limit, rows = 40, 120
			sb := sandbox.New(sandbox.Config{RateLimit: limit, RateWindow: time.Second, RateHeaders: style})
			srv := httptest.NewServer(sb)
			t.Cleanup(srv.Close)
			dir := t.TempDir()
			input := filepath.Join(dir, "users.csv")
			var b strings.Builder
			b.WriteString("externalUserId,email,firstName,lastName,address,city,country,documentType,documentNumber\n")
			for n := range rows {
				fmt.Fprintf(&b, "h-%d,h%d@example.pl,Jan,Kowalski,Długa 1,Gdańsk,PL,ID_CARD,ABC%06d\n", n, n, n)
			}
			if err := os.WriteFile(input, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := job.Run(context.Background(), job.Options{
				Input: input, Checkpoint: filepath.Join(dir, "cp.db"),
				Client:   p100.Config{BaseURL: srv.URL, APIKey: sandbox.DefaultAPIKey},
				RateAuto: true, Burst: 1, Workers: 8, MaxAttempts: 3,
				Exit: func(error) (int, string) { return 0, "" },
			})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			st := sb.Stats()
			if res.Summary.Created != rows || st.Throttled != 0 {
				t.Errorf("created %d of %d, sandbox answered %d × 429; want none", res.Summary.Created, rows, st.Throttled)
			}
			if res.Summary.RateLimitFound != limit {
				t.Errorf("limit found %v, want the announced %d/s", res.Summary.RateLimitFound, limit)
			}
		})
	}
}
