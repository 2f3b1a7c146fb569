package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// RoleAssignment is a management role assignment as Get-/New-ManagementRoleAssignment
// return it (WIRE.md §E3). Keys with '@' (OData annotations) are ignored.
type RoleAssignment struct {
	Name, Identity, Role                              string
	RoleAssignee, RoleAssigneeName                    string
	RoleAssigneeType                                  string // User, SecurityGroup, RoleGroup, RoleAssignmentPolicy, …
	AssignmentMethod                                  string // Direct, SecurityGroup, RoleGroup, RoleAssignmentPolicy
	DelegationType                                    string // RoleAssignmentDelegationType: Regular, Delegating, DelegatingOrgWide
	RecipientWriteScope, ConfigWriteScope             string
	CustomRecipientWriteScope, CustomConfigWriteScope string
	Guid                                              string
	Enabled                                           bool
	WhenCreatedUTC                                    time.Time
}

// Effective reports whether the assignment grants its role: enabled, a Regular (not merely
// delegating) assignment, and a write scope that is not restricted to part of the
// organization (§E3). "None"/"NotApplicable" count as unrestricted: roles without recipient
// or configuration entries (ApplicationImpersonation has no config write scope) show them.
func (r RoleAssignment) Effective() bool {
	if !r.Enabled {
		return false
	}
	if r.DelegationType != "" && !strings.EqualFold(r.DelegationType, "Regular") {
		return false
	}
	if r.CustomRecipientWriteScope != "" || r.CustomConfigWriteScope != "" {
		return false
	}
	return oneOf(r.RecipientWriteScope, "", "Organization", "None", "NotApplicable") &&
		oneOf(r.ConfigWriteScope, "", "OrganizationConfig", "None", "NotApplicable")
}

func oneOf(s string, set ...string) bool {
	for _, x := range set {
		if strings.EqualFold(s, x) {
			return true
		}
	}
	return false
}

// UnmarshalJSON is lenient about value types: the admin API serialises enums as strings and
// booleans as JSON booleans, but "True"/"False" strings and null are accepted too.
func (r *RoleAssignment) UnmarshalJSON(b []byte) error {
	m, err := decodeBag(b)
	if err != nil {
		return err
	}
	str := m.str
	*r = RoleAssignment{
		Name: str("Name"), Identity: str("Identity"), Role: str("Role"),
		RoleAssignee: str("RoleAssignee"), RoleAssigneeName: str("RoleAssigneeName"),
		RoleAssigneeType: str("RoleAssigneeType"), AssignmentMethod: str("AssignmentMethod"),
		DelegationType:      str("RoleAssignmentDelegationType"),
		RecipientWriteScope: str("RecipientWriteScope"), ConfigWriteScope: str("ConfigWriteScope"),
		CustomRecipientWriteScope: str("CustomRecipientWriteScope"), CustomConfigWriteScope: str("CustomConfigWriteScope"),
		Guid: str("Guid"),
	}
	if e := m.boolean("Enabled"); e != nil {
		r.Enabled = *e
	}
	for _, k := range []string{"WhenCreatedUTC", "WhenCreated"} {
		if t, ok := parseTime(str(k)); ok {
			r.WhenCreatedUTC = t.UTC()
			break
		}
	}
	if r.Identity == "" {
		r.Identity = r.Name
	}
	return nil
}

// parseTime reads "2026-09-30T10:00:00.0000000+00:00" (7 fractional digits, §E2) and plain
// RFC 3339; a missing zone means UTC.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func decodeAssignments(values []json.RawMessage) ([]RoleAssignment, error) {
	out := make([]RoleAssignment, 0, len(values))
	for _, v := range values {
		var a RoleAssignment
		if err := json.Unmarshal(v, &a); err != nil {
			return nil, fmt.Errorf("exchange: decoding a role assignment: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}

// GetManagementRoleAssignments returns the assignments of roleAssignee (a UPN), direct and
// through role groups or assignment policies (§E3, §E4). The server filters: RoleAssignee
// values are Exchange names, not UPNs, so they must not be compared client-side.
func (c *Client) GetManagementRoleAssignments(ctx context.Context, roleAssignee string) ([]RoleAssignment, error) {
	vs, _, err := c.invoke(ctx, command{name: "Get-ManagementRoleAssignment", params: map[string]any{"RoleAssignee": roleAssignee}, idempotent: true})
	if err != nil {
		return nil, err
	}
	return decodeAssignments(vs)
}

// GetManagementRoleAssignment reads one assignment by identity (its name); nil when there is
// none (ManagementObjectNotFoundException).
func (c *Client) GetManagementRoleAssignment(ctx context.Context, identity string) (*RoleAssignment, error) {
	vs, _, err := c.invoke(ctx, command{name: "Get-ManagementRoleAssignment", params: map[string]any{"Identity": identity}, idempotent: true})
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	as, err := decodeAssignments(vs)
	if err != nil || len(as) == 0 {
		return nil, err
	}
	return &as[0], nil
}

// NewManagementRoleAssignment assigns role to user under the given name (at most 64
// characters, §E3). The cmdlet is not idempotent: after an ambiguous failure (the answer was
// lost) it looks the name up before trying again, and returns the assignment if the first
// call did create it. An existing assignment of that name gives IsAlreadyExists.
func (c *Client) NewManagementRoleAssignment(ctx context.Context, role, user, name string) (*RoleAssignment, error) {
	var found *RoleAssignment
	cmd := command{name: "New-ManagementRoleAssignment", params: map[string]any{"Role": role, "User": user, "Name": name}}
	if name != "" {
		cmd.recoverLost = func(ctx context.Context) (bool, error) {
			a, err := c.GetManagementRoleAssignment(ctx, name)
			found = a
			return a != nil, err
		}
	}
	created, _, err := c.invoke(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if found != nil {
		return found, nil
	}
	as, err := decodeAssignments(created)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		// Some servers answer without the object; read it back so the caller has its identity.
		a, err := c.GetManagementRoleAssignment(ctx, name)
		if err != nil {
			return nil, err
		}
		if a == nil {
			return &RoleAssignment{Name: name, Identity: name, Role: role, Enabled: true}, nil
		}
		return a, nil
	}
	return &as[0], nil
}

// RemoveManagementRoleAssignment removes an assignment by identity. One that does not exist
// (any more) is what the caller wants: nil. A retried removal whose first attempt did
// succeed ends the same way.
func (c *Client) RemoveManagementRoleAssignment(ctx context.Context, identity string) error {
	_, _, err := c.invoke(ctx, command{name: "Remove-ManagementRoleAssignment", params: map[string]any{"Identity": identity, "Confirm": false}, idempotent: true})
	if IsNotFound(err) {
		return nil
	}
	return err
}
