package job_test

import (
	"testing"

	"github.com/p100/p100-importer/internal/job"
)

func TestAutoWorkers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		workers int
		rate    float64
		want    int
	}{
		{"explicit count wins", 3, 300, 3},
		{"unlimited rate", 0, 0, 8},
		{"low rates get the floor", 0, 2, 8},
		{"rate x 1s", 0, 20, 20},
		{"fractional rate rounds up", 0, 12.5, 13},
		{"capped", 0, 300, 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := job.AutoWorkers(tt.workers, tt.rate); got != tt.want {
				t.Errorf("AutoWorkers(%d, %v) = %d, want %d", tt.workers, tt.rate, got, tt.want)
			}
		})
	}
}
