package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// An adopted application with a tenant-wide Mail.ReadWrite of its own, configured with a
// mailbox scope: the scope is made and the foreign consent kept (the provider never removes
// what it did not add; the refresh warns that it defeats the scope, with the command), and
// the plans after the apply are empty: no perpetual diff, no inconsistent result.
func TestAccMigrationApplication_adoptedScopeWithForeignConsent(t *testing.T) {
	s := registrationTenant(t)
	const adoptedClientID = "6b5c4d3e-2f10-4b0a-9d8e-7f6a5b4c3d2e"
	if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: appDisplayName, AppID: adoptedClientID,
		GraphPermissions: []string{"Mail.ReadWrite", "User.Read.All"}}); err != nil {
		t.Fatal(err)
	}
	cfg := migrationConfig(s, mgmtClientID, fmt.Sprintf("  create_client_secret = true\n  mailbox_scope = {\n    recipient_filter = %q\n  }", scopeFilter))
	tenant := func() error {
		r, n := registrationOf(s)
		if n != 1 || r.app.AppID != adoptedClientID {
			return fmt.Errorf("%d applications", n)
		}
		if err := equalStrings(r.consents(), []string{"Microsoft Graph/Mail.ReadWrite", "Microsoft Graph/User.Read.All"}); err != nil {
			return fmt.Errorf("consents: %w", err)
		}
		if len(r.exchangeRoles()) != 4 {
			return fmt.Errorf("exchange roles %v, want the four scoped roles", r.exchangeRoles())
		}
		return nil
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config:             cfg,
			ResourceName:       migRes,
			ImportState:        true,
			ImportStateId:      adoptedClientID,
			ImportStatePersist: true,
		}, {
			Config: cfg,
			Check:  checkTenant(tenant),
		}, {
			Config:           cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			Check:            checkTenant(tenant),
		}},
	})
}
