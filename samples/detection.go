package samples

import (
	"fmt"
	"strings"
	"time"
)

// service.detection: the unusual behaviour behind an anomaly-detection
// finding, or the attack sequence behind an Extended Threat Detection one.

func frequency(subtype string, observed ...string) obj {
	return obj{"profileType": "FREQUENCY", "profileSubtype": subtype, "observations": obj{"text": toArr(observed)}}
}

// anomaly: the call was unusual for the identity in what it asked for
// (feature, e.g. "api") and where it came from; usual is what the identity
// normally does.
func anomaly(feature, unusual, usual string) detail {
	return func(b *build) {
		r := b.remote()
		b.service["detection"] = obj{"anomaly": obj{
			"profiles": obj{
				"ACCOUNT": obj{
					feature: arr{frequency("FREQUENT", usual)},
					"asn":   arr{frequency("FREQUENT", "16509")},
				},
				"USER": obj{
					feature:     arr{frequency("INFREQUENT", usual)},
					"userAgent": arr{frequency("FREQUENT", "console.amazonaws.com")},
				},
			},
			"unusual": obj{"behavior": obj{
				"USER": obj{
					feature: frequency("UNSEEN", unusual),
					"asn":   frequency("RARE", r.asn),
				},
			}},
		}}
	}
}

// seqResource is a resource of an attack sequence (ResourceV2).
type seqResource struct {
	kind string // ResourceV2 resourceType
	uid  string
	data obj
}

// sequence: GuardDuty correlated signals into an attack sequence. signals
// are the finding types it joined, or "api:Name" for a CloudTrail event, in
// the order they happened; tactics are the MITRE tactics they cover.
func sequence(description string, resources func(b *build) []seqResource, tactics []string, signals ...string) detail {
	return func(b *build) {
		r := b.remote()
		actor := "actor-" + b.hexID(0xc1, 8)
		endpoint := r.ip
		seqRes := resources(b)
		uids := arr{}
		res := arr{}
		for _, x := range seqRes {
			uids = append(uids, x.uid)
			res = append(res, obj{
				"uid":            x.uid,
				"name":           x.uid,
				"accountId":      b.p.AccountID,
				"resourceType":   x.kind,
				"region":         b.p.Region,
				"service":        serviceOf(x.kind),
				"cloudPartition": b.p.Partition,
				"tags":           tags("Environment", "production"),
				"data":           x.data,
			})
		}
		var sigs arr
		for i, s := range signals {
			kind, name := "FINDING", s
			if api, ok := strings.CutPrefix(s, "api:"); ok {
				kind, name = "CLOUD_TRAIL", api
			}
			seen := b.ago(time.Duration(len(signals)-i) * 20 * time.Minute)
			sig := obj{
				"uid":          fmt.Sprintf("%s-signal-%d", b.hexID(0xc2, 8), i+1),
				"type":         kind,
				"name":         name,
				"description":  "Signal observed as part of the sequence: " + name,
				"createdAt":    epoch(seen),
				"updatedAt":    epoch(seen.Add(time.Minute)),
				"firstSeenAt":  epoch(seen.Add(-5 * time.Minute)),
				"lastSeenAt":   epoch(seen),
				"count":        1 + i,
				"resourceUids": uids[:1],
				"actorIds":     arr{actor},
				"endpointIds":  arr{endpoint},
				"signalIndicators": arr{obj{
					"key": "ATTACK_TACTIC", "title": "MITRE tactic", "values": arr{tactics[i%len(tactics)]},
				}},
			}
			if kind == "FINDING" {
				sig["severity"] = high
			}
			sigs = append(sigs, sig)
		}
		b.service["detection"] = obj{"sequence": obj{
			"uid":         b.arn("guardduty", "detector/"+b.p.DetectorID+"/finding/"+b.p.FindingID),
			"description": description,
			"actors": arr{obj{
				"id": actor,
				"user": obj{
					"name":          "sample-user",
					"uid":           "AIDACKCEVSQ6C2EXAMPLE",
					"type":          "IAMUser",
					"credentialUid": "ASIAIOSFODNN7EXAMPLE",
					"account":       obj{"uid": b.p.AccountID, "account": "production"},
				},
				"session": obj{
					"uid":         "AROAIOSFODNN7EXAMPLE:sample-session",
					"mfaStatus":   "DISABLED",
					"createdTime": epoch(b.ago(4 * time.Hour)),
					"issuer":      b.globalARN("iam", b.p.AccountID, "role/sample-role"),
				},
			}},
			"resources": res,
			"endpoints": arr{obj{
				"id": endpoint,
				"ip": r.ip,
				"location": obj{
					"city": r.city, "country": r.country, "lat": r.lat, "lon": r.lon,
				},
				"autonomousSystem": obj{"name": r.org, "number": asnNumber(r.asn)},
			}},
			"signals": sigs,
			"sequenceIndicators": arr{
				obj{"key": "ATTACK_TACTIC", "title": "MITRE tactics", "values": toArr(tactics)},
				obj{"key": "MALICIOUS_IP", "title": "Known malicious IP", "values": arr{r.ip}},
			},
			"additionalSequenceTypes": arr{},
		}}
	}
}

func asnNumber(asn string) int {
	n := 0
	fmt.Sscan(asn, &n)
	return n
}

