package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/guardpost/guardpost"
)

// ---- ListFindings with criteria ----

func compile(t *testing.T, c guardpost.Criteria) []guardpost.Criterion {
	t.Helper()
	where, err := guardpost.CompileCriteria(c)
	must(t, err, "CompileCriteria")
	return where
}

func i64(v int64) *int64 { return &v }

// listWhere pages through a listing with criteria, pageSize at a time, and
// returns its cursors.
func listWhere(t *testing.T, st guardpost.Store, det string, sort *guardpost.SortCriteria, where []guardpost.Criterion, pageSize int) []guardpost.FindingCursor {
	t.Helper()
	var out []guardpost.FindingCursor
	q := guardpost.FindingQuery{Sort: sort, Limit: pageSize, Where: where}
	for range 1000 {
		page, err := st.ListFindings(context.Background(), visOf(scopeA, det), q)
		must(t, err, "ListFindings")
		out = append(out, page...)
		if len(page) < pageSize {
			return out
		}
		q.After = &page[len(page)-1]
	}
	t.Fatal("listing does not end")
	return nil
}

// matching is what a listing with where must return: the findings Match
// keeps, in the listing's order.
func matching(fs []*guardpost.Finding, sort *guardpost.SortCriteria, where []guardpost.Criterion) []guardpost.FindingCursor {
	var kept []*guardpost.Finding
	for _, f := range fs {
		if guardpost.Match(where, f.Attributes) {
			kept = append(kept, f)
		}
	}
	return expected(kept, sort)
}

func cursorIDs(cs []guardpost.FindingCursor) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func (s *suite) listCriteria(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	nic := func(ip string) map[string]any {
		return map[string]any{"networkInterfaceId": "eni-" + ip, "privateIpAddress": ip}
	}
	docs := []doc{
		newDoc(scopeA, det, "f1").set("severity", 2).set("updatedAt", guardpost.ISOTime(t0)),
		newDoc(scopeA, det, "f2").set("type", typeBitcoin).set("severity", 8).set("updatedAt", guardpost.ISOTime(t0.Add(time.Hour))).
			set("resource.instanceDetails.networkInterfaces", []any{nic("10.0.0.1"), nic("10.0.0.2")}).
			set("resource.instanceDetails.tags", []any{map[string]any{"key": "env", "value": "prod"}, map[string]any{"key": "team", "value": "a[b]"}}),
		newDoc(scopeA, det, "f3").set("type", "Trojan:EC2/BlackholeTraffic").set("severity", 7).set("updatedAt", guardpost.ISOTime(t0.Add(2*time.Hour))).
			set("resource.instanceDetails.networkInterfaces", []any{nic("10.0.0.3")}).
			set("resource.instanceDetails.tags", []any{map[string]any{"key": "env", "value": "dev"}}),
		newDoc(scopeA, det, "f4").set("type", typeBitcoin).set("severity", 5.5).set("updatedAt", guardpost.ISOTime(t0.Add(3*time.Hour))),
	}
	var fs []*guardpost.Finding
	for _, d := range docs {
		fs = append(fs, d.finding(t))
	}
	must(t, mergeAll(ctx, st, fs, nil), "MergeFindings")
	ms := t0.Add(time.Hour).UnixMilli()
	cases := []struct {
		name string
		c    guardpost.Criteria
		want []string
	}{
		{"type equals", guardpost.Criteria{"type": {Equals: []string{typeBitcoin, "Trojan:EC2/BlackholeTraffic"}}}, []string{"f2", "f3", "f4"}},
		{"type notEquals", guardpost.Criteria{"type": {NotEquals: []string{typeBitcoin}}}, []string{"f1", "f3"}},
		{"type matches *", guardpost.Criteria{"type": {Matches: []string{"*:EC2/B*"}}}, []string{"f2", "f3", "f4"}},
		{"type matches ?", guardpost.Criteria{"type": {Matches: []string{"Recon:EC?/*"}}}, []string{"f1"}},
		{"type notMatches", guardpost.Criteria{"type": {NotMatches: []string{"*Bitcoin*"}}}, []string{"f1", "f3"}},
		{"severity gte lt", guardpost.Criteria{"severity": {GreaterThanOrEqual: i64(5), LessThan: i64(8)}}, []string{"f3", "f4"}},
		{"severity equals", guardpost.Criteria{"severity": {Equals: []string{"5.5", "2"}}}, []string{"f1", "f4"}},
		{"updatedAt greaterThan", guardpost.Criteria{"updatedAt": {GreaterThan: i64(ms)}}, []string{"f3", "f4"}},
		{"updatedAt equals ms", guardpost.Criteria{"updatedAt": {Equals: []string{fmt.Sprint(ms)}}}, []string{"f2"}},
		{"nic equals second", guardpost.Criteria{"resource.instanceDetails.networkInterfaces.privateIpAddress": {Equals: []string{"10.0.0.2"}}}, []string{"f2"}},
		{"nic notEquals", guardpost.Criteria{"resource.instanceDetails.networkInterfaces.privateIpAddress": {NotEquals: []string{"10.0.0.1"}}}, []string{"f1", "f3", "f4"}},
		{"nic matches", guardpost.Criteria{"resource.instanceDetails.networkInterfaces.privateIpAddress": {Matches: []string{"10.0.0.?"}}}, []string{"f2", "f3"}},
		{"tag value equals", guardpost.Criteria{"resource.instanceDetails.tags.value": {Equals: []string{"prod"}}}, []string{"f2"}},
		{"tag matches bracket", guardpost.Criteria{"resource.instanceDetails.tags.value": {Matches: []string{"a[b]"}}}, []string{"f2"}},
		{"tag notMatches", guardpost.Criteria{"resource.instanceDetails.tags.value": {NotMatches: []string{"d*"}}}, []string{"f1", "f2", "f4"}},
		{"two attributes", guardpost.Criteria{"type": {Equals: []string{typeBitcoin}}, "severity": {GreaterThan: i64(6)}}, []string{"f2"}},
	}
	for _, c := range cases {
		where := compile(t, c.c)
		got := cursorIDs(listWhere(t, st, det, nil, where, 100))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		if m := cursorIDs(matching(fs, nil, where)); !slices.Equal(m, c.want) {
			t.Errorf("%s: Match keeps %v, want %v", c.name, m, c.want)
		}
	}

	// Rewrites keep the attribute rows current.
	must(t, updateAll(ctx, st, scopeA, det, []string{"f1"}, func(f *guardpost.Finding) (*guardpost.Finding, error) {
		return newDoc(scopeA, det, "f1").set("type", typeBitcoin).set("severity", 2).finding(t), nil
	}), "UpdateFindings")
	got := cursorIDs(listWhere(t, st, det, nil, compile(t, guardpost.Criteria{"type": {Equals: []string{typeBitcoin}}}), 100))
	if want := []string{"f1", "f2", "f4"}; !slices.Equal(got, want) {
		t.Errorf("after UpdateFindings: got %v, want %v", got, want)
	}
	got = cursorIDs(listWhere(t, st, det, nil, compile(t, guardpost.Criteria{"type": {Equals: []string{typeProbe}}}), 100))
	if len(got) != 0 {
		t.Errorf("after UpdateFindings, old type still matches %v", got)
	}
}

