package ingest

import (
	"fmt"
	"testing"
)

func TestSeenSetSpills(t *testing.T) {
	s := newSeenSet(t.TempDir(), 0)
	defer s.close()
	const n = 5*bufferRows + 123 // five spilled runs and a partial buffer
	for i := range n {
		if first, dup, err := s.add(fmt.Sprintf("user-%d", i), i+2); err != nil || dup {
			t.Fatalf("id %d: first %d dup %v err %v (a distinct id reported as seen)", i, first, dup, err)
		}
	}
	if s.spill == nil || len(s.spill.runs) != 5 {
		t.Fatalf("want 5 spilled runs, got %+v", s.spill)
	}
	// Repeats from every run and from the buffer find their first line.
	for _, i := range []int{0, 1, bufferRows - 1, bufferRows, 3*bufferRows + 7, n - 1} {
		first, dup, err := s.add(fmt.Sprintf("user-%d", i), 999_999)
		if err != nil || !dup || first != i+2 {
			t.Errorf("repeat of %d: first %d dup %v err %v, want line %d", i, first, dup, err, i+2)
		}
	}
	// The Bloom filters stay small: 2.5 bytes a row, up to twice that
	// while the last filter fills.
	var bytes int
	for _, f := range s.bloom.filters {
		bytes += len(f.bits) * 8
	}
	if bytes > 5*n {
		t.Errorf("Bloom filters use %d bytes for %d rows", bytes, n)
	}
}

func TestBloomFalsePositiveRate(t *testing.T) {
	var c bloomChain
	for i := range uint64(200_000) {
		c.add(i * 0x9E3779B97F4A7C15)
	}
	fp := 0
	const probes = 200_000
	for i := range uint64(probes) {
		if c.mayContain((i + 1<<40) * 0xBF58476D1CE4E5B9) {
			fp++
		}
	}
	if rate := float64(fp) / probes; rate > 0.002 {
		t.Errorf("false-positive rate %.4f, want under 0.2%%", rate)
	}
}
