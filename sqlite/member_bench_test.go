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
// members in the store: CreateMembers of one more account (its
// transaction reads every membership of the administrator), a ListMembers
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
