package findingrec

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/guardpost/guardpost"
)

// Entry is one attribute of the registry: the stable number records use
// for it, and what that number means.
type Entry struct {
	ID    uint32
	Space string // "filter" (guardpost.FilterAttributes) or "sort" (guardpost.SortAttributes)
	Kind  guardpost.ValueKind
	Name  string
	Path  string // the document path, when it differs from Name (filter attributes only)
}

// String is the entry as its registry line.
func (e Entry) String() string {
	s := fmt.Sprintf("%d %s %s %s", e.ID, e.Space, kindNames[e.Kind], e.Name)
	if e.Path != "" {
		s += " " + e.Path
	}
	return s
}

// Same reports whether two entries give their number the same meaning.
func (e Entry) Same(o Entry) bool { return e == o }

var kindNames = map[guardpost.ValueKind]string{
	guardpost.KindString: "string",
	guardpost.KindNumber: "number",
	guardpost.KindTime:   "time",
	guardpost.KindIPv4:   "ipv4",
	guardpost.KindBool:   "bool",
}

// registryText is the registry: one line per attribute, numbered from 1 in
// order of addition. Lines are only ever appended: a number, once given,
// keeps its meaning for as long as records written with it exist (the
// test TestRegistryOnlyGrows holds the first version fixed).
//
//go:embed attributes.txt
var registryText string

// registry is registryText parsed; parsing it is checked by the tests, so
// a malformed line is a build defect, not a runtime condition.
var registry = mustParseRegistry(registryText)

// Registry returns every entry, in id order.
func Registry() []Entry { return append([]Entry(nil), registry...) }

func mustParseRegistry(text string) []Entry {
	es, err := parseRegistry(text)
	if err != nil {
		panic("findingrec: attributes.txt: " + err.Error())
	}
	return es
}

func parseRegistry(text string) ([]Entry, error) {
	kinds := map[string]guardpost.ValueKind{}
	for k, n := range kindNames {
		kinds[n] = k
	}
	var out []Entry
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 && len(f) != 5 {
			return nil, fmt.Errorf("line %d: want \"id space kind name [path]\", got %q", n+1, line)
		}
		id, err := strconv.ParseUint(f[0], 10, 32)
		if err != nil || id != uint64(len(out)+1) {
			return nil, fmt.Errorf("line %d: id %s, want %d (ids run from 1 without gaps)", n+1, f[0], len(out)+1)
		}
		kind, ok := kinds[f[2]]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown kind %q", n+1, f[2])
		}
		if f[1] != "filter" && f[1] != "sort" {
			return nil, fmt.Errorf("line %d: unknown space %q", n+1, f[1])
		}
		e := Entry{ID: uint32(id), Space: f[1], Kind: kind, Name: f[3]}
		if len(f) == 5 {
			e.Path = f[4]
		}
		out = append(out, e)
	}
	return out, nil
}

// Compare checks a database's registry (what the numbers in its records
// mean) against the code's. It returns an error when the two give a number
// different meanings, or when the database uses numbers the code does not
// know (it was written by a newer guardpost); otherwise it returns the
// code's entries the database lacks, whose values the database's records
// do not hold yet.
func Compare(stored []Entry) (missing []Entry, err error) {
	for _, e := range stored {
		if int(e.ID) > len(registry) || e.ID == 0 {
			return nil, fmt.Errorf("the database numbers attribute %q %d, which this guardpost does not know: it was written by a newer guardpost", e.Name, e.ID)
		}
		if mine := registry[e.ID-1]; !mine.Same(e) {
			return nil, fmt.Errorf("attribute number %d is %q in the database but %q in this guardpost: records would be read with another meaning", e.ID, e.String(), mine.String())
		}
	}
	have := make(map[uint32]bool, len(stored))
	for _, e := range stored {
		have[e.ID] = true
	}
	for _, e := range registry {
		if !have[e.ID] {
			missing = append(missing, e)
		}
	}
	return missing, nil
}

// NewEntry builds an entry from its stored fields (the columns a store
// keeps the registry in); kind is its name as in attributes.txt.
func NewEntry(id uint32, space, kind, name, path string) (Entry, error) {
	for k, n := range kindNames {
		if n == kind {
			return Entry{ID: id, Space: space, Kind: k, Name: name, Path: path}, nil
		}
	}
	return Entry{}, fmt.Errorf("unknown attribute kind %q", kind)
}

// KindName is the kind's name as attributes.txt writes it.
func KindName(k guardpost.ValueKind) string { return kindNames[k] }
