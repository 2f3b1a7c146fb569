package provider

// Acceptance tests of o365_target_app_connection, each checking the
// Terraform state and the emulated tenant:
//
//	scripts/testacc.sh all -run 'TestAccTargetAppConnection' ./internal/provider/

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// The applications of the test tenant. Every secret is unique so a test can search logs
// for it.
const (
	appGraphID    = "5951643e-5013-442f-963c-1ee875bbe74a" // Graph, every permission consented tenant-wide
	appScopedID   = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" // Graph through RBAC for Applications, scoped
	appEWSID      = "7b2c3d4e-5f60-4b7c-9d8e-0f1a2b3c4d5e" // EWS, may read the organisation's switches
	appEWSPlainID = "8c3d4e5f-6071-4c8d-8e9f-1a2b3c4d5e6f" // EWS, may not
	appMissingID  = "9d4e5f60-7182-4d9e-9fa0-2b3c4d5e6f70" // not registered in the tenant

	appGraphSecret   = "Graph~app-secret-0123456789abcdefghij"
	appExpiredSecret = "Expired~app-secret-0123456789abcdefgh"
	appScopedSecret  = "Scoped~app-secret-0123456789abcdefghi"
	appEWSSecret     = "Ews~app-secret-0123456789abcdefghijklm"
	appPlainSecret   = "Plain~app-secret-0123456789abcdefghijk"

	scopeName = "tf-o365 target mailboxes"
	upnInA    = "target-a@contoso.onmicrosoft.com" // in the scope
	upnInB    = "target-b@contoso.onmicrosoft.com" // in the scope
	upnOut    = "outside@contoso.onmicrosoft.com"  // outside it
	upnNoMbx  = "nomailbox@contoso.onmicrosoft.com"

	appConnRes = "o365_target_app_connection.test"
)

