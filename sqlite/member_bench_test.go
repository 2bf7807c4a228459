package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/samples"
)

// BenchmarkAdministrator measures an administrator's requests with many
// members in the store: CreateMembers of one more account, a ListMembers
// page, and GetFindings / ListFindings over the visibility of its
// monitored members (each with a detector and a few findings).
func BenchmarkAdministrator(b *testing.B) {
	for _, n := range []int{10, 200} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			db := openTemp(b)
			b.Cleanup(func() { db.Close() })
			svc := &guardpost.Service{Store: db, Samples: samples.New(), Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))}
			ctx := context.Background()
			admin := guardpost.Scope{AccountID: "100000000000", Region: "us-east-1"}
			detA, err := svc.CreateDetector(ctx, admin, "", guardpost.DetectorSettings{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			types := samples.New().Types()[:3]
			var ids []string
			for i := range n {
				m := guardpost.Scope{AccountID: fmt.Sprintf("2%011d", i), Region: admin.Region}
				det, err := svc.CreateDetector(ctx, m, "", guardpost.DetectorSettings{}, nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := svc.CreateSampleFindings(ctx, m, det, types); err != nil {
					b.Fatal(err)
				}
				if _, err := svc.CreateMembers(ctx, admin, detA, []guardpost.AccountDetail{{AccountID: m.AccountID, Email: "m@example.com"}}); err != nil {
					b.Fatal(err)
				}
				if _, err := svc.InviteMembers(ctx, admin, detA, []string{m.AccountID}); err != nil {
					b.Fatal(err)
				}
				invs, _, err := svc.ListInvitations(ctx, m, 0, "")
				if err != nil {
					b.Fatal(err)
				}
				if err := svc.AcceptAdministratorInvitation(ctx, m, det, admin.AccountID, invs[0].InvitationID); err != nil {
					b.Fatal(err)
				}
				if i%(n/5+1) == 0 {
					got, _, err := svc.ListFindings(ctx, m, det, guardpost.ListFindingsInput{MaxResults: 1})
					if err != nil {
						b.Fatal(err)
					}
					ids = append(ids, got...)
				}
			}
			svc.FindingCacheBytes = -1
			b.Run("CreateMembers", func(b *testing.B) {
				for i := range b.N {
					if _, err := svc.CreateMembers(ctx, admin, detA, []guardpost.AccountDetail{{AccountID: fmt.Sprintf("3%011d", i), Email: "x@example.com"}}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("ListMembers", func(b *testing.B) {
				for range b.N {
					if _, _, err := svc.ListMembers(ctx, admin, detA, true, 50, ""); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("GetFindings-uncached", func(b *testing.B) {
				for range b.N {
					docs, err := svc.GetFindings(ctx, admin, detA, ids, nil)
					if err != nil || len(docs) != len(ids) {
						b.Fatal(len(docs), err)
					}
				}
			})
			b.Run("ListFindings", func(b *testing.B) {
				for range b.N {
					if _, _, err := svc.ListFindings(ctx, admin, detA, guardpost.ListFindingsInput{MaxResults: 50}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkMembers50k measures member operations of an administrator that
// has 50,000 members (the user guide's limit, less the few the benchmark
// adds): each names one account, so its cost should not grow with the
// members the administrator already has. The members are inserted with
// SQL (50,000 CreateMembers calls would dominate the run).
func BenchmarkMembers50k(b *testing.B) {
	const n = 50_000 - 10
	db := openTemp(b)
	b.Cleanup(func() { db.Close() })
	svc := &guardpost.Service{Store: db, Samples: samples.New(), Tokens: guardpost.NewTokenSigner(bytes.Repeat([]byte("k"), 32))}
	ctx := context.Background()
	admin := guardpost.Scope{AccountID: "100000000000", Region: "us-east-1"}
	detA, err := svc.CreateDetector(ctx, admin, "", guardpost.DetectorSettings{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		status, invitation := guardpost.RelationshipCreated, ""
		if i%2 == 0 {
			status, invitation = guardpost.RelationshipEnabled, guardpost.InvitationAccepted
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO members (administrator_id, region, account_id, email, relationship_status,
			invitation_id, invited_at, invitation, created_at, updated_at) VALUES (?, ?, ?, 'm@example.com', ?, 'inv', 1, ?, 1, 1)`,
			admin.AccountID, admin.Region, fmt.Sprintf("2%011d", i), status, invitation); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	one := func(i int) string { return fmt.Sprintf("3%011d", i) }
	b.Run("CreateMembers+DeleteMembers", func(b *testing.B) {
		for i := range b.N {
			us, err := svc.CreateMembers(ctx, admin, detA, []guardpost.AccountDetail{{AccountID: one(i), Email: "x@example.com"}})
			if err != nil || len(us) != 0 {
				b.Fatal(us, err)
			}
			if us, err := svc.DeleteMembers(ctx, admin, detA, []string{one(i)}); err != nil || len(us) != 0 {
				b.Fatal(us, err)
			}
		}
	})
	if _, err := svc.CreateMembers(ctx, admin, detA, []guardpost.AccountDetail{{AccountID: one(0), Email: "x@example.com"}}); err != nil {
		b.Fatal(err)
	}
	b.Run("InviteMembers+DisassociateMembers", func(b *testing.B) {
		for range b.N {
			if us, err := svc.InviteMembers(ctx, admin, detA, []string{one(0)}); err != nil || len(us) != 0 {
				b.Fatal(us, err)
			}
			if us, err := svc.DisassociateMembers(ctx, admin, detA, []string{one(0)}); err != nil || len(us) != 0 {
				b.Fatal(us, err)
			}
		}
	})
	b.Run("StopMonitoringMembers", func(b *testing.B) {
		for range b.N {
			if us, err := svc.StopMonitoringMembers(ctx, admin, detA, []string{fmt.Sprintf("2%011d", 0)}); err != nil || len(us) != 0 {
				b.Fatal(us, err)
			}
		}
	})
}
