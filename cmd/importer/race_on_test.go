//go:build race

package main_test

// raceEnabled: the tests run with -race, so the binaries they start are
// built with it too, and a data race in them fails the test that saw it.
const raceEnabled = true