// graphNeeds are the permissions a Graph migration target holds when everything is consented.
var graphGranted = []string{"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite", "Microsoft Graph/Mail.ReadWrite",
	"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}

// The test certificates: one valid for a year and one that expires in 10 days, both
// registered on the Graph application, and one expired on none.
var (
	certOnce                        sync.Once
	certYear, certSoon, certExpired *emulator.TestCertificate
)

func testCerts() (year, soon, expired *emulator.TestCertificate) {
	certOnce.Do(func() {
		var err error
		now := time.Now()
		if certYear, err = emulator.NewTestCertificate("tf-o365 test application", now.AddDate(1, 0, 0)); err != nil {
			panic(err)
		}
		if certSoon, err = emulator.NewTestCertificate("tf-o365 expiring", now.Add(10*24*time.Hour)); err != nil {
			panic(err)
		}
		if certExpired, err = emulator.NewTestCertificate("tf-o365 expired", now.Add(-24*time.Hour)); err != nil {
			panic(err)
		}
	})
	return certYear, certSoon, certExpired
}

func appTestUsers() []emulator.SeedUser {
	in := map[string]string{"15": "migrate"}
	return []emulator.SeedUser{
		{UserPrincipalName: upnInA, DisplayName: "Target A", Alias: "target-a", Password: "Target-A-Pa55!", Mailbox: true, CustomAttributes: in},
		{UserPrincipalName: upnInB, DisplayName: "Target B", Alias: "target-b", Password: "Target-B-Pa55!", Mailbox: true, CustomAttributes: in},
		{UserPrincipalName: upnOut, DisplayName: "Outside", Alias: "outside", Password: "Outside-Pa55!", Mailbox: true},
		{UserPrincipalName: upnNoMbx, DisplayName: "No mailbox", Alias: "nomailbox", Password: "NoMailbox-Pa55!"},
	}
}

func appTestScopes() []emulator.SeedManagementScope {
	return []emulator.SeedManagementScope{{Name: scopeName, RecipientFilter: "CustomAttribute15 -eq 'migrate'"}}
}

func appTestApplications() []emulator.SeedApplication {
	year, soon, _ := testCerts()
	past := time.Now().Add(-48 * time.Hour)
	mailbox := []string{"Mail.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite", "MailboxSettings.ReadWrite", "User.Read.All"}
	var scoped []emulator.SeedAppExchangeRole
	for _, r := range []string{"Mail.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite", "MailboxSettings.ReadWrite"} {
		scoped = append(scoped, emulator.SeedAppExchangeRole{Role: "Application " + r, Scope: scopeName})
	}
	return []emulator.SeedApplication{
		{DisplayName: "tf-o365 graph target", AppID: appGraphID,
			Secrets:          []emulator.SeedSecret{{DisplayName: "main", Value: appGraphSecret}, {DisplayName: "old", Value: appExpiredSecret, Start: new(past.Add(-time.Hour)), End: &past}},
			Certificates:     []emulator.SeedCertificate{{PEM: string(year.CertPEM)}, {PEM: string(soon.CertPEM)}},
			GraphPermissions: mailbox},
		{DisplayName: "tf-o365 scoped target", AppID: appScopedID,
			Secrets:          []emulator.SeedSecret{{Value: appScopedSecret}},
			GraphPermissions: []string{"User.Read.All"}, ExchangePermissions: []string{"Exchange.ManageAsApp"},
			DirectoryRoles: []string{"Global Reader"}, ExchangeRoles: scoped},
		{DisplayName: "tf-o365 ews target", AppID: appEWSID,
			Secrets:          []emulator.SeedSecret{{Value: appEWSSecret}},
			GraphPermissions: []string{"User.Read.All"}, ExchangePermissions: []string{"full_access_as_app", "Exchange.ManageAsApp"},
			DirectoryRoles: []string{"Global Reader"}},
		{DisplayName: "tf-o365 ews plain", AppID: appEWSPlainID,
			Secrets:          []emulator.SeedSecret{{Value: appPlainSecret}},
			GraphPermissions: []string{"User.Read.All"}, ExchangePermissions: []string{"full_access_as_app"}},
	}
}

// appConfig renders one o365_target_app_connection "test" with the given body lines.
func appConfig(s *emulator.Server, body string) string {
	return providerBlock(s, defaultMaxRetries) + appResource("test", body)
}

// appResource renders one o365_target_app_connection: "test" is named "Target app", any
// other "Target app <label>" (the connections of one application need their own names).
func appResource(label, body string) string {
	name := "Target app"
	if label != "test" {
		name += " " + label
	}
	return fmt.Sprintf(`
resource "o365_target_app_connection" %q {
  name   = %q
  tenant = "contoso.onmicrosoft.com"
%s
}
`, label, name, body)
}

// appLogin is the body of a connection of app with a client secret verifying mailboxes.
func appLogin(app, secret string, mailboxes ...string) string {
	return fmt.Sprintf("  client_id        = %q\n  client_secret    = %q\n  verify_mailboxes = %s", app, secret, hclList(mailboxes))
}

func hclList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// heredoc renders a multi-line value for HCL.
func heredoc(s string) string { return "<<-EOT\n" + strings.TrimRight(s, "\n") + "\nEOT" }

// probesBy counts the mailbox probes the tenant served for app.
func probesBy(s *emulator.Server, route, app string) int { return s.Counters().ByRouteUser[route][app] }

// consentsOf lists app's consented permissions as the tenant shows them.
func consentsOf(s *emulator.Server, app string) []string {
	for _, sp := range s.Snapshot().ServicePrincipals {
		if strings.EqualFold(sp.AppID, app) {
			var out []string
			for _, c := range sp.Consents {
				out = append(out, c.Resource+"/"+c.Permission)
			}
			return out
		}
	}
	return nil
}

// 1. Secret and certificate credentials (PEM and PKCS#12) each verify a mailbox; the second
// plan is empty.
func TestAccTargetAppConnection_secretAndCertificate(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	year, _, _ := testCerts()
	cfg := providerBlock(s, defaultMaxRetries) +
		appResource("test", appLogin(appGraphID, appGraphSecret, upnInA)) +
		appResource("pem", fmt.Sprintf("  client_id = %q\n  client_certificate = %s\n  verify_mailboxes = [%q]", appGraphID, heredoc(string(year.PEM)), upnInB)) +
		appResource("p12", fmt.Sprintf("  client_id = %q\n  client_certificate = %q\n  client_certificate_password = %q\n  verify_mailboxes = [%q]",
			appGraphID, base64.StdEncoding.EncodeToString(year.PKCS12), year.PKCS12Password, upnFull))
	expires := year.Certificate.NotAfter.UTC().Format(time.RFC3339)
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				PreConfig: s.ResetCounters,
				Config:    cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("id"), knownvalue.StringExact(s.TenantID()+"/"+appGraphID+"/Target app")),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("tenant_id"), knownvalue.StringExact(s.TenantID())),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("granted_permissions"), setOf(graphGranted...)),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("missing_permissions"), setOf()),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("ews_status"), knownvalue.Null()),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("credential_expires_at"), knownvalue.Null()),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("verified_at"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue("o365_target_app_connection.pem", tfjsonpath.New("credential_expires_at"), knownvalue.StringExact(expires)),
					statecheck.ExpectKnownValue("o365_target_app_connection.pem", tfjsonpath.New("missing_permissions"), setOf()),
					statecheck.ExpectKnownValue("o365_target_app_connection.p12", tfjsonpath.New("credential_expires_at"), knownvalue.StringExact(expires)),
					statecheck.ExpectKnownValue("o365_target_app_connection.p12", tfjsonpath.New("granted_permissions"), setOf(graphGranted...)),
				},
				Check: checkTenant(func() error {
					// Each mailbox was opened by the application itself, and nothing changed in the tenant.
					if n := probesBy(s, "graph.mailFolders", appGraphID); n < 3 {
						return fmt.Errorf("%d mailbox probes by the application, want at least 3", n)
					}
					return equalStrings(consentsOf(s, appGraphID), []string{"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite",
						"Microsoft Graph/Mail.ReadWrite", "Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"})
				}),
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

