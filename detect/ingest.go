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

// Report says what one ingest did.
type Report struct {
	Records  int // records read
	Accepted int // records of the caller's account, or an account it administers, for this region
	Rejected int // records of an account the caller may not analyse
	Skipped  int // records of another region (not global-service events)
	Created  int // findings created
	Updated  int // findings an occurrence was folded into
}

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
	rep := Report{Records: len(records)}
	byAccount := map[string][]*Record{}
	may := map[string]bool{caller.AccountID: true}
	for i := range records {
		rec := &records[i]
		ok, known := may[rec.RecipientAccountID]
		if !known {
			var err error
			if ok, err = svc.Administers(ctx, caller, rec.RecipientAccountID); err != nil {
				return Report{}, err
			}
			may[rec.RecipientAccountID] = ok
		}
		switch {
		case !ok:
			rep.Rejected++
		case rec.AWSRegion != caller.Region && !rec.Global():
			rep.Skipped++
		default:
			rep.Accepted++
			byAccount[rec.RecipientAccountID] = append(byAccount[rec.RecipientAccountID], rec)
		}
	}
	accounts := make([]string, 0, len(byAccount))
	for a := range byAccount {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)

	type write struct {
		scope      guardpost.Scope
		detectorID string
		findings   []*guardpost.Finding
	}
	var writes []write
	for _, account := range accounts {
		scope := guardpost.Scope{AccountID: account, Region: caller.Region}
		ds, err := svc.Store.Detectors(ctx, scope, "", 1)
		if err != nil {
			return Report{}, err
		}
		if len(ds) == 0 {
			if account == caller.AccountID {
				return Report{}, guardpost.Errorf(guardpost.EINVALID, "The request is rejected because account %s has no detector in %s. Create one (CreateDetector) before ingesting CloudTrail logs.", account, caller.Region)
			}
			// A member without a detector here: nothing analyses its records.
			rep.Accepted -= len(byAccount[account])
			rep.Rejected += len(byAccount[account])
			continue
		}
		d := ds[0]
		if !analysesCloudTrail(d) {
			continue
		}
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
		w := write{scope: scope, detectorID: d.ID}
		records := byAccount[account]
		if !featureEnabled(d, "S3_DATA_EVENTS") {
			records = slices.DeleteFunc(slices.Clone(records), (*Record).dataEvent)
		}
		for _, o := range Analyse(l, trusted, records) {
			b, err := json.Marshal(o.Document(account, caller.Region, d.ID, guardpost.NewID(), now))
			if err != nil {
				return Report{}, err
			}
			f, err := guardpost.ParseFinding(b)
			if err != nil {
				return Report{}, err
			}
			f.AggregationKey = o.Key
			w.findings = append(w.findings, f)
		}
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		writes = append(writes, w)
	}
	for _, w := range writes {
		if len(w.findings) == 0 {
			continue
		}
		wr, err := svc.WriteFindings(ctx, w.scope, w.detectorID, w.findings)
		if err != nil {
			return Report{}, err
		}
		rep.Created += len(wr.Created)
		rep.Updated += len(wr.Updated)
	}
	return rep, nil
}

// analysesCloudTrail reports whether the detector analyses CloudTrail
// management events: it is enabled and its CLOUD_TRAIL data source is.
func analysesCloudTrail(d *guardpost.Detector) bool {
	if d.Status != guardpost.DetectorEnabled {
		return false
	}
	return featureEnabled(d, "CLOUD_TRAIL")
}

// featureEnabled reports whether the detector's feature (data source) is
// on; a detector without the feature listed has it on.
func featureEnabled(d *guardpost.Detector, name string) bool {
	f, ok := d.Feature(name)
	return !ok || f.Status == guardpost.DetectorEnabled
}
