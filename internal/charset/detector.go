package charset

import (
	"encoding/binary"
	"slices"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// Word sampling limits.
const (
	maxWords  = 64 // sample words kept
	maxWord   = 24 // bytes (= characters in a single-byte page) in one sample word
	maxBefore = 12 // ASCII letters kept before a word's first high byte
)

// Detector accumulates evidence about a byte stream's character set in
// constant memory; feed it the raw bytes of the whole file (or as much as
// is available) in any chunking.
//
// It keeps a UTF-8 validator's state, one counter per high byte value and
// neighbour pair (about 16 KiB) and at most 64 sample words of at most 24
// bytes. The zero value is not ready: use NewDetector.
type Detector struct {
	// UTF-8 validation.
	need       int  // continuation bytes still expected
	lo, hi     byte // accepted range of the next continuation byte
	seqLen     int  // bytes of the sequence under way
	validMulti int64
	invalid    int64

	high int64 // bytes >= 0x80

	// ctx[b-0x80][left][right] counts high byte b between neighbours of
	// those classes. The last high byte waits in pending for its right
	// neighbour.
	ctx         [128][nCls][nCls]int64
	prevCls     int
	pending     int // high byte waiting for its right neighbour, or -1
	pendingLeft int

	// The run of letters (ASCII letters and high bytes) under way: while it
	// holds no high byte, only its last maxBefore letters.
	run     [maxWord]byte
	runLen  int
	runHigh bool

	samples sampler
}

// NewDetector returns an empty Detector.
func NewDetector() *Detector {
	return &Detector{pending: -1, samples: sampler{index: make(map[string]struct{}, maxWords)}}
}

const highBits = 0x8080808080808080

// Write adds p to the evidence. It never fails.
func (d *Detector) Write(p []byte) (int, error) {
	i := 0
	for i < len(p) {
		if d.idle() {
			// ASCII fast path: nothing but the previous byte's class and the
			// run's last letters depend on ASCII bytes between high bytes.
			j := i
			for j+8 <= len(p) && binary.LittleEndian.Uint64(p[j:])&highBits == 0 {
				j += 8
			}
			for j < len(p) && p[j] < 0x80 {
				j++
			}
			if j > i {
				d.skipASCII(p[i:j])
				i = j
			}
			if i == len(p) {
				break
			}
		}
		d.step(p[i])
		i++
	}
	return len(p), nil
}

// idle reports whether only ASCII state is under way.
func (d *Detector) idle() bool { return d.need == 0 && d.pending < 0 && !d.runHigh }

// skipASCII takes a stretch of ASCII bytes while idle.
func (d *Detector) skipASCII(a []byte) {
	d.prevCls = int(byteCls[a[len(a)-1]])
	k := len(a)
	for k > 0 && len(a)-k < maxBefore && isASCIILetter(a[k-1]) {
		k--
	}
	tail := a[k:]
	if k > 0 {
		d.runLen = copy(d.run[:], tail)
		return
	}
	// a is all letters, fewer than maxBefore: the run goes on.
	if keep := maxBefore - len(tail); d.runLen > keep {
		copy(d.run[:], d.run[d.runLen-keep:d.runLen])
		d.runLen = keep
	}
	d.runLen += copy(d.run[d.runLen:], tail)
}

func isASCIILetter(c byte) bool { return byteCls[c] == clsLower || byteCls[c] == clsUpper }

// step takes one byte on the slow path.
func (d *Detector) step(c byte) {
	d.utf8Step(c)
	cls := int(byteCls[c])
	if d.pending >= 0 {
		d.ctx[d.pending][d.pendingLeft][cls]++
		d.pending = -1
	}
	if c >= 0x80 {
		d.high++
		d.pending = int(c - 0x80)
		d.pendingLeft = d.prevCls
	}
	d.prevCls = cls
	switch {
	case cls == clsOther:
		if d.runHigh {
			d.samples.add(d.run[:d.runLen])
		}
		d.runLen, d.runHigh = 0, false
	case d.runHigh:
		if d.runLen < maxWord {
			d.run[d.runLen] = c
			d.runLen++
		}
	case c >= 0x80:
		d.runHigh = true
		d.run[d.runLen] = c // runLen <= maxBefore < maxWord
		d.runLen++
	default:
		if d.runLen == maxBefore {
			copy(d.run[:], d.run[1:maxBefore])
			d.runLen--
		}
		d.run[d.runLen] = c
		d.runLen++
	}
}

// utf8Step advances the UTF-8 validator by one byte.
func (d *Detector) utf8Step(c byte) {
	if d.need > 0 {
		if c >= d.lo && c <= d.hi {
			d.need--
			d.seqLen++
			d.lo, d.hi = 0x80, 0xBF
			if d.need == 0 {
				d.validMulti++
			}
			return
		}
		d.invalid += int64(d.seqLen)
		d.need = 0
	}
	if c < 0x80 {
		return
	}
	d.seqLen = 1
	d.lo, d.hi = 0x80, 0xBF
	switch {
	case c >= 0xC2 && c <= 0xDF:
		d.need = 1
	case c == 0xE0:
		d.need, d.lo = 2, 0xA0
	case c == 0xED:
		d.need, d.hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		d.need = 2
	case c == 0xF0:
		d.need, d.lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		d.need = 3
	case c == 0xF4:
		d.need, d.hi = 3, 0x8F
	default:
		d.invalid++
	}
}

// sampler keeps up to maxWords distinct sample words, first seen first.
// cov counts the kept words holding each high byte value, so that once the
// set is full a word bringing a byte value no kept word holds can replace
// a redundant one (each of whose high bytes another word holds too).
type sampler struct {
	words []string
	index map[string]struct{}
	cov   [128]uint8
}

// add offers word w; it copies w only to keep it.
func (s *sampler) add(w []byte) {
	if _, ok := s.index[string(w)]; ok {
		return
	}
	if len(s.words) < maxWords {
		s.words = append(s.words, string(w))
		s.keep(string(w))
		return
	}
	fresh := false
	eachHigh(w, func(b int) { fresh = fresh || s.cov[b] == 0 })
	if !fresh {
		return
	}
	for i, v := range s.words {
		redundant := true
		eachHigh(v, func(b int) { redundant = redundant && s.cov[b] >= 2 })
		if redundant {
			delete(s.index, v)
			eachHigh(v, func(b int) { s.cov[b]-- })
			s.words[i] = string(w)
			s.keep(s.words[i])
			return
		}
	}
}

func (s *sampler) keep(w string) {
	s.index[w] = struct{}{}
	eachHigh(w, func(b int) { s.cov[b]++ })
}

func (s *sampler) clone() *sampler {
	c := &sampler{words: slices.Clone(s.words), index: make(map[string]struct{}, maxWords), cov: s.cov}
	for w := range s.index {
		c.index[w] = struct{}{}
	}
	return c
}

// eachHigh calls f once for each distinct high byte value in w, as an
// index into the 128 high bytes.
func eachHigh[T string | []byte](w T, f func(int)) {
	var seen [128]bool
	for i := 0; i < len(w); i++ {
		if b := w[i]; b >= 0x80 && !seen[b-0x80] {
			seen[b-0x80] = true
			f(int(b - 0x80))
		}
	}
}

// Decoder returns the golang.org/x/text encoding for a Result.Encoding
// value (nil for utf-8, and for a name it does not know). Other spellings
// are looked up as the importer's --encoding is: IANA names, then WHATWG.
func Decoder(name string) encoding.Encoding {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" || n == "utf-8" || n == "utf8" {
		return nil
	}
	for _, p := range pages {
		if p.name == n {
			return p.cm
		}
	}
	if e, err := ianaindex.IANA.Encoding(name); err == nil && e != nil {
		return e
	}
	if e, err := htmlindex.Get(name); err == nil {
		return e
	}
	return nil
}
