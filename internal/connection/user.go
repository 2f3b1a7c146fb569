package connection

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// userKind is an Exchange Online admin account (DESIGN.md §3): it verifies EWS by
// impersonating its own mailbox, holds Exchange management roles and directory roles, and
// is assigned them with -User.
type userKind struct{}

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

func (userKind) anchor(s *session) string { return exchange.UserAnchor(s.who.Name) }

// verify impersonates the account's own mailbox, which proves EWS access and impersonation
// in one call. When impersonation is denied, it opens the own mailbox too, so an account EWS
// cannot serve (no mailbox) fails before any role is assigned.
func (k userKind) verify(ctx context.Context, s *session) (bool, error) {
	_, err := s.ews().GetFolder(ctx, s.who.Name)
	if ews.IsImpersonationDenied(err) {
		if _, err := s.ews().GetFolder(ctx, ""); err != nil {
			return false, s.ewsRefused(ctx, err)
		}
		return false, nil
	}
	if err != nil {
		return false, s.ewsRefused(ctx, err)
	}
	return true, nil
}

// probe tries EWS impersonation once. A denial while ApplicationImpersonation is listed
// means a new assignment has not taken effect yet; a 403 is diagnosed (diagnose.go).
func (userKind) probe(ctx context.Context, s *session) (bool, error) {
	_, err := s.ews().GetFolder(ctx, s.who.Name)
	switch {
	case err == nil:
		return true, nil
	case ews.IsImpersonationDenied(err):
		return false, nil
	}
	return false, s.ewsRefused(ctx, err)
}

// readHeld reads the account's Exchange role assignments and, when a directory role is
// required, its directory roles.
func (userKind) readHeld(ctx context.Context, s *session, t roles.Toggles, principalID string) (*held, error) {
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

// managedIn finds the direct Exchange assignments named as this provider names them.
func (userKind) managedIn(s *session, h *held) []Managed {
	return managedExchange(h.exchange, s.who.Name)
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

func (userKind) assign(ctx context.Context, s, assigner *session, role roles.Role, h *held) ([]Managed, error) {
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

func (userKind) revoke(ctx context.Context, s *session, m Managed) error {
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
