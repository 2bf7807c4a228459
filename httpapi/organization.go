package httpapi

import (
	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

func (s *Server) enableOrganizationAdminAccount(req *request) (any, error) {
	in := input[*wire.EnableOrganizationAdminAccountRequest](req)
	return nil, s.service.EnableOrganizationAdminAccount(req.ctx, req.scope, deref(in.AdminAccountId))
}

func (s *Server) disableOrganizationAdminAccount(req *request) (any, error) {
	in := input[*wire.DisableOrganizationAdminAccountRequest](req)
	return nil, s.service.DisableOrganizationAdminAccount(req.ctx, req.scope, deref(in.AdminAccountId))
}

func (s *Server) listOrganizationAdminAccounts(req *request) (any, error) {
	in := input[*wire.ListOrganizationAdminAccountsRequest](req)
	ids, next, err := s.service.ListOrganizationAdminAccounts(req.ctx, req.scope, int(deref(in.MaxResults)), deref(in.NextToken))
	if err != nil {
		return nil, err
	}
	out := &wire.ListOrganizationAdminAccountsResponse{AdminAccounts: make([]wire.AdminAccount, 0, len(ids))}
	for _, id := range ids {
		out.AdminAccounts = append(out.AdminAccounts, wire.AdminAccount{AdminAccountId: ptr(id), AdminStatus: ptr(guardpost.AdminStatusEnabled)})
	}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

// featureAutoEnable returns the named feature's autoEnable ("" when the
// organization has no such feature).
func featureAutoEnable(c *guardpost.OrganizationConfig, name string) string {
	for _, f := range c.Features {
		if f.Name == name {
			return f.AutoEnable
		}
	}
	return ""
}

func (s *Server) describeOrganizationConfiguration(req *request) (any, error) {
	in := input[*wire.DescribeOrganizationConfigurationRequest](req)
	c, err := s.service.DescribeOrganizationConfiguration(req.ctx, req.scope, deref(in.DetectorId))
	if err != nil {
		return nil, err
	}
	// The deprecated data sources mirror the features they became: a data
	// source is auto-enabled when its feature is for new accounts or all.
	on := func(feature string) *bool {
		v := featureAutoEnable(c, feature)
		return ptr(v == guardpost.AutoEnableNew || v == guardpost.AutoEnableAll)
	}
	out := &wire.DescribeOrganizationConfigurationResponse{
		AutoEnable:                    ptr(c.AutoEnable != guardpost.AutoEnableNone),
		AutoEnableOrganizationMembers: ptr(c.AutoEnable),
		MemberAccountLimitReached:     ptr(false),
		DataSources: &wire.OrganizationDataSourceConfigurationsResult{
			S3Logs:     &wire.OrganizationS3LogsConfigurationResult{AutoEnable: on("S3_DATA_EVENTS")},
			Kubernetes: &wire.OrganizationKubernetesConfigurationResult{AuditLogs: &wire.OrganizationKubernetesAuditLogsConfigurationResult{AutoEnable: on("EKS_AUDIT_LOGS")}},
			MalwareProtection: &wire.OrganizationMalwareProtectionConfigurationResult{ScanEc2InstanceWithFindings: &wire.OrganizationScanEc2InstanceWithFindingsResult{
				EbsVolumes: &wire.OrganizationEbsVolumesResult{AutoEnable: on("EBS_MALWARE_PROTECTION")}}},
		},
		Features: make([]wire.OrganizationFeatureConfigurationResult, 0, len(c.Features)),
	}
	for _, f := range c.Features {
		r := wire.OrganizationFeatureConfigurationResult{Name: ptr(f.Name), AutoEnable: ptr(f.AutoEnable)}
		for _, a := range f.Additional {
			r.AdditionalConfiguration = append(r.AdditionalConfiguration, wire.OrganizationAdditionalConfigurationResult{Name: ptr(a.Name), AutoEnable: ptr(a.AutoEnable)})
		}
		out.Features = append(out.Features, r)
	}
	return out, nil
}

// dataSourceFeature turns a deprecated data source's autoEnable into its
// feature's setting (true is NEW, as the deprecated autoEnable).
func dataSourceFeature(name string, autoEnable *bool) []guardpost.OrganizationFeature {
	if autoEnable == nil {
		return nil
	}
	v := guardpost.AutoEnableNone
	if *autoEnable {
		v = guardpost.AutoEnableNew
	}
	return []guardpost.OrganizationFeature{{Name: name, AutoEnable: v}}
}

func (s *Server) updateOrganizationConfiguration(req *request) (any, error) {
	in := input[*wire.UpdateOrganizationConfigurationRequest](req)
	upd := guardpost.OrganizationConfigUpdate{AutoEnable: in.AutoEnable, AutoEnableMembers: deref(in.AutoEnableOrganizationMembers)}
	if ds := in.DataSources; ds != nil {
		if ds.S3Logs != nil {
			upd.Features = append(upd.Features, dataSourceFeature("S3_DATA_EVENTS", ds.S3Logs.AutoEnable)...)
		}
		if ds.Kubernetes != nil && ds.Kubernetes.AuditLogs != nil {
			upd.Features = append(upd.Features, dataSourceFeature("EKS_AUDIT_LOGS", ds.Kubernetes.AuditLogs.AutoEnable)...)
		}
		if ds.MalwareProtection != nil && ds.MalwareProtection.ScanEc2InstanceWithFindings != nil && ds.MalwareProtection.ScanEc2InstanceWithFindings.EbsVolumes != nil {
			upd.Features = append(upd.Features, dataSourceFeature("EBS_MALWARE_PROTECTION", ds.MalwareProtection.ScanEc2InstanceWithFindings.EbsVolumes.AutoEnable)...)
		}
	}
	for _, f := range in.Features {
		of := guardpost.OrganizationFeature{Name: deref(f.Name), AutoEnable: deref(f.AutoEnable)}
		for _, a := range f.AdditionalConfiguration {
			of.Additional = append(of.Additional, guardpost.OrganizationAdditional{Name: deref(a.Name), AutoEnable: deref(a.AutoEnable)})
		}
		upd.Features = append(upd.Features, of)
	}
	return nil, s.service.UpdateOrganizationConfiguration(req.ctx, req.scope, deref(in.DetectorId), upd)
}

func (s *Server) getOrganizationStatistics(req *request) (any, error) {
	st, err := s.service.GetOrganizationStatistics(req.ctx, req.scope)
	if err != nil {
		return nil, err
	}
	stats := &wire.OrganizationStatistics{
		TotalAccountsCount:   ptr(int32(st.TotalAccounts)),
		MemberAccountsCount:  ptr(int32(st.MemberAccounts)),
		ActiveAccountsCount:  ptr(int32(st.ActiveAccounts)),
		EnabledAccountsCount: ptr(int32(st.EnabledAccounts)),
		CountByFeature:       make([]wire.OrganizationFeatureStatistics, 0, len(st.FeatureEnabled)),
	}
	for _, f := range st.FeatureEnabled {
		stats.CountByFeature = append(stats.CountByFeature, wire.OrganizationFeatureStatistics{Name: ptr(f.Name), EnabledAccountsCount: ptr(int32(f.Count))})
	}
	return &wire.GetOrganizationStatisticsResponse{OrganizationDetails: &wire.OrganizationDetails{
		UpdatedAt: &wire.Timestamp{Time: st.UpdatedAt}, OrganizationStatistics: stats,
	}}, nil
}
