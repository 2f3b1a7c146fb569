package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// protocol is accepted in any case ("EWS") and means ews everywhere (the EWS probe, the
// status), with no perpetual diff; and a consent removed from an application shared by
// several connections is recorded in each and plans nothing (one warning, given once).
func TestAccTargetAppConnection_protocolCaseAndSharedDrift(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := providerBlock(s, defaultMaxRetries) +
		appResource("test", appLogin(appEWSID, appEWSSecret, upnInA)+"\n  protocol = \"EWS\"") +
		strings.Replace(appResource("second", appLogin(appEWSID, appEWSSecret, upnInB)+"\n  protocol = \"Ews\""), `"Target app second"`, `"Second"`, 1)
	second := "o365_target_app_connection.second"
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				PreConfig: s.ResetCounters,
				Config:    cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
					statecheck.ExpectKnownValue(second, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
				},
				Check: checkTenant(func() error {
					if n := probesBy(s, "ews.GetFolder", appEWSID); n < 2 {
						return fmt.Errorf("%d EWS probes, want one per connection", n)
					}
					if n := probesBy(s, "graph.mailFolders", appEWSID); n != 0 {
						return fmt.Errorf("%d Graph probes for protocol EWS", n)
					}
					return nil
				}),
			},
			{Config: cfg, PlanOnly: true},
			{
				PreConfig: func() {
					if n, err := s.RemoveConsent(appEWSID, "exchange", "full_access_as_app"); err != nil || n != 1 {
						t.Fatalf("remove consent: %d %v", n, err)
					}
				},
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("missing_permissions"), setOf("Office 365 Exchange Online/full_access_as_app")),
					statecheck.ExpectKnownValue(second, tfjsonpath.New("missing_permissions"), setOf("Office 365 Exchange Online/full_access_as_app")),
				},
				Check: checkTenant(func() error {
					for _, c := range consentsOf(s, appEWSID) {
						if strings.HasSuffix(c, "/full_access_as_app") {
							return fmt.Errorf("the consent is back: %v", consentsOf(s, appEWSID))
						}
					}
					return nil
				}),
			},
		},
	})
}
