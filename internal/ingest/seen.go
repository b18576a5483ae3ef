package ingest

import "hash/maphash"

// seenSet remembers the externalUserIds of one file and the line each was
// first seen on. It keeps a 64-bit fingerprint per id, not the id itself
// (about 16 bytes a row); two different ids sharing a fingerprint has a
// probability near 3e-8 for a file of a million rows.
type seenSet struct {
	seed  maphash.Seed
	lines map[uint64]int
}

func newSeenSet() *seenSet {
	return &seenSet{seed: maphash.MakeSeed(), lines: make(map[uint64]int)}
}

// add records id at line; when id was seen before it returns the first line
// and true.
func (s *seenSet) add(id string, line int) (int, bool) {
	h := maphash.String(s.seed, id)
	if first, ok := s.lines[h]; ok {
		return first, true
	}
	s.lines[h] = line
	return 0, false
}
