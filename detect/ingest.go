package detect

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/intel"
)

// Ingest analyses CloudTrail records on behalf of caller, whose detector
// in caller.Region analyses that region's records and the global-service
// events (see Record.Global). Records of another account are analysed by
// that account's detector when the caller administers the account, and
// rejected otherwise. managed is the managed threat intelligence (nil:
// none); lists answers for the detectors' own threat and trusted lists.
//
// Everything is analysed before anything is written, and each account's
// findings are written in one transaction of the findings pipeline
// (Service.WriteFindings): once Ingest returns, they are durable.
func Ingest(ctx context.Context, svc *guardpost.Service, managed *intel.Managed, caller guardpost.Scope, records []Record, now time.Time) (Report, error) {
	batches, rep, err := Route(ctx, svc, caller, "CLOUD_TRAIL", records, func(rec *Record) Origin {
		return Origin{Account: rec.RecipientAccountID, Region: rec.AWSRegion, Global: rec.Global(), Size: rec.size}
	})
	if err != nil {
		return Report{}, err
	}
	var out []Findings
	for _, b := range batches {
		scope, d := b.Scope, b.Detector
		l := &Lookups{CustomList: func(ip netip.Addr) (string, bool) {
			m, ok := svc.ThreatListIP(scope, d.ID, ip)
			return m.ListName, ok
		}}
		if managed != nil {
			l.TorExit = func(ip netip.Addr) bool { return managed.InCategory("tor-exit", ip) }
			l.Malicious = func(ip netip.Addr) bool { return managed.InCategory("malicious-ip", ip) }
			if managed.Len("aws-ip-ranges") > 0 {
				l.InAWS = func(ip netip.Addr) bool { return managed.InCategory("aws-ip-ranges", ip) }
			}
		}
		trusted := func(ip netip.Addr) bool { return svc.TrustedIP(scope, d.ID, ip) }
		w := Findings{Scope: scope, DetectorID: d.ID}
		records := b.Records
		if !FeatureEnabled(d, "S3_DATA_EVENTS") {
			records = slices.DeleteFunc(slices.Clone(records), (*Record).dataEvent)
		}
		for _, o := range Analyse(l, trusted, records) {
			b, err := json.Marshal(o.Document(scope.AccountID, caller.Region, d.ID, guardpost.NewID(), now))
			if err != nil {
				return Report{}, err
			}
			f, err := guardpost.ParseFinding(b)
			if err != nil {
				return Report{}, err
			}
			f.AggregationKey = o.Key
			f.Evidence, f.EvidenceSkipped = o.Evidence()
			w.Findings = append(w.Findings, f)
		}
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		out = append(out, w)
	}
	if err := Write(ctx, svc, out, &rep); err != nil {
		return Report{}, err
	}
	return rep, nil
}