// listCriteriaMatch compares listings with criteria against Match over
// generated findings, in several orders and page sizes.
func (s *suite) listCriteriaMatch(t *testing.T) {
	st, det := s.withDetector(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	types := []string{typeProbe, typeBitcoin, "Trojan:EC2/BlackholeTraffic", "UnauthorizedAccess:IAMUser/TorIPCaller"}
	var fs []*guardpost.Finding
	for i := range 200 {
		d := newDoc(scopeA, det, fmt.Sprintf("g%03d", i)).
			set("type", types[r.IntN(len(types))]).
			set("severity", float64(r.IntN(80))/10+1).
			set("updatedAt", guardpost.ISOTime(t0.Add(time.Duration(r.IntN(100))*time.Minute)))
		if n := r.IntN(4); n > 0 {
			var nics []any
			for range n {
				nics = append(nics, map[string]any{"privateIpAddress": fmt.Sprintf("10.0.%d.%d", r.IntN(3), r.IntN(10))})
			}
			d.set("resource.instanceDetails.networkInterfaces", nics)
		}
		if r.IntN(2) == 0 {
			d.set(attrRemotePort, r.IntN(5)*100)
		}
		fs = append(fs, d.finding(t))
	}
	must(t, mergeAll(ctx, st, fs, nil), "MergeFindings")
	mid := t0.Add(50 * time.Minute).UnixMilli()
	ip := "resource.instanceDetails.networkInterfaces.privateIpAddress"
	criteria := []guardpost.Criteria{
		{"type": {Equals: []string{typeBitcoin, typeProbe}}},
		{"type": {NotMatches: []string{"*Tor*"}}, "severity": {GreaterThanOrEqual: i64(5)}},
		{"severity": {GreaterThan: i64(3), LessThanOrEqual: i64(7)}},
		{"updatedAt": {LessThan: i64(mid)}, "type": {Matches: []string{"Recon:*", "*Tool.?!DNS"}}},
		{ip: {Equals: []string{"10.0.1.5", "10.0.2.7"}}},
		{ip: {NotEquals: []string{"10.0.0.1"}, Matches: []string{"10.0.?.*"}}},
		{ip: {NotMatches: []string{"10.0.2.*"}}},
		{attrRemotePort: {Equals: []string{"200", "300"}}},
		{attrRemotePort: {NotEquals: []string{"0"}}, "severity": {LessThan: i64(4)}},
		{"service.archived": {Equals: []string{"false"}}},
	}
	sorts := []*guardpost.SortCriteria{nil, {Attribute: attr(t, "severity"), Descending: true}, {Attribute: attr(t, attrRemotePort)}}
	for i, c := range criteria {
		where := compile(t, c)
		for _, sort := range sorts {
			want := matching(fs, sort, where)
			for _, size := range []int{7, 500} {
				got := listWhere(t, st, det, sort, where, size)
				sameCursors(t, got, want, fmt.Sprintf("criteria %d %v, sort %v, page %d", i, c, sort, size))
			}
		}
	}
}
