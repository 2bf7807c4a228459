package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/guardpost/guardpost/detect/dnsquery"
	"github.com/guardpost/guardpost/detect/network"
)

// detectionConfig is the file of serve --detection-config: the network
// and DNS engines' thresholds, each member overriding its documented
// default (docs/network-detection.md, docs/dns-detection.md). Durations
// are written as Go durations ("10m", "24h").
type detectionConfig struct {
	Network network.Thresholds `json:"network"`
	DNS     dnsquery.Config    `json:"dns"`
}

// loadDetectionConfig reads path over the defaults. Unknown members, a
// count below 1 and a duration not above 0 are errors naming the member.
func loadDetectionConfig(path string) (detectionConfig, error) {
	cfg := detectionConfig{Network: network.DefaultThresholds(), DNS: dnsquery.DefaultConfig()}
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	if err := normalise(tree, ""); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	data, _ = json.Marshal(tree)
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// normalise turns duration strings into the nanoseconds encoding/json
// reads into a time.Duration, and refuses counts and durations that would
// make every record an occurrence.
func normalise(v any, at string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	for k, x := range obj {
		name := strings.TrimPrefix(at+"."+k, ".")
		switch x := x.(type) {
		case map[string]any:
			if err := normalise(x, name); err != nil {
				return err
			}
		case string:
			dur, err := time.ParseDuration(x)
			if err != nil {
				return fmt.Errorf("%s: %q is not a duration (write it as 10m, 24h, 90s)", name, x)
			}
			if dur <= 0 {
				return fmt.Errorf("%s: the duration must be above 0", name)
			}
			obj[k] = int64(dur)
		case float64:
			if (k == "Count" || k == "Distinct") && x < 1 {
				return fmt.Errorf("%s: must be at least 1", name)
			}
		}
	}
	return nil
}
