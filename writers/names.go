package writers

// The base names of a run's output files in its output directory; the
// extension follows the format (Format.Ext), except the manifest's.
const (
	RemittanceName = "remittance"
	PaymentsName   = "payments"
	ExceptionsName = "exceptions"
	StateName      = "state"
	ManifestName   = "manifest.json"
)

// ReportName is the run's HTML report (package report writes it); X12Dir is
// the directory of its X12 835 files ("835/<payee>_<currency>_<hash>.835").
const (
	ReportName = "report.html"
	X12Dir     = "835"
)
