package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/guardduty/types"
)

// An op is one of the bench's named operations. Each runs on its own for
// --duration, through the SDK or (--raw) as signed bytes. The request is
// written once, in the wire form (the JSON body the SDK would send): the
// raw client sends it as it is, and the SDK mode decodes it into the SDK's
// input struct (encoding/json matches the wire's camelCase names to the
// struct's fields), so both modes send the same request. TestOpBodies
// checks that against what the SDK puts on the wire.
type op struct {
	mix  string // its --mix name
	name string // its row in the report
	call apiCall
	// body is the request body. It gets the worker's rng: GetFindings asks
	// for other ids each time.
	body func(q *queries, rng *rand.Rand) []byte
}

// apiCall is the GuardDuty operation an op calls.
type apiCall int

const (
	callGetFindings apiCall = iota
	callListFindings
	callStatistics
)

// path is the operation's URL path (restJson1 binding from the model).
func (c apiCall) path(detector string) string {
	switch c {
	case callGetFindings:
		return "/detector/" + detector + "/findings/get"
	case callListFindings:
		return "/detector/" + detector + "/findings"
	default:
		return "/detector/" + detector + "/findings/statistics"
	}
}

// queries are the values the ops ask for, picked from the loaded data when
// the run starts (pickQueries), so that they hit real findings whatever
// was loaded.
type queries struct {
	target
	// instanceID is resource.instanceDetails.instanceId of one finding:
	// generated findings each have their own, so equality is rare.
	instanceID string
	// pattern is a matches pattern: instanceID's first six characters and
	// a star ("i-00ab*"), about one instance finding in 256 of
	// guardpost-gen's.
	pattern string
}

