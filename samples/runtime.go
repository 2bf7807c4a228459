package samples

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"time"
)

// Runtime Monitoring findings carry service.runtimeDetails: the process the
// agent observed and a context whose members depend on the finding type.

// rtOpt adds to the observed process or to the runtime context.
type rtOpt func(b *build, process, context obj)

// sha256Of is a stand-in executable hash, stable for a path.
func sha256Of(s string) string {
	sum := sha256.Sum256([]byte("guardpost sample " + s))
	return hex.EncodeToString(sum[:])
}

func uuidOf(s string) string {
	h := sha256Of(s)
	return fmt.Sprintf("%s-%s-4%s-a%s-%s", h[0:8], h[8:12], h[13:16], h[17:20], h[20:32])
}

// processDetails describes a running process; parents is its lineage from
// the direct parent upwards.
func (b *build) processDetails(exe, user string, uid int, parents ...string) obj {
	pid := 2000 + b.pick(30000, 7)
	started := b.ago(time.Duration(20+b.pick(30, 8)) * time.Minute)
	lineage := arr{}
	parentUUID := ""
	for i, p := range parents {
		u := uuidOf(b.spec.Type + p)
		if i == 0 {
			parentUUID = u
		}
		lineage = append(lineage, obj{
			"name":           path.Base(p),
			"executablePath": p,
			"pid":            pid - 10*(i+1),
			"namespacePid":   100 - 10*(i+1),
			"uuid":           u,
			"parentUuid":     uuidOf(b.spec.Type + fmt.Sprint(i)),
			"userId":         uid,
			"euid":           uid,
			"startTime":      epoch(started.Add(-time.Duration(i+1) * time.Minute)),
		})
	}
	return obj{
		"name":             path.Base(exe),
		"executablePath":   exe,
		"executableSha256": sha256Of(exe),
		"pid":              pid,
		"namespacePid":     100,
		"pwd":              "/",
		"startTime":        epoch(started),
		"uuid":             uuidOf(b.spec.Type + exe),
		"parentUuid":       parentUUID,
		"user":             user,
		"userId":           uid,
		"euid":             uid,
		"lineage":          lineage,
	}
}

// run: the runtime agent observed exe running as root, started from a shell
// of the container or host init; opts describe what it did.
func run(exe string, opts ...rtOpt) detail {
	return func(b *build) {
		process := b.processDetails(exe, "root", 0, "/bin/sh", "/usr/bin/containerd-shim-runc-v2")
		context := obj{}
		for _, o := range opts {
			o(b, process, context)
		}
		rd := obj{"process": process}
		if len(context) > 0 {
			rd["context"] = context
		}
		b.service["runtimeDetails"] = rd
	}
}

// asUser: the process ran as an unprivileged user, started by parents.
func asUser(user string, uid int, parents ...string) rtOpt {
	return func(b *build, process, _ obj) {
		fresh := b.processDetails(process["executablePath"].(string), user, uid, parents...)
		for k, v := range fresh {
			process[k] = v
		}
	}
}

func ctxSet(k string, v any) rtOpt {
	return func(_ *build, _, context obj) { context[k] = v }
}

// cmdLine: an example of the command line that raised the finding.
func cmdLine(cmd string) rtOpt { return ctxSet("commandLineExample", cmd) }

// tool: the offensive or dual-use tool that ran.
func tool(name, category string) rtOpt {
	return func(_ *build, _, c obj) { c["toolName"], c["toolCategory"] = name, category }
}

// modifiedBy: the file was written by another process shortly before.
func modifiedBy(exe string) rtOpt {
	return func(b *build, _, c obj) {
		c["modifyingProcess"] = b.processDetails(exe, "root", 0, "/bin/bash")
		c["modifiedAt"] = epoch(b.ago(40 * time.Minute))
	}
}

// target: the process acted on another process.
func target(exe string) rtOpt {
	return func(b *build, _, c obj) {
		c["targetProcess"] = b.processDetails(exe, "root", 0, "/usr/lib/systemd/systemd")
	}
}

// Single context members: the library loaded, the file of interest, the
// script run, the system service touched, the open flags of a file write and
// the memory regions involved.
func library(p string) rtOpt       { return ctxSet("libraryPath", p) }
func fileAt(p string) rtOpt        { return ctxSet("threatFilePath", p) }
func scriptAt(p string) rtOpt      { return ctxSet("scriptPath", p) }
func systemService(n string) rtOpt { return ctxSet("serviceName", n) }
func flags(f ...string) rtOpt      { return ctxSet("flags", toArr(f)) }
func memory(r ...string) rtOpt     { return ctxSet("memoryRegions", toArr(r)) }

func toArr(ss []string) arr {
	out := arr{}
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}

// module: a kernel module was loaded.
func module(name, file string) rtOpt {
	return func(_ *build, _, c obj) {
		c["moduleName"], c["moduleFilePath"], c["moduleSha256"] = name, file, sha256Of(file)
	}
}

// socket: the process used a network socket of this family and protocol.
func socket(family string, protocol int) rtOpt {
	return func(_ *build, _, c obj) { c["addressFamily"], c["ianaProtocolNumber"] = family, protocol }
}
