package samples

import "strings"

// The details below set service.action, the activity a finding reports, and
// the data source (service.featureName) that saw it.

func (b *build) localIPDetails() obj { return obj{"ipAddressV4": b.privateIP()} }

func (b *build) networkConnection(direction, protocol string, localPort, remotePort int) obj {
	return obj{
		"connectionDirection": direction,
		"protocol":            protocol,
		"blocked":             false,
		"localIpDetails":      b.localIPDetails(),
		"localPortDetails":    portDetails(localPort),
		"remoteIpDetails":     b.remoteIPDetails(),
		"remotePortDetails":   portDetails(remotePort),
	}
}

// netOut: the resource opened a connection to a remote host's port (VPC
// flow logs); the resource is the actor.
func netOut(port int, protocol string) detail {
	return func(b *build) {
		b.setAction("networkConnectionAction", "NETWORK_CONNECTION", b.networkConnection("OUTBOUND", protocol, b.ephemeralPort(), port))
		b.role, b.feature = "ACTOR", "FlowLogs"
	}
}

// netIn: a remote host connected to the resource's port (VPC flow logs).
func netIn(port int, protocol string) detail {
	return func(b *build) {
		b.setAction("networkConnectionAction", "NETWORK_CONNECTION", b.networkConnection("INBOUND", protocol, port, b.ephemeralPort()))
		b.role, b.feature = "TARGET", "FlowLogs"
	}
}

// lambdaOut: a Lambda function opened a connection (Lambda network activity
// logs).
func lambdaOut(port int, protocol string) detail {
	return func(b *build) {
		netOut(port, protocol)(b)
		b.feature = "LambdaNetworkLogs"
	}
}

// portProbe: remote hosts probed open ports of the instance.
func portProbe(ports ...int) detail {
	return func(b *build) {
		probes := arr{}
		for _, port := range ports {
			probes = append(probes, obj{
				"localPortDetails": portDetails(port),
				"localIpDetails":   b.localIPDetails(),
				"remoteIpDetails":  b.remoteIPDetails(),
			})
		}
		b.setAction("portProbeAction", "PORT_PROBE", obj{"blocked": false, "portProbeDetails": probes})
		b.role, b.feature = "TARGET", "FlowLogs"
	}
}

// dnsQuery: the resource looked up a domain (Route 53 resolver query logs).
func dnsQuery(domain string) detail {
	return func(b *build) {
		labels := strings.Split(domain, ".")
		suffix := domain
		if len(labels) > 2 {
			suffix = strings.Join(labels[len(labels)-2:], ".")
		}
		b.setAction("dnsRequestAction", "DNS_REQUEST", obj{
			"domain":            domain,
			"domainWithSuffix":  suffix,
			"protocol":          "UDP",
			"blocked":           false,
			"vpcOwnerAccountId": b.p.AccountID,
		})
		b.role, b.feature = "ACTOR", "DnsLogs"
	}
}

const cliUserAgent = "aws-cli/2.17.40 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 cmd/"

// api: the credentials called an AWS API (CloudTrail management events).
func api(service, name string) detail {
	return func(b *build) {
		b.setAction("awsApiCallAction", "AWS_API_CALL", obj{
			"api":               name,
			"serviceName":       service,
			"callerType":        "Remote IP",
			"remoteIpDetails":   b.remoteIPDetails(),
			"userAgent":         cliUserAgent + strings.ToLower(name),
			"affectedResources": obj{},
		})
		b.feature = "CloudTrail"
	}
}

// s3Data: an S3 object-level API call (CloudTrail data events for S3).
func s3Data(name string) detail {
	return func(b *build) {
		api("s3.amazonaws.com", name)(b)
		call := b.action()["awsApiCallAction"].(obj)
		call["affectedResources"] = obj{"AWS::S3::Bucket": b.bucketName()}
		b.feature = "S3DataEvents"
	}
}

// callFromAccount changes who made the API call: another AWS account (InsideAWS
// exfiltration) instead of an address on the internet.
func callFromAccount(account string) detail {
	return func(b *build) {
		call := b.action()["awsApiCallAction"].(obj)
		call["callerType"] = "Remote account"
		call["remoteAccountDetails"] = obj{"accountId": account, "affiliated": false}
	}
}

// userAgent replaces the caller's user agent.
func userAgent(ua string) detail {
	return func(b *build) { b.action()["awsApiCallAction"].(obj)["userAgent"] = ua }
}

// callDomain records the domain a console or federation call came through.
func callDomain(domain string) detail {
	return func(b *build) { b.action()["awsApiCallAction"].(obj)["domainDetails"] = obj{"domain": domain} }
}

const kubectlUserAgent = "kubectl/v1.30.4 (linux/amd64) kubernetes/a51b3b7"

// k8sCall: a request to the cluster's Kubernetes API server (EKS audit logs).
func k8sCall(verb, resource, namespace, name, uri string) detail {
	return func(b *build) {
		r := b.remote()
		status := 200
		if verb == "create" {
			status = 201
		}
		call := obj{
			"requestUri":      uri,
			"verb":            verb,
			"resource":        resource,
			"sourceIPs":       arr{r.ip},
			"userAgent":       kubectlUserAgent,
			"remoteIpDetails": b.remoteIPDetails(),
			"statusCode":      status,
		}
		if namespace != "" {
			call["namespace"] = namespace
		}
		if name != "" {
			call["resourceName"] = name
		}
		if verb == "create" || verb == "patch" || verb == "update" {
			call["parameters"] = `{"kind":"` + kindOf(resource) + `","apiVersion":"v1","metadata":{"name":"` + name + `"}}`
		}
		b.setAction("kubernetesApiCallAction", "KUBERNETES_API_CALL", call)
		b.feature = "EksAuditLogs"
	}
}

