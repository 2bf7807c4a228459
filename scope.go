// Package guardpost is the domain of a GuardDuty-compatible findings service:
// detectors, findings and the rules that govern them. It imports no
// transport and no SQL; stores and the HTTP API are built around it.
package guardpost

import "strings"

// Scope is the tenancy boundary: every stored row belongs to one account in
// one region, taken from the verified SigV4 credential scope.
type Scope struct {
	AccountID string
	Region    string
}

// Partition returns the AWS partition a region belongs to.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	default:
		return "aws"
	}
}
