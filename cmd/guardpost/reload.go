package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/sigv4"
)

// watchCredentials polls the credentials file every interval and, when its
// bytes change, puts the new keys in service and the organizations they
// declare into svc, then brings the organizations' members up to date
// (an account that joined one is enabled as auto-enable says): keys and
// organizations change without a restart. It compares bytes rather than
// modification times, which a same-second edit would leave alike. A file
// that cannot be read or parsed is logged and leaves the last good set in
// place: a half-written edit must not lock every caller out.
func watchCredentials(ctx context.Context, path string, last []byte, interval time.Duration, keys *sigv4.KeyRing, svc *guardpost.Service, log *slog.Logger) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	unreadable := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		data, err := os.ReadFile(path)
		if err != nil {
			if !unreadable { // once, not every interval
				log.Warn("credentials file unreadable; keeping the keys and organizations loaded before", "path", path, "err", err)
			}
			unreadable = true
			continue
		}
		unreadable = false
		if bytes.Equal(data, last) {
			continue
		}
		last = data
		creds, err := sigv4.ParseCredentials(path, data)
		if err == nil && len(creds) == 0 {
			err = errors.New("no profile")
		}
		var orgs *guardpost.Organizations
		if err == nil {
			orgs, err = organizations(creds)
		}
		if err != nil {
			log.Warn("credentials file changed but is not valid; keeping the keys and organizations loaded before", "path", path, "err", err)
			continue
		}
		keys.Set(creds)
		svc.SetOrganizations(orgs)
		if err := svc.SyncOrganizations(ctx); err != nil && ctx.Err() == nil {
			log.Warn("credentials file reloaded, but bringing organizations up to date failed; retried at the next change", "err", err)
		}
		log.Info("credentials file reloaded", "path", path, "profiles", len(creds))
	}
}
