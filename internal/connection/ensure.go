package connection

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

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

// Ensure is create and update, one pipeline whatever the principal's kind: authenticate →
// verify → read → adopt/prune → revoke what is no longer needed (when asked) → assign what
// is missing → wait until the principal's access works.
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
	effective, err := conn.kind.verify(ctx, conn)
	if err != nil {
		return res, err
	}
	h, err := conn.kind.readHeld(ctx, conn, spec.Toggles, tok.ObjectID)
	if err != nil {
		return res, err
	}
	res.prune(h.exchange)
	res.record(conn.kind.managedIn(conn, h)...)
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

// assignMissing assigns the required roles the principal lacks, as the assigner.
func (r *Result) assignMissing(ctx context.Context, conn, assigner *session, spec Spec, h *held) error {
	missing := missingRoles(r.Status)
	if len(missing) == 0 {
		return nil
	}
	if !spec.AssignMissing {
		return missingRolesError(conn, missing)
	}
	if assigner != conn {
		if _, err := assigner.signIn(ctx); err != nil {
			return err
		}
	}
	r.AssignedBy = assigner.account
	for i, role := range missing {
		ms, err := conn.kind.assign(ctx, conn, assigner, role, h)
		r.record(ms...)
		if err != nil {
			if isAccessDenied(err) {
				return cannotAssignError(assigner, missing[i:], err)
			}
			if role.Name == roles.Impersonation().Name && exchange.IsNotFound(err) {
				return impersonationRetired(conn) // retired between the check and this write
			}
			return assigner.failed("Cannot assign role "+role.Name, err.Error(), err)
		}
		r.Assigned = append(r.Assigned, role.Name)
		r.Status.markAssigned(role.Name)
	}
	return nil
}

// record adds assignments this connection owns, once each.
func (r *Result) record(ms ...Managed) {
	for _, m := range ms {
		if !r.owns(m.ID) {
			r.Managed = append(r.Managed, m)
		}
	}
}

// prune forgets Exchange assignments recorded as ours that no longer exist (removed outside
// Terraform): they are not ours to revoke any more, and a repair records its new one.
func (r *Result) prune(as []exchange.RoleAssignment) {
	exists := map[string]bool{}
	for _, a := range as {
		exists[strings.ToLower(a.Name)] = true
		exists[strings.ToLower(a.Identity)] = true
	}
	kept := r.Managed[:0:0]
	for _, m := range r.Managed {
		if m.Kind == roles.ExchangeManagementRole && !exists[strings.ToLower(m.ID)] {
			continue
		}
		kept = append(kept, m)
	}
	r.Managed = kept
}

func (r *Result) owns(id string) bool {
	for _, m := range r.Managed {
		if strings.EqualFold(m.ID, id) {
			return true
		}
	}
	return false
}

func (st *Status) markAssigned(name string) {
	st.Assigned = appendSorted(st.Assigned, name)
	st.Missing = remove(st.Missing, name)
}

// revokeUnneeded removes assignments this connection created whose role is no longer
// required (a toggle turned off). Assignments that existed before are never in Managed.
func (r *Result) revokeUnneeded(ctx context.Context, assigner *session, spec Spec) error {
	required := map[string]bool{}
	for _, x := range roles.Required(spec.Toggles) {
		required[x.Name] = true
	}
	var keep []Managed
	for i, m := range r.Managed {
		if required[m.Role] {
			keep = append(keep, m)
			continue
		}
		if err := assigner.kind.revoke(ctx, assigner, m); err != nil {
			r.Managed = append(keep, r.Managed[i:]...)
			if isAccessDenied(err) {
				return cannotRevokeError(assigner, m, err)
			}
			return assigner.failed("Cannot remove role "+m.Role, err.Error(), err)
		}
		r.Revoked = append(r.Revoked, m.Role)
	}
	r.Managed = keep
	return nil
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
		if err := assigner.kind.revoke(ctx, assigner, m); err != nil {
			if isAccessDenied(err) {
				return spec.Managed[i:], cannotRevokeError(assigner, m, err)
			}
			return spec.Managed[i:], assigner.failed("Cannot remove role "+m.Role, "Removing assignment \""+m.ID+"\" failed: "+err.Error(), err)
		}
	}
	return nil, nil
}

// waitUntilEffective polls the principal's access until it works: Exchange takes a while
// before a new assignment (ApplicationImpersonation for a user) is effective. The wait is
// bounded by ctx (the resource's create or update timeout).
func (e *Env) waitUntilEffective(ctx context.Context, conn *session, res *Result) error {
	delay := time.Second
	for {
		ok, err := conn.kind.probe(ctx, conn)
		if ok {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return notYetEffective(conn, res, ctx.Err())
			}
			return err
		}
		if e.Log != nil {
			e.Log(ctx, "access not effective yet; waiting", map[string]any{"wait": delay.String()})
		}
		if err := e.sleep(ctx, delay); err != nil {
			return notYetEffective(conn, res, err)
		}
		if delay *= 2; delay > 15*time.Second {
			delay = 15 * time.Second
		}
	}
}

func isAccessDenied(err error) bool {
	return exchange.IsAccessDenied(err) || graph.IsForbidden(err)
}

func appendSorted(ss []string, s string) []string {
	for _, x := range ss {
		if x == s {
			return ss
		}
	}
	ss = append(ss, s)
	for i := len(ss) - 1; i > 0 && ss[i] < ss[i-1]; i-- {
		ss[i], ss[i-1] = ss[i-1], ss[i]
	}
	return ss
}

func remove(ss []string, s string) []string {
	out := ss[:0:0]
	for _, x := range ss {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
