package provider

import (
	"fmt"
	"regexp"
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
