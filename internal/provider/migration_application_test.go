package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// Acceptance tests of o365_migration_application: each checks Terraform's
// state and the emulated tenant.

const (
	migRes = "o365_migration_application.test"
	// The management identities added to the harness's tenant.
	mgmtClientID      = "0f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
	mgmtNoPRAClientID = "1f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
	mgmtClientSecret  = "Mgmt~Secret.acceptance-0123456789abcdef"
	appDisplayName    = "tf-o365 migration target"
	scopeFilter       = "CustomAttribute15 -eq 'migrate'"
	mailboxInScope    = upnFull     // CustomAttribute15 = migrate
	mailboxOutOfScope = upnHelpdesk // outside the scope
)

var (
	graphConsents = []string{"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite", "Microsoft Graph/Mail.ReadWrite",
		"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}
	scopedExchangeRoles = []string{"Exchange/Application Calendars.ReadWrite", "Exchange/Application Contacts.ReadWrite",
		"Exchange/Application Mail.ReadWrite", "Exchange/Application MailboxSettings.ReadWrite"}
)

// registrationTenant is the harness's tenant with two management identities (one without
// Privileged Role Administrator) and a mailbox inside the test scope.
func registrationTenant(t *testing.T) *emulator.Server {
	t.Helper()
	s := startTenant(t, emulator.Options{})
	for _, m := range []struct {
		id    string
		roles []string
	}{{mgmtClientID, []string{"Privileged Role Administrator", "Exchange Administrator"}}, {mgmtNoPRAClientID, []string{"Exchange Administrator"}}} {
		if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: "management " + m.id[:2], AppID: m.id,
			Secrets:             []emulator.SeedSecret{{Value: mgmtClientSecret}},
			GraphPermissions:    []string{"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Application.Read.All"},
			ExchangePermissions: []string{"Exchange.ManageAsApp"}, DirectoryRoles: m.roles}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetUserRecipientProperties(mailboxInScope, nil, map[string]string{"15": "migrate"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// migrationConfig is the provider block with the management identity clientID and one
// o365_migration_application "test" with the given body.
func migrationConfig(s *emulator.Server, clientID, body string) string {
	p := strings.Replace(providerBlock(s, defaultMaxRetries), `provider "o365" {`, fmt.Sprintf(`provider "o365" {
  management = {
    tenant_id     = "contoso.onmicrosoft.com"
    client_id     = %q
    client_secret = %q
  }`, clientID, mgmtClientSecret), 1)
	return p + fmt.Sprintf(`
resource "o365_migration_application" "test" {
  display_name = %q
%s
}
`, appDisplayName, body)
}

// registered finds the registration of the tenant by display name.
type registered struct {
	app      *emulator.Application
	sp       *emulator.ServicePrincipal
	exchange *emulator.ExchangeServicePrincipal
	scopes   []string
}

func registrationOf(s *emulator.Server) (registered, int) {
	st := s.Snapshot()
	var r registered
	n := 0
	for i := range st.Applications {
		if st.Applications[i].DisplayName == appDisplayName {
			r.app, n = &st.Applications[i], n+1
		}
	}
	if r.app == nil {
		return r, 0
	}
	for i := range st.ServicePrincipals {
		if st.ServicePrincipals[i].AppID == r.app.AppID {
			r.sp = &st.ServicePrincipals[i]
		}
	}
	for i := range st.ExchangeServicePrincipals {
		if st.ExchangeServicePrincipals[i].AppID == r.app.AppID {
			r.exchange = &st.ExchangeServicePrincipals[i]
		}
	}
	for _, sc := range st.ManagementScopes {
		if strings.Contains(sc.Name, r.app.AppID) {
			r.scopes = append(r.scopes, sc.Name+"="+sc.RecipientFilter)
		}
	}
	return r, n
}

func (r registered) consents() []string {
	var out []string
	if r.sp != nil {
		for _, c := range r.sp.Consents {
			out = append(out, c.Resource+"/"+c.Permission)
		}
	}
	sort.Strings(out)
	return out
}

// exchangeRoles are the application's Exchange roles limited to its own scope.
func (r registered) exchangeRoles() []string {
	var out []string
	if r.exchange != nil {
		for _, a := range r.exchange.Assignments {
			if strings.Contains(a.CustomResourceScope, r.app.AppID) {
				out = append(out, "Exchange/"+a.Role)
			}
		}
	}
	sort.Strings(out)
	return out
}

// mailboxStatus opens a mailbox's inbox with the application's own token (client
// credentials, WIRE §I1, §I12) and returns Graph's HTTP status.
// (The tests also verify the same through an o365_target_app_connection fed from the
// resource's outputs; this checks the tenant directly.)
func mailboxStatus(t *testing.T, s *emulator.Server, clientID, secret, mailbox string) int {
	t.Helper()
	hc, err := transport.NewHTTPClient(s.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, err := hc.PostForm(s.URL()+"/contoso.onmicrosoft.com/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token for %s: HTTP %d, %v", clientID, resp.StatusCode, err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/v1.0/users/"+url.PathEscape(mailbox)+"/mailFolders/inbox", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	r, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	return r.StatusCode
}

// stateAttr reads an attribute of the resource from Terraform's state.
func stateAttr(st *terraform.State, name string) string {
	if rs, ok := st.RootModule().Resources[migRes]; ok {
		return rs.Primary.Attributes[name]
	}
	return ""
}

func checkNoRegistration(s *emulator.Server) func(*terraform.State) error {
	return func(*terraform.State) error {
		if r, n := registrationOf(s); n != 0 || r.exchange != nil {
			return fmt.Errorf("the registration is still in the tenant: %d applications, exchange %v", n, r.exchange)
		}
		return nil
	}
}

func testCertificatePEM(t *testing.T, notAfter time.Time) string {
	t.Helper()
	c, err := emulator.NewTestCertificate("tf-o365 migration", notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return string(c.CertPEM)
}

// 1. Graph protocol: application, service principal, exactly the consents, a certificate
// credential; the application's token opens a mailbox; the next plan is empty.
func TestAccMigrationApplication_graph(t *testing.T) {
	s := registrationTenant(t)
	c, err := emulator.NewTestCertificate("tf-o365 migration", time.Now().Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// The migration engine's connection, fed from the registration: it signs in with the
	// certificate's private key and verifies a mailbox.
	cfg := migrationConfig(s, mgmtClientID, fmt.Sprintf("  certificate          = %q\n  create_client_secret = true", c.CertPEM)) +
		appConnectionOf(fmt.Sprintf("  client_certificate = %q", c.PEM), mailboxOutOfScope)
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("required_permissions"), setOf(graphConsents...)),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("granted_permissions"), setOf(graphConsents...)),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf()),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("tenant_id"), knownvalue.StringExact("3b2a1c0d-1111-4222-8333-944445555666")),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("protocol"), knownvalue.StringExact("graph")),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("missing_permissions"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("verified_at"), knownvalue.NotNull()),
			},
			Check: func(st *terraform.State) error {
				r, n := registrationOf(s)
				if n != 1 || r.sp == nil {
					return fmt.Errorf("%d applications, service principal %v", n, r.sp)
				}
				if stateAttr(st, "client_id") != r.app.AppID || stateAttr(st, "object_id") != r.app.ObjectID || stateAttr(st, "service_principal_id") != r.sp.ID {
					return fmt.Errorf("state ids %s/%s/%s, tenant %s/%s/%s", stateAttr(st, "client_id"), stateAttr(st, "object_id"), stateAttr(st, "service_principal_id"), r.app.AppID, r.app.ObjectID, r.sp.ID)
				}
				if err := equalStrings(r.consents(), graphConsents); err != nil {
					return err
				}
				if len(r.app.KeyCredentials) != 1 || len(r.app.PasswordCredentials) != 1 {
					return fmt.Errorf("credentials: %d keys, %d secrets", len(r.app.KeyCredentials), len(r.app.PasswordCredentials))
				}
				if stateAttr(st, "credential_expires_at") == "" || stateAttr(st, "client_secret") == "" {
					return fmt.Errorf("credential_expires_at %q, client_secret set %v", stateAttr(st, "credential_expires_at"), stateAttr(st, "client_secret") != "")
				}
				if code := mailboxStatus(t, s, r.app.AppID, stateAttr(st, "client_secret"), mailboxOutOfScope); code != http.StatusOK {
					return fmt.Errorf("the application's token opens no mailbox: HTTP %d", code)
				}
				return nil
			},
		}, {
			Config:            cfg,
			ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf())},
		}},
	})
}