// 2. A consent removed behind Terraform's back shows in the next plan as
// missing_permissions; apply names the permission and the command that grants it.
func TestAccTargetAppConnection_consentRemoved(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := appConfig(s, appLogin(appGraphID, appGraphSecret, upnInA))
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					if n, err := s.RemoveConsent(appGraphID, "graph", "Calendars.ReadWrite"); err != nil || n != 1 {
						t.Fatalf("remove consent: %d %v", n, err)
					}
				},
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(appConnRes, "missing_permissions.#", "1"),
					resource.TestCheckTypeSetElemAttr(appConnRes, "missing_permissions.*", "Microsoft Graph/Calendars.ReadWrite"),
					resource.TestCheckResourceAttr(appConnRes, "granted_permissions.#", "4"),
					resource.TestCheckResourceAttr(appConnRes, "unreachable_mailboxes.#", "0"),
				),
			},
			{
				// Drift alone plans nothing (this resource cannot grant the consent); the state keeps the finding.
				Config:            cfg,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("missing_permissions"), setOf("Microsoft Graph/Calendars.ReadWrite"))},
			},
			{
				// A change (one more mailbox) verifies again at apply, which names the fix.
				Config: appConfig(s, appLogin(appGraphID, appGraphSecret, upnInA, upnInB)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(appConnRes, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(appConnRes, tfjsonpath.New("missing_permissions"), setOf()),
				}},
				ExpectError: regexp.MustCompile(`(?s)1 permission missing.*Microsoft Graph/Calendars.ReadWrite.*New-MgServicePrincipalAppRoleAssignedTo.*'Calendars.ReadWrite'`),
			},
			{
				PreConfig: func() {
					if err := s.AddConsent(appGraphID, "graph", "Calendars.ReadWrite"); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("missing_permissions"), setOf()),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("granted_permissions"), setOf(graphGranted...)),
				},
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

// 3. A mailbox outside the application's RBAC scope shows in unreachable_mailboxes; an
// in-scope one is verified.
func TestAccTargetAppConnection_rbacScope(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	scopedGranted := []string{"Exchange/Application Calendars.ReadWrite", "Exchange/Application Contacts.ReadWrite",
		"Exchange/Application Mail.ReadWrite", "Exchange/Application MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}
	cfg := func(mailboxes ...string) string {
		return appConfig(s, appLogin(appScopedID, appScopedSecret, mailboxes...))
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: cfg(upnInA, upnInB),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("granted_permissions"), setOf(scopedGranted...)),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("missing_permissions"), setOf()),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
				},
				Check: checkTenant(func() error {
					if n := probesBy(s, "graph.mailFolders", appScopedID); n < 2 {
						return fmt.Errorf("%d mailbox probes, want 2", n)
					}
					return nil
				}),
			},
			{
				// target-b leaves the scope (its attribute is cleared in the admin centre).
				PreConfig: func() {
					if err := s.SetUserRecipientProperties(upnInB, nil, map[string]string{"15": ""}); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(appConnRes, "unreachable_mailboxes.#", "1"),
					resource.TestCheckTypeSetElemAttr(appConnRes, "unreachable_mailboxes.*", upnInB),
					resource.TestCheckResourceAttr(appConnRes, "missing_permissions.#", "0"),
				),
			},
			{
				Config:      strings.Replace(cfg(upnInA, upnInB), `"Target app"`, `"Target app renamed"`, 1),
				ExpectError: regexp.MustCompile(`(?s)1 mailbox unreachable.*` + regexp.QuoteMeta(upnInB) + `.*outside the management scope.*` + scopeName),
			},
			{
				// A mailbox without an Exchange mailbox is unreachable too, and says why.
				Config:      cfg(upnInA, upnNoMbx),
				ExpectError: regexp.MustCompile(`(?s)` + regexp.QuoteMeta(upnNoMbx) + `.*has no Exchange Online mailbox`),
			},
			{
				Config: cfg(upnInA),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
				},
				Check: checkTenant(func() error {
					// The provider changed nothing in the tenant: the scope and the roles are as seeded.
					for _, p := range s.Snapshot().ExchangeServicePrincipals {
						if p.AppID == appScopedID && len(p.Assignments) != 4 {
							return fmt.Errorf("%d Exchange assignments, want the 4 seeded", len(p.Assignments))
						}
					}
					return nil
				}),
			},
		},
	})
}

