package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// Acceptance tests of the plan-time diagnosis of a tenant where the seed's model
// cannot work (DESIGN.md §7.4, WIRE.md §K), and its cost on a healthy tenant.

// retiredWords is the diagnosis of a retired ApplicationImpersonation, as plan and apply
// both word it: the retirement, and the application connection as the way forward.
const retiredWords = `(?s)ApplicationImpersonation no longer exists in this tenant.*retired the\s+ApplicationImpersonation\s+role.*February\s+2025.*o365_migration_application.*o365_target_app_connection`

// diagnosticsLog collects the provider's diagnostics (the protocol logs every warning and
// error at WARN) in a file, and returns a reader of what was logged so far: the testing
// framework offers no other way to see a warning.
func diagnosticsLog(t *testing.T) func() string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "diagnostics.log")
	t.Setenv("TF_LOG", "WARN")
	t.Setenv("TF_ACC_LOG_PATH", file)
	return func() string {
		b, _ := os.ReadFile(file)
		return string(b)
	}
}

// noAssignmentRequests checks that nothing was assigned in the tenant.
func noAssignmentRequests(s *emulator.Server) error {
	c := s.Counters()
	if n := c.ByRoute["exo.New-ManagementRoleAssignment"] + c.ByRoute["graph.roleAssignments.create"]; n != 0 {
		return fmt.Errorf("%d assignment requests, want none", n)
	}
	return nil
}

// unknownAtPlan is a password known only at apply (the output of a resource created in the
// same apply), so plan cannot try the connection.
const unknownAtPlan = `
resource "terraform_data" "secret" {
  input = %q
}
`

// Acceptance test 1: a new connection on a tenant whose ApplicationImpersonation is retired
// fails at plan with the retirement diagnostic when its credentials are known, at apply with
// the same words when they are not; nothing is assigned either way.
func TestAccTargetConnection_retiredRoleNewConnection(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	s.SetImpersonationRetired(true)
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				PreConfig:   s.ResetCounters,
				Config:      connectionConfig(s, adminLogin(upnExchangeAdmin, pwExchangeAdmin)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(retiredWords),
			},
			{
				PreConfig: func() {
					if err := noAssignmentRequests(s); err != nil {
						t.Fatalf("after the plan: %v", err)
					}
					// The plan tried the connection once: sign-in, impersonation denied, the role
					// looked up; nothing else.
					if c := s.Counters(); c.ByRoute["ews.GetFolder"] != 1 || c.ByRoute["exo.Get-ManagementRole"] != 1 || c.ByRoute["exo.Get-ManagementRoleAssignment"] != 0 {
						t.Fatalf("the plan's requests: %v", c.ByRoute)
					}
				},
				Config: fmt.Sprintf(unknownAtPlan, pwExchangeAdmin) + connectionConfig(s, fmt.Sprintf(`  admin_email = %q
  password    = terraform_data.secret.output`, upnExchangeAdmin)),
				ExpectError: regexp.MustCompile(retiredWords),
			},
		},
		CheckDestroy: checkTenant(func() error {
			if err := noAssignmentRequests(s); err != nil {
				return err
			}
			return equalStrings(exchangeRolesOf(s, upnExchangeAdmin), nil)
		}),
	})
}

