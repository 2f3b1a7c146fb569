package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

func TestAccTargetConnection_assignsAllMissingRoles(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: connectionConfig(s, adminLogin(upnExchangeAdmin, pwExchangeAdmin)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(res, tfjsonpath.New("id"), knownvalue.StringExact("worldwide/"+upnExchangeAdmin)),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("tenant_id"), knownvalue.StringExact(s.TenantID())),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("ews_url"), knownvalue.StringExact(s.URL()+"/EWS/Exchange.asmx")),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("required_roles"), setOf(defaultRequired...)),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("assigned_roles"), setOf(defaultRequired...)),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(5)),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("verified_at"), knownvalue.NotNull()),
			},
			Check: checkTenant(func() error { return equalStrings(exchangeRolesOf(s, upnExchangeAdmin), defaultRequired) }),
		}},
	})
}

func TestAccTargetConnection_hasEveryRoleAssignsNothing(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			PreConfig: s.ResetCounters,
			Config: connectionConfig(s, fmt.Sprintf(`  admin_email = %q
  password    = %q
  public_folders_role  = true
  user_management_role = true`, upnFull, pwFull)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(0)),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("assigned_roles"), setOf(append(defaultRequired, "Public Folders", "User Administrator")...)),
			},
			Check: checkTenant(func() error {
				c := s.Counters()
				if n := c.ByRoute["exo.New-ManagementRoleAssignment"] + c.ByRoute["graph.roleAssignments.create"]; n != 0 {
					return fmt.Errorf("%d assignment requests, want none", n)
				}
				if c.ByRoute["exo.Get-ManagementRoleAssignment"] == 0 {
					return fmt.Errorf("roles were never read: %v", c.ByRoute)
				}
				return nil
			}),
		}},
	})
}

