package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/guardpost/guardpost/httpapi"
)

// TestHostileMix runs --mix hostile briefly against a server with short
// timeouts (GUARDPOST_HOSTILE_DURATION runs it longer by hand): the
// normal SDK traffic is served without a failure while every attack gets
// the edge's answer, in the AWS shape where it gets one.
func TestHostileMix(t *testing.T) {
	duration := 4 * time.Second
	if d, err := time.ParseDuration(os.Getenv("GUARDPOST_HOSTILE_DURATION")); err == nil {
		duration = d
	}
	endpoint := startServerLimits(t, httpapi.Limits{ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 10 * time.Second})
	cfg := DefaultConfig()
	cfg.Endpoint = endpoint
	cfg.Mix = hostileMix
	cfg.SeedSamples = true
	cfg.Concurrency = 2
	cfg.Attackers = 10
	cfg.Duration = duration
	cfg.CommandLine = "guardpost-load --mix hostile"
	rep, err := runHostile(context.Background(), cfg, cfg.Attackers)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.write(&out)
	t.Log("\n" + out.String())

	total, _ := rep.Normal.Row("total")
	if total.Requests == 0 || total.ErrorCount() > 0 {
		t.Errorf("normal traffic: %d requests, %d errors %v", total.Requests, total.ErrorCount(), total.FirstMessage)
	}
	// A large body may also be cut by the read timeout on a busy machine.
	for attack, want := range map[string][]string{
		"slow body, unsigned":               {"403 MissingAuthenticationTokenException"},
		"body over 4 MiB, signed":           {"413 BadRequestException"},
		"4 MB of empty ids, signed":         {"400 BadRequestException", "closed by the server"},
		"32,761 equals values, signed":      {"400 BadRequestException", "closed by the server"},
		"3.9 MiB feedback comments, signed": {"400 BadRequestException", "closed by the server"},
		"128 KiB header":                    {"431 BadRequestException"},
		"slow header":                       {"closed by the server", "400 BadRequestException"},
		"slow body, signed":                 {"closed by the server", "400 BadRequestException"},
	} {
		got := rep.Outcomes[attack]
		seen := false
		for _, w := range want {
			seen = seen || got[w] > 0
		}
		if !seen {
			t.Errorf("%s: %v, want some of %v", attack, got, want)
		}
		for outcome := range got {
			if strings.HasPrefix(outcome, "5") || outcome == "200" {
				t.Errorf("%s: %d answered %s", attack, got[outcome], outcome)
			}
		}
	}
}