// 2. and 6. mailbox_scope: the in-scope mailbox opens, the other does not, and no tenant-wide
// mail consent exists; destroy removes everything it made and nothing that existed before.
func TestAccMigrationApplication_mailboxScope(t *testing.T) {
	s := registrationTenant(t)
	before := s.Snapshot()
	base := migrationConfig(s, mgmtClientID, fmt.Sprintf("  create_client_secret = true\n  mailbox_scope = {\n    recipient_filter = %q\n  }", scopeFilter))
	// The migration engine's connection, fed from the registration, verifies the mailbox in scope.
	cfg := base + appConnectionOf("  client_secret = o365_migration_application.test.client_secret", mailboxInScope)
	required := append([]string{"Microsoft Graph/User.Read.All"}, scopedExchangeRoles...)
	accTest(t, resource.TestCase{
		CheckDestroy: func(st *terraform.State) error {
			if err := checkNoRegistration(s)(st); err != nil {
				return err
			}
			after := s.Snapshot()
			if len(after.Applications) != len(before.Applications) || len(after.ServicePrincipals) != len(before.ServicePrincipals) ||
				len(after.ExchangeServicePrincipals) != len(before.ExchangeServicePrincipals) || len(after.ManagementScopes) != len(before.ManagementScopes) {
				return fmt.Errorf("destroy left or removed objects: applications %d→%d, service principals %d→%d, Exchange %d→%d, scopes %d→%d",
					len(before.Applications), len(after.Applications), len(before.ServicePrincipals), len(after.ServicePrincipals),
					len(before.ExchangeServicePrincipals), len(after.ExchangeServicePrincipals), len(before.ManagementScopes), len(after.ManagementScopes))
			}
			for i, a := range before.ServicePrincipals {
				if fmt.Sprint(a.Consents) != fmt.Sprint(after.ServicePrincipals[i].Consents) {
					return fmt.Errorf("destroy changed the consents of %s", a.DisplayName)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("required_permissions"), setOf(required...)),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("verified_at"), knownvalue.NotNull()),
			},
			Check: func(st *terraform.State) error {
				r, _ := registrationOf(s)
				if err := equalStrings(r.consents(), []string{"Microsoft Graph/User.Read.All"}); err != nil {
					return fmt.Errorf("no tenant-wide mail consent may exist: %w", err)
				}
				if err := equalStrings(r.exchangeRoles(), scopedExchangeRoles); err != nil {
					return err
				}
				if len(r.scopes) != 1 || !strings.HasSuffix(r.scopes[0], "="+scopeFilter) {
					return fmt.Errorf("scopes %v", r.scopes)
				}
				secret := stateAttr(st, "client_secret")
				if code := mailboxStatus(t, s, r.app.AppID, secret, mailboxInScope); code != http.StatusOK {
					return fmt.Errorf("in-scope mailbox: HTTP %d", code)
				}
				if code := mailboxStatus(t, s, r.app.AppID, secret, mailboxOutOfScope); code != http.StatusForbidden {
					return fmt.Errorf("out-of-scope mailbox: HTTP %d, want 403", code)
				}
				return nil
			},
		}, {
			Config:           cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}, {
			// A new filter changes the scope in place: same application, same assignments.
			Config:           strings.Replace(base, scopeFilter, "Department -eq 'Sales'", 1),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(migRes, plancheck.ResourceActionUpdate)}},
			Check: checkTenant(func() error {
				r, n := registrationOf(s)
				if n != 1 || len(r.scopes) != 1 || !strings.HasSuffix(r.scopes[0], "=Department -eq 'Sales'") {
					return fmt.Errorf("%d applications, scopes %v", n, r.scopes)
				}
				return equalStrings(r.exchangeRoles(), scopedExchangeRoles)
			}),
		}},
	})
}

