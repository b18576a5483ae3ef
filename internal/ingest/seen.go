package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"slices"
	"sort"
)

// seenSet remembers the externalUserIds of one file and the line each was
// first seen on, in about constant memory whatever the file's size, so the
// importer's peak memory does not grow with the file:
//
//   - each id is reduced to a 64-bit fingerprint (two different ids share
//     one with a probability near 3e-8 in a file of a million rows);
//   - a Bloom filter (about 2.5 bytes a row, under 0.1% false positives)
//     answers "never seen" for almost every row without looking further;
//   - the fingerprints of the last bufferRows rows sit in a map; older ones
//     are sorted and spilled in runs to a temporary file, with a sparse
//     index in memory, so a "maybe" from the filter costs one small read
//     per run.
//
// Files of fewer than bufferRows rows never touch the disk.
type seenSet struct {
	seed   maphash.Seed
	bloom  bloomChain
	recent map[uint64]uint32 // fingerprint -> line, the rows not spilled yet
	spill  *spillFile
	tmpDir string
}

// bufferRows is how many fingerprints stay in memory before a spill.
const bufferRows = 1 << 16

// newSeenSet returns an empty set; expectedRows (0 if unknown) sizes the
// first Bloom filter.
func newSeenSet(tmpDir string, expectedRows int) *seenSet {
	return &seenSet{seed: maphash.MakeSeed(), recent: make(map[uint64]uint32, 1024), tmpDir: tmpDir,
		bloom: bloomChain{first: uint64(max(expectedRows+expectedRows/8, 1<<14))}}
}

// add records id at line; when id was seen before it returns the first
// line and true.
func (s *seenSet) add(id string, line int) (int, bool, error) {
	fp := maphash.String(s.seed, id)
	if s.bloom.mayContain(fp) {
		if first, ok := s.recent[fp]; ok {
			return int(first), true, nil
		}
		if s.spill != nil {
			first, ok, err := s.spill.find(fp)
			if err != nil {
				return 0, false, err
			}
			if ok {
				return first, true, nil
			}
		}
	}
	s.bloom.add(fp)
	s.recent[fp] = uint32(min(line, math.MaxUint32))
	if len(s.recent) >= bufferRows {
		if err := s.flush(); err != nil {
			return 0, false, err
		}
	}
	return 0, false, nil
}

// flush moves the in-memory fingerprints to a sorted run on disk.
func (s *seenSet) flush() error {
	if s.spill == nil {
		sp, err := newSpillFile(s.tmpDir)
		if err != nil {
			return err
		}
		s.spill = sp
	}
	entries := make([]spillEntry, 0, len(s.recent))
	for fp, line := range s.recent {
		entries = append(entries, spillEntry{fp, line})
	}
	slices.SortFunc(entries, func(a, b spillEntry) int {
		switch {
		case a.fp < b.fp:
			return -1
		case a.fp > b.fp:
			return 1
		}
		return 0
	})
	if err := s.spill.writeRun(entries); err != nil {
		return err
	}
	clear(s.recent)
	return nil
}

// close removes the temporary file.
func (s *seenSet) close() error {
	if s.spill == nil {
		return nil
	}
	return s.spill.close()
}

// bloomChain is a scalable Bloom filter: when a filter holds its capacity,
// a new one twice as large is added, so memory follows the rows seen and
// the false-positive rate stays under 0.1% (each filter adds at most
// 0.0066%).
type bloomChain struct {
	first   uint64 // capacity of the first filter
	filters []*bloom
}

func (c *bloomChain) mayContain(fp uint64) bool {
	for _, f := range c.filters {
		if f.mayContain(fp) {
			return true
		}
	}
	return false
}

func (c *bloomChain) add(fp uint64) {
	if len(c.filters) == 0 || c.filters[len(c.filters)-1].full() {
		capacity := max(c.first, 1<<14)
		if n := len(c.filters); n > 0 {
			capacity = c.filters[n-1].capacity * 2
		}
		c.filters = append(c.filters, newBloom(capacity))
	}
	c.filters[len(c.filters)-1].add(fp)
}

