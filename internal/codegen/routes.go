package main

import (
	"fmt"
	"sort"
	"strings"
)

// opInfo is an operation with its route worked out.
type opInfo struct {
	name          string
	method        string
	uri           string // as in the model
	pattern       string // net/http.ServeMux path pattern
	queryLiteral  string // "x=y" part of the URI, not part of pattern
	code          int
	input, output string // shape ids; smithy.api#Unit when absent
	labels        []string
}

func (g *gen) loadOperations() error {
	for _, op := range g.m.ShapesOfType("operation") {
		h, err := httpTrait(op)
		if err != nil {
			return err
		}
		o := &opInfo{name: ShortName(op.ID), method: h.Method, uri: h.URI, code: h.Code, input: inputOf(op), output: unitShape}
		if op.Output != nil && op.Output.Target != "" {
			o.output = op.Output.Target
		}
		o.pattern, o.queryLiteral, o.labels, err = muxPattern(h.URI)
		if err != nil {
			return fmt.Errorf("operation %s: %w", op.ID, err)
		}
		if err := g.checkLabels(o); err != nil {
			return fmt.Errorf("operation %s: %w", op.ID, err)
		}
		if o.input != unitShape {
			g.inputs[o.input] = true
		}
		g.ops = append(g.ops, o)
	}
	sort.Slice(g.ops, func(i, j int) bool { return g.ops[i].name < g.ops[j].name })

	// A query literal only selects an operation when two operations share a
	// method and path. ServeMux cannot route on it and Operation has no
	// field for it, so that case is an error rather than a silent misroute.
	seen := map[string]string{}
	for _, o := range g.ops {
		k := o.method + " " + o.pattern
		if prev, dup := seen[k]; dup {
			return fmt.Errorf("operations %s and %s both route to %s (query literals are not routed on)", prev, o.name, k)
		}
		seen[k] = o.name
	}
	return nil
}

// muxPattern turns a Smithy URI pattern into a ServeMux path pattern:
// "{X}" stays, a greedy "{X+}" becomes "{X...}", a trailing slash gets "{$}"
// so it does not become a subtree match, and a "?x=y" literal is split off.
func muxPattern(uri string) (pattern, query string, labels []string, err error) {
	path := uri
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		path, query = uri[:i], uri[i+1:]
	}
	if !strings.HasPrefix(path, "/") {
		return "", "", nil, fmt.Errorf("URI %q does not start with /", uri)
	}
	segs := strings.Split(path[1:], "/")
	for i, s := range segs {
		if !strings.ContainsAny(s, "{}") {
			continue
		}
		if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") || strings.Count(s, "{") != 1 {
			return "", "", nil, fmt.Errorf("URI %q: a label must be a whole segment", uri)
		}
		name := s[1 : len(s)-1]
		if greedy := strings.HasSuffix(name, "+"); greedy {
			if i != len(segs)-1 {
				return "", "", nil, fmt.Errorf("URI %q: ServeMux allows a greedy label only at the end", uri)
			}
			name = strings.TrimSuffix(name, "+")
			segs[i] = "{" + name + "...}"
		}
		if !isIdent(name) {
			return "", "", nil, fmt.Errorf("URI %q: label %q is not an identifier", uri, name)
		}
		labels = append(labels, name)
	}
	pattern = "/" + strings.Join(segs, "/")
	if strings.HasSuffix(pattern, "/") {
		pattern += "{$}"
	}
	return pattern, query, labels, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9' {
			continue
		}
		return false
	}
	return true
}

// checkLabels makes sure the URI labels and the input's httpLabel members
// are the same set, so BindHTTP fills every label.
func (g *gen) checkLabels(o *opInfo) error {
	want := map[string]bool{}
	for _, l := range o.labels {
		if want[l] {
			return fmt.Errorf("label %s appears twice in %q", l, o.uri)
		}
		want[l] = true
	}
	if o.input != unitShape {
		in, err := g.m.Lookup(o.input)
		if err != nil {
			return err
		}
		if in.Type != "structure" {
			return fmt.Errorf("input %s is a %s, not a structure", o.input, in.Type)
		}
		for _, m := range in.Members {
			b, err := memberBinding(in, m)
			if err != nil {
				return err
			}
			if b.kind != bindLabel {
				continue
			}
			if !want[m.Name] {
				return fmt.Errorf("label member %s is not in URI %q", m.Name, o.uri)
			}
			delete(want, m.Name)
		}
	}
	for l := range want {
		return fmt.Errorf("URI %q label %s has no httpLabel member", o.uri, l)
	}
	return nil
}

