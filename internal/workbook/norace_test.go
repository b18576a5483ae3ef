//go:build !race

package workbook_test

// raceEnabled is true when the race detector is on.
const raceEnabled = false
