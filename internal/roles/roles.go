// Package roles is the one home of the role catalogue: the management roles a target
// connection needs (DESIGN.md §4, WIRE.md §E6). The resource and the data source both read it.
package roles

import (
	"fmt"
	"sort"
	"strings"
)

// Kind says where a role lives.
type Kind string

const (
	// ExchangeManagementRole is an Exchange Online RBAC management role, assigned with
	// New-ManagementRoleAssignment (WIRE.md §E4).
	ExchangeManagementRole Kind = "exchange_management_role"
	// DirectoryRole is a Microsoft Entra directory role, assigned through Graph (WIRE.md §C5).
	DirectoryRole Kind = "directory_role"
)

// Optional toggles: the attribute names that switch an optional role on.
const (
	TogglePublicFolders  = "public_folders_role"
	ToggleUserManagement = "user_management_role"
)

// Role is one entry of the catalogue.
type Role struct {
	// Name is the role's wire name: the Exchange role name, or the directory role's display name.
	Name string
	Kind Kind
	// Purpose says, in the user's words, why the migration needs it.
	Purpose string
	// OptionalToggle is the attribute that requires this role, or "" for an always-required role.
	OptionalToggle string
	// DirectoryRoleTemplateID is the fixed template id of a directory role (WIRE.md §C3).
	DirectoryRoleTemplateID string
}

// UserAdministratorTemplateID is the fixed template id of the User Administrator directory role.
const UserAdministratorTemplateID = "fe930be7-5e62-47db-91af-98c3a49a38b1"

// applicationImpersonation is the role that lets a user account open other mailboxes through
// EWS impersonation, retired by Exchange Online (WIRE.md §K1).
const applicationImpersonation = "ApplicationImpersonation"

// catalogue lists the roles in the order the migration tool's wizard shows them.
var catalogue = []Role{
	{Name: applicationImpersonation, Kind: ExchangeManagementRole, Purpose: "access user mailboxes through EWS impersonation"},
	{Name: "View-Only Configuration", Kind: ExchangeManagementRole, Purpose: "check assigned roles and the organization's configuration"},
	{Name: "View-Only Recipients", Kind: ExchangeManagementRole, Purpose: "view users and mailboxes"},
	{Name: "Mail Recipients", Kind: ExchangeManagementRole, Purpose: "create users and mailboxes (manage recipient settings)"},
	{Name: "Mail Recipient Creation", Kind: ExchangeManagementRole, Purpose: "create users and mailboxes"},
	{Name: "Public Folders", Kind: ExchangeManagementRole, Purpose: "migrate public folders", OptionalToggle: TogglePublicFolders},
	{Name: "User Administrator", Kind: DirectoryRole, Purpose: "create new users and mailboxes on the target", OptionalToggle: ToggleUserManagement, DirectoryRoleTemplateID: UserAdministratorTemplateID},
}

// Toggles selects the optional roles.
type Toggles struct {
	PublicFolders  bool
	UserManagement bool
}

// On reports whether the named toggle is set ("" is always on).
func (t Toggles) On(toggle string) bool {
	switch toggle {
	case "":
		return true
	case TogglePublicFolders:
		return t.PublicFolders
	case ToggleUserManagement:
		return t.UserManagement
	}
	return false
}

// All returns the whole catalogue, in display order. The slice is a copy.
func All() []Role {
	return append([]Role(nil), catalogue...)
}

// Required returns the roles required given the toggles, in catalogue order.
func Required(t Toggles) []Role {
	var out []Role
	for _, r := range catalogue {
		if t.On(r.OptionalToggle) {
			out = append(out, r)
		}
	}
	return out
}

// Lookup finds a role by name (case-insensitive).
func Lookup(name string) (Role, bool) {
	for _, r := range catalogue {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return Role{}, false
}

// Impersonation is the role that lets the account open the target mailboxes through EWS
// impersonation, ApplicationImpersonation, which Exchange Online retired (WIRE.md §K1).
func Impersonation() Role {
	r, _ := Lookup(applicationImpersonation)
	return r
}

// ByToggle is the optional role the toggle requires (TogglePublicFolders,
// ToggleUserManagement).
func ByToggle(toggle string) Role {
	for _, r := range catalogue {
		if toggle != "" && r.OptionalToggle == toggle {
			return r
		}
	}
	return Role{}
}

// Names returns the names of roles, sorted.
func Names(rs []Role) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}

// GrantCommand is what an administrator would run by hand to give upn this role.
// An empty upn yields a placeholder.
func (r Role) GrantCommand(upn string) string {
	if upn == "" {
		upn = "<admin_email>"
	}
	switch r.Kind {
	case DirectoryRole:
		return fmt.Sprintf(`New-MgRoleManagementDirectoryRoleAssignment -PrincipalId (Get-MgUser -UserId '%s').Id -RoleDefinitionId '%s' -DirectoryScopeId '/'`, upn, r.DirectoryRoleTemplateID)
	default:
		return fmt.Sprintf(`New-ManagementRoleAssignment -Role '%s' -User '%s'`, r.Name, upn)
	}
}
