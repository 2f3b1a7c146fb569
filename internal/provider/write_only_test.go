package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
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
				// The plan checks with the configuration's write-only secret: the removed role
				// shows as drift, and the apply assigns it again.
				PreConfig: func() {
					if _, err := s.RemoveExchangeRoleAssignment(upnMFA, "Mail Recipients"); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg(1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
				}},
				Check: checkTenant(func() error { return equalStrings(exchangeRolesOf(s, upnMFA), defaultRequired) }),
			},
			{
				// Bumping the version applies again with the write-only secret.
				PreConfig: func() {
					if _, err := s.RemoveExchangeRoleAssignment(upnMFA, "Mail Recipients"); err != nil {
						t.Fatal(err)
					}
				},
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

// EWS switched off for the organization under a connection with a write-only password: the
// plan checks with the configuration's value, so it behaves as with a stored password (the
// warning names the switch and the command, no "not re-verified"; a no-change plan stays
// empty, a rename fails with the diagnosis), and once EWS is back the rename applies.
func TestAccTargetConnection_writeOnlyCheckedAtPlan(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	logged := diagnosticsLog(t)
	off := false
	cfg := func(name string) string {
		return providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_connection" "test" {
  name                = %q
  admin_email         = %q
  password_wo         = %q
  password_wo_version = 1
}
`, name, upnFull, pwFull)
	}
	orgWords := `(?s)EWS is turned off for the organization.*Set-OrganizationConfig -EwsEnabled \$true`
	accTest(t, resource.TestCase{
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(version.Must(version.NewVersion("1.11.0")))},
		Steps: []resource.TestStep{
			{Config: cfg("Target")},
			{
				PreConfig: func() { s.SetOrganizationEWSEnabled(&off) },
				Config:    cfg("Target"),
				PlanOnly:  true, // warns, proposes nothing: apply cannot turn EWS on
			},
			{
				PreConfig: func() {
					log := logged()
					if !regexp.MustCompile(`Drift check: EWS is turned off for the organization`).MatchString(log) {
						t.Fatalf("the plan did not check with the write-only password; log:\n%s", log)
					}
					if strings.Contains(log, "Connection not re-verified") {
						t.Fatalf("the plan had the write-only password yet warned that it could not verify; log:\n%s", log)
					}
				},
				Config:      cfg("Renamed"),
				ExpectError: regexp.MustCompile(orgWords),
			},
			{
				PreConfig: func() { s.SetOrganizationEWSEnabled(nil) },
				Config:    cfg("Renamed"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("name"), knownvalue.StringExact("Renamed")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("password_wo"), knownvalue.Null()),
				},
				Check: checkTenant(func() error {
					if s.Snapshot().Organization.EWSEnabled != nil {
						return fmt.Errorf("the organization's EwsEnabled changed")
					}
					return equalStrings(exchangeRolesOf(s, upnFull), allExchangeRoles)
				}),
			},
		},
	})
}
