package connection

import (
	"context"
	"sort"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// held is what the admin account holds right now.
type held struct {
	exchange    []exchange.RoleAssignment // all assignments returned for the admin
	directory   map[string]bool           // directory role template ids
	roleNames   map[string]bool           // catalogue names held (effective)
	principalID string                    // the admin's object id
}

// Check is the drift check of every plan: sign in, read the roles, and try EWS
// impersonation. It changes nothing. The cost is one token (cached per process), one
// InvokeCommand, one EWS call, and a Graph call only when a directory role is required.
func (e *Env) Check(ctx context.Context, spec Spec) (*Status, error) {
	admin := e.session(spec.Cloud, spec.Admin)
	tok, err := admin.exchangeLogin(ctx)
	if err != nil {
		return nil, authError("admin", spec.Admin, err)
	}
	h, err := admin.readHeld(ctx, spec.Toggles, tok.ObjectID)
	if err != nil {
		return nil, err
	}
	st := e.status(spec, tok.TenantID, h)
	_, err = admin.ews().GetFolder(ctx, spec.Admin.Username)
	switch {
	case err == nil:
		st.Impersonation = true
	case ews.IsImpersonationDenied(err):
		// The role list says whether ApplicationImpersonation is missing; a denial while the
		// role is listed means a new assignment has not taken effect yet.
	default:
		st.EWSProblem = ewsError(spec.Admin.Username, err)
	}
	return st, nil
}

// readHeld reads the admin's Exchange role assignments and, when a directory role is
// required, its directory roles.
func (s *session) readHeld(ctx context.Context, t roles.Toggles, principalID string) (*held, error) {
	as, err := s.exchange().GetManagementRoleAssignments(ctx, s.cred.Username)
	if err != nil {
		return nil, &Error{Problem: ProblemOther, Account: "admin", Summary: "Cannot read the management roles of " + s.cred.Username,
			Detail: "Get-ManagementRoleAssignment failed: " + err.Error(), Err: err}
	}
	h := &held{exchange: as, roleNames: map[string]bool{}, directory: map[string]bool{}, principalID: principalID}
	for _, a := range as {
		if a.Effective() {
			if r, ok := roles.Lookup(a.Role); ok && r.Kind == roles.ExchangeManagementRole {
				h.roleNames[r.Name] = true
			}
		}
	}
	if needsDirectory(t) {
		g := s.graph()
		id := principalID
		if id == "" {
			u, err := g.GetUser(ctx, s.cred.Username)
			if err != nil {
				return nil, &Error{Problem: ProblemOther, Account: "admin", Summary: "Cannot read " + s.cred.Username + " from Microsoft Graph", Detail: err.Error(), Err: err}
			}
			id = u.ID
			h.principalID = id
		}
		drs, err := g.ListMemberOfDirectoryRoles(ctx, id)
		if err != nil {
			return nil, &Error{Problem: ProblemOther, Account: "admin", Summary: "Cannot read the directory roles of " + s.cred.Username, Detail: err.Error(), Err: err}
		}
		for _, d := range drs {
			h.directory[strings.ToLower(d.RoleTemplateID)] = true
		}
		for _, r := range roles.All() {
			if r.Kind == roles.DirectoryRole && h.directory[strings.ToLower(r.DirectoryRoleTemplateID)] {
				h.roleNames[r.Name] = true
			}
		}
	}
	return h, nil
}

func needsDirectory(t roles.Toggles) bool {
	for _, r := range roles.Required(t) {
		if r.Kind == roles.DirectoryRole {
			return true
		}
	}
	return false
}

func (e *Env) status(spec Spec, tenantID string, h *held) *Status {
	st := &Status{TenantID: tenantID, EWSURL: spec.Cloud.EWSURL()}
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
