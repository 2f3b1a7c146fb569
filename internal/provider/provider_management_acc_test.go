package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// Management identities that may read their own directory roles (Directory.Read.All), with
// and without Privileged Role Administrator.
const (
	mgmtReaderClientID      = "2f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
	mgmtReaderNoPRAClientID = "3f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
)

// A management identity that can read its own directory roles and lacks Privileged Role
// Administrator fails the plan, on `management`, with the role and the command that assigns
// it, before anything exists in the tenant; once the role is there the same configuration
// applies. One that may not read its roles is not failed at plan time (apply reports it:
// TestAccMigrationApplication_managementWithoutPrivilegedRole).
func TestAccMigrationApplication_managementRoleCheckedAtPlan(t *testing.T) {
	s := registrationTenant(t)
	for _, m := range []struct {
		id    string
		roles []string
	}{{mgmtReaderClientID, []string{"Privileged Role Administrator", "Exchange Administrator"}}, {mgmtReaderNoPRAClientID, []string{"Exchange Administrator"}}} {
		if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: "management reader " + m.id[:2], AppID: m.id,
			Secrets:             []emulator.SeedSecret{{Value: mgmtClientSecret}},
			GraphPermissions:    []string{"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Application.Read.All", "Directory.Read.All"},
			ExchangePermissions: []string{"Exchange.ManageAsApp"}, DirectoryRoles: m.roles}); err != nil {
			t.Fatal(err)
		}
	}
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{
			{
				Config:   migrationConfig(s, mgmtReaderNoPRAClientID, ""),
				PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)Management identity lacks the Privileged Role Administrator role.*` + mgmtReaderNoPRAClientID +
					`.*New-MgRoleManagementDirectoryRoleAssignment -PrincipalId \$sp.Id\s+-RoleDefinitionId e8611ab8-c189-46e8-94e1-60213ab1f814`),
			},
			{
				// An apply is refused by its plan: nothing was made in the tenant.
				Config:      migrationConfig(s, mgmtReaderNoPRAClientID, ""),
				ExpectError: regexp.MustCompile(`Management identity lacks the Privileged Role Administrator role`),
			},
			{
				PreConfig: func() {
					if _, n := registrationOf(s); n != 0 {
						t.Fatalf("the refused plan left %d applications", n)
					}
					if c := s.Counters().ByRoute; c["graph.applications.create"] != 0 || c["graph.appRoleAssignedTo.create"] != 0 {
						t.Fatalf("the refused plan wrote to the tenant: %v", c)
					}
				},
				Config: migrationConfig(s, mgmtReaderClientID, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf()),
				},
				Check: checkTenant(func() error {
					if _, n := registrationOf(s); n != 1 {
						return fmt.Errorf("%d applications, want 1", n)
					}
					return nil
				}),
			},
		},
	})
}
