package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// A write-only certificate is verified at plan time from the configuration, so drift shows
// exactly as with a stored credential: a consent removed plans the update (and its apply
// names the fix); EWS switched off for the organisation plans nothing, and a change to the
// connection fails at plan with the diagnosis.
func TestAccTargetAppConnection_writeOnlyVerifiedAtPlan(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	year, _, _ := testCerts()
	if _, err := s.AddApplicationCertificate(appEWSID, emulator.SeedCertificate{PEM: string(year.CertPEM)}); err != nil {
		t.Fatal(err)
	}
	cfg := func(version int) string {
		return providerBlock(s, defaultMaxRetries) + appResource("test", fmt.Sprintf(
			"  client_id = %q\n  client_certificate_wo = %s\n  credential_wo_version = %d\n  protocol = \"ews\"\n  verify_mailboxes = [%q]",
			appEWSID, heredoc(string(year.PEM)), version, upnInA))
	}
	off := false
	accTest(t, resource.TestCase{
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(version.Must(version.NewVersion("1.11.0")))},
		Steps: []resource.TestStep{
			{
				Config: cfg(1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("client_certificate_wo"), knownvalue.Null()),
				},
			},
			{
				// A consent removed: the plan's own check finds it; a change verifies at apply, which names the fix.
				PreConfig: func() {
					if n, err := s.RemoveConsent(appEWSID, "exchange", "full_access_as_app"); err != nil || n != 1 {
						t.Fatalf("remove consent: %d %v", n, err)
					}
				},
				Config: cfg(2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(appConnRes, plancheck.ResourceActionUpdate),
				}},
				ExpectError: regexp.MustCompile(`(?s)1 permission missing.*full_access_as_app`),
			},
			{
				PreConfig: func() {
					if err := s.AddConsent(appEWSID, "exchange", "full_access_as_app"); err != nil {
						t.Fatal(err)
					}
					s.SetOrganizationEWSEnabled(&off)
				},
				// EWS closed: nothing planned, as with a stored credential.
				Config:           cfg(1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: checkTenant(func() error {
					if e := s.Snapshot().Organization.EWSEnabled; e == nil || *e {
						return fmt.Errorf("the organisation's EWS switch is %v, want off", e)
					}
					if n := probesBy(s, "ews.GetFolder", appEWSID); n < 3 {
						return fmt.Errorf("%d EWS probes: the plans did not check the connection", n)
					}
					return nil
				}),
			},
			{
				// A change while EWS is closed fails at plan with the diagnosis.
				Config:      cfg(3),
				ExpectError: regexp.MustCompile(`(?s)EWS closed: ews_status = disabled_for_organization.*Set-OrganizationConfig -EwsEnabled \$true`),
			},
			{
				PreConfig: func() { s.SetOrganizationEWSEnabled(nil) },
				Config:    cfg(3),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("credential_wo_version"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
				},
			},
		},
	})
}
