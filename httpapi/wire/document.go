package wire

// DocKind is the JSON kind of a value in a document whose shapes
// FindingDoc describes.
type DocKind uint8

// The kinds of document values. Enums are DocString: their value sets are
// checked by the generated validation, not by the shape table.
const (
	DocStructure DocKind = iota + 1 // an object with the members listed
	DocList                         // an array of Elem
	DocMap                          // an object of string keys to Elem
	DocString
	DocBoolean
	DocInteger   // a whole number of Bits bits
	DocNumber    // float or double
	DocTimestamp // epoch seconds on the wire (see Timestamp)
	DocBlob      // base64 text
)

// DocShape is one shape of a document tree (see FindingDoc).
type DocShape struct {
	Name    string // the Smithy shape name
	Kind    DocKind
	Members []DocMember // DocStructure, in model order
	Elem    int         // DocList element and DocMap value: an index into the same table
	Bits    int         // DocInteger: 8, 16, 32 or 64
}

// DocMember is a structure member: JSON is its name on the wire (the
// jsonName trait, else the member name), Name the Smithy member name (the
// key the AWS CLI and boto3 print), Shape its value's index in the table.
type DocMember struct {
	JSON  string
	Name  string
	Shape int
	// Required is the model's required trait: Validate reports the
	// member's absence.
	Required bool
	// Check is what Validate checks of the member's value beyond its
	// kind, when that is not a structure (nil when nothing).
	Check *DocCheck
}

// DocCheck is the model's constraints on one value, as the generated
// validation checks them: each predicate calls the same check function
// Validate calls, so it accepts exactly what Validate accepts. A
// structure's checks are its members'; a list or map element that is a
// structure has no Elem here.
type DocCheck struct {
	Text    func(x string) bool  // strings and enums: length, pattern, value set
	Blob    func(x []byte) bool  // blobs: length
	Integer func(x int64) bool   // integers: range
	Number  func(x float64) bool // floats and doubles: range
	// Lists and maps: the bounds of their length (MaxLen -1: none), and
	// the checks of their elements (map values) and map keys.
	MinLen, MaxLen int
	Elem, Key      *DocCheck
}
