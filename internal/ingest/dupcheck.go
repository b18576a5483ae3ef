package ingest

import (
	"math"
	"sort"
)

// DupCheck is a duplicate check shared by the inputs of one run: an
// externalUserId met in an earlier input is a duplicate, as one met
// earlier in the same file is. Give the same DupCheck in Options to every
// input, and read the inputs one after another (each to its end before
// the next's first row): that is how lines are told apart by file.
type DupCheck struct {
	set   *seenSet
	top   int       // the largest position stored so far
	files []dupFile // in the order the inputs were first read
}

// dupFile is an input whose rows are stored at base+line.
type dupFile struct {
	name string
	base int
}

// NewDupCheck returns an empty check; tmpDir is as Options.TempDir.
func NewDupCheck(tmpDir string) *DupCheck {
	return &DupCheck{set: newSeenSet(tmpDir, 0)}
}

// Close removes the check's temporary file.
func (d *DupCheck) Close() error { return d.set.close() }

// seenIn is a reader's view of the duplicate check: its own, or a shared
// one.
type seenIn struct {
	own    *seenSet
	shared *DupCheck
	name   string
	base   int // where this input's lines start in the shared check; -1 before its first row
}

// add records id at line; when id was seen before it returns the input
// it was first seen in ("" for this one) and its line there.
func (s *seenIn) add(id string, line int) (file string, first int, dup bool, err error) {
	if s.shared == nil {
		first, dup, err = s.own.add(id, line)
		return "", first, dup, err
	}
	d := s.shared
	if s.base < 0 {
		s.base = d.top
		d.files = append(d.files, dupFile{name: s.name, base: s.base})
	}
	pos := min(s.base+line, math.MaxUint32)
	d.top = max(d.top, pos)
	first, dup, err = d.set.add(id, pos)
	if err != nil || !dup {
		return "", 0, false, err
	}
	if first > s.base {
		return "", first - s.base, true, nil
	}
	i := sort.Search(len(d.files), func(i int) bool { return d.files[i].base >= first }) - 1
	if i < 0 {
		return "", first, true, nil
	}
	return d.files[i].name, first - d.files[i].base, true, nil
}

func (s *seenIn) close() error {
	if s.shared != nil {
		return nil // the run closes it
	}
	return s.own.close()
}
