package connection

import (
	"context"
	"slices"
	"sort"

	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// held is what the principal holds right now.
type held struct {
	exchange    []exchange.RoleAssignment // all assignments returned for the principal
	roleNames   map[string]bool           // catalogue names held (effective)
	principalID string                    // the principal's object id
}

// Check is the drift check of every plan: sign in, read the roles, and probe the
// principal's access. It changes nothing. For a user the cost is one token (cached per
// process), one InvokeCommand, one EWS call, and a Graph call only when a directory role is
// required.
func (e *Env) Check(ctx context.Context, spec Spec) (*Status, error) {
	conn, err := e.session(spec.Cloud, spec.Principal, ConnectionAccount)
	if err != nil {
		return nil, err
	}
	tok, err := conn.signIn(ctx)
	if err != nil {
		return nil, err
	}
	h, err := conn.kind.readHeld(ctx, conn, spec.Toggles, tok.ObjectID)
	if err != nil {
		return nil, err
	}
	st := status(spec, tok.TenantID, h)
	// A denial while the role is listed means a new assignment has not taken effect yet;
	// the role list says whether one is missing. A denial while it is missing may mean the
	// tenant retired it: only then is the role itself looked up (diagnose.go), so a healthy
	// tenant's check costs nothing more.
	st.Impersonation, st.EWSProblem = conn.kind.probe(ctx, conn)
	if !st.Impersonation && st.EWSProblem == nil && slices.Contains(st.Missing, roles.Impersonation().Name) {
		st.EWSProblem = conn.retiredIfDenied(ctx)
	}
	return st, nil
}

func status(spec Spec, tenantID string, h *held) *Status {
	st := &Status{TenantID: tenantID}
	for _, r := range roles.Required(spec.Toggles) {
		st.Required = append(st.Required, r.Name)
		if h.roleNames[r.Name] {
			st.Assigned = append(st.Assigned, r.Name)
		} else {
			st.Missing = append(st.Missing, r.Name)
		}
	}
	sort.Strings(st.Required)
	sort.Strings(st.Assigned)
	sort.Strings(st.Missing)
	return st
}

func missingRoles(st *Status) []roles.Role {
	var out []roles.Role
	for _, n := range st.Missing {
		if r, ok := roles.Lookup(n); ok {
			out = append(out, r)
		}
	}
	return out
}
