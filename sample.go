package guardpost

import "time"

// SampleCatalog builds the sample findings CreateSampleFindings writes: one
// realistic template per active GuardDuty finding type.
type SampleCatalog interface {
	// Types lists every finding type the catalogue has a template for.
	Types() []string
	// Sample returns the canonical JSON document of one sample finding of the
	// given type, or false when the type is unknown.
	Sample(findingType string, p SampleParams) ([]byte, bool)
}

// SampleParams are the values a sample finding takes from its context.
type SampleParams struct {
	AccountID  string
	Region     string
	Partition  string
	DetectorID string
	FindingID  string
	Now        time.Time
}