func (g *gen) emitRoutes(w *fileWriter) error {
	w.p("// Operations lists every operation of the service, sorted by name.")
	w.p("// Method+\" \"+Path is a net/http.ServeMux pattern; the label names are")
	w.p("// the ones BindHTTP asks pathValue for.")
	w.p("var Operations = []Operation{")
	for _, o := range g.ops {
		newInput := "func() Input { return new(NoInput) }"
		if o.input != unitShape {
			newInput = fmt.Sprintf("func() Input { return new(%s) }", ShortName(o.input))
		}
		if o.queryLiteral != "" {
			w.p("\t// The URI also has the query literal %q, which is not routed on.", o.queryLiteral)
		}
		w.p("\t{Name: %q, Method: %q, Path: %q, Code: %d, NewInput: %s},", o.name, o.method, o.pattern, o.code, newInput)
	}
	w.p("}")
	return nil
}

func (g *gen) emitBindings(w *fileWriter) error {
	var ids []string
	for id := range g.inputs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	w.use("net/http")
	w.use("net/url")
	helpers := map[string]bool{}
	for _, id := range ids {
		in, err := g.m.Lookup(id)
		if err != nil {
			return err
		}
		if err := g.emitBind(w, in, helpers); err != nil {
			return err
		}
	}
	// Helpers are emitted only when some binding uses them, so the package
	// carries no dead code for binding kinds the model does not have.
	var names []string
	for n := range helpers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h := bindHelpers[n]
		for _, imp := range h.imports {
			w.use(imp)
		}
		w.p("%s", h.code)
	}
	return nil
}

type helper struct {
	imports []string
	code    string
}

var bindHelpers = map[string]helper{
	"bindBool": {[]string{"strconv"}, `// bindBool parses an HTTP-bound boolean.
func bindBool(v *violations, path, raw string, echo bool) (bool, bool) {
	b, err := strconv.ParseBool(raw)
	if err != nil {
		v.add(path, raw, echo, "Member must be a boolean")
		return false, false
	}
	return b, true
}
`},
	"bindFloat": {[]string{"strconv"}, `// bindFloat parses an HTTP-bound floating point number.
func bindFloat(v *violations, path, raw string, echo bool) (float64, bool) {
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		v.add(path, raw, echo, "Member must be a number")
		return 0, false
	}
	return f, true
}
`},
	"bindInt": {[]string{"strconv"}, `// bindInt parses an HTTP-bound integer of the given bit size.
func bindInt(v *violations, path, raw string, echo bool, bits int) (int64, bool) {
	n, err := strconv.ParseInt(raw, 10, bits)
	if err != nil {
		v.add(path, raw, echo, "Member must be a number")
		return 0, false
	}
	return n, true
}
`},
	"headerList": {[]string{"net/http", "strings"}, `// headerList splits a list-valued header on commas, as restJson1 sends it.
func headerList(h http.Header, name string) []string {
	var out []string
	for _, line := range h.Values(name) {
		for _, part := range strings.Split(line, ",") {
			out = append(out, strings.TrimSpace(part))
		}
	}
	return out
}
`},
}

