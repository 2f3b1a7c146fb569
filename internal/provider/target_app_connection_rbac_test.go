package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// Advice that matches the mode of an application scoped by RBAC for Applications
// (mailbox_scope). The application may not read its own Exchange roles (it holds no
// Exchange.ManageAsApp); the provider's management identity reads them, read only.
//
//  1. The first apply of a new scoped application, while Exchange has not applied the new
//     role assignments yet (RBAC delay): not a failure; pending_mailboxes records the mailbox.
//  2. Once Exchange has applied them, the next plan finds the mailbox open.
//  3. One Exchange role removed: missing is that role alone, never the tenant-wide
//     permissions, and the tenant holds no tenant-wide mail consent.
func TestAccTargetAppConnection_scopedAdvice(t *testing.T) {
	s := registrationTenant(t)
	s.SetRBACDelay(time.Hour)
	cfg := migrationConfig(s, mgmtClientID, fmt.Sprintf("  create_client_secret = true\n  mailbox_scope = {\n    recipient_filter = %q\n  }", scopeFilter)) +
		appConnectionOf("  client_secret = o365_migration_application.test.client_secret", mailboxInScope)
	clientID := ""
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("pending_mailboxes"), setOf(mailboxInScope)),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("missing_permissions"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("verified_at"), knownvalue.NotNull()),
			},
			Check: func(st *terraform.State) error {
				clientID = stateAttr(st, "client_id")
				r, _ := registrationOf(s)
				if err := equalStrings(r.exchangeRoles(), scopedExchangeRoles); err != nil {
					return err
				}
				// Exchange has not applied the roles yet: the mailbox really does not open.
				if code := mailboxStatus(t, s, clientID, stateAttr(st, "client_secret"), mailboxInScope); code != 403 {
					return fmt.Errorf("in-scope mailbox before the RBAC delay: HTTP %d, want 403", code)
				}
				return nil
			},
		}, {
			PreConfig:          func() { s.SetRBACDelay(0) },
			Config:             cfg,
			ConfigPlanChecks:   resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			ConfigStateChecks:  []statecheck.StateCheck{statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("pending_mailboxes"), setOf())},
			ExpectNonEmptyPlan: false,
		}, {
			PreConfig: func() {
				if n, err := s.RemoveServicePrincipalExchangeRole(clientID, "Application Mail.ReadWrite"); err != nil || n != 1 {
					t.Fatalf("remove exchange role: %d %v", n, err)
				}
			},
			RefreshState: true,
			// o365_migration_application plans to assign the role again; the connection, which
			// cannot, plans nothing.
			ExpectNonEmptyPlan: true,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(engineConnRes, "missing_permissions.#", "1"),
				resource.TestCheckTypeSetElemAttr(engineConnRes, "missing_permissions.*", "Exchange/Application Mail.ReadWrite"),
				resource.TestCheckResourceAttr(engineConnRes, "unreachable_mailboxes.#", "1"),
				resource.TestCheckResourceAttr(engineConnRes, "pending_mailboxes.#", "0"),
				checkTenant(func() error {
					r, _ := registrationOf(s)
					return equalStrings(r.consents(), []string{"Microsoft Graph/User.Read.All"})
				}),
			),
		}},
	})
}

// The same advice from an application that reads its own roles, at apply: the role
// assignment command inside the application's scope, one role counted.
func TestAccTargetAppConnection_scopedRoleRemoved(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := appConfig(s, appLogin(appScopedID, appScopedSecret, upnInA))
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				// The refresh records the missing role; the plan proposes nothing it cannot do.
				PreConfig: func() {
					if n, err := s.RemoveServicePrincipalExchangeRole(appScopedID, "Application Mail.ReadWrite"); err != nil || n != 1 {
						t.Fatalf("remove exchange role: %d %v", n, err)
					}
				},
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("missing_permissions"), setOf("Exchange/Application Mail.ReadWrite")),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf(upnInA)),
				},
				Check: checkTenant(func() error {
					if c := consentsOf(s, appScopedID); strings.Contains(strings.Join(c, ","), "Mail.ReadWrite") {
						return fmt.Errorf("tenant-wide mail consent: %v", c)
					}
					return nil
				}),
			},
			{
				// A change verifies at apply: one role counted, its assignment command in the application's scope.
				Config: strings.Replace(cfg, `"Target app"`, `"Target app renamed"`, 1),
				ExpectError: regexp.MustCompile(`(?s)1 Exchange application role missing, 1 mailbox unreachable.*` +
					regexp.QuoteMeta(`New-ManagementRoleAssignment -App (Get-ServicePrincipal -Identity '`+appScopedID+`').ObjectId -Role 'Application Mail.ReadWrite' -CustomResourceScope '`+scopeName+`'`)),
			},
		},
	})
}
