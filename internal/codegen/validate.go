package main

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Constraint traits that may sit on a member as well as on its target.
var memberConstraintTraits = []string{traitLength, traitRange, traitPattern, traitSensitive}

// valueRef is a value to check: a target shape plus the traits in force
// (the target's, overlaid with the member's own constraint traits).
type valueRef struct {
	target string
	shape  *Shape
	traits map[string]json.RawMessage
	fn     string // name of the generated check function
}

// ref resolves the value held by member m of owner (a structure, list or
// map). Constraint traits normally live on the target, so one function per
// target shape serves every member; a member with its own constraint traits
// gets its own function.
func (g *gen) ref(owner *Shape, m *Member) (valueRef, error) {
	s, err := g.m.Lookup(m.Target)
	if err != nil {
		return valueRef{}, err
	}
	r := valueRef{target: m.Target, shape: s, traits: s.Traits, fn: "check" + ShortName(m.Target)}
	own := false
	for _, t := range memberConstraintTraits {
		own = own || hasTrait(m.Traits, t)
	}
	if own {
		r.traits = map[string]json.RawMessage{}
		for k, v := range s.Traits {
			r.traits[k] = v
		}
		for _, t := range memberConstraintTraits {
			if v, ok := m.Traits[t]; ok {
				r.traits[t] = v
			}
		}
		r.fn = "check" + ShortName(owner.ID) + "_" + m.Name
	}
	return r, nil
}

// hasLength reports whether a length trait constrains anything; a bare
// minimum of 0 does not.
func hasLength(traits map[string]json.RawMessage) bool {
	l, err := boundsTrait(traits, traitLength)
	return err != nil || l != nil && (l.Max != nil || l.Min != nil && l.Min.String() != "0")
}

func (g *gen) sensitive(target *Shape, m *Member) bool {
	return hasTrait(target.Traits, traitSensitive) || (m != nil && hasTrait(m.Traits, traitSensitive))
}

// needs reports whether a value can ever fail validation, so call sites for
// values that cannot are left out of the generated code.
func (g *gen) needs(r valueRef) (bool, error) {
	switch r.shape.Type {
	case "string", "enum":
		_, isEnum, err := EnumValues(r.shape)
		return isEnum || hasLength(r.traits) || hasTrait(r.traits, traitPattern), err
	case "blob":
		return hasLength(r.traits), nil
	case "byte", "short", "integer", "intEnum", "long", "float", "double":
		return hasTrait(r.traits, traitRange), nil
	case "list", "set":
		if hasLength(r.traits) {
			return true, nil
		}
		e, err := g.ref(r.shape, r.shape.Member)
		if err != nil {
			return false, err
		}
		return g.needs(e)
	case "map":
		if hasLength(r.traits) {
			return true, nil
		}
		for _, m := range []*Member{r.shape.Key, r.shape.Value} {
			e, err := g.ref(r.shape, m)
			if err != nil {
				return false, err
			}
			if n, err := g.needs(e); n || err != nil {
				return n, err
			}
		}
		return false, nil
	case "structure", "union":
		return g.structNeeds(r.shape)
	}
	return false, nil
}

func (g *gen) structNeeds(s *Shape) (bool, error) {
	switch g.needMemo[s.ID] {
	case 1: // recursive shape: assume it needs checks rather than memoize a wrong "no" upstream
		return true, nil
	case 2:
		return false, nil
	case 3:
		return true, nil
	}
	g.needMemo[s.ID] = 1
	result := false
	for _, m := range s.Members {
		if hasTrait(m.Traits, traitRequired) {
			result = true
			break
		}
		r, err := g.ref(s, m)
		if err != nil {
			return false, err
		}
		n, err := g.needs(r)
		if err != nil {
			return false, err
		}
		if n {
			result = true
			break
		}
	}
	g.needMemo[s.ID] = 2
	if result {
		g.needMemo[s.ID] = 3
	}
	return result, nil
}