// emitBind writes BindHTTP for one input structure. Body members are left
// alone: the HTTP layer decodes the body into the same value.
func (g *gen) emitBind(w *fileWriter, in *Shape, helpers map[string]bool) error {
	name := ShortName(in.ID)
	var body strings.Builder
	usesV := false
	line := func(format string, args ...any) {
		fmt.Fprintf(&body, format+"\n", args...)
	}
	var boundQuery []string
	for _, m := range in.Members {
		if b, err := memberBinding(in, m); err == nil && b.kind == bindQuery {
			boundQuery = append(boundQuery, b.name)
		}
	}
	for _, m := range in.Members {
		b, err := memberBinding(in, m)
		if err != nil {
			return err
		}
		if b.kind == bindBody || b.kind == bindResponseCode {
			continue
		}
		f, err := fieldName(in, m)
		if err != nil {
			return err
		}
		path, err := pathName(in, m)
		if err != nil {
			return err
		}
		target, err := g.m.Lookup(m.Target)
		if err != nil {
			return err
		}
		echo := !g.sensitive(target, m)
		where := fmt.Sprintf("%s$%s", in.ID, m.Name)
		switch b.kind {
		case bindLabel:
			line("if raw := pathValue(%q); raw != \"\" {", b.name)
			u, err := g.parseScalar(helpers, m.Target, path, echo, func(x string) string { return "s." + f + " = &" + x }, where)
			if err != nil {
				return err
			}
			usesV = usesV || u.usesV
			body.WriteString(u.code)
			line("}")
		case bindQuery, bindHeader:
			src := fmt.Sprintf("query[%q]", b.name)
			if b.kind == bindHeader {
				src = fmt.Sprintf("headerList(header, %q)", b.name)
				helpers["headerList"] = true
				if target.Type != "list" && target.Type != "set" {
					src = fmt.Sprintf("header.Values(%q)", b.name)
				}
			}
			if target.Type == "list" || target.Type == "set" {
				elem, err := g.goType(target.Member.Target)
				if err != nil {
					return err
				}
				line("if vs := %s; len(vs) > 0 {", src)
				if elem == "string" {
					line("s.%s = append([]string(nil), vs...)", f)
					line("}")
					continue
				}
				line("s.%s = make([]%s, 0, len(vs))", f, elem)
				line("for _, raw := range vs {")
				u, err := g.parseScalar(helpers, target.Member.Target, path, echo, func(x string) string { return "s." + f + " = append(s." + f + ", " + x + ")" }, where)
				if err != nil {
					return err
				}
				usesV = usesV || u.usesV
				body.WriteString(u.code)
				line("}")
				line("}")
				continue
			}
			line("if vs := %s; len(vs) > 0 {", src)
			line("raw := vs[0]")
			u, err := g.parseScalar(helpers, m.Target, path, echo, func(x string) string { return "s." + f + " = &" + x }, where)
			if err != nil {
				return err
			}
			usesV = usesV || u.usesV
			body.WriteString(u.code)
			line("}")
		case bindQueryParams:
			t, err := g.goType(m.Target)
			if err != nil {
				return err
			}
			var val string
			switch t {
			case "map[string]string":
				val = "vs[0]"
			case "map[string][]string":
				val = "vs"
			default:
				return fmt.Errorf("%s: httpQueryParams of type %s is not supported", where, t)
			}
			// Members bound with httpQuery take precedence (Smithy spec).
			line("for k, vs := range query {")
			if len(boundQuery) > 0 {
				q := make([]string, len(boundQuery))
				for i, n := range boundQuery {
					q[i] = fmt.Sprintf("%q", n)
				}
				line("switch k { case %s: continue }", strings.Join(q, ", "))
			}
			line("if len(vs) == 0 { continue }")
			line("if s.%s == nil { s.%s = %s{} }", f, f, t)
			line("s.%s[k] = %s", f, val)
			line("}")
		case bindPrefixHeader:
			t, err := g.goType(m.Target)
			if err != nil {
				return err
			}
			if t != "map[string]string" {
				return fmt.Errorf("%s: httpPrefixHeaders of type %s is not supported", where, t)
			}
			line("for k, vs := range header {")
			line("if len(vs) == 0 || len(k) < %d || !strings.EqualFold(k[:%d], %q) { continue }", len(b.name), len(b.name), b.name)
			line("if s.%s == nil { s.%s = map[string]string{} }", f, f)
			line("s.%s[k[%d:]] = vs[0]", f, len(b.name))
			line("}")
			w.use("strings")
		}
	}
	w.p("// BindHTTP fills the URI, query and header members of %s.", name)
	if body.Len() == 0 {
		w.p("func (s *%s) BindHTTP(pathValue func(string) string, query url.Values, header http.Header) error {", name)
		w.p("return nil")
		w.p("}\n")
		return nil
	}
	w.p("func (s *%s) BindHTTP(pathValue func(string) string, query url.Values, header http.Header) error {", name)
	if usesV {
		w.p("var v violations")
	}
	w.body.WriteString(body.String())
	if usesV {
		w.p("return v.err()")
	} else {
		w.p("return nil")
	}
	w.p("}\n")
	return nil
}

type parsed struct {
	code  string
	usesV bool
}

// parseScalar converts the string variable raw to the target's Go type and
// stores it with assign(variable); a value that does not parse becomes a
// violation instead.
func (g *gen) parseScalar(helpers map[string]bool, target, path string, echo bool, assign func(string) string, where string) (parsed, error) {
	t, err := g.goType(target)
	if err != nil {
		return parsed{}, err
	}
	switch t {
	case "string":
		return parsed{code: assign("raw") + "\n"}, nil
	case "int8", "int16", "int32", "int64":
		bits := strings.TrimPrefix(t, "int")
		helpers["bindInt"] = true
		return parsed{usesV: true, code: fmt.Sprintf("if n, ok := bindInt(&v, %q, raw, %t, %s); ok {\nx := %s(n)\n%s\n}\n", path, echo, bits, t, assign("x"))}, nil
	case "float64":
		helpers["bindFloat"] = true
		return parsed{usesV: true, code: fmt.Sprintf("if x, ok := bindFloat(&v, %q, raw, %t); ok {\n%s\n}\n", path, echo, assign("x"))}, nil
	case "bool":
		helpers["bindBool"] = true
		return parsed{usesV: true, code: fmt.Sprintf("if x, ok := bindBool(&v, %q, raw, %t); ok {\n%s\n}\n", path, echo, assign("x"))}, nil
	}
	return parsed{}, fmt.Errorf("%s: binding a %s to HTTP is not supported", where, t)
}
