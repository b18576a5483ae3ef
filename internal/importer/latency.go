package importer

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// latencyHistogram counts request latencies in logarithmic buckets (8 per
// power of two of microseconds, so a quantile is within about 9%), in
// constant memory and without locks.
type latencyHistogram struct {
	buckets [8 * 40]atomic.Int64
}

func bucketOf(d time.Duration) int {
	us := uint64(max(d.Microseconds(), 1))
	exp := 63 - bits.LeadingZeros64(us) // floor(log2(us))
	var frac uint64
	if exp >= 3 {
		frac = (us >> (exp - 3)) & 7
	} else {
		frac = (us << (3 - exp)) & 7
	}
	return min(exp*8+int(frac), 8*40-1)
}

// bucketUpper is the largest latency a bucket holds.
func bucketUpper(i int) time.Duration {
	exp, frac := i/8, i%8
	us := math.Ldexp(1+float64(frac+1)/8, exp)
	return time.Duration(us * float64(time.Microsecond))
}

func (h *latencyHistogram) observe(d time.Duration) { h.buckets[bucketOf(d)].Add(1) }

// quantile returns the latency below which a share q of the requests fell.
func (h *latencyHistogram) quantile(q float64) time.Duration {
	var total int64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			return bucketUpper(i)
		}
	}
	return bucketUpper(len(h.buckets) - 1)
}
