package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// The admin's password stops working, and the new one comes from another resource, unknown
// until apply: the refresh only warns, the plan updates the connection, and the apply
// verifies with the new value — one apply, no -target.
func TestAccTargetConnection_credentialReplacedInThePlan(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	const newPassword = "Renewed-Pa55!"
	fromResource := fmt.Sprintf(`
resource "terraform_data" "password" {
  input = %q
}
`, newPassword)
	cfg := connectionConfig(s, fmt.Sprintf("  admin_email = %q\n  password    = terraform_data.password.output", upnFull)) + fromResource
	var before []string
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: connectionConfig(s, adminLogin(upnFull, pwFull)),
				Check:  checkTenant(func() error { before = exchangeRolesOf(s, upnFull); return nil }),
			},
			{
				PreConfig: func() {
					if err := s.SetPassword(upnFull, newPassword); err != nil {
						t.Fatal(err)
					}
					s.ResetCounters()
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(res, tfjsonpath.New("password")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("password"), knownvalue.StringExact(newPassword)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				},
				// Verified with the new password; the tenant's roles are as they were.
				Check: checkTenant(func() error {
					if c := s.Counters().ByUser; c[upnFull] == 0 {
						return fmt.Errorf("nothing was asked of the tenant as %s: %v", upnFull, c)
					}
					return equalStrings(exchangeRolesOf(s, upnFull), before)
				}),
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}