// reachableStructs returns every structure reachable from an operation
// input, sorted by id.
func (g *gen) reachableStructs() ([]*Shape, error) {
	seen := map[string]bool{}
	var out []*Shape
	var walk func(id string) error
	walk = func(id string) error {
		if seen[id] {
			return nil
		}
		seen[id] = true
		s, err := g.m.Lookup(id)
		if err != nil {
			return err
		}
		switch s.Type {
		case "structure", "union":
			out = append(out, s)
			for _, m := range s.Members {
				if err := walk(m.Target); err != nil {
					return err
				}
			}
		case "list", "set":
			return walk(s.Member.Target)
		case "map":
			if err := walk(s.Key.Target); err != nil {
				return err
			}
			return walk(s.Value.Target)
		}
		return nil
	}
	var ids []string
	for id := range g.inputs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := walk(id); err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// validation collects the pieces of validate_gen.go.
type validation struct {
	g        *gen
	w        *fileWriter
	funcs    map[string]string // check function name -> source
	pending  []valueRef
	patterns map[string]string // regexp variable name -> declaration
}

func (g *gen) emitValidation(w *fileWriter) error {
	structs, err := g.reachableStructs()
	if err != nil {
		return err
	}
	v := &validation{g: g, w: w, funcs: map[string]string{}, patterns: map[string]string{}}
	var methods strings.Builder
	for _, s := range structs {
		src, err := v.structMethods(s)
		if err != nil {
			return err
		}
		methods.WriteString(src)
	}
	if err := v.drainPending(); err != nil {
		return err
	}

	for _, n := range sortedKeys(v.patterns) {
		w.p("%s", v.patterns[n])
	}
	w.body.WriteString(methods.String())
	for _, n := range sortedKeys(v.funcs) {
		w.body.WriteString(v.funcs[n])
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// call returns the statement that checks value expr (of r's Go type) at
// path expression pathExpr, queueing the check function it needs.
func (v *validation) call(r valueRef, expr, pathExpr string) string {
	if r.shape.Type == "structure" || r.shape.Type == "union" {
		return fmt.Sprintf("%s.validate(v, %s)", expr, pathExpr)
	}
	v.pending = append(v.pending, r)
	return fmt.Sprintf("%s(v, %s, %s)", r.fn, pathExpr, expr)
}

func (v *validation) structMethods(s *Shape) (string, error) {
	name := ShortName(s.ID)
	var b strings.Builder
	fmt.Fprintf(&b, "// Validate checks %s against the model's constraints.\n", name)
	fmt.Fprintf(&b, "func (s *%s) Validate() error {\nif s == nil {\nreturn nil\n}\nvar v violations\ns.validate(&v, \"\")\nreturn v.err()\n}\n\n", name)
	fmt.Fprintf(&b, "func (s *%s) validate(v *violations, path string) {\n", name)
	for _, m := range s.Members {
		f, err := fieldName(s, m)
		if err != nil {
			return "", err
		}
		pn, err := pathName(s, m)
		if err != nil {
			return "", err
		}
		r, err := v.g.ref(s, m)
		if err != nil {
			return "", err
		}
		needs, err := v.g.needs(r)
		if err != nil {
			return "", err
		}
		required := hasTrait(m.Traits, traitRequired)
		if !needs && !required {
			continue
		}
		field := "s." + f
		p := fmt.Sprintf("vjoin(path, %q)", pn)
		expr := field
		ft, err := v.g.fieldType(m.Target)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(ft, "*") && r.shape.Type != "structure" && r.shape.Type != "union" {
			expr = "*" + field
		}
		switch {
		case required && needs:
			fmt.Fprintf(&b, "if %s == nil {\nv.null(%s)\n} else {\n%s\n}\n", field, p, v.call(r, expr, p))
		case required:
			fmt.Fprintf(&b, "if %s == nil {\nv.null(%s)\n}\n", field, p)
		default:
			fmt.Fprintf(&b, "if %s != nil {\n%s\n}\n", field, v.call(r, expr, p))
		}
	}
	b.WriteString("}\n\n")
	return b.String(), nil
}

// checkFunc renders the check function of a non-structure value.
func (v *validation) checkFunc(r valueRef) (string, error) {
	t, err := v.g.goType(r.target)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "func %s(v *violations, p string, x %s) {\n", r.fn, t)
	echo := !hasTrait(r.traits, traitSensitive)
	fail := func(value, msg string) string {
		if !echo || value == "" {
			return fmt.Sprintf("v.add(p, \"\", false, %q)", msg)
		}
		return fmt.Sprintf("v.add(p, %s, true, %q)", value, msg)
	}
	length, err := boundsTrait(r.traits, traitLength)
	if err != nil {
		return "", err
	}
	switch r.shape.Type {
	case "string", "enum":
		if length != nil {
			if writeLength(&b, "utf8.RuneCountInString(x)", length, func(msg string) string { return fail("x", msg) }) {
				v.w.use("unicode/utf8")
			}
		}
		if err := v.pattern(&b, r, fail); err != nil {
			return "", err
		}
		vals, isEnum, err := EnumValues(r.shape)
		if err != nil {
			return "", err
		}
		if isEnum {
			q := make([]string, len(vals))
			for i, s := range vals {
				q[i] = strconv.Quote(s)
			}
			msg := "Member must satisfy enum value set: [" + strings.Join(vals, ", ") + "]"
			fmt.Fprintf(&b, "switch x {\ncase %s:\ndefault:\n%s\n}\n", strings.Join(q, ", "), fail("x", msg))
		}
	case "blob":
		if length != nil {
			writeLength(&b, "len(x)", length, func(msg string) string { return fail("", msg) })
		}
	case "byte", "short", "integer", "intEnum", "long", "float", "double":
		rng, err := boundsTrait(r.traits, traitRange)
		if err != nil {
			return "", err
		}
		if rng == nil {
			break
		}
		v.w.use("strconv")
		show := "strconv.FormatInt(int64(x), 10)"
		if t == "int64" {
			show = "strconv.FormatInt(x, 10)"
		}
		if t == "float64" {
			show = "strconv.FormatFloat(x, 'g', -1, 64)"
		}
		if rng.Min != nil {
			fmt.Fprintf(&b, "if %s {\n%s\n}\n", compare(t, "<", *rng.Min), fail(show, "Member must have value greater than or equal to "+rng.Min.String()))
		}
		if rng.Max != nil {
			fmt.Fprintf(&b, "if %s {\n%s\n}\n", compare(t, ">", *rng.Max), fail(show, "Member must have value less than or equal to "+rng.Max.String()))
		}
	case "list", "set":
		if length != nil {
			writeLength(&b, "len(x)", length, func(msg string) string { return fail("", msg) })
		}
		e, err := v.g.ref(r.shape, r.shape.Member)
		if err != nil {
			return "", err
		}
		if n, err := v.g.needs(e); err != nil {
			return "", err
		} else if n {
			if e.shape.Type == "structure" || e.shape.Type == "union" {
				fmt.Fprintf(&b, "for i := range x {\n%s\n}\n", v.call(e, "x[i]", "velem(p, i)"))
			} else {
				fmt.Fprintf(&b, "for i, e := range x {\n%s\n}\n", v.call(e, "e", "velem(p, i)"))
			}
		}
	case "map":
		if length != nil {
			writeLength(&b, "len(x)", length, func(msg string) string { return fail("", msg) })
		}
		k, err := v.g.ref(r.shape, r.shape.Key)
		if err != nil {
			return "", err
		}
		val, err := v.g.ref(r.shape, r.shape.Value)
		if err != nil {
			return "", err
		}
		kn, err := v.g.needs(k)
		if err != nil {
			return "", err
		}
		vn, err := v.g.needs(val)
		if err != nil {
			return "", err
		}
		if kn || vn {
			// Sorted keys keep the order of violations deterministic.
			b.WriteString("for _, k := range sortedKeys(x) {\n")
			if kn {
				fmt.Fprintf(&b, "%s\n", v.call(k, "k", "vkey(p)"))
			}
			if vn {
				if val.shape.Type == "structure" || val.shape.Type == "union" {
					fmt.Fprintf(&b, "e := x[k]\n%s\n", v.call(val, "e", "vvalue(p, k)"))
				} else {
					fmt.Fprintf(&b, "%s\n", v.call(val, "x[k]", "vvalue(p, k)"))
				}
			}
			b.WriteString("}\n")
		}
	default:
		return "", fmt.Errorf("no checks for shape type %s", r.shape.Type)
	}
	b.WriteString("}\n\n")
	return b.String(), nil
}

// writeLength emits the checks of a length trait on the length n computed
// by expr; it reports whether it emitted any (a minimum of 0 needs none).
func writeLength(b *strings.Builder, expr string, l *Bounds, fail func(msg string) string) bool {
	hasMin := l.Min != nil && l.Min.String() != "0"
	if !hasMin && l.Max == nil {
		return false
	}
	fmt.Fprintf(b, "n := %s\n", expr)
	if hasMin {
		fmt.Fprintf(b, "if n < %s {\n%s\n}\n", l.Min, fail("Member must have length greater than or equal to "+l.Min.String()))
	}
	if l.Max != nil {
		fmt.Fprintf(b, "if n > %s {\n%s\n}\n", l.Max, fail("Member must have length less than or equal to "+l.Max.String()))
	}
	return true
}

// compare renders "x op bound" for Go type t. An integral bound the type can
// hold is compared directly; anything else goes through float64 so the
// generated code always compiles.
func compare(t, op string, bound json.Number) string {
	if t == "float64" {
		return fmt.Sprintf("x %s %s", op, bound)
	}
	if n, err := strconv.ParseInt(bound.String(), 10, 64); err == nil {
		bits, _ := strconv.Atoi(strings.TrimPrefix(t, "int"))
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if bits < 64 {
			lo, hi = -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1
		}
		if n >= lo && n <= hi {
			return fmt.Sprintf("x %s %d", op, n)
		}
	}
	return fmt.Sprintf("float64(x) %s %s", op, bound)
}

// pattern emits the check of a pattern trait. Smithy patterns are ECMA-262;
// RE2 lacks lookaround, so a leading negative lookahead on a literal,
// "^(?!aws:)rest", becomes a prefix test plus "^rest". Anything else RE2
// cannot compile is reported as a warning and left unchecked.
func (v *validation) pattern(b *strings.Builder, r valueRef, fail func(value, msg string) string) error {
	pat, ok, err := stringTrait(r.traits, traitPattern)
	if err != nil || !ok {
		return err
	}
	msg := "Member must satisfy regular expression pattern: " + pat
	re, prefix, ok := translatePattern(pat)
	if !ok {
		v.g.warnings = append(v.g.warnings, fmt.Sprintf("%s: pattern %q is not checked: RE2 cannot express it", r.fn, pat))
		fmt.Fprintf(b, "// The pattern %s is not checked: RE2 cannot express it.\n", goString(pat))
		return nil
	}
	name := "pattern" + strings.TrimPrefix(r.fn, "check")
	v.w.use("regexp")
	v.patterns[name] = fmt.Sprintf("var %s = regexp.MustCompile(%s)\n", name, goString(re))
	cond := fmt.Sprintf("!%s.MatchString(x)", name)
	if prefix != "" {
		v.w.use("strings")
		cond = fmt.Sprintf("strings.HasPrefix(x, %q) || %s", prefix, cond)
	}
	fmt.Fprintf(b, "if %s {\n%s\n}\n", cond, fail("x", msg))
	return nil
}

// translatePattern returns an RE2 expression for pat, plus a literal prefix
// the value must not start with.
func translatePattern(pat string) (re, prefix string, ok bool) {
	if _, err := regexp.Compile(pat); err == nil {
		return pat, "", true
	}
	const open = "^(?!"
	if !strings.HasPrefix(pat, open) {
		return "", "", false
	}
	var lit strings.Builder
	for i := len(open); i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == ')':
			rest := "^" + pat[i+1:]
			if _, err := regexp.Compile(rest); err != nil || lit.Len() == 0 {
				return "", "", false
			}
			return rest, lit.String(), true
		case c == '\\' && i+1 < len(pat) && strings.IndexByte(`\.^$|?*+()[]{}/-`, pat[i+1]) >= 0:
			i++
			lit.WriteByte(pat[i])
		case strings.IndexByte(`\.^$|?*+()[]{}`, c) >= 0:
			return "", "", false // not a plain literal
		default:
			lit.WriteByte(c)
		}
	}
	return "", "", false
}

// drainPending writes the check function of every pending request, and of
// those the written ones ask for in turn, once each.
func (v *validation) drainPending() error {
	for len(v.pending) > 0 {
		r := v.pending[0]
		v.pending = v.pending[1:]
		if _, done := v.funcs[r.fn]; done {
			continue
		}
		src, err := v.checkFunc(r)
		if err != nil {
			return fmt.Errorf("%s: %w", r.target, err)
		}
		v.funcs[r.fn] = src
	}
	return nil
}
