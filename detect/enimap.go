package detect

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// ENIMap says which instance a network interface (ENI) belongs to, for
// flow records whose format lacks instance-id (formats before v3, and the
// default format). It holds two kinds of pairs, by the account owning the
// interface: those the operator gives (a file, see Load), which win, and
// those learned from the CloudTrail records guardpost ingests
// (RunInstances, CreateNetworkInterface, AttachNetworkInterface, see
// Learn). Learned pairs are also kept as each account's detection state
// (ENIStateName, see Pairs and Restore), so that a restart finds them.
// Safe for concurrent use.
type ENIMap struct {
	mu      sync.RWMutex
	given   map[string]string // eni → instance, any account
	learned map[eniKey]string
}

type eniKey struct{ account, eni string }

// maxLearned bounds the learned pairs; past it the oldest half is not
// worth tracking precisely, so the table starts over (interfaces come
// back as CloudTrail reports them again).
const maxLearned = 1 << 20

// NewENIMap returns an empty mapping.
func NewENIMap() *ENIMap {
	return &ENIMap{given: map[string]string{}, learned: map[eniKey]string{}}
}

// Instance returns the instance that interface eni of account belongs to:
// the operator's pair, else a learned one, else eni itself (a flow is then
// reported against its interface, as for an interface no instance owns:
// a NAT gateway, a load balancer, a Lambda function).
func (m *ENIMap) Instance(account, eni string) string {
	if m == nil || eni == "" {
		return eni
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if i, ok := m.given[eni]; ok {
		return i
	}
	if i, ok := m.learned[eniKey{account, eni}]; ok {
		return i
	}
	return eni
}

// Len returns how many pairs the mapping holds (given and learned).
func (m *ENIMap) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.given) + len(m.learned)
}

// Load reads pairs from r, the format of `guardpost serve --eni-map`: one
// pair a line, an interface id and an instance id separated by spaces or
// a comma ("eni-0a1b2c3d4e5f60718 i-0abcd1234ef567890"); blank lines and
// lines starting with # are skipped. A later pair for the same interface
// replaces an earlier one.
func (m *ENIMap) Load(r io.Reader) error {
	sc := bufio.NewScanner(r)
	given := map[string]string{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.FieldsFunc(line, func(c rune) bool { return c == ' ' || c == '\t' || c == ',' })
		if len(f) != 2 || !strings.HasPrefix(f[0], "eni-") || !strings.HasPrefix(f[1], "i-") {
			return fmt.Errorf("line %d: %q is not a pair \"eni-… i-…\" (an interface id, then the instance id it belongs to)", n, line)
		}
		given[f[0]] = f[1]
	}
	if err := sc.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for e, i := range given {
		m.given[e] = i
	}
	return nil
}

// LoadENIMapFile returns the mapping of a file in Load's format.
func LoadENIMapFile(path string) (*ENIMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := NewENIMap()
	if err := m.Load(f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Set records that interface eni of account belongs to instance, as
// CloudTrail reported it.
func (m *ENIMap) Set(account, eni, instance string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.learned) >= maxLearned {
		clear(m.learned)
	}
	m.learned[eniKey{account, eni}] = instance
}

// Learn takes the interface-to-instance pairs of successful CloudTrail
// calls among records: RunInstances' responseElements
// (instancesSet.items[].networkInterfaceSet.items[].networkInterfaceId),
// CreateNetworkInterface's (networkInterface.networkInterfaceId with
// attachment.instanceId, when created attached) and
// AttachNetworkInterface's requestParameters (networkInterfaceId,
// instanceId). Only records of accounts may accepts are read, so that a
// caller cannot map another account's interfaces.
//
// It returns the pairs it learned, by account, for the caller to keep.
func (m *ENIMap) Learn(records []Record, may func(account string) bool) map[string]map[string]string {
	if m == nil {
		return nil
	}
	var learned map[string]map[string]string
	for i := range records {
		rec := &records[i]
		if rec.ErrorCode != "" || rec.EventSource != "ec2.amazonaws.com" {
			continue
		}
		switch rec.EventName {
		case "RunInstances", "CreateNetworkInterface", "AttachNetworkInterface":
		default:
			continue
		}
		if !may(rec.RecipientAccountID) {
			continue
		}
		for _, p := range rec.interfacePairs() {
			m.Set(rec.RecipientAccountID, p[0], p[1])
			if learned == nil {
				learned = map[string]map[string]string{}
			}
			if learned[rec.RecipientAccountID] == nil {
				learned[rec.RecipientAccountID] = map[string]string{}
			}
			learned[rec.RecipientAccountID][p[0]] = p[1]
		}
	}
	return learned
}

// ENIStateName names the detection state holding an account's learned
// interface pairs (Service.DetectionState).
const ENIStateName = "eni-map"

// maxStoredPairs bounds an account's stored pairs (about 60 bytes each,
// well under the state's size limit); past it the stored set starts over
// from the latest ingest's.
const maxStoredPairs = 50_000

// MergePairs adds pairs to stored (an ENIStateName state, nil for none)
// and returns the state to store.
func MergePairs(stored []byte, pairs map[string]string) ([]byte, error) {
	all := map[string]string{}
	if len(stored) > 0 {
		// An unreadable state is replaced: the pairs come back as CloudTrail
		// reports them again.
		_ = json.Unmarshal(stored, &all)
	}
	if len(all)+len(pairs) > maxStoredPairs {
		clear(all)
	}
	for eni, instance := range pairs {
		all[eni] = instance
	}
	return json.Marshal(all)
}

// Restore takes an account's stored pairs (an ENIStateName state) back as
// learned ones; pairs learned since win.
func (m *ENIMap) Restore(account string, stored []byte) {
	if m == nil || len(stored) == 0 {
		return
	}
	var pairs map[string]string
	if json.Unmarshal(stored, &pairs) != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for eni, instance := range pairs {
		k := eniKey{account, eni}
		if _, ok := m.learned[k]; !ok && len(m.learned) < maxLearned {
			m.learned[k] = instance
		}
	}
}

// interfacePairs returns the (eni, instance) pairs a record reports.
func (rec *Record) interfacePairs() [][2]string {
	type iface struct {
		NetworkInterfaceID string `json:"networkInterfaceId"`
		Attachment         struct {
			InstanceID string `json:"instanceId"`
		} `json:"attachment"`
	}
	var out [][2]string
	add := func(eni, instance string) {
		if strings.HasPrefix(eni, "eni-") && strings.HasPrefix(instance, "i-") {
			out = append(out, [2]string{eni, instance})
		}
	}
	switch rec.EventName {
	case "RunInstances":
		var re struct {
			InstancesSet struct {
				Items []struct {
					InstanceID          string `json:"instanceId"`
					NetworkInterfaceSet struct {
						Items []iface `json:"items"`
					} `json:"networkInterfaceSet"`
				} `json:"items"`
			} `json:"instancesSet"`
		}
		if json.Unmarshal(rec.ResponseElements, &re) == nil {
			for _, inst := range re.InstancesSet.Items {
				for _, n := range inst.NetworkInterfaceSet.Items {
					add(n.NetworkInterfaceID, inst.InstanceID)
				}
			}
		}
	case "CreateNetworkInterface":
		var re struct {
			NetworkInterface iface `json:"networkInterface"`
		}
		if json.Unmarshal(rec.ResponseElements, &re) == nil {
			add(re.NetworkInterface.NetworkInterfaceID, re.NetworkInterface.Attachment.InstanceID)
		}
	case "AttachNetworkInterface":
		add(rec.requestParameter("networkInterfaceId"), rec.requestParameter("instanceId"))
	}
	return out
}
