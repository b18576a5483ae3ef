package charset

import "slices"

// SampleWords tells the black-box tests how many sample words d keeps.
func SampleWords(d *Detector) int { return len(d.samples.words) }

// StepAll feeds p to d one byte at a time on the slow path, bypassing the
// ASCII fast path, as a reference for it.
func StepAll(d *Detector, p []byte) {
	for _, c := range p {
		d.step(c)
	}
}

// SameState reports whether a and b hold the same evidence.
func SameState(a, b *Detector) bool {
	return a.need == b.need && a.lo == b.lo && a.hi == b.hi && a.seqLen == b.seqLen &&
		a.validMulti == b.validMulti && a.invalid == b.invalid && a.high == b.high &&
		a.ctx == b.ctx && a.prevCls == b.prevCls && a.pending == b.pending &&
		a.pendingLeft == b.pendingLeft && a.runLen == b.runLen && slices.Equal(a.run[:a.runLen], b.run[:b.runLen]) &&
		a.runHigh == b.runHigh && slices.Equal(a.samples.words, b.samples.words) &&
		a.samples.cov == b.samples.cov
}
