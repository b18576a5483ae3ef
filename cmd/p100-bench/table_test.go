package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteMarkdownKeepsTheHandWrittenPart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	b := &bench{o: &options{Bin: t.TempDir(), Command: "make bench", MemRows: []int{10}}, started: time.Now()}
	b.target("a figure", "1", ">= 1", true)
	if err := b.writeMarkdown(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	notes := "\n## What the profile showed\n\nhand-written\n"
	old, _, _ := strings.Cut(string(data), keepMarker)
	if err := os.WriteFile(path, []byte(old+keepMarker+notes), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.writeMarkdown(path); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(data), keepMarker+notes) {
		t.Errorf("the hand-written part was not kept:\n%s", data)
	}
	if !strings.Contains(string(data), "| a figure | 1 | >= 1 | PASS |") {
		t.Errorf("no table row in:\n%s", data)
	}
}