// 4. protocol = "ews": verification with impersonation works; with EWS disabled for the
// organisation the plan shows ews_status = "disabled_for_organization" and the command for an
// application allowed to read the organisation's settings, "disabled" for one that is not.
func TestAccTargetAppConnection_ews(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := providerBlock(s, defaultMaxRetries) +
		appResource("test", appLogin(appEWSID, appEWSSecret, upnInA)+"\n  protocol = \"ews\"") +
		appResource("plain", appLogin(appEWSPlainID, appPlainSecret, upnInA)+"\n  protocol = \"ews\"")
	plain := "o365_target_app_connection.plain"
	off := false
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				PreConfig: s.ResetCounters,
				Config:    cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("granted_permissions"), setOf("Microsoft Graph/User.Read.All", "Office 365 Exchange Online/full_access_as_app")),
					statecheck.ExpectKnownValue(plain, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
				},
				Check: checkTenant(func() error {
					if n := probesBy(s, "ews.GetFolder", appEWSID); n < 1 {
						return fmt.Errorf("EWS was not called by the application: %v", s.Counters().ByRouteUser["ews.GetFolder"])
					}
					return nil
				}),
			},
			{
				// EWS closed is drift no apply can repair: the refresh records it and warns,
				// and the plan proposes nothing (no ews_status "enabled" it cannot set).
				PreConfig:    func() { s.SetOrganizationEWSEnabled(&off) },
				RefreshState: true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(appConnRes, "ews_status", "disabled_for_organization"),
					resource.TestCheckTypeSetElemAttr(appConnRes, "unreachable_mailboxes.*", upnInA),
					resource.TestCheckResourceAttr(plain, "ews_status", "disabled"),
					checkTenant(func() error {
						if n := probesBy(s, "exo.Get-OrganizationConfig", appEWSPlainID); n != 0 {
							return fmt.Errorf("the application without Exchange.ManageAsApp called Get-OrganizationConfig %d times", n)
						}
						if n := probesBy(s, "exo.Get-OrganizationConfig", appEWSID); n == 0 {
							return fmt.Errorf("the organization's switches were not read")
						}
						return nil
					}),
				),
			},
			{
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("ews_status"), knownvalue.StringExact("disabled_for_organization")),
				},
				Check: checkTenant(func() error {
					if e := s.Snapshot().Organization.EWSEnabled; e == nil || *e {
						return fmt.Errorf("the organisation's EWS switch is %v, want off", e)
					}
					return nil
				}),
			},
			{
				// A change while EWS is closed fails at plan with the diagnosis: its apply could only fail.
				Config:      strings.Replace(cfg, `"Target app"`, `"Target app renamed"`, 1),
				ExpectError: regexp.MustCompile(`(?s)EWS closed: ews_status = disabled_for_organization.*Set-OrganizationConfig -EwsEnabled \$true`),
			},
			{
				Config:      providerBlock(s, defaultMaxRetries) + appResource("test", appLogin(appEWSID, appEWSSecret, upnInA)+"\n  protocol = \"ews\"") + strings.Replace(appResource("plain", appLogin(appEWSPlainID, appPlainSecret, upnInA)+"\n  protocol = \"ews\""), `"Target app plain"`, `"Plain renamed"`, 1),
				ExpectError: regexp.MustCompile(`(?s)EWS closed: ews_status = disabled.*does not hold Exchange.ManageAsApp.*Get-OrganizationConfig`),
			},
			{
				// The mailbox's own switch, with the organisation open again.
				PreConfig: func() {
					s.SetOrganizationEWSEnabled(nil)
					if err := s.SetMailboxEWSEnabled(upnInA, &off); err != nil {
						t.Fatal(err)
					}
				},
				Config:            cfg,
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("ews_status"), knownvalue.StringExact("disabled_for_mailbox"))},
			},
			{
				PreConfig: func() {
					if err := s.SetMailboxEWSEnabled(upnInA, nil); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
					statecheck.ExpectKnownValue(plain, tfjsonpath.New("ews_status"), knownvalue.StringExact("enabled")),
				},
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

// 5. A certificate expiring in 10 days gives a plan warning (and its date in state); an
// expired one is a plan-time error; an expired secret an error.
func TestAccTargetAppConnection_credentialExpiry(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	_, soon, expired := testCerts()
	certBody := func(c *emulator.TestCertificate) string {
		return fmt.Sprintf("  client_id = %q\n  client_certificate = %s\n  verify_mailboxes = [%q]", appGraphID, heredoc(string(c.PEM)), upnInA)
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config:      appConfig(s, certBody(expired)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Client certificate has expired.*client_certificate`),
			},
			{
				Config:      appConfig(s, appLogin(appGraphID, appExpiredSecret, upnInA)),
				ExpectError: regexp.MustCompile(`(?s)Client secret of application ` + appGraphID + ` has expired.*AADSTS7000222.*client_secret`),
			},
			{
				Config: appConfig(s, certBody(soon)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("credential_expires_at"), knownvalue.StringExact(soon.Certificate.NotAfter.UTC().Format(time.RFC3339))),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("missing_permissions"), setOf()),
				},
				Check: checkTenant(func() error {
					for _, a := range s.Snapshot().Applications {
						if a.AppID == appGraphID {
							for _, k := range a.KeyCredentials {
								if k.Thumbprint == soon.Thumbprint && time.Until(k.End) < 11*24*time.Hour {
									return nil
								}
							}
						}
					}
					return fmt.Errorf("the tenant does not hold the expiring certificate")
				}),
			},
		},
	})
}

// A secret that expires after the connection was made: the refresh warns and keeps the
// state, so the plan that brings the new secret is not blocked (an unchanged configuration
// plans nothing, since no apply could repair it); the apply verifies with the new secret.
func TestAccTargetAppConnection_secretExpiresLater(t *testing.T) {
	var mu sync.Mutex
	offset := time.Duration(0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	s := startTenant(t, emulator.Options{Clock: clock})
	const shortLived, renewed = "Short~lived-secret-0123456789abcdefgh", "Renewed~secret-0123456789abcdefghijkl"
	end := time.Now().Add(time.Hour)
	cfg := appConfig(s, appLogin(appScopedID, shortLived, upnInA))
	verifiedAt := ""
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					if _, err := s.AddApplicationSecret(appScopedID, emulator.SeedSecret{Value: shortLived, End: &end}); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				Check: func(st *terraform.State) error {
					verifiedAt = st.RootModule().Resources[appConnRes].Primary.Attributes["verified_at"]
					return nil
				},
			},
			{
				PreConfig: func() { mu.Lock(); offset = 2 * time.Hour; mu.Unlock() },
				Config:    cfg,
				PlanOnly:  true,
			},
			{
				PreConfig: func() {
					if _, err := s.AddApplicationSecret(appScopedID, emulator.SeedSecret{Value: renewed}); err != nil {
						t.Fatal(err)
					}
					time.Sleep(time.Second) // verified_at (seconds) must move
				},
				Config: appConfig(s, appLogin(appScopedID, renewed, upnInA)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(appConnRes, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("client_secret"), knownvalue.StringExact(renewed)),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
				},
				Check: func(st *terraform.State) error {
					if v := st.RootModule().Resources[appConnRes].Primary.Attributes["verified_at"]; v == verifiedAt {
						return fmt.Errorf("not verified again: verified_at %s", v)
					}
					if tokenStatus(t, s, appScopedID, renewed) != http.StatusOK || tokenStatus(t, s, appScopedID, shortLived) == http.StatusOK {
						return fmt.Errorf("the tenant does not hold the renewed secret, or the short-lived one still works")
					}
					return nil
				},
			},
		},
	})
}

// The plan-time warning itself (a CLI prints warnings but the test framework does not
// return them): within 30 days, a warning naming the date; beyond, nothing.
func TestTargetAppConnection_certificateWarning(t *testing.T) {
	_, soon, expired := testCerts()
	year, _, _ := testCerts()
	for _, tc := range []struct {
		cert         *emulator.TestCertificate
		warn, errors int
	}{{soon, 1, 0}, {year, 0, 0}, {expired, 0, 1}} {
		var diags diag.Diagnostics
		checkClientCertificate(string(tc.cert.PEM), "", path.Root("client_certificate"), time.Now(), &diags)
		if diags.WarningsCount() != tc.warn || diags.ErrorsCount() != tc.errors {
			t.Errorf("%s: %d warnings, %d errors: %v", tc.cert.Certificate.Subject, diags.WarningsCount(), diags.ErrorsCount(), diags)
		}
		if tc.warn == 1 && !strings.Contains(diags[0].Detail(), "in 10 days") {
			t.Errorf("warning does not say when: %s", diags[0].Detail())
		}
	}
	var diags diag.Diagnostics
	checkClientCertificate("not a certificate", "", path.Root("client_certificate"), time.Now(), &diags)
	if diags.ErrorsCount() != 1 || !strings.Contains(diags[0].Summary(), "Unusable client certificate") {
		t.Errorf("garbage: %v", diags)
	}
	checkClientCertificate(string(year.CertPEM), "", path.Root("client_certificate"), time.Now(), &diags)
	if diags.ErrorsCount() != 2 {
		t.Errorf("a certificate without its key must be refused: %v", diags)
	}
}

// 6. Wrong secret and unknown application (AADSTS7000215, 700016): clear errors on the
// right attribute; nothing in state changes.
func TestAccTargetAppConnection_signInFailures(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	good := appConfig(s, appLogin(appGraphID, appGraphSecret, upnInA))
	credentials := func() int {
		for _, a := range s.Snapshot().Applications {
			if a.AppID == appGraphID {
				return len(a.PasswordCredentials) + len(a.KeyCredentials)
			}
		}
		return -1
	}
	before := 0
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config:      appConfig(s, appLogin(appMissingID, "whatever-secret", upnInA)),
				ExpectError: regexp.MustCompile(`(?s)Application ` + appMissingID + ` not found in tenant.*AADSTS700016.*client_id`),
			},
			{
				PreConfig: func() { before = credentials() },
				Config:    good,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(appConnRes, "client_secret", appGraphSecret),
					checkTenant(func() error {
						if n := credentials(); n != before {
							return fmt.Errorf("the application has %d credentials, had %d", n, before)
						}
						return nil
					}),
				),
			},
			{
				Config:      appConfig(s, appLogin(appGraphID, "Wrong~secret-value-0123456789", upnInA)),
				ExpectError: regexp.MustCompile(`(?s)Wrong client secret for application.*AADSTS7000215.*client_secret`),
			},
			{
				// The failed update kept the state: the working secret is still there, and a
				// plan with it proposes nothing.
				Config:   good,
				PlanOnly: true,
				Check:    resource.TestCheckResourceAttr(appConnRes, "client_secret", appGraphSecret),
			},
			{
				// A secret rotated behind Terraform's back: the plan warns and keeps the state.
				PreConfig: func() {
					for _, a := range s.Snapshot().Applications {
						if a.AppID == appGraphID {
							for _, p := range a.PasswordCredentials {
								if p.DisplayName == "main" {
									if err := s.RemoveApplicationCredential(appGraphID, p.KeyID); err != nil {
										t.Fatal(err)
									}
								}
							}
						}
					}
				},
				Config:   good,
				PlanOnly: true,
			},
			{
				// The application deleted behind Terraform's back: a warning, the state kept.
				PreConfig: func() {
					if err := s.RemoveApplication(appGraphID); err != nil {
						t.Fatal(err)
					}
				},
				Config:   good,
				PlanOnly: true,
				Check:    resource.TestCheckResourceAttr(appConnRes, "client_id", appGraphID),
			},
		},
	})
}

// 7. Import, then plan: no change. The credential, name and mailboxes live only in
// configuration; everything else matches the connection that was created.
func TestAccTargetAppConnection_import(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := appConfig(s, appLogin(appGraphID, appGraphSecret, upnInA))
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				ResourceName:      appConnRes,
				ImportState:       true,
				ImportStateId:     "contoso.onmicrosoft.com/" + appGraphID + "/Target app",
				ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"client_secret", "verify_mailboxes", "granted_permissions", "missing_permissions",
					"unreachable_mailboxes", "verified_at"},
			},
			{Config: cfg, PlanOnly: true},
			{
				ResourceName:  appConnRes,
				ImportState:   true,
				ImportStateId: "contoso.onmicrosoft.com/" + appGraphID,
				ExpectError:   regexp.MustCompile(`Expected <tenant>/<client_id>/<name>`),
			},
			{
				ResourceName:  appConnRes,
				ImportState:   true,
				ImportStateId: "contoso.example/" + appGraphID + "/Target app",
				ExpectError:   regexp.MustCompile(`Tenant not resolved`),
			},
		},
	})
}

// 8. TF_LOG=TRACE of an apply with a secret and with a certificate holds neither, nor a token.
func TestAccTargetAppConnection_traceLogHasNoSecrets(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	year, _, _ := testCerts()
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	t.Setenv("TF_VAR_client_secret", appGraphSecret)
	t.Setenv("TF_VAR_client_certificate", string(year.PEM))
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: `
variable "client_secret" {
  type      = string
  sensitive = true
}
variable "client_certificate" {
  type      = string
  sensitive = true
}
` + providerBlock(s, defaultMaxRetries) +
				appResource("test", fmt.Sprintf("  client_id = %q\n  client_secret = var.client_secret\n  verify_mailboxes = [%q]", appGraphID, upnInA)) +
				appResource("cert", fmt.Sprintf("  client_id = %q\n  client_certificate = var.client_certificate\n  verify_mailboxes = [%q]", appGraphID, upnInB)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("missing_permissions"), setOf()),
				statecheck.ExpectKnownValue("o365_target_app_connection.cert", tfjsonpath.New("missing_permissions"), setOf()),
			},
		}},
	})
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	if !strings.Contains(log, "target app connection verified") {
		t.Fatalf("the provider's own log lines are missing from %s (%d bytes)", logFile, len(b))
	}
	keyBody := strings.Split(string(year.KeyPEM), "\n")[1] // a line of the private key's base64
	for _, secret := range []string{appGraphSecret, keyBody, "eyJ0eXAiOiJKV1Qi", "client_assertion="} {
		if strings.Contains(log, secret) {
			i := strings.Index(log, secret)
			t.Errorf("trace log contains a secret %q near: %q", secret, log[max(0, i-200):min(len(log), i+100)])
		}
	}
}

// 9. Under about 20 % injected 429/503 faults on every new route, 10 connections converge
// (six of one Graph application, two scoped by RBAC for Applications, two over EWS), the
// next plan is empty, and a no-change plan costs one request per mailbox plus one token per
// application and audience (and, for the scoped application, one reading of its Exchange
// roles per process).
func TestAccTargetAppConnection_faultsAndCost(t *testing.T) {
	s, fl := startReliabilityTenant(t, emulator.Options{Latency: 5 * time.Millisecond})
	cfg := providerBlock(s, 8)
	const graphConns = 6
	for i := 1; i <= graphConns; i++ {
		cfg += appResource(fmt.Sprintf("c%02d", i), appLogin(appGraphID, appGraphSecret, relUPN(i)))
	}
	cfg += appResource("c07", appLogin(appScopedID, appScopedSecret, upnInA)) + appResource("c08", appLogin(appScopedID, appScopedSecret, upnInB))
	cfg += appResource("c09", appLogin(appEWSID, appEWSSecret, relUPN(9))+"\n  protocol = \"ews\"") +
		appResource("c10", appLogin(appEWSID, appEWSSecret, relUPN(10))+"\n  protocol = \"ews\"")
	routes := []string{"token", "graph.mailFolders", "ews.GetFolder", "exo.Get-OrganizationConfig", "exo.Get-CASMailbox", "exo.Test-ServicePrincipalAuthorization"}
	granted := map[int]string{7: "5", 8: "5", 9: "2", 10: "2"}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					for _, r := range routes {
						// The first request of each route fails for sure (some see only a few).
						s.InjectFault(emulator.Fault{Route: r, Status: 503, Count: 1})
						s.InjectFault(emulator.Fault{Route: r, Status: 429, RetryAfter: "0.1", Probability: 0.1})
						s.InjectFault(emulator.Fault{Route: r, Status: 503, Probability: 0.1})
					}
				},
				Config: cfg,
				Check: func(st *terraform.State) error {
					for i := 1; i <= 10; i++ {
						a := st.RootModule().Resources[fmt.Sprintf("o365_target_app_connection.c%02d", i)].Primary.Attributes
						want := granted[i]
						if want == "" {
							want = "5"
						}
						if a["missing_permissions.#"] != "0" || a["unreachable_mailboxes.#"] != "0" || a["granted_permissions.#"] != want {
							return fmt.Errorf("c%02d: %v", i, a)
						}
					}
					if n := probesBy(s, "graph.mailFolders", appGraphID); n < graphConns {
						return fmt.Errorf("%d probes served, want at least %d", n, graphConns)
					}
					for _, r := range []string{"graph.mailFolders", "token", "ews.GetFolder", "exo.Test-ServicePrincipalAuthorization"} {
						if fl.byRouteCount(r) == 0 {
							return fmt.Errorf("no fault fired on %s: %s %v", r, fl, fl.byRoute)
						}
					}
					t.Logf("converged through %s", fl)
					return nil
				},
			},
			{
				PreConfig: func() { s.ClearFaults(); s.ResetCounters() },
				Config:    cfg,
				PlanOnly:  true,
				Check: checkTenant(func() error {
					c := s.Counters()
					// Each CLI run of the step is a new provider process: per run one probe per
					// mailbox, and one token per application and audience.
					probes := c.ByRouteUser["graph.mailFolders"][appGraphID]
					runs := probes / graphConns
					if runs == 0 || probes != runs*graphConns {
						return fmt.Errorf("%d probes for %d mailboxes: not one per mailbox per plan", probes, graphConns)
					}
					if n := c.ByRouteUser["graph.mailFolders"][appScopedID]; n != 2*runs {
						return fmt.Errorf("scoped application: %d probes in %d runs, want %d", n, runs, 2*runs)
					}
					if n := c.ByRouteUser["ews.GetFolder"][appEWSID]; n != 2*runs {
						return fmt.Errorf("EWS application: %d probes in %d runs, want %d", n, runs, 2*runs)
					}
					for app, audiences := range map[string]int{appGraphID: 1, appScopedID: 2, appEWSID: 2} {
						if n := c.ByRouteUser["token"][app]; n > audiences*runs {
							return fmt.Errorf("%s: %d tokens in %d runs, want at most %d per run", app, n, runs, audiences)
						}
					}
					if n := c.ByRouteUser["exo.Test-ServicePrincipalAuthorization"][appScopedID]; n > runs {
						return fmt.Errorf("scoped application: its Exchange roles read %d times in %d runs, want once per run", n, runs)
					}
					for r, byApp := range c.ByRouteUser {
						if n := byApp[appGraphID] + byApp[appEWSID]; strings.HasPrefix(r, "exo.") && n > 0 {
							return fmt.Errorf("a no-change plan of an application whose consents cover everything called %s %d times", r, n)
						}
					}
					return nil
				}),
			},
		},
	})
}

func (l *faultLog) byRouteCount(route string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byRoute[route]
}

// Write-only credentials need a CLI that supports them (Terraform 1.11+, OpenTofu 1.11+).
func TestAccTargetAppConnection_writeOnlySecret(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	cfg := func(v int) string {
		return appConfig(s, fmt.Sprintf("  client_id = %q\n  client_secret_wo = %q\n  credential_wo_version = %d\n  verify_mailboxes = [%q]", appGraphID, appGraphSecret, v, upnInA))
	}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(version.Must(version.NewVersion("1.11.0")))},
		Steps: []resource.TestStep{
			{
				Config:      appConfig(s, fmt.Sprintf("  client_id = %q\n  client_secret = \"x\"\n  client_secret_wo = \"y\"\n  verify_mailboxes = [%q]", appGraphID, upnInA)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Invalid Attribute Combination`),
			},
			{
				Config: cfg(1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("missing_permissions"), setOf()),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("client_secret_wo"), knownvalue.Null()),
					statecheck.ExpectKnownValue(appConnRes, tfjsonpath.New("client_secret"), knownvalue.Null()),
				},
				Check: func(st *terraform.State) error {
					for k, v := range st.RootModule().Resources[appConnRes].Primary.Attributes {
						if v == appGraphSecret {
							return fmt.Errorf("state attribute %s holds the write-only secret", k)
						}
					}
					if probesBy(s, "graph.mailFolders", appGraphID) == 0 {
						return fmt.Errorf("the mailbox was not probed")
					}
					return nil
				},
			},
			{Config: cfg(1), PlanOnly: true}, // verified at plan with the configuration's write-only secret: nothing to propose
			{Config: cfg(2)},                 // a new version applies again with the write-only secret
		},
	})
}

