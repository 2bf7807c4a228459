package samples

import (
	"fmt"
	"strings"
	"time"
)

// The resource builders below give Finding.resource for each kind of
// affected resource. Identifiers follow the documentation conventions of
// the GuardDuty samples (i-99999999, example.com) with a few hex digits per
// finding type, and every ARN uses the finding's partition, region and
// account.

func tags(kv ...string) arr {
	out := arr{}
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, obj{"key": kv[i], "value": kv[i+1]})
	}
	return out
}

func (b *build) instanceID() string { return "i-9999" + b.hexID(0x11, 4) }

// instanceDetails describes the EC2 instance of the sample.
func (b *build) instanceDetails() obj {
	ip, public := b.privateIP(), b.publicIP()
	return obj{
		"instanceId":       b.instanceID(),
		"instanceType":     []string{"m5.large", "t3.medium", "c6i.xlarge", "r6g.large"}[b.pick(4, 6)],
		"instanceState":    "running",
		"availabilityZone": b.p.Region + "a",
		"imageId":          "ami-99999999",
		"imageDescription": "Amazon Linux 2023 AMI 2023.6.20241010.0 x86_64 HVM kernel-6.1",
		"launchTime":       isoTime(b.ago(41 * 24 * time.Hour)),
		"iamInstanceProfile": obj{
			"arn": b.globalARN("iam", b.p.AccountID, "instance-profile/app-server-profile"),
			"id":  "AIPAIOSFODNN7EXAMPLE",
		},
		"productCodes": arr{obj{"productCodeId": "6xv5jdr4vxuabzmcdd2ctn6ux", "productCodeType": "marketplace"}},
		"tags":         tags("Name", "app-server", "Environment", "production"),
		"networkInterfaces": arr{obj{
			"networkInterfaceId": "eni-" + strings.TrimPrefix(b.instanceID(), "i-"),
			"ipv6Addresses":      arr{},
			"privateDnsName":     b.privateDNS(),
			"privateIpAddress":   ip,
			"privateIpAddresses": arr{obj{"privateDnsName": b.privateDNS(), "privateIpAddress": ip}},
			"publicDnsName":      fmt.Sprintf("ec2-%s.%s.compute.amazonaws.com", dashed(public), b.p.Region),
			"publicIp":           public,
			"securityGroups":     arr{obj{"groupId": "sg-99999999", "groupName": "app-server-sg"}},
			"subnetId":           "subnet-99999999",
			"vpcId":              "vpc-99999999",
		}},
	}
}

// instanceResource: an EC2 instance ("Instance").
func instanceResource(b *build) obj {
	return obj{"resourceType": "Instance", "instanceDetails": b.instanceDetails()}
}

func accessKey(userType, user, principal string) obj {
	return obj{
		"accessKeyId": "ASIAIOSFODNN7EXAMPLE",
		"principalId": principal,
		"userName":    user,
		"userType":    userType,
	}
}

// accessKeyResource: an IAM user's access key ("AccessKey").
func accessKeyResource(b *build) obj {
	return obj{"resourceType": "AccessKey", "accessKeyDetails": accessKey("IAMUser", "sample-user", "AIDACKCEVSQ6C2EXAMPLE")}
}

// rootKeyResource: credentials of the account's root user.
func rootKeyResource(b *build) obj {
	return obj{"resourceType": "AccessKey", "accessKeyDetails": accessKey("Root", "root", b.p.AccountID)}
}

// instanceRoleResource: temporary credentials of an EC2 instance role, with
// the instance they were issued to.
func instanceRoleResource(b *build) obj {
	return obj{
		"resourceType":     "AccessKey",
		"accessKeyDetails": accessKey("AssumedRole", "app-server-role", "AROAIOSFODNN7EXAMPLE:"+b.instanceID()),
		"instanceDetails":  b.instanceDetails(),
	}
}

// serviceRoleResource: temporary credentials of a role assumed by an AWS
// compute service (Lambda, ECS, ...).
func serviceRoleResource(b *build) obj {
	return obj{
		"resourceType":     "AccessKey",
		"accessKeyDetails": accessKey("AssumedRole", "order-processor-role", "AROAIOSFODNN7EXAMPLE:order-processor"),
	}
}