func serviceOf(kind string) string {
	switch kind {
	case "EC2_INSTANCE", "EC2_NETWORK_INTERFACE", "EC2_VPC", "EC2_IMAGE", "EC2_LAUNCH_TEMPLATE":
		return "ec2"
	case "S3_BUCKET", "S3_OBJECT":
		return "s3"
	case "ACCESS_KEY", "IAM_INSTANCE_PROFILE":
		return "iam"
	case "EKS_CLUSTER", "KUBERNETES_WORKLOAD":
		return "eks"
	case "ECS_CLUSTER", "ECS_TASK", "CONTAINER":
		return "ecs"
	case "AUTOSCALING_AUTO_SCALING_GROUP":
		return "autoscaling"
	}
	return "other"
}

// The resources of each attack sequence.

func seqAccessKey(b *build) []seqResource {
	return []seqResource{{"ACCESS_KEY", "ASIAIOSFODNN7EXAMPLE", obj{"accessKey": obj{
		"principalId": "AIDACKCEVSQ6C2EXAMPLE", "userName": "sample-user", "userType": "IAMUser",
	}}}}
}

func seqBucket(b *build) []seqResource {
	access := obj{
		"publicAclAccess": "BLOCKED", "publicPolicyAccess": "BLOCKED",
		"publicAclIgnoreBehavior": "IGNORED", "publicBucketRestrictBehavior": "RESTRICTED",
	}
	return append([]seqResource{{"S3_BUCKET", b.globalARN("s3", "", b.bucketName()), obj{"s3Bucket": obj{
		"ownerId":             "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
		"createdAt":           epoch(b.ago(400 * 24 * time.Hour)),
		"encryptionType":      "SSE-KMS",
		"encryptionKeyArn":    b.arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
		"effectivePermission": "NOT_PUBLIC",
		"publicReadAccess":    "BLOCKED",
		"publicWriteAccess":   "BLOCKED",
		"accountPublicAccess": access,
		"bucketPublicAccess":  access,
		"s3ObjectUids":        arr{b.globalARN("s3", "", b.bucketName()+"/exports/customers.csv")},
	}}}}, seqAccessKey(b)...)
}

func seqEKS(b *build) []seqResource {
	container := b.hexID(0x41, 16)
	return []seqResource{
		{"EKS_CLUSTER", b.arn("eks", "cluster/"+b.clusterName()), obj{"eksCluster": obj{
			"arn": b.arn("eks", "cluster/"+b.clusterName()), "createdAt": epoch(b.ago(200 * 24 * time.Hour)),
			"status": "ACTIVE", "vpcId": "vpc-99999999", "ec2InstanceUids": arr{b.instanceID()},
		}}},
		{"KUBERNETES_WORKLOAD", "default/web-frontend", obj{"kubernetesWorkload": obj{
			"containerUids": arr{container}, "namespace": "default", "type": "DEPLOYMENTS",
		}}},
		{"CONTAINER", container, obj{"container": obj{"image": "public.ecr.aws/nginx/nginx:1.27", "imageUid": "sha256:" + sha256Of("nginx")}}},
	}
}

func seqECS(b *build) []seqResource {
	container := b.hexID(0x41, 16)
	cluster := b.arn("ecs", "cluster/sample-ecs-"+b.hexID(0x51, 4))
	return []seqResource{
		{"ECS_CLUSTER", cluster, obj{"ecsCluster": obj{"status": "ACTIVE", "ec2InstanceUids": arr{}}}},
		{"ECS_TASK", cluster + "/task", obj{"ecsTask": obj{
			"createdAt": epoch(b.ago(6 * time.Hour)), "taskDefinitionArn": b.arn("ecs", "task-definition/checkout:12"),
			"launchType": "FARGATE", "containerUids": arr{container},
		}}},
		{"CONTAINER", container, obj{"container": obj{"image": "public.ecr.aws/docker/library/python:3.12-slim"}}},
	}
}

func seqInstances(b *build) []seqResource {
	first, second := b.instanceID(), "i-9999"+b.hexID(0xc3, 4)
	instance := func(id string) seqResource {
		return seqResource{"EC2_INSTANCE", id, obj{"ec2Instance": obj{
			"availabilityZone": b.p.Region + "a",
			"instanceState":    "running",
			"instanceType":     "c6i.xlarge",
			"imageDescription": "Amazon Linux 2023 AMI",
			"platform":         "Linux/UNIX",
			"IamInstanceProfile": obj{
				"arn": b.globalARN("iam", b.p.AccountID, "instance-profile/app-server-profile"),
				"id":  "AIPAIOSFODNN7EXAMPLE",
			},
			"productCodes":            arr{},
			"ec2NetworkInterfaceUids": arr{"eni-" + strings.TrimPrefix(id, "i-")},
		}}}
	}
	both := arr{first, second}
	return []seqResource{
		instance(first),
		instance(second),
		{"IAM_INSTANCE_PROFILE", b.globalARN("iam", b.p.AccountID, "instance-profile/app-server-profile"),
			obj{"iamInstanceProfile": obj{"ec2InstanceUids": both}}},
		{"AUTOSCALING_AUTO_SCALING_GROUP", "app-server-asg", obj{"autoscalingAutoScalingGroup": obj{"ec2InstanceUids": both}}},
	}
}