// fixed is the body of an op whose requests are all the same.
func fixed(v any) func(*queries, *rand.Rand) []byte {
	b := mustJSON(v)
	return func(*queries, *rand.Rand) []byte { return b }
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

type jsonObject = map[string]any

func criterion(name string, cond jsonObject) jsonObject {
	return jsonObject{"criterion": jsonObject{name: cond}}
}

// ops are the bench's operations in report order.
var ops = []*op{
	{mix: "get-50", name: "GetFindings 50 ids by severity", call: callGetFindings,
		body: func(q *queries, rng *rand.Rand) []byte {
			return mustJSON(jsonObject{"findingIds": randomIDs(rng, q.ids, getBatch),
				"sortCriteria": jsonObject{"attributeName": "severity", "orderBy": "DESC"}})
		}},
	{mix: "get-1", name: "GetFindings 1 id", call: callGetFindings,
		body: func(q *queries, rng *rand.Rand) []byte {
			return mustJSON(jsonObject{"findingIds": randomIDs(rng, q.ids, 1)})
		}},
	{mix: "list-severity", name: "ListFindings severity>=5 updatedAt", call: callListFindings,
		body: func(q *queries, rng *rand.Rand) []byte {
			return listBody(criterion("severity", jsonObject{"greaterThanOrEqual": 5}), jsonObject{"attributeName": "updatedAt", "orderBy": "DESC"})
		}},
	{mix: "list-instance", name: "ListFindings instanceId equals", call: callListFindings,
		body: func(q *queries, rng *rand.Rand) []byte {
			return listBody(criterion("resource.instanceDetails.instanceId", jsonObject{"equals": []string{q.instanceID}}), nil)
		}},
	{mix: "list-matches", name: "ListFindings instanceId matches", call: callListFindings,
		body: func(q *queries, rng *rand.Rand) []byte {
			return listBody(criterion("resource.instanceDetails.instanceId", jsonObject{"matches": []string{q.pattern}}), nil)
		}},
	{mix: "stats-severity", name: "Statistics COUNT_BY_SEVERITY", call: callStatistics,
		body: fixed(jsonObject{"findingStatisticTypes": []string{"COUNT_BY_SEVERITY"}})},
	{mix: "stats-type", name: "Statistics FINDING_TYPE unarchived", call: callStatistics,
		body: fixed(jsonObject{"groupBy": "FINDING_TYPE", "findingCriteria": criterion("service.archived", jsonObject{"equals": []string{"false"}})})},
}

// listBody is the first page of 50: the raw mode does not read the
// answer, so it cannot follow nextToken; --mix list pages.
func listBody(criteria, sort jsonObject) []byte {
	body := jsonObject{"findingCriteria": criteria, "maxResults": pageSize}
	if sort != nil {
		body["sortCriteria"] = sort
	}
	return mustJSON(body)
}

// opsMix runs every op in turn.
const opsMix = "ops"

func opNames() []string {
	var names []string
	for _, o := range ops {
		names = append(names, o.mix)
	}
	return names
}

// selectOps returns the ops a --mix names: "ops" for all of them, or a
// comma-separated list of op names. ok is false for anything else (one of
// the SDK mixes, or a typo).
func selectOps(mix string) (selected []*op, ok bool) {
	if mix == opsMix {
		return ops, true
	}
	for _, name := range strings.Split(mix, ",") {
		i := slices.IndexFunc(ops, func(o *op) bool { return o.mix == name })
		if i < 0 {
			return nil, false
		}
		if !slices.Contains(selected, ops[i]) {
			selected = append(selected, ops[i])
		}
	}
	return selected, true
}

// callSDK sends an op's request through the SDK client.
func (o *op) callSDK(ctx context.Context, c *guardduty.Client, detector string, body []byte) error {
	var err error
	switch o.call {
	case callGetFindings:
		var in guardduty.GetFindingsInput
		if err = json.Unmarshal(body, &in); err == nil {
			in.DetectorId = &detector
			_, err = c.GetFindings(ctx, &in)
		}
	case callListFindings:
		var in guardduty.ListFindingsInput
		if err = json.Unmarshal(body, &in); err == nil {
			in.DetectorId = &detector
			_, err = c.ListFindings(ctx, &in)
		}
	case callStatistics:
		var in guardduty.GetFindingsStatisticsInput
		if err = json.Unmarshal(body, &in); err == nil {
			in.DetectorId = &detector
			_, err = c.GetFindingsStatistics(ctx, &in)
		}
	}
	return err
}

// randomIDs picks n distinct ids, or all of them if there are no more
// than n.
func randomIDs(rng *rand.Rand, known []string, n int) []string {
	if n >= len(known) {
		return slices.Clone(known)
	}
	picked := make(map[int]bool, n)
	ids := make([]string, 0, n)
	for len(ids) < n {
		i := rng.IntN(len(known))
		if !picked[i] {
			picked[i] = true
			ids = append(ids, known[i])
		}
	}
	return ids
}

// pickQueries finds the detector and what the ops ask for, through the
// API: up to maxKnownFindings ids (the first by id, which are random), and
// the instance id of the first of them, in that order, that has one.
func pickQueries(ctx context.Context, client *guardduty.Client) (*queries, error) {
	t, err := prepare(ctx, client, false)
	if err != nil {
		return nil, err
	}
	q := &queries{target: t}
	for batch := range slices.Chunk(t.ids, getBatch) {
		out, err := client.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: &t.detector, FindingIds: batch})
		if err != nil {
			return nil, fmt.Errorf("GetFindings: %w", err)
		}
		// GetFindings keeps the asked order.
		for _, f := range out.Findings {
			if id := instanceID(f); id != "" {
				q.instanceID = id
				break
			}
		}
		if q.instanceID != "" {
			break
		}
	}
	if q.instanceID == "" {
		return nil, errors.New("no finding has resource.instanceDetails.instanceId: load generated findings with --load N")
	}
	q.pattern = q.instanceID[:min(6, len(q.instanceID))] + "*"
	return q, nil
}

func instanceID(f types.Finding) string {
	if f.Resource == nil || f.Resource.InstanceDetails == nil {
		return ""
	}
	return aws.ToString(f.Resource.InstanceDetails.InstanceId)
}
