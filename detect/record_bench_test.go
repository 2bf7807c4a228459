package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkParse measures the ways of reading a CloudTrail log file's
// Records array, 20,000 records of about 800 bytes:
//
//	go test -run '^$' -bench BenchmarkParse -benchmem ./detect
//
// "streamed" is parse, which decodes one record at a time and takes its
// bytes from the decoder's offsets (what Parse does); "whole" is one
// Decode of the file into []Record, which gives no record's bytes (what
// Parse did before evidence); "raw" is a Decode into []json.RawMessage,
// then an Unmarshal of each.
func BenchmarkParse(b *testing.B) {
	var recs []map[string]any
	for i := range 20_000 {
		user := fmt.Sprintf("user%03d", i%500)
		recs = append(recs, map[string]any{"eventVersion": "1.08", "userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDA" + user,
			"arn": "arn:aws:iam::111122223333:user/" + user, "accountId": "111122223333", "accessKeyId": "AKIA" + user, "userName": user},
			"eventTime": "2026-03-14T00:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "awsRegion": "us-east-1",
			"sourceIPAddress": fmt.Sprintf("198.51.%d.%d", i%5000/250, i%250), "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0",
			"requestParameters": map[string]any{"maxResults": 100}, "responseElements": nil, "requestID": fmt.Sprintf("req-%d", i),
			"eventID": fmt.Sprintf("evt-%d", i), "readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
			"recipientAccountId": "111122223333", "eventCategory": "Management"})
	}
	data, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		b.Fatal(err)
	}
	report := func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
	}
	b.Run("streamed", func(b *testing.B) {
		for b.Loop() {
			out, err := parse(data)
			if err != nil || len(out) != len(recs) || len(out[7].Raw) == 0 {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			var v struct{ Records []Record }
			if err := json.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil || len(v.Records) != len(recs) {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("raw", func(b *testing.B) {
		for b.Loop() {
			var v struct{ Records []json.RawMessage }
			if err := json.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
				b.Fatal(err)
			}
			out := make([]Record, len(v.Records))
			for i, raw := range v.Records {
				if err := json.Unmarshal(raw, &out[i]); err != nil {
					b.Fatal(err)
				}
				out[i].Raw = raw
			}
		}
		report(b)
	})
}
