package guardpost

import (
	"context"
	"strings"
	"testing"
)

// TestDetectionStateBounds checks that the service refuses state beyond
// the bounds before the store sees it, as an internal error (an engine's
// defect, not the client's).
func TestDetectionStateBounds(t *testing.T) {
	s := &Service{} // no store: a refused write never reaches it
	scope := Scope{AccountID: "111122223333", Region: "us-east-1"}
	for name, state := range map[string]map[string][]byte{
		"too large":      {"windows": make([]byte, MaxDetectionStateBytes+1)},
		"empty name":     {"": []byte("x")},
		"name too long":  {strings.Repeat("n", MaxDetectionStateName+1): []byte("x")},
		"one of several": {"a": []byte("x"), "b": make([]byte, MaxDetectionStateBytes+1)},
	} {
		_, err := s.WriteDetections(context.Background(), scope, "d1", nil, state)
		if ErrorKind(err) != EINTERNAL {
			t.Errorf("%s: error %v (kind %q), want an internal error", name, err, ErrorKind(err))
		}
	}
	if err := checkDetectionState(map[string][]byte{"windows": make([]byte, MaxDetectionStateBytes)}); err != nil {
		t.Errorf("state of exactly the bound: %v", err)
	}
}
