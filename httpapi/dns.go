package httpapi

import (
	"net/http"
	"time"

	"github.com/guardpost/guardpost"
	"github.com/guardpost/guardpost/ingest"
)

// IngestDNSPath is guardpost's own endpoint for analysing Route 53
// Resolver query logs.
const IngestDNSPath = "/guardpost/v1/ingest/dns"

// ingestDNS analyses a body of Route 53 Resolver query logs (see
// ingest.ReadDNSLogs; as sent or gzip), as ingestVPCFlow does flow logs.
func (s *Server) ingestDNS(w http.ResponseWriter, r *http.Request) {
	_, dns := s.engines()
	ingestLog(s, w, r, ingest.ReadDNSLogs, func(scope guardpost.Scope) logAnalysis[ingest.DNSQuery] {
		return dns.Begin(scope, time.Now())
	}, func(recs []ingest.DNSQuery, account string) {
		for i := range recs {
			if recs[i].AccountID == "" {
				recs[i].AccountID = account
			}
		}
	})
}
