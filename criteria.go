package guardpost

// Condition is one attribute's condition in FindingCriteria, as the API
// takes it (the deprecated eq/neq/gt/gte/lt/lte folded into the current
// names by the transport). Several operators in one condition are ANDed;
// the values of one equals/matches list are ORed.
type Condition struct {
	Equals, NotEquals                                          []string
	GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual *int64
	Matches, NotMatches                                        []string
}

// Criteria maps attribute names to conditions; all must hold (AND).
type Criteria map[string]Condition

// FilterAttribute is a finding attribute FindingCriteria can name.
type FilterAttribute struct {
	Name string    // as the API names it
	Kind ValueKind // KindString, KindNumber, KindTime or KindBool
	// Path is where the value sits in the finding document when it differs
	// from Name. Lists on the way are walked element by element, so a
	// list-valued attribute has several values and matches when any does.
	Path string
}

// AttributeValue is one value a finding has for a filterable attribute, in
// the form criteria compare: Num for numbers, times (epoch milliseconds)
// and booleans (0/1); Text for strings (and the JSON text of the others).
type AttributeValue struct {
	Attribute int // index into FilterAttributes
	Text      string
	Num       float64
	IsNum     bool
}

// Criterion is one compiled, validated condition on one attribute.
type Criterion struct {
	Attribute int // index into FilterAttributes
	// EqualsText / EqualsNum hold the equals values in the attribute's
	// form (text for strings, numbers for numbers, times and booleans).
	EqualsText, NotEqualsText []string
	EqualsNum, NotEqualsNum   []float64
	// Bounds in the attribute's numeric form; nil when absent.
	GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual *float64
	// Matches / NotMatches are wildcard patterns: * any run, ? one character.
	Matches, NotMatches []string
}