func kindOf(resource string) string {
	kinds := map[string]string{
		"pods": "Pod", "deployments": "Deployment", "daemonsets": "DaemonSet", "cronjobs": "CronJob",
		"secrets": "Secret", "services": "Service", "roles": "Role", "rolebindings": "RoleBinding",
		"clusterrolebindings": "ClusterRoleBinding", "clusterroles": "ClusterRole", "configmaps": "ConfigMap",
	}
	if k, ok := kinds[resource]; ok {
		return k
	}
	return "Unknown"
}

// k8sTactic is the Kubernetes API request typical of an attack stage, for
// the finding families that exist once per tactic (MaliciousIPCaller,
// TorIPCaller, SuccessfulAnonymousAccess).
func k8sTactic(tactic string) detail {
	switch tactic {
	case "CredentialAccess":
		return k8sCall("list", "secrets", "kube-system", "", "/api/v1/namespaces/kube-system/secrets")
	case "DefenseEvasion":
		return k8sCall("delete", "events", "default", "web-frontend.17f2a", "/api/v1/namespaces/default/events/web-frontend.17f2a")
	case "Discovery":
		return k8sCall("list", "pods", "", "", "/api/v1/pods")
	case "Impact":
		return k8sCall("delete", "deployments", "default", "web-frontend", "/apis/apps/v1/namespaces/default/deployments/web-frontend")
	case "Persistence":
		return k8sCall("create", "cronjobs", "default", "node-sync", "/apis/batch/v1/namespaces/default/cronjobs")
	}
	panic("samples: no Kubernetes request for tactic " + tactic)
}

// anonymous: the Kubernetes request came from an unauthenticated user.
func anonymous(b *build) {
	kd := b.resource["kubernetesDetails"].(obj)
	kd["kubernetesUserDetails"] = obj{"username": "system:anonymous", "uid": "", "groups": arr{"system:unauthenticated"}}
}

// privilegedWorkload: the workload runs a privileged container.
func privilegedWorkload(b *build) {
	c := workloadContainer(b)
	c["securityContext"] = obj{"privileged": true, "allowPrivilegeEscalation": true}
}

// sensitiveMount: the workload mounts a sensitive host directory.
func sensitiveMount(b *build) {
	w := b.resource["kubernetesDetails"].(obj)["kubernetesWorkloadDetails"].(obj)
	w["volumes"] = arr{obj{"name": "host-etc", "hostPath": obj{"path": "/etc"}}}
	workloadContainer(b)["volumeMounts"] = arr{obj{"name": "host-etc", "mountPath": "/host/etc"}}
}

func workloadContainer(b *build) obj {
	w := b.resource["kubernetesDetails"].(obj)["kubernetesWorkloadDetails"].(obj)
	return w["containers"].(arr)[0].(obj)
}

// roleBinding: the request created a binding to a role.
func roleBinding(kind, name, roleKind, role string) detail {
	return func(b *build) {
		b.action()["kubernetesRoleBindingDetails"] = obj{
			"kind": kind, "name": name, "uid": "5c4b3a29-1807-4f6e-8d5c-4b3a29180716",
			"roleRefKind": roleKind, "roleRefName": role,
		}
	}
}

// roleCreated: the request created a role.
func roleCreated(kind, name string) detail {
	return func(b *build) {
		b.action()["kubernetesRoleDetails"] = obj{"kind": kind, "name": name, "uid": "7e6d5c4b-3a29-4180-a716-5f4e3d2c1b0a"}
	}
}

// permissionChecked: the request asked whether an action is allowed.
func permissionChecked(verb, resource, namespace string, allowed bool) detail {
	return func(b *build) {
		b.action()["kubernetesPermissionCheckedDetails"] = obj{"verb": verb, "resource": resource, "namespace": namespace, "allowed": allowed}
	}
}

// rdsLogin: login attempts against the database (RDS login activity).
func rdsLogin(failed, succeeded int) detail {
	return func(b *build) {
		b.setAction("rdsLoginAttemptAction", "RDS_LOGIN_ATTEMPT", obj{
			"remoteIpDetails": b.remoteIPDetails(),
			"LoginAttributes": arr{obj{
				"user":                    "app_admin",
				"application":             "psql",
				"failedLoginAttempts":     failed,
				"successfulLoginAttempts": succeeded,
			}},
		})
		b.feature = "RdsLoginEvents"
	}
}

// threat names the threat list that matched the remote party.
func threat(list string, names ...string) detail {
	return func(b *build) {
		ns := arr{}
		for _, n := range names {
			ns = append(ns, n)
		}
		b.service["evidence"] = obj{"threatIntelligenceDetails": arr{obj{"threatListName": list, "threatNames": ns}}}
	}
}

// subresource: the Kubernetes request addressed a subresource (exec, log...).
func subresource(name string) detail {
	return func(b *build) { b.action()["kubernetesApiCallAction"].(obj)["subresource"] = name }
}

// Threat lists the samples cite: GuardDuty's own intelligence, and a list
// the customer uploaded (the ".Custom" finding types).
var (
	listed     = threat("GuardDutyThreatIntel", "MaliciousHost")
	customList = threat("SampleCustomThreatList", "customer-listed")
)
