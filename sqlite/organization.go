package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/guardpost/guardpost"
)

// organizationFeature is the stored form of guardpost.OrganizationFeature.
type organizationFeature struct {
	Name       string                   `json:"name"`
	AutoEnable string                   `json:"autoEnable"`
	Additional []organizationAdditional `json:"additional,omitempty"`
}

type organizationAdditional struct {
	Name       string `json:"name"`
	AutoEnable string `json:"autoEnable"`
}

const organizationSelect = `SELECT organization_id, region, administrator_id, auto_enable, features, known_accounts,
	enabled_at, updated_at FROM organizations`

func scanOrganization(sc interface{ Scan(...any) error }) (*guardpost.OrganizationConfig, error) {
	var (
		c                  guardpost.OrganizationConfig
		features, known    string
		enabled, updatedAt int64
	)
	if err := sc.Scan(&c.OrganizationID, &c.Region, &c.AdministratorID, &c.AutoEnable, &features, &known, &enabled, &updatedAt); err != nil {
		return nil, err
	}
	var fs []organizationFeature
	if err := json.Unmarshal([]byte(features), &fs); err != nil {
		return nil, fmt.Errorf("organization %s/%s: features: %w", c.OrganizationID, c.Region, err)
	}
	for _, f := range fs {
		of := guardpost.OrganizationFeature{Name: f.Name, AutoEnable: f.AutoEnable}
		for _, a := range f.Additional {
			of.Additional = append(of.Additional, guardpost.OrganizationAdditional(a))
		}
		c.Features = append(c.Features, of)
	}
	if err := json.Unmarshal([]byte(known), &c.KnownAccounts); err != nil {
		return nil, fmt.Errorf("organization %s/%s: known accounts: %w", c.OrganizationID, c.Region, err)
	}
	c.EnabledAt, c.UpdatedAt = fromMS(enabled), fromMS(updatedAt)
	return &c, nil
}

// OrganizationConfigs implements guardpost.OrganizationStore.
func (db *DB) OrganizationConfigs(ctx context.Context, organizationID string) ([]*guardpost.OrganizationConfig, error) {
	rows, err := db.read.QueryContext(ctx, organizationSelect+` WHERE organization_id = ? ORDER BY region`, organizationID)
	if err != nil {
		return nil, wrap("list organizations", err)
	}
	defer rows.Close()
	var out []*guardpost.OrganizationConfig
	for rows.Next() {
		c, err := scanOrganization(rows)
		if err != nil {
			return nil, wrap("list organizations", err)
		}
		out = append(out, c)
	}
	return out, wrap("list organizations", rows.Err())
}

// ChangeOrganization implements guardpost.OrganizationStore in one BEGIN
// IMMEDIATE transaction, so that one organization never gets two delegated
// administrators from concurrent requests.
func (db *DB) ChangeOrganization(ctx context.Context, organizationID, region string, change func(current *guardpost.OrganizationConfig) (*guardpost.OrganizationConfig, error)) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap("change organization", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, organizationSelect+` WHERE organization_id = ? AND region = ?`, organizationID, region)
	if err != nil {
		return wrap("change organization", err)
	}
	var cur *guardpost.OrganizationConfig
	if rows.Next() {
		cur, err = scanOrganization(rows)
	}
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return wrap("change organization", err)
	}
	next, err := change(cur)
	if err != nil {
		return err
	}
	if next == nil {
		if cur != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM organizations WHERE organization_id = ? AND region = ?`, organizationID, region); err != nil {
				return wrap("change organization", err)
			}
		}
		return wrap("change organization", tx.Commit())
	}
	if next.OrganizationID != organizationID || next.Region != region {
		return fmt.Errorf("sqlite: change organization: %s/%s is outside the change", next.OrganizationID, next.Region)
	}
	fs := make([]organizationFeature, 0, len(next.Features))
	for _, f := range next.Features {
		sf := organizationFeature{Name: f.Name, AutoEnable: f.AutoEnable}
		for _, a := range f.Additional {
			sf.Additional = append(sf.Additional, organizationAdditional(a))
		}
		fs = append(fs, sf)
	}
	features, err := json.Marshal(fs)
	if err != nil {
		return err
	}
	known := next.KnownAccounts
	if known == nil {
		known = []string{}
	}
	knownJSON, err := json.Marshal(known)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO organizations (organization_id, region, administrator_id, auto_enable,
		features, known_accounts, enabled_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (organization_id, region) DO UPDATE SET administrator_id = excluded.administrator_id,
		auto_enable = excluded.auto_enable, features = excluded.features, known_accounts = excluded.known_accounts,
		enabled_at = excluded.enabled_at, updated_at = excluded.updated_at`,
		organizationID, region, next.AdministratorID, next.AutoEnable, string(features), string(knownJSON),
		ms(next.EnabledAt), ms(next.UpdatedAt)); err != nil {
		return wrap("change organization", err)
	}
	return wrap("change organization", tx.Commit())
}
