package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzReadFlowLogs: any body is read without panicking, fails only with
// a *LineError naming a line of the body, and yields records in line
// order with their sizes summing to at most the body's.
//
//	go test -run '^$' -fuzz FuzzReadFlowLogs ./ingest
func FuzzReadFlowLogs(f *testing.F) {
	f.Add([]byte("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"))
	f.Add([]byte(DefaultFlowFormat + "\n2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n"))
	f.Add([]byte("${srcaddr} flow-direction traffic-path\n2001:db8::1 ingress 8\n\nsrcaddr\n10.0.0.1\n"))
	f.Add([]byte("version account-id colour\n"))
	f.Add([]byte("2 1 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 2 ACCEPT OK extra\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		lines := bytes.Count(body, []byte("\n")) + 1
		last, size := 0, 0
		err := ReadFlowLogs(bytes.NewReader(body), 3, func(recs []FlowRecord) error {
			for _, r := range recs {
				if r.Line <= last || r.Line > lines {
					t.Fatalf("record of line %d after line %d (body of %d lines)", r.Line, last, lines)
				}
				last = r.Line
				size += r.Size
			}
			return nil
		})
		var le *LineError
		if err != nil && (!errors.As(err, &le) || le.Line < 1 || le.Line > lines || !strings.HasPrefix(err.Error(), "Line ")) {
			t.Fatalf("error %v", err)
		}
		if size > len(body) {
			t.Fatalf("records of %d bytes in a body of %d", size, len(body))
		}
	})
}

// FuzzReadDNSLogs: any body is read without panicking, fails only with a
// *LineError, and a line it accepts is valid JSON (the hand-written
// decoder is no more lenient than encoding/json) whose query_name it read
// as encoding/json does.
//
//	go test -run '^$' -fuzz FuzzReadDNSLogs ./ingest
func FuzzReadDNSLogs(f *testing.F) {
	f.Add([]byte(dnsExample + "\n"))
	f.Add([]byte(`{"query_name":"esc\u0061ped\\name.","query_timestamp":"2021-02-04T17:51:57+01:00","answers":[],"srcids":null,"srcaddr":null}`))
	f.Add([]byte(`{"query_name":"a.","query_timestamp":"2021-02-04T17:51:55Z","x":[1,{"y":-2.5e3},true,null]}` + "\n\n"))
	f.Add([]byte(`{"query_name":"a.","query_timestamp":"2021-02-04T17:51:55Z",}`))
	f.Add([]byte(`{"query_name":"A.B.","query_timestamp":"2021-02-04T17:51:55Z","srcport":53,"answers":[{"Rdata":"1.2.3.4"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var recs []DNSQuery
		err := ReadDNSLogs(bytes.NewReader(body), 2, func(b []DNSQuery) error {
			recs = append(recs, b...)
			return nil
		})
		var le *LineError
		if err != nil {
			if !errors.As(err, &le) || le.Line < 1 {
				t.Fatalf("error %v", err)
			}
			return
		}
		lines := bytes.Split(body, []byte("\n"))
		for _, r := range recs {
			line := lines[r.Line-1]
			if !json.Valid(line) {
				t.Fatalf("line %d accepted but not JSON: %q", r.Line, line)
			}
			var v struct {
				QueryName string `json:"query_name"`
			}
			if json.Unmarshal(line, &v) == nil && v.QueryName != r.RawName {
				t.Fatalf("line %d: query_name %q, encoding/json reads %q", r.Line, r.RawName, v.QueryName)
			}
		}
	})
}
