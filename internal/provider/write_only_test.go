package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// Write-only attributes need a CLI that supports them (Terraform 1.11+, OpenTofu 1.11+):
// the test runs on Terraform 1.13.3 and OpenTofu 1.12 and skips on Terraform 1.5.7 (by version, never by name).
func TestAccTargetConnection_writeOnlyCredentials(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := func(v int) string {
		return connectionConfig(s, fmt.Sprintf(`  admin_email         = %q
  app_password_wo     = %q
  password_wo_version = %d`, upnMFA, appPwMFA, v))
	}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(version.Must(version.NewVersion("1.11.0")))},
		Steps: []resource.TestStep{
			{
				Config: connectionConfig(s, fmt.Sprintf(`  admin_email = %q
  password    = "x"
  password_wo = "y"`, upnMFA)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Invalid Attribute Combination`),
			},
			{
				Config: cfg(1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("app_password_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("app_password"), knownvalue.Null()),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkTenant(func() error { return equalStrings(exchangeRolesOf(s, upnMFA), defaultRequired) }),
					func(st *terraform.State) error {
						for k, v := range st.RootModule().Resources[res].Primary.Attributes {
							if v == appPwMFA {
								return fmt.Errorf("state attribute %s holds the write-only secret", k)
							}
						}
						return nil
					},
				),
			},
			{
				// A plan cannot re-verify without a stored secret: it warns and proposes nothing.
				PreConfig: func() { _, _ = s.RemoveExchangeRoleAssignment(upnMFA, "Mail Recipients") },
				Config:    cfg(1),
				PlanOnly:  true,
			},
			{
				// Bumping the version applies again with the write-only secret: the drift is repaired.
				Config: cfg(2),
				Check:  checkTenant(func() error { return equalStrings(exchangeRolesOf(s, upnMFA), defaultRequired) }),
			},
		},
	})
}

// The global administrator's write-only secret: it assigns the roles the admin cannot, and
// neither its value nor its hash is anywhere in the state; bumping its version applies again
// with it and repairs a removed role. Setting two of its secrets fails at plan time.
func TestAccTargetConnection_globalAdminWriteOnly(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := func(secrets string) string {
		return connectionConfig(s, fmt.Sprintf(`  admin_email = %q
  password    = %q
  global_admin = {
    email = %q
%s
  }`, upnHelpdesk, pwHelpdesk, upnGlobal, secrets))
	}
	writeOnly := func(v int) string {
		return cfg(fmt.Sprintf("    app_password_wo     = %q\n    password_wo_version = %d", appPwGlobal, v))
	}
	noSecret := func(st *terraform.State) error {
		for k, v := range st.RootModule().Resources[res].Primary.Attributes {
			if strings.Contains(v, appPwGlobal) {
				return fmt.Errorf("state attribute %s holds the global administrator's write-only secret", k)
			}
		}
		return nil
	}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(version.Must(version.NewVersion("1.11.0")))},
		Steps: []resource.TestStep{
			{
				Config:      cfg(fmt.Sprintf("    app_password    = %q\n    app_password_wo = %q", appPwGlobal, appPwGlobal)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Global administrator needs exactly one secret.*global_admin.app_password.*global_admin.app_password_wo`),
			},
			{
				Config: writeOnly(1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(5)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("global_admin").AtMapKey("app_password_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("global_admin").AtMapKey("app_password"), knownvalue.Null()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("global_admin").AtMapKey("password_wo_version"), knownvalue.Int64Exact(1)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkTenant(func() error {
						if n := assignmentsCreatedBy(s, upnGlobal); n != 5 {
							return fmt.Errorf("global admin created %d assignments, want 5", n)
						}
						return equalStrings(exchangeRolesOf(s, upnHelpdesk), defaultRequired)
					}),
					noSecret,
				),
			},
			{
				// Bumping the version applies again with the write-only secret: the removed role
				// is assigned again by the global administrator.
				PreConfig: func() {
					if _, err := s.RemoveExchangeRoleAssignment(upnHelpdesk, "Mail Recipients"); err != nil {
						t.Fatal(err)
					}
				},
				Config: writeOnly(2),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("global_admin").AtMapKey("password_wo_version"), knownvalue.Int64Exact(2)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkTenant(func() error {
						if n := assignmentsCreatedBy(s, upnGlobal); n != 5 {
							return fmt.Errorf("global admin created %d of the assignments, want 5 (the removed one again)", n)
						}
						return equalStrings(exchangeRolesOf(s, upnHelpdesk), defaultRequired)
					}),
					noSecret,
				),
			},
		},
	})
}