// 3. A consent and a scoped role assignment removed out of band: the plan shows them
// missing, apply grants them again.
func TestAccMigrationApplication_drift(t *testing.T) {
	s := registrationTenant(t)
	cfg := migrationConfig(s, mgmtClientID, fmt.Sprintf("  mailbox_scope = {\n    recipient_filter = %q\n  }", scopeFilter))
	clientID := ""
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: cfg,
			Check:  func(st *terraform.State) error { clientID = stateAttr(st, "client_id"); return nil },
		}, {
			PreConfig: func() {
				if n, err := s.RemoveConsent(clientID, "graph", "User.Read.All"); err != nil || n != 1 {
					t.Fatalf("remove consent: %d %v", n, err)
				}
				if n, err := s.RemoveServicePrincipalExchangeRole(clientID, "Application Mail.ReadWrite"); err != nil || n != 1 {
					t.Fatalf("remove exchange role: %d %v", n, err)
				}
			},
			RefreshState: true,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(migRes, "missing_permissions.#", "2"),
				resource.TestCheckTypeSetElemAttr(migRes, "missing_permissions.*", "Exchange/Application Mail.ReadWrite"),
				resource.TestCheckTypeSetElemAttr(migRes, "missing_permissions.*", "Microsoft Graph/User.Read.All"),
			),
			ExpectNonEmptyPlan: true,
		}, {
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(migRes, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf()),
			}},
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf())},
			Check: checkTenant(func() error {
				r, _ := registrationOf(s)
				if err := equalStrings(r.consents(), []string{"Microsoft Graph/User.Read.All"}); err != nil {
					return err
				}
				return equalStrings(r.exchangeRoles(), scopedExchangeRoles)
			}),
		}},
	})
}