// Acceptance test 2: an existing connection whose tenant then retires the role. The refresh
// warns and records the role as missing; the plan stays empty (the role cannot be assigned
// again, so no repair is proposed); a plan that would change the connection errors with the
// same words, since that apply cannot succeed.
func TestAccTargetConnection_retiredRoleExistingConnection(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	logged := diagnosticsLog(t)
	cfg := func(name string) string {
		return providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_connection" "test" {
  name        = %q
  admin_email = %q
  password    = %q
}
`, name, upnFull, pwFull)
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg("Target")},
			{
				PreConfig: func() {
					s.SetImpersonationRetired(true)
					s.ResetCounters()
				},
				Config:   cfg("Target"),
				PlanOnly: true, // warns, proposes nothing
			},
			{
				PreConfig: func() {
					log := logged()
					if !strings.Contains(log, "Drift check: ApplicationImpersonation no longer exists in this tenant") || !strings.Contains(log, "o365_target_app_connection") {
						t.Fatalf("the refresh did not warn about the retired role; log:\n%s", log)
					}
					if err := noAssignmentRequests(s); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "missing_roles.#", "1"),
					resource.TestCheckTypeSetElemAttr(res, "missing_roles.*", "ApplicationImpersonation"),
				),
			},
			{
				Config:      cfg("Renamed"),
				ExpectError: regexp.MustCompile(retiredWords),
			},
		},
		CheckDestroy: checkTenant(func() error { return noAssignmentRequests(s) }),
	})
}

// Acceptance test 3: EWS closed for the organization, for the mailbox, or by the allow
// list: three diagnostics, each naming its switch and the command that reopens it, at plan.
func TestAccTargetConnection_ewsClosedSwitches(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	off, on := false, true
	open := func() {
		s.SetOrganizationEWSEnabled(nil)
		s.SetEWSAllowedAppIDs(nil)
		if err := s.SetMailboxEWSEnabled(upnFull, nil); err != nil {
			t.Fatal(err)
		}
		s.ResetCounters()
	}
	step := func(closeEWS func(), want string) resource.TestStep {
		return resource.TestStep{
			PreConfig:   func() { open(); closeEWS() },
			Config:      connectionConfig(s, adminLogin(upnFull, pwFull)),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(want),
		}
	}
	const other = "5951643e-5013-442f-963c-1ee875bbe74a"
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			step(func() { s.SetOrganizationEWSEnabled(&off) },
				`(?s)EWS is turned off for the organization.*EwsEnabled = False.*Set-OrganizationConfig -EwsEnabled \$true.*1 April 2027.*o365_target_app_connection`),
			step(func() {
				if err := s.SetMailboxEWSEnabled(upnFull, &off); err != nil {
					t.Fatal(err)
				}
			}, `(?s)EWS is turned off for the mailbox `+regexp.QuoteMeta(upnFull)+`.*Set-CASMailbox -Identity\s+'`+regexp.QuoteMeta(upnFull)+`'\s+-EwsEnabled\s+\$true.*1 April 2027`),
			step(func() {
				s.SetOrganizationEWSEnabled(&on)
				s.SetEWSAllowedAppIDs([]string{other})
			}, `(?s)EWS allow list excludes the client application.*`+DefaultClientID+`.*-EwsAllowedAppIDs\s+"`+other+`,`+DefaultClientID+`".*1 April 2027`),
			{
				// Each diagnosis read the switches only after EWS answered 403, and assigned
				// nothing; with EWS open again the connection is created.
				PreConfig: func() {
					c := s.Counters()
					if c.ByRoute["exo.Get-OrganizationConfig"] != 1 || c.ByRoute["exo.Get-CASMailbox"] != 1 {
						t.Fatalf("the allow-list diagnosis read %v", c.ByRoute)
					}
					if err := noAssignmentRequests(s); err != nil {
						t.Fatal(err)
					}
					open()
				},
				Config: connectionConfig(s, adminLogin(upnFull, pwFull)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				},
			},
		},
	})
}

// An MFA account signing in with its password fails at plan: besides the app password, the
// diagnostic names the application connection.
func TestAccTargetConnection_diagnosisMFA(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config:      connectionConfig(s, adminLogin(upnMFA, pwMFA)),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Multi-factor authentication is required.*AADSTS50076.*app_password.*o365_migration_application.*o365_target_app_connection`),
		}},
	})
}

// requestCount is a plan check that compares the tenant's counters, after the plan, with
// the requests a healthy drift check costs (BENCHMARKS.md).
type requestCount struct {
	s    *emulator.Server
	want map[string]int
}

func (c requestCount) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	got := c.s.Counters().ByRoute
	for route, n := range got {
		if strings.HasPrefix(route, "control") {
			continue
		}
		if c.want[route] != n {
			resp.Error = fmt.Errorf("requests by route %v, want exactly %v", got, c.want)
			return
		}
	}
	for route, n := range c.want {
		if got[route] != n {
			resp.Error = fmt.Errorf("requests by route %v, want exactly %v", got, c.want)
			return
		}
	}
}

