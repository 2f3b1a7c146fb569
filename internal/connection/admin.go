package connection

import (
	"context"
	"slices"
	"sort"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The admin-account connection (DESIGN.md §3): an Exchange Online admin account signing in
// with its password or app password, whose EWS impersonation of its own mailbox is verified,
// and which is given the management roles of the catalogue (internal/roles) it lacks. Ensure
// is create and update (authenticate → verify → read the held roles → adopt/prune the record
// → revoke what is no longer needed → assign what is missing → wait until it takes effect),
// Check the read-only drift check of every plan, Diagnose the plan-time check of a new
// connection (admin_ews.go), Revoke the destroy.

// Spec is what the configuration asks of an admin-account connection.
type Spec struct {
	Cloud cloud.Cloud
	// Principal is who the connection signs in as.
	Principal Principal
	// Assigner, when set, assigns (and revokes) the roles the principal cannot assign
	// itself; it is never used for mailbox access.
	Assigner      *Principal
	Toggles       roles.Toggles
	AssignMissing bool
	RevokeManaged bool
	// Managed are the assignments recorded in state by earlier applies.
	Managed []Managed
}

// Managed is a role assignment this connection created, recorded so it can be revoked.
type Managed struct {
	Role string
	Kind roles.Kind
	// ID is the Exchange assignment's Identity (its name) or the Graph roleAssignment id.
	ID string
}

// Status is what a check of an admin-account connection found.
type Status struct {
	TenantID string
	Required []string
	Assigned []string
	Missing  []string
	// Impersonation reports whether EWS impersonation worked at the last check.
	Impersonation bool
	// EWSProblem says why EWS access cannot work, for a reason other than a role that can be
	// assigned: EWS refused or closed (ProblemEWSClosed names the switch), or impersonation
	// denied because the tenant retired ApplicationImpersonation (ProblemImpersonationRetired).
	EWSProblem error
}

// Result is what Ensure did. It is returned even with an error, so state can record the
// assignments really made before the failure.
type Result struct {
	Status *Status
	// Managed is the full list of assignments this connection owns after the run.
	Managed []Managed
	// Assigned and Revoked name the roles this run assigned and removed.
	Assigned []string
	Revoked  []string
	// AssignedBy is the principal that assigned roles (0 when none were assigned).
	AssignedBy Account
}

// held is what the principal holds right now.
type held struct {
	exchange    []exchange.RoleAssignment // all assignments returned for the principal
	roleNames   map[string]bool           // catalogue names held (effective)
	principalID string                    // the principal's object id
}

// sessions opens the connection's session and the one that assigns roles (the assigner's,
// or the same).
func (e *Env) sessions(spec Spec) (conn, assigner *session, err error) {
	conn, err = e.session(spec.Cloud, spec.Principal, ConnectionAccount)
	if err != nil || spec.Assigner == nil {
		return conn, conn, err
	}
	assigner, err = e.session(spec.Cloud, *spec.Assigner, AssignerAccount)
	return conn, assigner, err
}

// Ensure is create and update: authenticate → verify → read → adopt/prune → revoke what is
// no longer needed (when asked) → assign what is missing → wait until the principal's access
// works.
func (e *Env) Ensure(ctx context.Context, spec Spec) (*Result, error) {
	res := &Result{Managed: append([]Managed(nil), spec.Managed...)}
	conn, assigner, err := e.sessions(spec)
	if err != nil {
		return res, err
	}
	tok, err := conn.signIn(ctx)
	if err != nil {
		return res, err
	}
	effective, err := conn.verify(ctx)
	if err != nil {
		return res, err
	}
	h, err := conn.readHeld(ctx, spec.Toggles, tok.ObjectID)
	if err != nil {
		return res, err
	}
	res.prune(h.exchange)
	res.record(managedExchange(h.exchange, conn.who.Name)...)
	st := status(spec, tok.TenantID, h)
	res.Status = st
	if !effective && slices.Contains(st.Missing, roles.Impersonation().Name) {
		// Impersonation denied and the role missing: a retired role is reported before
		// anything is assigned (WIRE.md §K1).
		if err := conn.retiredIfDenied(ctx); err != nil {
			return res, err
		}
	}

	if spec.RevokeManaged {
		if err := res.revokeUnneeded(ctx, assigner, spec); err != nil {
			return res, err
		}
	}
	if err := res.assignMissing(ctx, conn, assigner, spec, h); err != nil {
		return res, err
	}
	if !effective || len(res.Assigned) > 0 {
		if err := e.waitUntilEffective(ctx, conn, res); err != nil {
			return res, err
		}
	}
	st.Impersonation = true
	return res, nil
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
	h, err := conn.readHeld(ctx, spec.Toggles, tok.ObjectID)
	if err != nil {
		return nil, err
	}
	st := status(spec, tok.TenantID, h)
	// A denial while the role is listed means a new assignment has not taken effect yet;
	// the role list says whether one is missing. A denial while it is missing may mean the
	// tenant retired it: only then is the role itself looked up (retiredIfDenied), so a healthy
	// tenant's check costs nothing more.
	st.Impersonation, st.EWSProblem = conn.probe(ctx)
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

// Revoke removes every assignment in spec.Managed (destroy with revoke_managed_roles). It
// returns those it could not remove.
func (e *Env) Revoke(ctx context.Context, spec Spec) ([]Managed, error) {
	_, assigner, err := e.sessions(spec)
	if err != nil {
		return spec.Managed, err
	}
	if _, err := assigner.signIn(ctx); err != nil {
		return spec.Managed, err
	}
	for i, m := range spec.Managed {
		if err := assigner.revoke(ctx, m); err != nil {
			if isAccessDenied(err) {
				return spec.Managed[i:], cannotRevokeError(assigner, m, err)
			}
			return spec.Managed[i:], assigner.failed("Cannot remove role "+m.Role, "Removing assignment \""+m.ID+"\" failed: "+err.Error(), err)
		}
	}
	return nil, nil
}