// 4. A management identity without Privileged Role Administrator: the error names it, and
// what was made is recorded (the destroy at the end removes it: CheckDestroy).
func TestAccMigrationApplication_managementWithoutPrivilegedRole(t *testing.T) {
	s := registrationTenant(t)
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config:      migrationConfig(s, mgmtNoPRAClientID, ""),
			ExpectError: regexp.MustCompile(`(?s)Privileged Role.*Administrator`),
			Check: checkTenant(func() error {
				if _, n := registrationOf(s); n != 1 {
					return fmt.Errorf("%d applications", n)
				}
				return nil
			}),
		}, {
			// The state recorded the half-made registration: a plan replaces it (tainted).
			Config:             migrationConfig(s, mgmtNoPRAClientID, ""),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}

// 5. Lost answers (the work is done, the answer dropped) on creating the application, a
// consent, the secret and the management scope: exactly one of each exists.
func TestAccMigrationApplication_lostResponses(t *testing.T) {
	s := registrationTenant(t)
	for _, route := range []string{"graph.applications.create", "graph.appRoleAssignedTo.create", "graph.applications.addPassword", "exo.New-ManagementScope"} {
		s.InjectFault(emulator.Fault{Route: route, DropResponse: true, Count: 1})
	}
	cfg := migrationConfig(s, mgmtClientID, fmt.Sprintf("  create_client_secret = true\n  mailbox_scope = {\n    recipient_filter = %q\n  }", scopeFilter))
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config:            cfg,
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf())},
			Check: func(st *terraform.State) error {
				r, n := registrationOf(s)
				if n != 1 || len(r.app.PasswordCredentials) != 1 || len(r.scopes) != 1 {
					return fmt.Errorf("%d applications, %d secrets, scopes %v", n, len(r.app.PasswordCredentials), r.scopes)
				}
				if err := equalStrings(r.consents(), []string{"Microsoft Graph/User.Read.All"}); err != nil {
					return err
				}
				if c := s.Counters().ByRoute; c["graph.applications.create"] != 1 || c["exo.New-ManagementScope"] != 1 {
					return fmt.Errorf("creates sent twice: %v", c)
				}
				if code := mailboxStatus(t, s, r.app.AppID, stateAttr(st, "client_secret"), mailboxInScope); code != http.StatusOK {
					return fmt.Errorf("the recorded secret does not work: HTTP %d", code)
				}
				return nil
			},
		}},
	})
}

// 7. Import by client id, then plan: no change.
func TestAccMigrationApplication_import(t *testing.T) {
	s := registrationTenant(t)
	cert := testCertificatePEM(t, time.Now().Add(365*24*time.Hour))
	cfg := migrationConfig(s, mgmtClientID, fmt.Sprintf("  certificate     = %q\n  user_management = true\n  mailbox_scope = {\n    recipient_filter = %q\n  }", cert, scopeFilter))
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: cfg,
		}, {
			Config:                  cfg,
			ResourceName:            migRes,
			ImportState:             true,
			ImportStateVerify:       true,
			ImportStateVerifyIgnore: []string{"timeouts", "adopted"}, // imported, the application is adopted
		}, {
			Config:           cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}

