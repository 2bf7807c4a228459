package httpapi

import (
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/httpapi/wire"
)

func (s *Server) createDetector(req *request) (any, error) {
	in := input[*wire.CreateDetectorRequest](req)
	settings := detectorSettings(in.Enable, in.FindingPublishingFrequency, in.DataSources, in.Features)
	id, err := s.service.CreateDetector(req.ctx, req.scope, deref(in.ClientToken), settings, in.Tags)
	if err != nil {
		return nil, err
	}
	return &wire.CreateDetectorResponse{DetectorId: &id}, nil
}

func (s *Server) updateDetector(req *request) (any, error) {
	in := input[*wire.UpdateDetectorRequest](req)
	settings := detectorSettings(in.Enable, in.FindingPublishingFrequency, in.DataSources, in.Features)
	return nil, s.service.UpdateDetector(req.ctx, req.scope, deref(in.DetectorId), settings)
}

func (s *Server) deleteDetector(req *request) (any, error) {
	in := input[*wire.DeleteDetectorRequest](req)
	return nil, s.service.DeleteDetector(req.ctx, req.scope, deref(in.DetectorId))
}

func (s *Server) listDetectors(req *request) (any, error) {
	in := input[*wire.ListDetectorsRequest](req)
	ids, next, err := s.service.ListDetectors(req.ctx, req.scope, int(deref(in.MaxResults)), deref(in.NextToken))
	if err != nil {
		return nil, err
	}
	out := &wire.ListDetectorsResponse{DetectorIds: ids}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

func (s *Server) getDetector(req *request) (any, error) {
	in := input[*wire.GetDetectorRequest](req)
	d, err := s.service.GetDetector(req.ctx, req.scope, deref(in.DetectorId))
	if err != nil {
		return nil, err
	}
	return detectorResponse(d), nil
}

// detectorSettings folds the deprecated dataSources into features (the
// features list wins where both name the same protection).
func detectorSettings(enable *bool, freq *string, ds *wire.DataSourceConfigurations, features []wire.DetectorFeatureConfiguration) guardpost.DetectorSettings {
	st := guardpost.DetectorSettings{Enable: enable, FindingPublishingFrequency: deref(freq)}
	named := map[string]bool{}
	for _, f := range features {
		named[deref(f.Name)] = true
	}
	legacy := func(name string, on *bool) {
		if on != nil && !named[name] {
			st.Features = append(st.Features, guardpost.DetectorFeature{Name: name, Status: status(*on)})
		}
	}
	if ds != nil {
		if ds.S3Logs != nil {
			legacy("S3_DATA_EVENTS", ds.S3Logs.Enable)
		}
		if ds.Kubernetes != nil && ds.Kubernetes.AuditLogs != nil {
			legacy("EKS_AUDIT_LOGS", ds.Kubernetes.AuditLogs.Enable)
		}
		if ds.MalwareProtection != nil && ds.MalwareProtection.ScanEc2InstanceWithFindings != nil {
			legacy("EBS_MALWARE_PROTECTION", ds.MalwareProtection.ScanEc2InstanceWithFindings.EbsVolumes)
		}
	}
	for _, f := range features {
		df := guardpost.DetectorFeature{Name: deref(f.Name), Status: deref(f.Status)}
		for _, a := range f.AdditionalConfiguration {
			df.AdditionalConfiguration = append(df.AdditionalConfiguration, guardpost.FeatureConfiguration{Name: deref(a.Name), Status: deref(a.Status)})
		}
		st.Features = append(st.Features, df)
	}
	return st
}

func status(on bool) string {
	if on {
		return guardpost.DetectorEnabled
	}
	return guardpost.DetectorDisabled
}

func detectorResponse(d *guardpost.Detector) *wire.GetDetectorResponse {
	out := &wire.GetDetectorResponse{
		CreatedAt:                  ptr(guardpost.ISOTime(d.CreatedAt)),
		UpdatedAt:                  ptr(guardpost.ISOTime(d.UpdatedAt)),
		FindingPublishingFrequency: ptr(d.FindingPublishingFrequency),
		ServiceRole:                ptr(serviceRole(d)),
		Status:                     ptr(d.Status),
		Tags:                       d.Tags,
	}
	for _, f := range d.Features {
		wf := wire.DetectorFeatureConfigurationResult{Name: ptr(f.Name), Status: ptr(f.Status), UpdatedAt: timestamp(f.UpdatedAt)}
		for _, a := range f.AdditionalConfiguration {
			wf.AdditionalConfiguration = append(wf.AdditionalConfiguration, wire.DetectorAdditionalConfigurationResult{
				Name: ptr(a.Name), Status: ptr(a.Status), UpdatedAt: timestamp(a.UpdatedAt)})
		}
		out.Features = append(out.Features, wf)
	}
	featureStatus := func(name string) *string {
		f, _ := d.Feature(name)
		if f.Status == "" {
			return ptr(guardpost.DetectorDisabled)
		}
		return ptr(f.Status)
	}
	out.DataSources = &wire.DataSourceConfigurationsResult{
		CloudTrail: &wire.CloudTrailConfigurationResult{Status: featureStatus("CLOUD_TRAIL")},
		DNSLogs:    &wire.DNSLogsConfigurationResult{Status: featureStatus("DNS_LOGS")},
		FlowLogs:   &wire.FlowLogsConfigurationResult{Status: featureStatus("FLOW_LOGS")},
		S3Logs:     &wire.S3LogsConfigurationResult{Status: featureStatus("S3_DATA_EVENTS")},
		Kubernetes: &wire.KubernetesConfigurationResult{AuditLogs: &wire.KubernetesAuditLogsConfigurationResult{Status: featureStatus("EKS_AUDIT_LOGS")}},
		MalwareProtection: &wire.MalwareProtectionConfigurationResult{
			ScanEc2InstanceWithFindings: &wire.ScanEc2InstanceWithFindingsResult{EbsVolumes: &wire.EbsVolumesResult{Status: featureStatus("EBS_MALWARE_PROTECTION")}},
			ServiceRole:                 ptr(malwareServiceRole(d)),
		},
	}
	return out
}

func serviceRole(d *guardpost.Detector) string {
	return "arn:" + guardpost.Partition(d.Region) + ":iam::" + d.AccountID + ":role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty"
}

func malwareServiceRole(d *guardpost.Detector) string {
	return "arn:" + guardpost.Partition(d.Region) + ":iam::" + d.AccountID + ":role/aws-service-role/malware-protection.guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDutyMalwareProtection"
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func timestamp(t time.Time) *wire.Timestamp {
	if t.IsZero() {
		return nil
	}
	return &wire.Timestamp{Time: t}
}
