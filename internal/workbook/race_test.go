//go:build race

package workbook_test

// raceEnabled is true when the race detector is on: it slows the streaming
// test about tenfold.
const raceEnabled = true