// An application registered by hand (a secret, a certificate and consents Terraform never
// made) is imported, adopted and completed; destroy removes only what Terraform added and
// leaves the application with its own secret, certificate and consents.
func TestAccMigrationApplication_adoptedApplication(t *testing.T) {
	s := registrationTenant(t)
	const (
		adoptedClientID = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
		foreignSecretID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
		foreignCertID   = "1c2d3e4f-5061-4728-93a4-b5c6d7e8f90a"
	)
	cert := testCertificatePEM(t, time.Now().Add(365*24*time.Hour))
	foreignConsents := []string{"Microsoft Graph/Directory.Read.All", "Microsoft Graph/Mail.ReadWrite"}
	if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: appDisplayName, AppID: adoptedClientID,
		Secrets:          []emulator.SeedSecret{{DisplayName: "engine", Value: "Foreign~Secret.0123456789abcdef", KeyID: foreignSecretID}},
		Certificates:     []emulator.SeedCertificate{{DisplayName: "CN=engine", PEM: cert, KeyID: foreignCertID}},
		GraphPermissions: []string{"Mail.ReadWrite", "Directory.Read.All"}}); err != nil {
		t.Fatal(err)
	}
	cfg := migrationConfig(s, mgmtClientID, fmt.Sprintf("  certificate          = %q\n  create_client_secret = true", cert))
	credentials := func(r registered) (secrets, keys []string) {
		for _, p := range r.app.PasswordCredentials {
			secrets = append(secrets, p.KeyID)
		}
		for _, k := range r.app.KeyCredentials {
			keys = append(keys, k.KeyID)
		}
		return secrets, keys
	}
	accTest(t, resource.TestCase{
		// After destroy: the application, its service principal, its own secret, certificate
		// and consents; nothing Terraform added.
		CheckDestroy: func(*terraform.State) error {
			r, n := registrationOf(s)
			if n != 1 || r.app.AppID != adoptedClientID || r.sp == nil {
				return fmt.Errorf("the adopted application is gone: %d applications, service principal %v", n, r.sp)
			}
			secrets, keys := credentials(r)
			if err := equalStrings(secrets, []string{foreignSecretID}); err != nil {
				return fmt.Errorf("secrets: %w", err)
			}
			if err := equalStrings(keys, []string{foreignCertID}); err != nil {
				return fmt.Errorf("certificates: %w", err)
			}
			return equalStrings(r.consents(), foreignConsents)
		},
		Steps: []resource.TestStep{{
			Config:             cfg,
			ResourceName:       migRes,
			ImportState:        true,
			ImportStateId:      adoptedClientID,
			ImportStatePersist: true,
			ImportStateCheck: func(is []*terraform.InstanceState) error {
				if len(is) != 1 {
					return fmt.Errorf("%d instances imported", len(is))
				}
				a := is[0].Attributes
				if a["adopted"] != "true" || a["certificate"] != cert || a["create_client_secret"] != "false" {
					return fmt.Errorf("imported adopted=%q create_client_secret=%q certificate=%q", a["adopted"], a["create_client_secret"], a["certificate"])
				}
				return nil
			},
		}, {
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("adopted"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf()),
			},
			Check: func(st *terraform.State) error {
				r, n := registrationOf(s)
				if n != 1 || r.app.AppID != adoptedClientID || stateAttr(st, "client_id") != adoptedClientID {
					return fmt.Errorf("%d applications, state client id %s", n, stateAttr(st, "client_id"))
				}
				secrets, keys := credentials(r)
				if len(secrets) != 2 || !slices.Contains(secrets, foreignSecretID) {
					return fmt.Errorf("secrets %v: want the application's own and the one Terraform added", secrets)
				}
				// The configured certificate is the one already registered: adopted, not added again.
				if err := equalStrings(keys, []string{foreignCertID}); err != nil {
					return fmt.Errorf("certificates: %w", err)
				}
				return equalStrings(r.consents(), append([]string{"Microsoft Graph/Directory.Read.All"}, graphConsents...))
			},
		}, {
			Config:           cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}},
	})
}

// Plan-time errors: public folders over Graph, an empty filter, a certificate that does not
// parse or has expired; warnings for EWS and a certificate expiring soon.
func TestAccMigrationApplication_planTimeChecks(t *testing.T) {
	s := registrationTenant(t)
	expired := testCertificatePEM(t, time.Now().Add(-time.Hour))
	for _, tc := range []struct {
		name, body string
		err        string
	}{
		{"public folders over graph", "  public_folders = true", `(?s)Public folders need EWS`},
		{"empty filter", "  mailbox_scope = {\n    recipient_filter = \"  \"\n  }", `(?s)recipient_filter.*must not be empty`},
		{"garbage certificate", "  certificate = \"not a certificate\"", `(?s)Unusable certificate`},
		{"expired certificate", fmt.Sprintf("  certificate = %q", expired), `(?s)Certificate expired`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mgmt := mgmtClientID
			accTest(t, resource.TestCase{
				CheckDestroy: checkNoRegistration(s),
				Steps:        []resource.TestStep{{Config: migrationConfig(s, mgmt, tc.body), ExpectError: regexp.MustCompile(tc.err)}},
			})
		})
	}
}

