package connection

import (
	"testing"

	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// Lacking: a Global Administrator lacks nothing; otherwise each job's directory role must be
// held tenant-wide (an administrative unit's scope is not "has the role"), and a job without
// a directory role needs none.
func TestDirectoryRolesLacking(t *testing.T) {
	tenantWide := func(id string) graph.RoleAssignment {
		return graph.RoleAssignment{RoleDefinitionID: id, DirectoryScopeID: "/"}
	}
	needs := []roles.Management{roles.ManageRegistrations, roles.ManageConsent, roles.ManageScopes}
	for name, tc := range map[string]struct {
		held []graph.RoleAssignment
		want []string
	}{
		"none":                  {nil, []string{roles.PrivilegedRoleAdministrator, roles.ExchangeAdministrator}},
		"global administrator":  {[]graph.RoleAssignment{tenantWide(roles.GlobalAdministratorTemplateID)}, nil},
		"privileged role admin": {[]graph.RoleAssignment{tenantWide(roles.PrivilegedRoleAdministratorTemplateID)}, []string{roles.ExchangeAdministrator}},
		"both":                  {[]graph.RoleAssignment{tenantWide(roles.PrivilegedRoleAdministratorTemplateID), tenantWide(roles.ExchangeAdministratorTemplateID)}, nil},
		"administrative unit":   {[]graph.RoleAssignment{{RoleDefinitionID: roles.GlobalAdministratorTemplateID, DirectoryScopeID: "/administrativeUnits/1"}}, []string{roles.PrivilegedRoleAdministrator, roles.ExchangeAdministrator}},
	} {
		var got []string
		for _, n := range (&DirectoryRoles{held: tc.held}).Lacking(needs) {
			got = append(got, n.DirectoryRole)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: lacking %v, want %v", name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: lacking %v, want %v", name, got, tc.want)
			}
		}
	}
}