func TestAccTargetConnection_togglesAssignAndRevokeOnlyManaged(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := func(on bool) string {
		return providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_connection" "test" {
  name                 = "Target"
  admin_email          = %q
  password             = %q
  public_folders_role  = %t
  revoke_managed_roles = true
}
resource "o365_target_connection" "full" {
  name                 = "Full"
  admin_email          = %q
  password             = %q
  public_folders_role  = %t
  revoke_managed_roles = true
}
`, upnExchangeAdmin, pwExchangeAdmin, on, upnFull, pwFull, on)
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg(false)},
			{
				PreConfig: s.ResetCounters,
				Config:    cfg(true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("required_roles"), setOf(append(defaultRequired, "Public Folders")...)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(6)),
				},
				Check: checkTenant(func() error {
					if n := s.Counters().ByRoute["exo.New-ManagementRoleAssignment"]; n != 1 {
						return fmt.Errorf("%d assignments made, want only Public Folders", n)
					}
					return equalStrings(exchangeRolesOf(s, upnExchangeAdmin), append(defaultRequired, "Public Folders"))
				}),
			},
			{
				Config: cfg(false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(5)),
				},
				Check: checkTenant(func() error {
					if err := equalStrings(exchangeRolesOf(s, upnExchangeAdmin), defaultRequired); err != nil {
						return err
					}
					// full's Public Folders existed before: never touched.
					return equalStrings(exchangeRolesOf(s, upnFull), allExchangeRoles)
				}),
			},
		},
	})
}

func TestAccTargetConnection_cannotAssignWithoutGlobalAdmin(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config:      connectionConfig(s, adminLogin(upnHelpdesk, pwHelpdesk)),
			ExpectError: regexp.MustCompile(`(?s)Cannot assign missing roles.*ApplicationImpersonation.*global_admin`),
		}},
		CheckDestroy: checkTenant(func() error { return equalStrings(exchangeRolesOf(s, upnHelpdesk), nil) }),
	})
}

func TestAccTargetConnection_globalAdminAssignsOnly(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: connectionConfig(s, fmt.Sprintf(`  admin_email = %q
  password    = %q
  user_management_role = true
  global_admin = {
    email        = %q
    app_password = %q
  }`, upnHelpdesk, pwHelpdesk, upnGlobal, appPwGlobal)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(6)),
			},
			Check: checkTenant(func() error {
				if n := assignmentsCreatedBy(s, upnGlobal); n != 6 {
					return fmt.Errorf("global admin created %d assignments, want 6", n)
				}
				if err := equalStrings(directoryRolesOf(s, upnHelpdesk), []string{"User Administrator"}); err != nil {
					return err
				}
				if n := s.Counters().ByRouteUser["ews.GetFolder"][upnGlobal]; n != 0 {
					return fmt.Errorf("global admin was used for EWS %d times", n)
				}
				return nil
			}),
		}},
	})
}

func TestAccTargetConnection_missingRolesWithoutAssignment(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: connectionConfig(s, fmt.Sprintf(`  admin_email = %q
  password    = %q
  assign_missing_roles = false`, upnExchangeAdmin, pwExchangeAdmin)),
			ExpectError: regexp.MustCompile(`(?s)5 required roles missing.*New-ManagementRoleAssignment -Role\s+'ApplicationImpersonation' -User\s+'` + regexp.QuoteMeta(upnExchangeAdmin) + `'.*Mail Recipient Creation`),
		}},
		CheckDestroy: checkTenant(func() error { return equalStrings(exchangeRolesOf(s, upnExchangeAdmin), nil) }),
	})
}

func TestAccTargetConnection_mfaNeedsAppPassword(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config:      connectionConfig(s, adminLogin(upnMFA, pwMFA)),
				ExpectError: regexp.MustCompile(`(?s)Multi-factor authentication is required.*AADSTS50076.*app_password`),
			},
			{
				Config: connectionConfig(s, fmt.Sprintf(`  admin_email  = %q
  app_password = %q`, upnMFA, appPwMFA)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				},
				Check: checkTenant(func() error { return equalStrings(exchangeRolesOf(s, upnMFA), defaultRequired) }),
			},
		},
	})
}

func TestAccTargetConnection_signInFailures(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	step := func(email, pw, want string) resource.TestStep {
		return resource.TestStep{
			Config:      connectionConfig(s, adminLogin(email, pw)),
			ExpectError: regexp.MustCompile(want),
		}
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			step(upnExchangeAdmin, "wrong", `(?s)Wrong password for.*AADSTS50126`),
			step(upnDisabled, pwDisabled, `(?s)is disabled.*AADSTS50057`),
			step(upnLocked, pwLocked, `(?s)is locked.*AADSTS50053`),
			step("nobody@contoso.onmicrosoft.com", "x", `(?s)does not exist.*AADSTS50034`),
			step("admin@fabrikam.onmicrosoft.com", "x", `(?s)Unknown tenant.*AADSTS90002`),
		},
	})
}

func TestAccTargetConnection_driftRemovedRole(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := connectionConfig(s, adminLogin(upnExchangeAdmin, pwExchangeAdmin))
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					if n, err := s.RemoveExchangeRoleAssignment(upnExchangeAdmin, "Mail Recipients"); err != nil || n != 1 {
						t.Fatalf("remove: %d %v", n, err)
					}
				},
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(res, "missing_roles.#", "1"),
					resource.TestCheckTypeSetElemAttr(res, "missing_roles.*", "Mail Recipients"),
					resource.TestCheckResourceAttr(res, "assigned_roles.#", "4"),
				),
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
					// The repaired assignment replaces the removed one in the record: no duplicate entry.
					statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(5)),
				},
				Check: checkTenant(func() error { return equalStrings(exchangeRolesOf(s, upnExchangeAdmin), defaultRequired) }),
			},
			{Config: cfg, PlanOnly: true}, // and the next plan is empty
		},
	})
}

func TestAccTargetConnection_passwordChangedOutOfBand(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	const newPassword = "Changed-Pa55!"
	cfg := func(pw string) string {
		return connectionConfig(s, adminLogin(upnFull, pw))
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg(pwFull)},
			{
				PreConfig: func() {
					if err := s.SetPassword(upnFull, newPassword); err != nil {
						t.Fatal(err)
					}
				},
				Config:   cfg(pwFull),
				PlanOnly: true, // warns, does not fail, proposes nothing
			},
			{
				Config: cfg(newPassword),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("password"), knownvalue.StringExact(newPassword)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				},
			},
		},
	})
}

func TestAccTargetConnection_adminDeleted(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := connectionConfig(s, adminLogin(upnFull, pwFull))
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					if err := s.DeleteUser(upnFull); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionCreate),
				}},
				ExpectError: regexp.MustCompile(`does not exist`),
			},
		},
	})
}

func TestAccTargetConnection_import(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: connectionConfig(s, adminLogin(upnFull, pwFull))},
			{
				ResourceName:      res,
				ImportState:       true,
				ImportStateId:     "worldwide/" + upnFull,
				ImportStateVerify: true,
				// Secrets and the name live only in configuration; the role status comes from the
				// first verification with the configured secret (and ews_status from the first
				// check). The tenant id is resolved
				// without a secret.
				ImportStateVerifyIgnore: []string{"name", "password", "app_password", "assigned_roles", "missing_roles", "ews_status", "verified_at"},
			},
			{
				ResourceName:  res,
				ImportState:   true,
				ImportStateId: "mars/" + upnFull,
				ExpectError:   regexp.MustCompile(`Expected <cloud>/<admin_email>`),
			},
		},
	})
}

func TestAccTargetConnection_propagationDelay(t *testing.T) {
	s := startTenant(t, emulator.Options{PropagationDelay: 6 * time.Second})
	cfg := func(timeout string) string {
		return connectionConfig(s, fmt.Sprintf(`  admin_email = %q
  password    = %q
  timeouts {
    create = %q
  }`, upnExchangeAdmin, pwExchangeAdmin, timeout))
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config:      cfg("2s"),
				ExpectError: regexp.MustCompile(`(?s)Roles not effective yet.*timeouts.create`),
			},
			{
				// The first apply recorded its five assignments (tainted); this one adopts
				// them, waits for them to take effect, and creates no duplicate.
				PreConfig: func() {
					if err := equalStrings(exchangeRolesOf(s, upnExchangeAdmin), defaultRequired); err != nil {
						t.Fatalf("after the timed-out apply: %v", err)
					}
				},
				Config: cfg("2m"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(5)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				},
				Check: checkTenant(func() error { return equalStrings(exchangeRolesOf(s, upnExchangeAdmin), defaultRequired) }),
			},
		},
	})
}

func TestAccTargetConnection_planTimeValidation(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	step := func(body, want string) resource.TestStep {
		return resource.TestStep{Config: connectionConfig(s, body), PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			step(`  admin_email = "not-an-address"
  password = "x"`, `(?s)Invalid address.*admin_email.*user\s+principal\s+name`),
			step(`  admin_email = "admin@contoso.onmicrosoft.de"
  cloud = "worldwide"
  password = "x"`, `(?s)Address belongs to another cloud.*cloud = "germany"`),
			step(`  admin_email = "admin@contoso.onmicrosoft.de"
  password = "x"`, `(?s)Address belongs to another cloud`),
			step(`  admin_email = "admin@contoso.onmicrosoft.com"
  password = "x"
  app_password = "y"`, `(?s)Invalid Attribute Combination.*password`),
			step(`  admin_email = "admin@contoso.onmicrosoft.com"`, `(?s)Missing Attribute Configuration.*Exactly one of these attributes must be configured:\s+\[password,app_password,password_wo,app_password_wo\]`),
			step(`  admin_email = "admin@contoso.onmicrosoft.com"
  password = "x"
  global_admin = { email = "ga@contoso.onmicrosoft.com" }`, `(?s)Global administrator needs exactly one secret`),
			step(`  admin_email = "admin@contoso.onmicrosoft.com"
  cloud = "mars"
  password = "x"`, `(?s)Invalid Attribute Value Match.*cloud`),
			{
				// A non-initial domain is only a warning: the connection works.
				Config: connectionConfig(s, adminLogin(upnVanity, pwVanity)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				},
			},
		},
	})
}

func TestAccTargetConnection_concurrentAssignmentNeverDoubled(t *testing.T) {
	s := startTenant(t, emulator.Options{Latency: 30 * time.Millisecond})
	conn := func(n int) string {
		return fmt.Sprintf(`
resource "o365_target_connection" "c%d" {
  name        = "Same admin %d"
  admin_email = %q
  password    = %q
}
`, n, n, upnExchangeAdmin, pwExchangeAdmin)
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			// Three connections of one admin applied in parallel: each finds roles appearing
			// between its read and its write. None fails, none doubles an assignment.
			Config: providerBlock(s, defaultMaxRetries) + conn(1) + conn(2) + conn(3),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("o365_target_connection.c1", tfjsonpath.New("missing_roles"), setOf()),
				statecheck.ExpectKnownValue("o365_target_connection.c2", tfjsonpath.New("missing_roles"), setOf()),
				statecheck.ExpectKnownValue("o365_target_connection.c3", tfjsonpath.New("missing_roles"), setOf()),
			},
			Check: checkTenant(func() error { return equalStrings(exchangeRolesOf(s, upnExchangeAdmin), defaultRequired) }),
		}},
	})
}

func TestAccTargetConnection_destroyRevokesOnlyManaged(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			PreConfig: func() {
				if _, err := s.AddExchangeRoleAssignment(upnExchangeAdmin, "View-Only Recipients"); err != nil {
					t.Fatal(err)
				}
			},
			Config: connectionConfig(s, fmt.Sprintf(`  admin_email = %q
  password    = %q
  revoke_managed_roles = true`, upnExchangeAdmin, pwExchangeAdmin)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(4)),
			},
		}},
		CheckDestroy: checkTenant(func() error {
			return equalStrings(exchangeRolesOf(s, upnExchangeAdmin), []string{"View-Only Recipients"})
		}),
	})
}

func TestAccTargetConnection_traceLogHasNoSecrets(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	// Secrets come in as sensitive variables, as in real use; the test harness logs the
	// configuration text itself at TRACE.
	t.Setenv("TF_VAR_admin_password", pwHelpdesk)
	t.Setenv("TF_VAR_ga_app_password", appPwGlobal)
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: `
variable "admin_password" {
  type      = string
  sensitive = true
}
variable "ga_app_password" {
  type      = string
  sensitive = true
}
` + connectionConfig(s, fmt.Sprintf(`  admin_email = %q
  password    = var.admin_password
  global_admin = {
    email        = %q
    app_password = var.ga_app_password
  }`, upnHelpdesk, upnGlobal)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
			},
		}},
	})
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	if !strings.Contains(log, "target connection verified") {
		t.Fatalf("the provider's own log lines are missing from %s (%d bytes)", logFile, len(b))
	}
	for _, secret := range []string{pwHelpdesk, appPwGlobal, "eyJ0eXAiOiJKV1Qi", "refresh_token\":\""} {
		if strings.Contains(log, secret) {
			i := strings.Index(log, secret)
			t.Errorf("trace log contains a secret %q near: %q", secret, log[max(0, i-200):min(len(log), i+100)])
		}
	}
}

func TestAccTargetConnection_replacementKeepsManagedDirectoryRole(t *testing.T) {
	s := startTenant(t, emulator.Options{PropagationDelay: 6 * time.Second})
	cfg := func(timeout string) string {
		return connectionConfig(s, fmt.Sprintf(`  admin_email          = %q
  password             = %q
  user_management_role = true
  global_admin = {
    email        = %q
    app_password = %q
  }
  timeouts {
    create = %q
  }`, upnHelpdesk, pwHelpdesk, upnGlobal, appPwGlobal, timeout))
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				// Every role is assigned (five Exchange roles and the directory role User
				// Administrator), then the wait for them to take effect times out: the
				// connection is tainted, its state records the six assignments.
				Config:      cfg("2s"),
				ExpectError: regexp.MustCompile(`Roles not effective yet`),
			},
			{
				// The replacement continues the record: the directory role, which has no name
				// to be recognised by, is still listed as created by this connection.
				Config: cfg("2m"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), knownvalue.ListSizeExact(6)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				},
				Check: checkTenant(func() error {
					if err := equalStrings(directoryRolesOf(s, upnHelpdesk), []string{"User Administrator"}); err != nil {
						return err
					}
					return equalStrings(exchangeRolesOf(s, upnHelpdesk), defaultRequired)
				}),
			},
		},
	})
}

// The plan predicts what apply will assign: a new connection's plan shows every required
// role assigned; a removed role's repair plans the managed assignments as known values, the
// repaired one with the identity apply gives it and every other one unchanged (nothing is
// removed), as the saved plan's JSON (terraform show -json) shows.
func TestAccTargetConnection_planPredictsAssignments(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := connectionConfig(s, adminLogin(upnExchangeAdmin, pwExchangeAdmin))
	managed := func() knownvalue.Check {
		var items []knownvalue.Check
		for _, role := range defaultRequired { // sorted by role, as the list is
			items = append(items, knownvalue.ObjectExact(map[string]knownvalue.Check{
				"role": knownvalue.StringExact(role),
				"kind": knownvalue.StringExact("exchange_management_role"),
				"id":   knownvalue.StringExact("tf-o365 " + role + " " + upnExchangeAdmin),
			}))
		}
		return knownvalue.ListExact(items)
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(res, tfjsonpath.New("assigned_roles"), setOf(defaultRequired...)),
					plancheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), managed()),
				},
			},
			{
				PreConfig: func() {
					if n, err := s.RemoveExchangeRoleAssignment(upnExchangeAdmin, "Mail Recipients"); err != nil || n != 1 {
						t.Fatalf("remove: %d %v", n, err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(res, tfjsonpath.New("assigned_roles"), setOf(defaultRequired...)),
					plancheck.ExpectKnownValue(res, tfjsonpath.New("missing_roles"), setOf()),
					plancheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), managed()),
					plancheck.ExpectUnknownValue(res, tfjsonpath.New("verified_at")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("managed_role_assignments"), managed()),
				},
				Check: checkTenant(func() error {
					if n := assignmentsCreatedBy(s, upnExchangeAdmin); n != 5 {
						return fmt.Errorf("the admin created %d of its assignments, want 5", n)
					}
					return equalStrings(exchangeRolesOf(s, upnExchangeAdmin), defaultRequired)
				}),
			},
		},
	})
}