// 8. No secret, neither the management identity's nor the generated one, in TF_LOG=TRACE.
func TestAccMigrationApplication_traceLogHasNoSecrets(t *testing.T) {
	s := registrationTenant(t)
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	// The management secret comes from the environment, as in a CI pipeline (the harness
	// logs the configuration text itself at TRACE).
	t.Setenv(EnvTenantID, "contoso.onmicrosoft.com")
	t.Setenv(EnvManagementClientID, mgmtClientID)
	t.Setenv(EnvManagementClientSecret, mgmtClientSecret)
	generated := ""
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_migration_application" "test" {
  display_name         = %q
  create_client_secret = true
}
`, appDisplayName),
			Check: func(st *terraform.State) error { generated = stateAttr(st, "client_secret"); return nil },
		}},
	})
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	if generated == "" || !strings.Contains(log, "registering the migration application") {
		t.Fatalf("the test did not see the secret or the provider's log lines (%d bytes)", len(b))
	}
	for _, secret := range []string{mgmtClientSecret, generated, "eyJ0eXAiOiJKV1Qi"} {
		if i := strings.Index(log, secret); i >= 0 {
			t.Errorf("trace log contains a secret near: %q", log[max(0, i-200):min(len(log), i+60)])
		}
	}
}

// The management identity signs in with a PKCS#12 certificate file; its password never
// reaches the log.
func TestAccMigrationApplication_managementCertificate(t *testing.T) {
	s := registrationTenant(t)
	c, err := emulator.NewTestCertificate("management", time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApplicationCertificate(mgmtClientID, emulator.SeedCertificate{PEM: string(c.CertPEM)}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pfx, logFile := filepath.Join(dir, "management.pfx"), filepath.Join(dir, "trace.log")
	if err := os.WriteFile(pfx, c.PKCS12, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	t.Setenv(EnvManagementCertPassword, c.PKCS12Password)
	p := strings.Replace(providerBlock(s, defaultMaxRetries), `provider "o365" {`, fmt.Sprintf(`provider "o365" {
  management = {
    tenant_id               = "contoso.onmicrosoft.com"
    client_id               = %q
    client_certificate_file = %q
  }`, mgmtClientID, pfx), 1)
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: p + fmt.Sprintf("resource \"o365_migration_application\" \"test\" {\n  display_name = %q\n}\n", appDisplayName),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("granted_permissions"), setOf(graphConsents...)),
			},
			Check: checkTenant(func() error {
				if _, n := registrationOf(s); n != 1 {
					return fmt.Errorf("%d applications", n)
				}
				return nil
			}),
		}},
	})
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), c.PKCS12Password) {
		t.Error("the certificate password is in the trace log")
	}
}

// An update that fails half-way keeps the prior settings in state, so the next plan proposes
// the change again and the next apply (with the right) finishes it.
func TestAccMigrationApplication_failedUpdateIsRetried(t *testing.T) {
	s := registrationTenant(t)
	clientID := ""
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: migrationConfig(s, mgmtClientID, ""),
			Check:  func(st *terraform.State) error { clientID = stateAttr(st, "client_id"); return nil },
		}, {
			// Consenting to User.ReadWrite.All needs Privileged Role Administrator.
			Config:      migrationConfig(s, mgmtNoPRAClientID, "  user_management = true"),
			ExpectError: regexp.MustCompile(`(?s)Privileged Role.*Administrator`),
		}, {
			Config:             migrationConfig(s, mgmtNoPRAClientID, "  user_management = true"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}, {
			Config: migrationConfig(s, mgmtClientID, "  user_management = true"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(migRes, plancheck.ResourceActionUpdate),
			}},
			ConfigStateChecks: []statecheck.StateCheck{statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf())},
			Check: func(st *terraform.State) error {
				r, n := registrationOf(s)
				if n != 1 || stateAttr(st, "client_id") != clientID {
					return fmt.Errorf("%d applications, client id %s → %s", n, clientID, stateAttr(st, "client_id"))
				}
				return equalStrings(r.consents(), append([]string{"Microsoft Graph/User.ReadWrite.All"}, graphConsents...))
			},
		}},
	})
}

// The certificate's registration fails (Graph keeps failing the PATCH): nothing else is
// missing, so only the state's prior certificate makes the next plan propose it again.
func TestAccMigrationApplication_failedCertificateIsRetried(t *testing.T) {
	s := registrationTenant(t)
	cert := testCertificatePEM(t, time.Now().Add(365*24*time.Hour))
	withCert := migrationConfig(s, mgmtClientID, fmt.Sprintf("  certificate = %q", cert))
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: migrationConfig(s, mgmtClientID, ""),
		}, {
			PreConfig:   func() { s.InjectFault(emulator.Fault{Route: "graph.applications.update", Status: 500}) },
			Config:      withCert,
			ExpectError: regexp.MustCompile(`register the certificate`),
		}, {
			PreConfig:          s.ClearFaults,
			Config:             withCert,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}, {
			Config: withCert,
			Check: checkTenant(func() error {
				if r, _ := registrationOf(s); len(r.app.KeyCredentials) != 1 {
					return fmt.Errorf("%d key credentials", len(r.app.KeyCredentials))
				}
				return nil
			}),
		}},
	})
}

const engineConnRes = "o365_target_app_connection.check"

// appConnectionOf is an o365_target_app_connection "check" fed from the registration's
// outputs, with the given credential line, verifying the mailboxes.
func appConnectionOf(credential string, mailboxes ...string) string {
	return fmt.Sprintf(`
resource "o365_target_app_connection" "check" {
  name             = "Migration target"
  tenant           = o365_migration_application.test.tenant_id
  client_id        = o365_migration_application.test.client_id
%s
  verify_mailboxes = %s
}
`, credential, hclList(mailboxes))
}

// A private key passed as `certificate` (with the certificate, alone, in PKCS#1, SEC 1 or
// encrypted PKCS#8 form, read with file() or through a local) fails at plan time on the
// attribute, says what to pass instead, and the CLI's output shows none of the value; nothing
// is registered.
func TestAccMigrationApplication_privateKeyAsCertificate(t *testing.T) {
	s := registrationTenant(t)
	c, err := emulator.NewTestCertificate("tf-o365 migration", time.Now().Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rsaDER := x509.MarshalPKCS1PrivateKey(c.Key)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	block := func(kind string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}))
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name, pem string
		viaLocal  bool
	}{
		{"certificate and PKCS#8 key", string(c.PEM), false},
		{"PKCS#8 key alone", string(c.KeyPEM), true},
		{"RSA key and certificate", string(c.CertPEM) + block("RSA PRIVATE KEY", rsaDER), false},
		{"EC key", block("EC PRIVATE KEY", ecDER), true},
		{"encrypted key", block("ENCRYPTED PRIVATE KEY", rsaDER), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".pem")
			if err := os.WriteFile(file, []byte(tc.pem), 0o600); err != nil {
				t.Fatal(err)
			}
			body := fmt.Sprintf("  certificate = file(%q)", file)
			extra := ""
			if tc.viaLocal {
				body, extra = "  certificate = local.engine", fmt.Sprintf("\nlocals {\n  engine = file(%q)\n}\n", file)
			}
			// Every base64 line of the value is a piece of it the output must not show.
			var pieces []string
			for _, line := range strings.Split(tc.pem, "\n") {
				if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
					pieces = append(pieces, line)
				}
			}
			failed := false
			accTest(t, resource.TestCase{
				CheckDestroy: checkNoRegistration(s),
				ErrorCheck: func(err error) error {
					out := err.Error()
					for _, p := range append(pieces, "-----BEGIN") {
						if strings.Contains(out, p) {
							return fmt.Errorf("the CLI's output shows the value (%q):\n%s", p, out)
						}
					}
					if !regexp.MustCompile(`(?s)Private key given as certificate.*certificate.*openssl x509 -in`).MatchString(out) {
						return err
					}
					failed = true
					return nil
				},
				Steps: []resource.TestStep{{Config: migrationConfig(s, mgmtClientID, body) + extra, PlanOnly: true}},
			})
			if !failed {
				t.Fatal("the plan did not fail")
			}
			if _, n := registrationOf(s); n != 0 {
				t.Fatalf("%d applications registered", n)
			}
		})
	}
}

// An OPATH filter with a syntax error fails the plan on mailbox_scope.recipient_filter with
// the fix; one Exchange refuses at apply leaves no application (the create is undone, nothing
// is tainted), and the corrected filter then registers exactly one.
func TestAccMigrationApplication_recipientFilterChecks(t *testing.T) {
	s := registrationTenant(t)
	scoped := func(filter string) string {
		return migrationConfig(s, mgmtClientID, fmt.Sprintf("  mailbox_scope = {\n    recipient_filter = %q\n  }", filter))
	}
	for _, tc := range []struct{ name, filter, err string }{
		{"unquoted value", "Department -eq Sales", `(?s)Invalid recipient filter.*mailbox_scope\.recipient_filter: the value Sales is not\s+quoted.*write\s+Department\s+-eq\s+'Sales'`},
		{"unknown operator", "Department -equals 'Sales'", `(?s)Invalid recipient filter.*mailbox_scope\.recipient_filter: unknown operator\s+-equals.*-eq, -ne`},
		{"unbalanced parentheses", "(Department -eq 'Sales' -or CustomAttribute15 -eq 'migrate'", `(?s)Invalid recipient filter.*mailbox_scope\.recipient_filter: '\(' is not\s+closed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accTest(t, resource.TestCase{
				CheckDestroy: checkNoRegistration(s),
				Steps:        []resource.TestStep{{Config: scoped(tc.filter), PlanOnly: true, ExpectError: regexp.MustCompile(tc.err)}},
			})
			if c := s.Counters().ByRoute["graph.applications.create"]; c != 0 {
				t.Fatalf("%d applications created", c)
			}
		})
	}
	t.Run("refused by Exchange at apply", func(t *testing.T) {
		accTest(t, resource.TestCase{
			CheckDestroy: checkNoRegistration(s),
			Steps: []resource.TestStep{{
				Config:      scoped("NoSuchProperty -eq 'x'"),
				ExpectError: regexp.MustCompile(`(?s)Exchange refused the recipient filter.*deleted again`),
			}, {
				// Nothing was recorded (so nothing is tainted): the plan creates, and the tenant
				// holds nothing of the refused create.
				PreConfig: func() {
					if r, n := registrationOf(s); n != 0 || r.exchange != nil {
						t.Fatalf("the refused create left %d applications, exchange %v", n, r.exchange)
					}
				},
				Config:           scoped(scopeFilter),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(migRes, plancheck.ResourceActionCreate)}},
				Check: func(st *terraform.State) error {
					r, n := registrationOf(s)
					if n != 1 || stateAttr(st, "client_id") != r.app.AppID || len(r.scopes) != 1 {
						return fmt.Errorf("%d applications, scopes %v", n, r.scopes)
					}
					if c := s.Counters().ByRoute["graph.applications.create"]; c != 2 {
						return fmt.Errorf("%d application creates, want 2 (the refused one and this)", c)
					}
					return nil
				},
			}},
		})
	})
}

