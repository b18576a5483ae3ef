package htmlreport_test

import (
	"os"
	"testing"

	"github.com/p100/p100-importer/internal/htmlreport"
)

func TestPreview(t *testing.T) {
	if os.Getenv("PREVIEW") == "" {
		t.Skip()
	}
	if err := htmlreport.WriteFile(os.Getenv("PREVIEW"), fixedRun()); err != nil {
		t.Fatal(err)
	}
}
