package sigv4

// partitions lists the regions of every AWS partition, as the AWS SDKs'
// partition data names them (the pseudo-regions "aws-global" and the like
// are endpoint names, never signing regions). A credential scope naming a
// region outside this list is refused, as a real endpoint refuses a scope
// for a region it does not serve.
var partitions = map[string][]string{
	"aws": {
		"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
		"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1",
		"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
		"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
		"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	},
	"aws-cn":     {"cn-north-1", "cn-northwest-1"},
	"aws-eusc":   {"eusc-de-east-1"},
	"aws-iso":    {"us-iso-east-1", "us-iso-west-1"},
	"aws-iso-b":  {"us-isob-east-1", "us-isob-west-1"},
	"aws-iso-e":  {"eu-isoe-west-1"},
	"aws-iso-f":  {"us-isof-east-1", "us-isof-south-1"},
	"aws-us-gov": {"us-gov-east-1", "us-gov-west-1"},
}

// regionPartition maps every known region to its partition.
var regionPartition = func() map[string]string {
	m := make(map[string]string)
	for p, regions := range partitions {
		for _, r := range regions {
			m[r] = p
		}
	}
	return m
}()

// KnownRegion tells whether region is a region of an AWS partition.
func KnownRegion(region string) bool {
	_, ok := regionPartition[region]
	return ok
}

// Partition returns the partition of a known region ("aws", "aws-cn",
// "aws-us-gov", ...), and "aws" for any other.
func Partition(region string) string {
	if p, ok := regionPartition[region]; ok {
		return p
	}
	return "aws"
}

// KnownPartition tells whether name is an AWS partition ("aws", "aws-cn", ...).
func KnownPartition(name string) bool {
	_, ok := partitions[name]
	return ok
}