// A certificate known only when planning (not at validation) is checked in ModifyPlan: a
// private key fails the plan, which is then not shown, and the diagnostic has none of it.
func TestModifyPlanRefusesPrivateKeyKnownOnlyAtPlan(t *testing.T) {
	c, err := emulator.NewTestCertificate("engine", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cfg := migrationConfigValue(t, map[string]tftypes.Value{"display_name": tftypes.NewValue(tftypes.String, "x"),
		"certificate": tftypes.NewValue(tftypes.String, string(c.PEM))})
	plan := tfsdk.Plan(cfg)
	state := tfsdk.State{Schema: cfg.Schema, Raw: tftypes.NewValue(cfg.Raw.Type(), nil)}
	resp := fwresource.ModifyPlanResponse{Plan: plan}
	(&migrationApplicationResource{}).ModifyPlan(context.Background(), fwresource.ModifyPlanRequest{Config: cfg, Plan: plan, State: state}, &resp)
	d := resp.Diagnostics
	text := diagText(d)
	if d.ErrorsCount() != 1 || !strings.Contains(text, "Private key given as certificate") || diagPath(d.Errors()[0]) != "certificate" {
		t.Fatalf("%s", text)
	}
	for _, line := range strings.Split(string(c.PEM), "\n") {
		if len(line) > 16 && strings.Contains(text, line) {
			t.Fatalf("the diagnostic shows the value: %s", text)
		}
	}
}