// bloom is one Bloom filter over 64-bit fingerprints, sized for capacity
// items at 0.0066% false positives when full (20 bits and 14 probes an item).
type bloom struct {
	bits     []uint64
	nbits    uint64
	capacity uint64
	count    uint64
}

const (
	bloomBits   = 20
	bloomProbes = 14
)

func newBloom(capacity uint64) *bloom {
	nbits := capacity * bloomBits
	return &bloom{bits: make([]uint64, (nbits+63)/64), nbits: nbits, capacity: capacity}
}

func (b *bloom) full() bool { return b.count >= b.capacity }

// probe returns the i-th bit position of fp, by double hashing.
func (b *bloom) probe(fp uint64, i uint64) uint64 {
	h1, h2 := fp, (fp>>33|fp<<31)*0x9E3779B97F4A7C15|1
	return (h1 + i*h2) % b.nbits
}

func (b *bloom) add(fp uint64) {
	for i := range uint64(bloomProbes) {
		p := b.probe(fp, i)
		b.bits[p/64] |= 1 << (p % 64)
	}
	b.count++
}

func (b *bloom) mayContain(fp uint64) bool {
	for i := range uint64(bloomProbes) {
		p := b.probe(fp, i)
		if b.bits[p/64]&(1<<(p%64)) == 0 {
			return false
		}
	}
	return true
}

// spillEntry is a fingerprint and the line it was first seen on.
type spillEntry struct {
	fp   uint64
	line uint32
}

// spillFile holds sorted runs of entries, 12 bytes each, in a temporary
// file, with every indexStride-th fingerprint of each run in memory.
type spillFile struct {
	f    *os.File
	size int64
	runs []spillRun
	buf  []byte
}

type spillRun struct {
	offset int64    // where the run starts in the file
	count  int      // entries in the run
	index  []uint64 // fingerprint of entries 0, indexStride, 2*indexStride, ...
}

const (
	entrySize   = 12
	indexStride = 256 // entries per indexed block: 3 KiB read per lookup
)

func newSpillFile(dir string) (*spillFile, error) {
	f, err := os.CreateTemp(dir, "p100-importer-seen-*")
	if err != nil {
		return nil, fmt.Errorf("duplicate check: create temporary file: %w", err)
	}
	// Unlinked at once on Unix: nothing is left behind, whatever happens.
	os.Remove(f.Name())
	return &spillFile{f: f, buf: make([]byte, indexStride*entrySize)}, nil
}

func (s *spillFile) writeRun(entries []spillEntry) error {
	run := spillRun{offset: s.size, count: len(entries)}
	out := make([]byte, 0, len(entries)*entrySize)
	for i, e := range entries {
		if i%indexStride == 0 {
			run.index = append(run.index, e.fp)
		}
		out = binary.LittleEndian.AppendUint64(out, e.fp)
		out = binary.LittleEndian.AppendUint32(out, e.line)
	}
	if _, err := s.f.WriteAt(out, s.size); err != nil {
		return fmt.Errorf("duplicate check: write temporary file: %w", err)
	}
	s.size += int64(len(out))
	s.runs = append(s.runs, run)
	return nil
}

// find looks fp up in every run; the earliest run holding it has its first
// line (an id is only ever recorded once).
func (s *spillFile) find(fp uint64) (int, bool, error) {
	for _, r := range s.runs {
		// The block whose first fingerprint is the last one <= fp.
		blk := sort.Search(len(r.index), func(i int) bool { return r.index[i] > fp }) - 1
		if blk < 0 {
			continue
		}
		first := blk * indexStride
		n := min(indexStride, r.count-first)
		buf := s.buf[:n*entrySize]
		if _, err := s.f.ReadAt(buf, r.offset+int64(first*entrySize)); err != nil && !errors.Is(err, io.EOF) {
			return 0, false, fmt.Errorf("duplicate check: read temporary file: %w", err)
		}
		i := sort.Search(n, func(i int) bool { return binary.LittleEndian.Uint64(buf[i*entrySize:]) >= fp })
		if i < n && binary.LittleEndian.Uint64(buf[i*entrySize:]) == fp {
			return int(binary.LittleEndian.Uint32(buf[i*entrySize+8:])), true, nil
		}
	}
	return 0, false, nil
}

func (s *spillFile) close() error { return s.f.Close() }
