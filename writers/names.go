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
