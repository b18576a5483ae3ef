// Package htmlreport renders the HTML report of a run: one self-contained
// file (inline CSS, charts as inline SVG drawn here, no script, nothing
// fetched from the network) with the run's headline figures, the run over
// time, the rows not imported by error code (line numbers only, never
// personal data) and the last runs of the checkpoint.
package htmlreport
