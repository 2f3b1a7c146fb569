package connection

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The roles of the admin-account connection: read, assigned, recorded and revoked.

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

// readHeld reads the account's Exchange role assignments and, when a directory role is
// required, its directory roles.
func (s *session) readHeld(ctx context.Context, t roles.Toggles, principalID string) (*held, error) {
	upn := s.who.Name
	as, err := s.exchange().GetManagementRoleAssignments(ctx, upn)
	if err != nil {
		return nil, s.failed("Cannot read the management roles of "+upn, "Get-ManagementRoleAssignment failed: "+err.Error(), err)
	}
	h := &held{exchange: as, roleNames: map[string]bool{}, principalID: principalID}
	for _, a := range as {
		if a.Effective() {
			if r, ok := roles.Lookup(a.Role); ok && r.Kind == roles.ExchangeManagementRole {
				h.roleNames[r.Name] = true
			}
		}
	}
	if !needsDirectory(t) {
		return h, nil
	}
	g := s.graph()
	if h.principalID == "" {
		u, err := g.GetUser(ctx, upn)
		if err != nil {
			return nil, s.failed("Cannot read "+upn+" from Microsoft Graph", err.Error(), err)
		}
		h.principalID = u.ID
	}
	drs, err := g.ListMemberOfDirectoryRoles(ctx, h.principalID)
	if err != nil {
		return nil, s.failed("Cannot read the directory roles of "+upn, err.Error(), err)
	}
	directory := map[string]bool{}
	for _, d := range drs {
		directory[strings.ToLower(d.RoleTemplateID)] = true
	}
	for _, r := range roles.All() {
		if r.Kind == roles.DirectoryRole && directory[strings.ToLower(r.DirectoryRoleTemplateID)] {
			h.roleNames[r.Name] = true
		}
	}
	return h, nil
}

func managedExchange(as []exchange.RoleAssignment, upn string) []Managed {
	var out []Managed
	for _, a := range as {
		if a.AssignmentMethod != "" && a.AssignmentMethod != "Direct" {
			continue
		}
		if a.Name == ManagedName(a.Role, upn) {
			out = append(out, Managed{Role: a.Role, Kind: roles.ExchangeManagementRole, ID: a.Name})
		}
	}
	return out
}

func (s *session) assign(ctx context.Context, assigner *session, role roles.Role, h *held) ([]Managed, error) {
	upn := s.who.Name
	switch role.Kind {
	case roles.ExchangeManagementRole:
		name := ManagedName(role.Name, upn)
		_, err := assigner.exchange().NewManagementRoleAssignment(ctx, role.Name, upn, name)
		if exchange.IsAlreadyExists(err) {
			// Appeared between our read and this write (or an earlier create whose answer was
			// lost): read again and take it as it is, never twice.
			as, rerr := s.exchange().GetManagementRoleAssignments(ctx, upn)
			if rerr != nil {
				return nil, rerr
			}
			ours := managedExchange(as, upn)
			for _, m := range ours {
				if strings.EqualFold(m.ID, name) {
					return ours, nil
				}
			}
			if holdsRole(as, role.Name) {
				return ours, nil
			}
			return ours, err
		}
		if err != nil {
			return nil, err
		}
		return []Managed{{Role: role.Name, Kind: role.Kind, ID: name}}, nil
	case roles.DirectoryRole:
		g := assigner.graph()
		pid := h.principalID
		if pid == "" {
			u, err := g.GetUser(ctx, upn)
			if err != nil {
				return nil, err
			}
			pid = u.ID
		}
		a, err := g.CreateRoleAssignment(ctx, pid, role.DirectoryRoleTemplateID)
		if graph.IsConflict(err) {
			return nil, nil // already assigned, not by us: never ours to revoke
		}
		if err != nil {
			return nil, err
		}
		return []Managed{{Role: role.Name, Kind: role.Kind, ID: a.ID}}, nil
	}
	return nil, nil
}

func (s *session) revoke(ctx context.Context, m Managed) error {
	if m.Kind == roles.DirectoryRole {
		return s.graph().DeleteRoleAssignment(ctx, m.ID)
	}
	return s.exchange().RemoveManagementRoleAssignment(ctx, m.ID)
}

func holdsRole(as []exchange.RoleAssignment, role string) bool {
	for _, a := range as {
		if a.Effective() && strings.EqualFold(a.Role, role) {
			return true
		}
	}
	return false
}

func needsDirectory(t roles.Toggles) bool {
	for _, r := range roles.Required(t) {
		if r.Kind == roles.DirectoryRole {
			return true
		}
	}
	return false
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
		ms, err := conn.assign(ctx, assigner, role, h)
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
		if err := assigner.revoke(ctx, m); err != nil {
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
