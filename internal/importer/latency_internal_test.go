package importer

import (
	"testing"
	"time"
)

func TestLatencyQuantiles(t *testing.T) {
	var h latencyHistogram
	// 1..1000 ms, one each: p50 ~ 500ms, p99 ~ 990ms, within the 9% buckets.
	for ms := 1; ms <= 1000; ms++ {
		h.observe(time.Duration(ms) * time.Millisecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.50, 500 * time.Millisecond},
		{0.95, 950 * time.Millisecond},
		{0.99, 990 * time.Millisecond},
	}
	for _, tt := range tests {
		got := h.quantile(tt.q)
		if got < tt.want || float64(got) > float64(tt.want)*1.13 {
			t.Errorf("p%.0f = %v, want %v to +13%%", tt.q*100, got, tt.want)
		}
	}
	var empty latencyHistogram
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("empty p50 = %v", got)
	}
	// Sub-microsecond and huge values land in the end buckets, no panic.
	h.observe(0)
	h.observe(1000 * time.Hour)
}
