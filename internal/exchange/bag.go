package exchange

import (
	"encoding/json"
	"strconv"
	"strings"
)

// bag is one object of an InvokeCommand answer: a flat property bag (WIRE.md §E2) whose
// values are read leniently. The admin API serialises enums and names as strings and
// booleans as JSON booleans, but "True"/"False" strings, nested {"Name": …} objects and null
// are accepted too; keys with '@' (OData annotations) are never asked for.
type bag map[string]json.RawMessage

func decodeBag(b []byte) (bag, error) {
	var m bag
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// str is a string property, "" when absent or null.
func (m bag) str(k string) string {
	v, ok := m[k]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var o map[string]json.RawMessage // some serialisers nest {"Name": …}
	if json.Unmarshal(v, &o) == nil {
		for _, key := range []string{"Name", "name", "DisplayName"} {
			if json.Unmarshal(o[key], &s) == nil && s != "" {
				return s
			}
		}
	}
	return ""
}

// boolean is a bool property: nil when absent, null or not a boolean ("not configured", as
// EwsEnabled null means, §K2).
func (m bag) boolean(k string) *bool {
	v, ok := m[k]
	if !ok || strings.TrimSpace(string(v)) == "null" {
		return nil
	}
	var b bool
	if json.Unmarshal(v, &b) == nil {
		return &b
	}
	if b, err := strconv.ParseBool(strings.TrimSpace(m.str(k))); err == nil {
		return &b
	}
	return nil
}

// strs is a multi-valued property: a JSON array of strings, or one comma-separated string
// (EwsAllowedAppIDs, §K2); nil when absent or null.
func (m bag) strs(k string) []string {
	var out []string
	if json.Unmarshal(m[k], &out) == nil && out != nil {
		return out
	}
	for _, s := range strings.Split(m.str(k), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
