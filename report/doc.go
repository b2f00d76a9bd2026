// Package report writes report.html: one page per run that finance and
// claims managers open in a browser or print. It shows the totals per plan
// currency (charge, plan paid to providers and to members, deductible,
// coinsurance, not covered), the status mix, the plan paid per module and
// per benefit as bar charts, why amounts were not covered (by adjustment
// reason code), the exceptions by code and by source file, the turnaround
// against the plan's 5-business-day promise, and the run's inputs with
// their SHA-256.
//
// The page is self-contained: inline CSS and SVG drawn by Go code, no
// script, no font or image fetched (a Content-Security-Policy forbids it),
// so it opens from a file share or a mail attachment. A print stylesheet
// lays it out on A4. Every value from the data goes through html/template's
// escaping. The bytes depend on the Input only: no clock, sorted keys.
//
// The pipeline publishes the page with every run (report.html, listed in
// the manifest), built from the manifest about to be written; the page
// leaves its own entry out of the outputs it lists, so Build on the
// published run gives the same bytes (claimsbatch report). The turnaround
// comes from the manifest's section unless Input gives one.
//
// Build streams the run's remittance and exceptions tables (CSV or Parquet,
// read with readers.OpenTable) once. What it holds in memory is bounded by
// plan currencies x (modules + benefits + reason codes + statuses) and by
// source files x exception codes: never by lines. Where the remittance does
// not add up to the manifest's control totals, the page says so at the top.
//
// report imports claim, readers, writers and internal/rundir.
package report