func (b *build) bucketName() string { return "sample-bucket-" + b.hexID(0x21, 6) }

// bucket describes an S3 bucket; public says whether policy and ACLs expose
// it and blockOff whether Block Public Access is turned off.
func (b *build) bucket(public, blockOff bool) obj {
	bpa := obj{"blockPublicAcls": !blockOff, "blockPublicPolicy": !blockOff, "ignorePublicAcls": !blockOff, "restrictPublicBuckets": !blockOff}
	effective := "NOT_PUBLIC"
	if public {
		effective = "PUBLIC"
	}
	name := b.bucketName()
	return obj{
		"arn":       b.globalARN("s3", "", name),
		"name":      name,
		"type":      "Destination",
		"createdAt": epoch(b.ago(400 * 24 * time.Hour)),
		"owner":     obj{"id": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
		"tags":      tags("Project", "data-lake"),
		"defaultServerSideEncryption": obj{
			"encryptionType":  "aws:kms",
			"kmsMasterKeyArn": b.arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
		},
		"publicAccess": obj{
			"effectivePermission": effective,
			"permissionConfiguration": obj{
				"bucketLevelPermissions": obj{
					"accessControlList": obj{"allowsPublicReadAccess": public, "allowsPublicWriteAccess": false},
					"bucketPolicy":      obj{"allowsPublicReadAccess": public, "allowsPublicWriteAccess": false},
					"blockPublicAccess": bpa,
				},
				"accountLevelPermissions": obj{"blockPublicAccess": bpa},
			},
		},
	}
}

func s3Resource(b *build, public, blockOff bool) obj {
	return obj{
		"resourceType":     "S3Bucket",
		"accessKeyDetails": accessKey("IAMUser", "sample-user", "AIDACKCEVSQ6C2EXAMPLE"),
		"s3BucketDetails":  arr{b.bucket(public, blockOff)},
	}
}

// s3BucketResource: a private bucket and the caller's access key ("S3Bucket").
func s3BucketResource(b *build) obj { return s3Resource(b, false, false) }

// publicBucketResource: a bucket its policy and ACL expose to everyone.
func publicBucketResource(b *build) obj { return s3Resource(b, true, true) }

// unblockedBucketResource: a private bucket whose Block Public Access
// settings were turned off.
func unblockedBucketResource(b *build) obj { return s3Resource(b, false, true) }

// s3ObjectResource: an object scanned by Malware Protection for S3 ("S3Object").
func s3ObjectResource(b *build) obj {
	bucket := b.bucket(false, false)
	key := "uploads/2024/invoice-" + b.hexID(0x22, 6) + ".pdf.exe"
	bucket["s3ObjectDetails"] = arr{obj{
		"objectArn": b.globalARN("s3", "", b.bucketName()+"/"+key),
		"key":       key,
		"eTag":      "d41d8cd98f00b204e9800998ecf8427e",
		"hash":      eicarSHA256,
		"versionId": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
	}}
	return obj{"resourceType": "S3Object", "s3BucketDetails": arr{bucket}}
}

func (b *build) clusterName() string { return "sample-cluster-" + b.hexID(0x31, 4) }

func (b *build) eksClusterDetails() obj {
	name := b.clusterName()
	return obj{
		"name":      name,
		"arn":       b.arn("eks", "cluster/"+name),
		"vpcId":     "vpc-99999999",
		"status":    "ACTIVE",
		"createdAt": epoch(b.ago(200 * 24 * time.Hour)),
		"tags":      tags("Team", "platform"),
	}
}

// container describes a container of the sample workload.
func (b *build) container(name, image string) obj {
	return obj{
		"containerRuntime": "containerd",
		"id":               b.hexID(0x41, 16) + b.hexID(0x42, 16),
		"name":             name,
		"image":            image,
		"imagePrefix":      "public.ecr.aws",
		"securityContext":  obj{"privileged": false, "allowPrivilegeEscalation": false},
		"volumeMounts":     arr{obj{"name": "app-config", "mountPath": "/etc/app"}},
	}
}

func (b *build) kubernetesDetails() obj {
	return obj{
		"kubernetesUserDetails": obj{
			"username":    "sample-user",
			"uid":         "f3a7b1c2-6d4e-4f5a-9b8c-7d6e5f4a3b21",
			"groups":      arr{"system:authenticated"},
			"sessionName": arr{"sample-session"},
		},
		"kubernetesWorkloadDetails": obj{
			"name":               "web-frontend",
			"type":               "deployments",
			"uid":                "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
			"namespace":          "default",
			"serviceAccountName": "web-frontend",
			"hostNetwork":        false,
			"hostIPC":            false,
			"hostPID":            false,
			"containers":         arr{b.container("web", "public.ecr.aws/nginx/nginx:1.27")},
			"volumes":            arr{obj{"name": "app-config", "hostPath": obj{"path": "/var/lib/app"}}},
		},
	}
}

// eksClusterResource: an EKS cluster and the Kubernetes user and workload
// of an audit-log event ("EKSCluster").
func eksClusterResource(b *build) obj {
	return obj{
		"resourceType":      "EKSCluster",
		"eksClusterDetails": b.eksClusterDetails(),
		"kubernetesDetails": b.kubernetesDetails(),
	}
}

// eksNodeResource: a workload on an EKS node watched by the runtime agent,
// with the node's instance.
func eksNodeResource(b *build) obj {
	r := eksClusterResource(b)
	r["instanceDetails"] = b.instanceDetails()
	return r
}

func (b *build) ecsClusterDetails(launchType string) obj {
	name := "sample-ecs-" + b.hexID(0x51, 4)
	task := b.hexID(0x52, 16) + b.hexID(0x53, 16)
	return obj{
		"name":                              name,
		"arn":                               b.arn("ecs", "cluster/"+name),
		"status":                            "ACTIVE",
		"activeServicesCount":               3,
		"registeredContainerInstancesCount": 2,
		"runningTasksCount":                 7,
		"tags":                              tags("Team", "payments"),
		"taskDetails": obj{
			"arn":           b.arn("ecs", "task/"+name+"/"+task),
			"definitionArn": b.arn("ecs", "task-definition/checkout:12"),
			"version":       "12",
			"createdAt":     epoch(b.ago(6 * time.Hour)),
			"startedAt":     epoch(b.ago(6*time.Hour - time.Minute)),
			"startedBy":     "ecs-svc/1234567890123456789",
			"group":         "service:checkout",
			"launchType":    launchType,
			"tags":          tags("Service", "checkout"),
			"volumes":       arr{obj{"name": "scratch", "hostPath": obj{"path": "/tmp/scratch"}}},
			"containers":    arr{b.container("checkout", "public.ecr.aws/docker/library/python:3.12-slim")},
		},
	}
}

// ecsTaskResource: a Fargate task of an ECS cluster ("ECSCluster").
func ecsTaskResource(b *build) obj {
	return obj{"resourceType": "ECSCluster", "ecsClusterDetails": b.ecsClusterDetails("FARGATE")}
}

// containerResource: a standalone container on an EC2 host ("Container").
func containerResource(b *build) obj {
	return obj{
		"resourceType":     "Container",
		"containerDetails": b.container("batch-worker", "public.ecr.aws/docker/library/ubuntu:24.04"),
		"instanceDetails":  b.instanceDetails(),
	}
}

// lambdaResource: a Lambda function in a VPC ("Lambda").
func lambdaResource(b *build) obj {
	name := "sample-function-" + b.hexID(0x61, 4)
	return obj{
		"resourceType": "Lambda",
		"lambdaDetails": obj{
			"functionArn":     b.arn("lambda", "function:"+name),
			"functionName":    name,
			"description":     "Resizes uploaded images",
			"lastModifiedAt":  epoch(b.ago(12 * 24 * time.Hour)),
			"revisionId":      "8f2e4b6a-1c3d-4e5f-9a7b-6c5d4e3f2a1b",
			"functionVersion": "$LATEST",
			"role":            b.globalARN("iam", b.p.AccountID, "role/image-resizer-role"),
			"vpcConfig": obj{
				"subnetIds":      arr{"subnet-99999999"},
				"vpcId":          "vpc-99999999",
				"securityGroups": arr{obj{"groupId": "sg-99999999", "groupName": "lambda-sg"}},
			},
			"tags": tags("Application", "media"),
		},
	}
}

// rdsResource: an Aurora instance and the database user of the logins
// ("RDSDBInstance").
func rdsResource(b *build) obj {
	id := "sample-db-" + b.hexID(0x71, 4)
	return obj{
		"resourceType": "RDSDBInstance",
		"rdsDbInstanceDetails": obj{
			"dbInstanceIdentifier": id,
			"dbClusterIdentifier":  "sample-aurora-cluster",
			"engine":               "aurora-postgresql",
			"engineVersion":        "16.4",
			"dbInstanceArn":        b.arn("rds", "db:"+id),
			"dbiResourceId":        "db-EXAMPLEXAMPLEXAMPLEXAMPLE",
			"tags":                 tags("Owner", "billing"),
		},
		"rdsDbUserDetails": obj{
			"user":        "app_admin",
			"application": "psql",
			"database":    "orders",
			"ssl":         "on",
			"authMethod":  "password",
		},
	}
}

// ebsVolumeDetails lists the EBS volume Malware Protection scanned.
func (b *build) ebsVolumeDetails() obj {
	return obj{
		"scannedVolumeDetails": arr{obj{
			"volumeArn":      b.arn("ec2", "volume/vol-9999"+b.hexID(0x81, 4)),
			"volumeType":     "gp3",
			"deviceName":     "/dev/xvda",
			"volumeSizeInGB": 30,
			"encryptionType": "UNENCRYPTED",
			"snapshotArn":    b.arn("ec2", "snapshot/snap-9999"+b.hexID(0x82, 4)),
		}},
		"skippedVolumeDetails": arr{},
	}
}

// scannedInstanceResource: an EC2 instance whose volumes were scanned.
func scannedInstanceResource(b *build) obj {
	r := instanceResource(b)
	r["ebsVolumeDetails"] = b.ebsVolumeDetails()
	return r
}

// scannedECSResource: an ECS task on EC2 capacity whose host volume was scanned.
func scannedECSResource(b *build) obj {
	return obj{
		"resourceType":      "ECSCluster",
		"ecsClusterDetails": b.ecsClusterDetails("EC2"),
		"instanceDetails":   b.instanceDetails(),
		"ebsVolumeDetails":  b.ebsVolumeDetails(),
	}
}

// scannedEKSResource: an EKS workload whose node volume was scanned.
func scannedEKSResource(b *build) obj {
	r := eksNodeResource(b)
	r["ebsVolumeDetails"] = b.ebsVolumeDetails()
	return r
}

// scannedContainerResource: a standalone container whose host volume was scanned.
func scannedContainerResource(b *build) obj {
	r := containerResource(b)
	r["ebsVolumeDetails"] = b.ebsVolumeDetails()
	return r
}

// snapshotResource: an EBS snapshot scanned by Malware Protection for Backup.
func snapshotResource(b *build) obj {
	return obj{
		"resourceType":       "EBSSnapshot",
		"ebsSnapshotDetails": obj{"snapshotArn": b.arn("ec2", "snapshot/snap-9999"+b.hexID(0x91, 4))},
	}
}

// imageResource: an AMI scanned by Malware Protection for Backup.
func imageResource(b *build) obj {
	return obj{
		"resourceType":    "EC2Image",
		"ec2ImageDetails": obj{"imageArn": b.arn("ec2", "image/ami-9999"+b.hexID(0x92, 4))},
	}
}

func recoveryPoint(b *build, id string) obj {
	return obj{
		"resourceType": "RecoveryPoint",
		"recoveryPointDetails": obj{
			"recoveryPointArn": b.arn("backup", "recovery-point:"+id),
			"backupVaultName":  "sample-backup-vault",
		},
	}
}

// ec2RecoveryPointResource: an AWS Backup recovery point of an EC2 instance.
func ec2RecoveryPointResource(b *build) obj {
	return recoveryPoint(b, "ami-9999"+b.hexID(0x93, 4))
}

// s3RecoveryPointResource: an AWS Backup recovery point of an S3 bucket.
func s3RecoveryPointResource(b *build) obj {
	return recoveryPoint(b, "1EB3B5E7-9EB0-435D-"+b.hexID(0x94, 4)+"-A0B1C2D3E4F5")
}
