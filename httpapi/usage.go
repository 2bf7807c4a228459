package httpapi

import (
	"net/http"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/detect"
	"github.com/guardpost/guardpost/httpapi/wire"
)

// getUsageStatistics answers the statistic asked for. The unit selects
// what each total's amount is: USD (the default, the real service's only
// unit) the cost, always "0"; guardpost's BYTES and RECORDS the volumes
// actually analysed. Stock clients pass the unit string through.
func (s *Server) getUsageStatistics(req *request) (any, error) {
	in := input[*wire.GetUsageStatisticsRequest](req)
	q := guardpost.UsageQuery{Type: deref(in.UsageStatisticType), Unit: deref(in.Unit),
		MaxResults: int(deref(in.MaxResults)), NextToken: deref(in.NextToken)}
	if c := in.UsageCriteria; c != nil {
		q.AccountIDs, q.DataSources, q.Features, q.Resources = c.AccountIds, c.DataSources, c.Features, c.Resources
	}
	st, err := s.service.GetUsageStatistics(req.ctx, req.scope, deref(in.DetectorId), q)
	if err != nil {
		return nil, err
	}
	total := func(r guardpost.UsageRow) *wire.Total { return &wire.Total{Amount: ptr(r.Amount), Unit: ptr(st.Unit)} }
	// The asked statistic is a list, empty when nothing was analysed; the
	// others are absent (null), as the real service answers.
	out := &wire.UsageStatistics{}
	switch st.Type {
	case guardpost.UsageSumByAccount:
		out.SumByAccount = []wire.UsageAccountResult{}
	case guardpost.UsageSumByDataSource:
		out.SumByDataSource = []wire.UsageDataSourceResult{}
	case guardpost.UsageSumByFeatures:
		out.SumByFeature = []wire.UsageFeatureResult{}
	case guardpost.UsageSumByResource:
		out.SumByResource = []wire.UsageResourceResult{}
	case guardpost.UsageTopResources:
		out.TopResources = []wire.UsageResourceResult{}
	case guardpost.UsageTopAccountsByFeature:
		out.TopAccountsByFeature = []wire.UsageTopAccountsResult{}
	}
	for _, r := range st.Rows {
		switch st.Type {
		case guardpost.UsageSumByAccount:
			out.SumByAccount = append(out.SumByAccount, wire.UsageAccountResult{AccountId: ptr(r.Key), Total: total(r)})
		case guardpost.UsageSumByDataSource:
			out.SumByDataSource = append(out.SumByDataSource, wire.UsageDataSourceResult{DataSource: ptr(r.Key), Total: total(r)})
		case guardpost.UsageSumByFeatures:
			out.SumByFeature = append(out.SumByFeature, wire.UsageFeatureResult{Feature: ptr(r.Key), Total: total(r)})
		case guardpost.UsageSumByResource:
			out.SumByResource = append(out.SumByResource, wire.UsageResourceResult{Resource: ptr(r.Key), Total: total(r)})
		case guardpost.UsageTopResources:
			out.TopResources = append(out.TopResources, wire.UsageResourceResult{Resource: ptr(r.Key), Total: total(r)})
		case guardpost.UsageTopAccountsByFeature:
			n := len(out.TopAccountsByFeature)
			if n == 0 || deref(out.TopAccountsByFeature[n-1].Feature) != r.Feature {
				out.TopAccountsByFeature = append(out.TopAccountsByFeature, wire.UsageTopAccountsResult{Feature: ptr(r.Feature)})
				n++
			}
			top := &out.TopAccountsByFeature[n-1]
			top.Accounts = append(top.Accounts, wire.UsageTopAccountResult{AccountId: ptr(r.Key), Total: total(r)})
		}
	}
	resp := &wire.GetUsageStatisticsResponse{UsageStatistics: out}
	if st.NextToken != "" {
		resp.NextToken = &st.NextToken
	}
	return resp, nil
}

// recordUsage adds what an ingest analysed (report.Analysed: per
// detector, data source, records and bytes) to the detectors' usage,
// dated now. The CloudTrail, VPC Flow Logs and DNS ingests call it once
// their findings are written. A failure is logged, not answered: the
// findings are durable, and an error would have the client send the logs
// again and count their occurrences twice. A detector deleted meanwhile
// has no usage to add to.
func (s *Server) recordUsage(r *http.Request, report detect.Report, now time.Time) {
	if report.Usage != nil {
		if err := report.Usage.Record(r.Context(), s.service, now); err != nil {
			s.log.ErrorContext(r.Context(), "usage not recorded", "dataSource", report.Usage.Feature, "err", err)
		}
		return
	}
	for _, a := range report.Analysed {
		if a.Records == 0 {
			continue
		}
		err := s.service.RecordUsage(r.Context(), a.Scope, a.DetectorID, now,
			[]guardpost.UsageRecord{{Feature: a.DataSource, Records: a.Records, Bytes: a.Bytes}})
		if err != nil && guardpost.ErrorKind(err) != guardpost.ENOTFOUND {
			s.log.ErrorContext(r.Context(), "usage not recorded", "account", a.Scope.AccountID, "detector", a.DetectorID,
				"dataSource", a.DataSource, "records", a.Records, "bytes", a.Bytes, "err", err)
		}
	}
}

// getRemainingFreeTrialDays answers as a free service would: every data
// source and feature of the caller and of the members it administers has
// the trial's full 30 days left, always. Other accounts are unprocessed.
func (s *Server) getRemainingFreeTrialDays(req *request) (any, error) {
	in := input[*wire.GetRemainingFreeTrialDaysRequest](req)
	ids, unprocessedIDs, err := s.service.FreeTrialAccounts(req.ctx, req.scope, deref(in.DetectorId), in.AccountIds)
	if err != nil {
		return nil, err
	}
	days := func() *wire.DataSourceFreeTrial {
		return &wire.DataSourceFreeTrial{FreeTrialDaysRemaining: ptr(int32(guardpost.FreeTrialDays))}
	}
	out := &wire.GetRemainingFreeTrialDaysResponse{Accounts: []wire.AccountFreeTrialInfo{}, UnprocessedAccounts: unprocessed(unprocessedIDs)}
	for _, id := range ids {
		a := wire.AccountFreeTrialInfo{AccountId: ptr(id),
			DataSources: &wire.DataSourcesFreeTrial{
				CloudTrail: days(), DnsLogs: days(), FlowLogs: days(), S3Logs: days(),
				Kubernetes:        &wire.KubernetesDataSourceFreeTrial{AuditLogs: days()},
				MalwareProtection: &wire.MalwareProtectionDataSourceFreeTrial{ScanEc2InstanceWithFindings: days()},
			}}
		for _, f := range wire.EnumValues["FreeTrialFeatureResult"] {
			a.Features = append(a.Features, wire.FreeTrialFeatureConfigurationResult{Name: ptr(f), FreeTrialDaysRemaining: ptr(int32(guardpost.FreeTrialDays))})
		}
		out.Accounts = append(out.Accounts, a)
	}
	return out, nil
}