// Plan-time validation names the attribute and the fix.
func TestAccTargetAppConnection_planTimeValidation(t *testing.T) {
	s := startTenant(t, emulator.Options{})
	step := func(body, want string) resource.TestStep {
		return resource.TestStep{Config: appConfig(s, body), PlanOnly: true, ExpectError: regexp.MustCompile(want)}
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			step(fmt.Sprintf("  client_id = %q\n  client_secret = \"x\"\n  verify_mailboxes = []", appGraphID), `(?s)verify_mailboxes.*at least 1`),
			step(fmt.Sprintf("  client_id = %q\n  client_secret = \"x\"\n  verify_mailboxes = [\"not-an-address\"]", appGraphID), `(?s)Invalid address.*verify_mailboxes`),
			step(fmt.Sprintf("  client_id = %q\n  verify_mailboxes = [%q]", appGraphID, upnInA), `(?s)Exactly one of these attributes must be configured`),
			step(fmt.Sprintf("  client_id = %q\n  client_secret = \"x\"\n  client_certificate = \"y\"\n  verify_mailboxes = [%q]", appGraphID, upnInA), `Invalid Attribute Combination`),
			step(fmt.Sprintf("  client_id = %q\n  client_certificate = \"not a certificate\"\n  verify_mailboxes = [%q]", appGraphID, upnInA), `(?s)Unusable client certificate.*client_certificate`),
			step(fmt.Sprintf("  client_id = %q\n  client_secret = \"x\"\n  protocol = \"imap\"\n  verify_mailboxes = [%q]", appGraphID, upnInA), `(?s)Invalid Attribute Value Match.*protocol`),
			step(fmt.Sprintf("  client_id = \"not-a-guid\"\n  client_secret = \"x\"\n  verify_mailboxes = [%q]", upnInA), `(?s)Invalid client ID`),
			{
				Config: providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_app_connection" "test" {
  name             = "x"
  tenant           = "common"
  client_id        = %q
  client_secret    = "x"
  verify_mailboxes = [%q]
}`, appGraphID, upnInA),
				PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)Invalid tenant.*names no tenant`),
			},
		},
	})
}
