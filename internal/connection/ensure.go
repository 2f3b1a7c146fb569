package connection

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
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
	// AssignedBy is the account that assigned roles: "admin" or "global_admin".
	AssignedBy string
}

// ManagedName is the name of the Exchange role assignments this provider creates. It is a
// pure function of role and account, so a create retried after a lost response meets its
// own earlier assignment (ManagementObjectAlreadyExistsException) instead of doubling it.
// Exchange limits names to 64 characters (WIRE.md §E3).
func ManagedName(role, upn string) string {
	upn = strings.ToLower(upn)
	name := "tf-o365 " + role + " " + upn
	if len(name) <= 64 {
		return name
	}
	sum := sha1.Sum([]byte(upn))
	name = "tf-o365 " + role + " " + hex.EncodeToString(sum[:4])
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// Ensure is create and update: sign in, verify EWS, read roles, revoke what this connection
// no longer needs (when asked), assign what is missing, and wait until impersonation works.
func (e *Env) Ensure(ctx context.Context, spec Spec) (*Result, error) {
	res := &Result{Managed: append([]Managed(nil), spec.Managed...)}
	upn := spec.Admin.Username
	admin := e.session(spec.Cloud, spec.Admin)
	tok, err := admin.exchangeLogin(ctx)
	if err != nil {
		return res, authError("admin", spec.Admin, err)
	}
	// Impersonating the account's own mailbox verifies EWS access and impersonation in one
	// call. When it is denied, open the own mailbox too, so an account EWS cannot serve (no
	// mailbox) fails before any role is assigned.
	_, err = admin.ews().GetFolder(ctx, upn)
	impersonates := err == nil
	if ews.IsImpersonationDenied(err) {
		_, err = admin.ews().GetFolder(ctx, "")
	}
	if err != nil {
		return res, ewsError(upn, err)
	}
	h, err := admin.readHeld(ctx, spec.Toggles, tok.ObjectID)
	if err != nil {
		return res, err
	}
	res.prune(h.exchange)
	res.adopt(h.exchange, upn)
	st := e.status(spec, tok.TenantID, h)
	res.Status = st

	assigner, account := admin, "admin"
	if spec.GlobalAdmin != nil {
		assigner, account = e.session(spec.Cloud, *spec.GlobalAdmin), "global_admin"
	}
	if spec.RevokeManaged {
		if err := res.revokeUnneeded(ctx, assigner, account, spec); err != nil {
			return res, err
		}
	}

	missing := missingRoles(st)
	if len(missing) > 0 {
		if !spec.AssignMissing {
			return res, missingRolesError(upn, missing)
		}
		if account == "global_admin" {
			if _, err := assigner.exchangeLogin(ctx); err != nil {
				return res, authError("global_admin", *spec.GlobalAdmin, err)
			}
		}
		res.AssignedBy = account
		for i, r := range missing {
			if err := res.assign(ctx, admin, assigner, r, h); err != nil {
				if isAccessDenied(err) {
					return res, cannotAssignError(account, assigner.cred.Username, missing[i:], err)
				}
				return res, &Error{Problem: ProblemOther, Account: account, Summary: "Cannot assign role " + r.Name,
					Detail: err.Error(), Err: err}
			}
			st.markAssigned(r.Name)
		}
	}
	if !impersonates || len(res.Assigned) > 0 {
		if err := e.waitForImpersonation(ctx, admin, res); err != nil {
			return res, err
		}
	}
	st.Impersonation = true
	return res, nil
}

// adopt records assignments named as this provider names them but missing from state: they
// were created by an earlier run whose response was lost.
func (r *Result) adopt(as []exchange.RoleAssignment, upn string) {
	for _, a := range as {
		if a.AssignmentMethod != "" && a.AssignmentMethod != "Direct" {
			continue
		}
		if a.Name == ManagedName(a.Role, upn) && !r.owns(a.Name) {
			r.Managed = append(r.Managed, Managed{Role: a.Role, Kind: roles.ExchangeManagementRole, ID: a.Name})
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

func (r *Result) assign(ctx context.Context, admin, assigner *session, role roles.Role, h *held) error {
	upn := admin.cred.Username
	switch role.Kind {
	case roles.ExchangeManagementRole:
		name := ManagedName(role.Name, upn)
		_, err := assigner.exchange().NewManagementRoleAssignment(ctx, role.Name, upn, name)
		if exchange.IsAlreadyExists(err) {
			// Appeared between our read and this write (or an earlier create whose answer was
			// lost): read again and take it as it is, never twice.
			as, rerr := admin.exchange().GetManagementRoleAssignments(ctx, upn)
			if rerr != nil {
				return rerr
			}
			r.adopt(as, upn)
			if r.owns(name) || holdsRole(as, role.Name) {
				return nil
			}
			return err
		}
		if err != nil {
			return err
		}
		if !r.owns(name) {
			r.Managed = append(r.Managed, Managed{Role: role.Name, Kind: role.Kind, ID: name})
		}
	case roles.DirectoryRole:
		g := assigner.graph()
		pid := h.principalID
		if pid == "" {
			u, err := g.GetUser(ctx, upn)
			if err != nil {
				return err
			}
			pid = u.ID
		}
		a, err := g.CreateRoleAssignment(ctx, pid, role.DirectoryRoleTemplateID)
		if graph.IsConflict(err) {
			return nil // already assigned, not by us: never ours to revoke
		}
		if err != nil {
			return err
		}
		if !r.owns(a.ID) {
			r.Managed = append(r.Managed, Managed{Role: role.Name, Kind: role.Kind, ID: a.ID})
		}
	}
	r.Assigned = append(r.Assigned, role.Name)
	return nil
}

func holdsRole(as []exchange.RoleAssignment, role string) bool {
	for _, a := range as {
		if a.Effective() && strings.EqualFold(a.Role, role) {
			return true
		}
	}
	return false
}

// revokeUnneeded removes assignments this connection created whose role is no longer
// required (a toggle turned off). Assignments that existed before are never in Managed.
func (r *Result) revokeUnneeded(ctx context.Context, assigner *session, account string, spec Spec) error {
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
		if err := assigner.revoke(ctx, m); err != nil {
			r.Managed = append(keep, r.Managed[i:]...)
			if isAccessDenied(err) {
				return &Error{Problem: ProblemCannotAssign, Account: account, Summary: "Cannot remove role " + m.Role,
					Detail: fmt.Sprintf("%s may not remove the assignment %q (%v). Set `global_admin`, or turn `revoke_managed_roles` off to leave it in place.", assigner.cred.Username, m.ID, err), Err: err}
			}
			return &Error{Problem: ProblemOther, Account: account, Summary: "Cannot remove role " + m.Role, Detail: err.Error(), Err: err}
		}
		r.Revoked = append(r.Revoked, m.Role)
	}
	r.Managed = keep
	return nil
}

func (s *session) revoke(ctx context.Context, m Managed) error {
	if m.Kind == roles.DirectoryRole {
		return s.graph().DeleteRoleAssignment(ctx, m.ID)
	}
	return s.exchange().RemoveManagementRoleAssignment(ctx, m.ID)
}

// Revoke removes every assignment in spec.Managed (destroy with revoke_managed_roles). It
// returns those it could not remove.
func (e *Env) Revoke(ctx context.Context, spec Spec) ([]Managed, error) {
	assigner, account := e.session(spec.Cloud, spec.Admin), "admin"
	if spec.GlobalAdmin != nil {
		assigner, account = e.session(spec.Cloud, *spec.GlobalAdmin), "global_admin"
	}
	if _, err := assigner.exchangeLogin(ctx); err != nil {
		return spec.Managed, authError(account, assigner.cred, err)
	}
	for i, m := range spec.Managed {
		if err := assigner.revoke(ctx, m); err != nil {
			return spec.Managed[i:], &Error{Problem: ProblemOther, Account: account, Summary: "Cannot remove role " + m.Role,
				Detail: fmt.Sprintf("Removing assignment %q failed: %v", m.ID, err), Err: err}
		}
	}
	return nil, nil
}

// waitForImpersonation polls EWS impersonation until it works: Exchange takes a while
// before a new ApplicationImpersonation assignment is effective. The wait is bounded by ctx
// (the resource's create or update timeout).
func (e *Env) waitForImpersonation(ctx context.Context, admin *session, res *Result) error {
	delay := time.Second
	for {
		_, err := admin.ews().GetFolder(ctx, admin.cred.Username)
		if err == nil {
			return nil
		}
		if !ews.IsImpersonationDenied(err) {
			if ctx.Err() != nil {
				return notYetEffective(admin.cred.Username, res, ctx.Err())
			}
			return ewsError(admin.cred.Username, err)
		}
		if e.Log != nil {
			e.Log(ctx, "impersonation not effective yet; waiting", map[string]any{"wait": delay.String()})
		}
		if err := e.sleep(ctx, delay); err != nil {
			return notYetEffective(admin.cred.Username, res, err)
		}
		if delay *= 2; delay > 15*time.Second {
			delay = 15 * time.Second
		}
	}
}

func notYetEffective(upn string, res *Result, cause error) error {
	what := "The account holds ApplicationImpersonation"
	if len(res.Assigned) > 0 {
		what = "Assigned " + strings.Join(res.Assigned, ", ") + "; the state records these assignments"
	}
	return &Error{Problem: ProblemNotYetEffective, Account: "admin", Summary: "Roles not effective yet for " + upn,
		Detail: what + ", but EWS impersonation still fails: Exchange Online can take a while (up to an hour) before a new role assignment takes effect. " +
			"Run apply again later, or raise `timeouts.create` / `timeouts.update` to wait longer.", Err: cause}
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