// Acceptance test 4: on a healthy tenant the no-change plan costs what BENCHMARKS.md shows,
// 3 requests per connection plus 2 per tenant: the diagnosis adds none.
func TestAccTargetConnection_diagnosisHealthyPlanCost(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_connection" "test" {
  name        = "Full"
  admin_email = %q
  password    = %q
}
resource "o365_target_connection" "second" {
  name        = "Exchange admin"
  admin_email = %q
  password    = %q
}
`, upnFull, pwFull, upnExchangeAdmin, pwExchangeAdmin)
	const connections = 2
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				// The PlanOnly step plans twice: without refresh (no request at all), then with
				// it (the drift check); the counters are read after the second.
				PreConfig: s.ResetCounters,
				Config:    cfg,
				PlanOnly:  true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{requestCount{s: s, want: map[string]int{
					"openid-configuration": 1, "userrealm": 1, // per tenant
					"token": connections, "exo.Get-ManagementRoleAssignment": connections, "ews.GetFolder": connections,
				}}}},
			},
		},
	})
}

// An existing connection whose mailbox then loses EWS: the refresh warns with the switch and
// the command, the plan stays empty, and a plan that would change the connection errors
// with the same words; once EWS is back, the change applies.
func TestAccTargetConnection_ewsClosedExistingConnection(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	logged := diagnosticsLog(t)
	off := false
	cfg := func(name string) string {
		return providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_connection" "test" {
  name        = %q
  admin_email = %q
  password    = %q
}
`, name, upnFull, pwFull)
	}
	mailboxWords := `(?s)EWS is turned off for the mailbox ` + regexp.QuoteMeta(upnFull) + `.*Set-CASMailbox -Identity\s+'` + regexp.QuoteMeta(upnFull) + `'\s+-EwsEnabled\s+\$true`
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg("Target")},
			{
				PreConfig: func() {
					if err := s.SetMailboxEWSEnabled(upnFull, &off); err != nil {
						t.Fatal(err)
					}
				},
				Config:   cfg("Target"),
				PlanOnly: true, // warns, proposes nothing
			},
			{
				PreConfig: func() {
					if log := logged(); !regexp.MustCompile(`Drift check: EWS is turned off for the mailbox`).MatchString(log) {
						t.Fatalf("the refresh did not warn about the mailbox switch; log:\n%s", log)
					}
				},
				Config:      cfg("Renamed"),
				ExpectError: regexp.MustCompile(mailboxWords),
			},
			{
				PreConfig: func() {
					if err := s.SetMailboxEWSEnabled(upnFull, nil); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg("Renamed"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("name"), knownvalue.StringExact("Renamed")),
				},
			},
		},
	})
}

// The rule for a connection that cannot work any more, with EWS switched off for the
// organization: the refresh records ews_status and warns; a no-change plan stays empty (exit
// 0: apply cannot reopen EWS); a plan that would change the connection (a role to repair, a
// rename) fails with the diagnosis; once EWS is back, the same drift plans a change (exit 2)
// and the apply repairs it.
func TestAccTargetConnection_cannotWorkRule(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	logged := diagnosticsLog(t)
	off := false
	cfg := func(name string) string {
		return providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_connection" "test" {
  name        = %q
  admin_email = %q
  password    = %q
}
`, name, upnExchangeAdmin, pwExchangeAdmin)
	}
	orgWords := `(?s)EWS is turned off for the organization.*Set-OrganizationConfig -EwsEnabled \$true`
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: cfg("Target"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(res, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
				},
			},
			{
				// The refresh records what it found, and the plan after it is empty.
				PreConfig:    func() { s.SetOrganizationEWSEnabled(&off) },
				RefreshState: true,
				Check:        resource.TestCheckResourceAttr(res, "ews_status", "disabled_for_organization"),
			},
			{
				Config:   cfg("Target"),
				PlanOnly: true, // no change, exit 0: nothing apply could do
			},
			{
				// A role to repair is a change: its apply cannot succeed, so the plan fails.
				PreConfig: func() {
					if log := logged(); !strings.Contains(log, "Drift check: EWS is turned off for the organization") {
						t.Fatalf("the refresh did not warn; log:\n%s", log)
					}
					if n, err := s.RemoveExchangeRoleAssignment(upnExchangeAdmin, "Mail Recipients"); err != nil || n != 1 {
						t.Fatalf("remove: %d %v", n, err)
					}
				},
				Config:      cfg("Target"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(orgWords),
			},
			{
				Config:      cfg("Renamed"), // an apply: its plan fails, nothing is changed
				ExpectError: regexp.MustCompile(orgWords),
			},
			{
				// EWS open again: the same drift is a change apply can make (exit 2).
				PreConfig:          func() { s.SetOrganizationEWSEnabled(nil) },
				Config:             cfg("Target"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: cfg("Renamed"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("name"), knownvalue.StringExact("Renamed")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				},
				Check: checkTenant(func() error {
					if s.Snapshot().Organization.EWSEnabled != nil {
						return fmt.Errorf("the organization's EwsEnabled was changed by the provider")
					}
					return equalStrings(exchangeRolesOf(s, upnExchangeAdmin), defaultRequired)
				}),
			},
		},
	})
}
