package provider

import (
	"context"
	"encoding/json"
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
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// protocol = "graph_import": Microsoft Graph's mailbox import and export API (WIRE.md §M).

// scopedImportRoles are the Exchange application roles of a scoped graph_import application.
var scopedImportRoles = []string{"Exchange/Application MailboxFolder.ReadWrite", "Exchange/Application MailboxItem.ImportExport",
	"Exchange/Application MailboxSettings.ReadWrite"}

// importURLShown are what would show an import session's upload URL: its query parameter,
// its path and the JSON member that carries it.
var importURLShown = []string{"importUrl", "authtoken", "importItem"}

// noImportURLInState checks `terraform show -json` (the state as the CLI shows it) for any
// trace of an import session's upload URL.
type noImportURLInState struct{}

func (noImportURLInState) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	b, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	if !strings.Contains(string(b), "verify_mailboxes") {
		resp.Error = fmt.Errorf("the state shown has no connection (%d bytes)", len(b))
		return
	}
	for _, s := range importURLShown {
		if strings.Contains(string(b), s) {
			resp.Error = fmt.Errorf("terraform show -json contains %q", s)
		}
	}
}

// checkImportSessions checks that the tenant holds import sessions of clientID for exactly
// the mailboxes, and that nothing was ever uploaded to an import URL.
func checkImportSessions(s *emulator.Server, clientID func() string, mailboxes ...string) func(*terraform.State) error {
	return checkTenant(func() error {
		var got []string
		for _, x := range s.ImportSessions() {
			if !strings.EqualFold(x.CreatedBy, clientID()) {
				return fmt.Errorf("import session %s made by %s, not the application %s", x.ID, x.CreatedBy, clientID())
			}
			if !strings.Contains(strings.Join(got, ","), x.UserPrincipalName) {
				got = append(got, x.UserPrincipalName)
			}
		}
		if err := equalStrings(got, mailboxes); err != nil {
			return fmt.Errorf("import sessions: %w", err)
		}
		if u := s.ImportUploads(); len(u) != 0 {
			return fmt.Errorf("%d uploads to import URLs, want none: %+v", len(u), u)
		}
		return nil
	})
}

// A scoped graph_import application and the migration engine's connection over it:
//  1. created, the connection verified for the mailbox in scope: User.Read.All is the only
//     consent, the import API's roles are scoped, an import session was made for the mailbox,
//     nothing was uploaded;
//  2. the mailbox leaving the scope shows as unreachable at the next refresh;
//  3. the import role and User.Read.All removed out of band show as missing, on both
//     resources; apply grants them again and the next plan is empty, costing three requests
//     per mailbox;
//  4. a mailbox outside the scope is refused at apply with the scope named.
//
// All with TF_LOG=TRACE: neither the log nor `terraform show -json` holds an upload URL.
func TestAccMigrationApplication_GraphImportScoped(t *testing.T) {
	s := registrationTenant(t)
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	migration := migrationConfig(s, mgmtClientID, fmt.Sprintf("  protocol = \"graph_import\"\n  create_client_secret = true\n  mailbox_scope = {\n    recipient_filter = %q\n  }", scopeFilter))
	credential := "  client_secret = o365_migration_application.test.client_secret\n  protocol      = \"graph_import\""
	cfg := migration + appConnectionOf(credential, mailboxInScope)
	required := append([]string{"Microsoft Graph/User.Read.All"}, scopedImportRoles...)
	clientID := ""
	client := func() string { return clientID }
	var before emulator.Counters
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("required_permissions"), setOf(required...)),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("missing_permissions"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("pending_mailboxes"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("verified_at"), knownvalue.NotNull()),
				noImportURLInState{},
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				func(st *terraform.State) error { clientID = stateAttr(st, "client_id"); return nil },
				checkTenant(func() error {
					r, _ := registrationOf(s)
					if err := equalStrings(r.consents(), []string{"Microsoft Graph/User.Read.All"}); err != nil {
						return fmt.Errorf("no tenant-wide mailbox consent may exist: %w", err)
					}
					return equalStrings(r.exchangeRoles(), scopedImportRoles)
				}),
				checkImportSessions(s, client, mailboxInScope),
			),
		}, {
			PreConfig: func() {
				if err := s.SetUserRecipientProperties(mailboxInScope, nil, map[string]string{"15": ""}); err != nil {
					t.Fatal(err)
				}
			},
			RefreshState: true,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(engineConnRes, "unreachable_mailboxes.#", "1"),
				resource.TestCheckTypeSetElemAttr(engineConnRes, "unreachable_mailboxes.*", mailboxInScope),
				resource.TestCheckResourceAttr(engineConnRes, "missing_permissions.#", "0"),
				resource.TestCheckResourceAttr(engineConnRes, "pending_mailboxes.#", "0"),
				resource.TestCheckResourceAttr(migRes, "missing_permissions.#", "0"),
			),
		}, {
			PreConfig: func() {
				if err := s.SetUserRecipientProperties(mailboxInScope, nil, map[string]string{"15": "migrate"}); err != nil {
					t.Fatal(err)
				}
				if n, err := s.RemoveServicePrincipalExchangeRole(clientID, "Application MailboxItem.ImportExport"); err != nil || n != 1 {
					t.Fatalf("remove exchange role: %d %v", n, err)
				}
				if n, err := s.RemoveConsent(clientID, "graph", "User.Read.All"); err != nil || n != 1 {
					t.Fatalf("remove consent: %d %v", n, err)
				}
			},
			RefreshState: true,
			// o365_migration_application plans to grant both again; the connection, which
			// cannot, records and plans nothing.
			ExpectNonEmptyPlan: true,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(migRes, "missing_permissions.#", "2"),
				resource.TestCheckTypeSetElemAttr(migRes, "missing_permissions.*", "Exchange/Application MailboxItem.ImportExport"),
				resource.TestCheckTypeSetElemAttr(migRes, "missing_permissions.*", "Microsoft Graph/User.Read.All"),
				resource.TestCheckResourceAttr(engineConnRes, "missing_permissions.#", "2"),
				resource.TestCheckTypeSetElemAttr(engineConnRes, "missing_permissions.*", "Exchange/Application MailboxItem.ImportExport"),
				resource.TestCheckTypeSetElemAttr(engineConnRes, "missing_permissions.*", "Microsoft Graph/User.Read.All"),
				resource.TestCheckResourceAttr(engineConnRes, "unreachable_mailboxes.#", "1"),
			),
		}, {
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(migRes, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf()),
			}},
			Check: checkTenant(func() error {
				r, _ := registrationOf(s)
				if err := equalStrings(r.consents(), []string{"Microsoft Graph/User.Read.All"}); err != nil {
					return err
				}
				return equalStrings(r.exchangeRoles(), scopedImportRoles)
			}),
		}, {
			PreConfig:        func() { before = s.Counters() },
			Config:           cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("missing_permissions"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf()),
				noImportURLInState{},
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				checkImportSessions(s, client, mailboxInScope),
				checkTenant(func() error {
					// Each verification of the mailbox: its id, one folder, one session; the
					// inbox probe of protocol graph is not made.
					after := s.Counters()
					n := func(route string) int {
						return after.ByRouteUser[route][clientID] - before.ByRouteUser[route][clientID]
					}
					ids, folders, sessions := n("graph.exchangeSettings"), n("graph.mailboxFolders"), n("graph.createImportSession")
					if ids == 0 || ids != folders || ids != sessions || n("graph.mailFolders") != 0 {
						return fmt.Errorf("requests on no-change plans: %d ids, %d folder lists, %d sessions, %d inbox reads", ids, folders, sessions, n("graph.mailFolders"))
					}
					return nil
				}),
			),
		}, {
			Config: migration + appConnectionOf(credential, mailboxInScope, mailboxOutOfScope),
			ExpectError: regexp.MustCompile(`(?s)1 mailbox unreachable.*` + regexp.QuoteMeta(mailboxOutOfScope) +
				`.*outside the management scope.*Application MailboxFolder\.ReadWrite`),
		}},
	})
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	if !strings.Contains(log, "createImportSession") {
		t.Fatalf("the trace log has none of the provider's import session calls (%d bytes)", len(b))
	}
	for _, shown := range importURLShown {
		if i := strings.Index(log, shown); i >= 0 {
			t.Errorf("trace log contains %q near: %q", shown, log[max(0, i-200):min(len(log), i+80)])
		}
	}
	if u := s.ImportUploads(); len(u) != 0 {
		t.Errorf("uploads to import URLs: %+v", u)
	}
}

// A graph_import application consented tenant-wide, reading target items: exactly the import
// API's consents (no Mail.ReadWrite family), every mailbox verified with an import session and
// nothing uploaded; an import recognises the protocol and the item listing.
func TestAccMigrationApplication_GraphImportConsented(t *testing.T) {
	s := registrationTenant(t)
	cert := testCertificatePEM(t, time.Now().Add(365*24*time.Hour))
	migration := migrationConfig(s, mgmtClientID, fmt.Sprintf("  protocol          = \"graph_import\"\n  read_target_items = true\n  create_client_secret = true\n  certificate       = %q", cert))
	cfg := migration + appConnectionOf("  client_secret = o365_migration_application.test.client_secret\n  protocol      = \"graph_import\"", mailboxInScope, mailboxOutOfScope)
	consents := []string{"Microsoft Graph/MailboxFolder.ReadWrite.All", "Microsoft Graph/MailboxItem.ImportExport.All", "Microsoft Graph/MailboxItem.Read.All",
		"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}
	clientID := ""
	accTest(t, resource.TestCase{
		CheckDestroy: checkNoRegistration(s),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("required_permissions"), setOf(consents...)),
				statecheck.ExpectKnownValue(migRes, tfjsonpath.New("missing_permissions"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("unreachable_mailboxes"), setOf()),
				statecheck.ExpectKnownValue(engineConnRes, tfjsonpath.New("missing_permissions"), setOf()),
				noImportURLInState{},
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				func(st *terraform.State) error { clientID = stateAttr(st, "client_id"); return nil },
				checkTenant(func() error {
					r, _ := registrationOf(s)
					if r.exchange != nil {
						return fmt.Errorf("an unscoped application got an Exchange service principal")
					}
					return equalStrings(r.consents(), consents)
				}),
				checkImportSessions(s, func() string { return clientID }, mailboxInScope, mailboxOutOfScope),
			),
		}, {
			Config:            migration,
			ResourceName:      migRes,
			ImportState:       true,
			ImportStateVerify: true,
			// Imported, the application is adopted; its secret (value, and so the earliest expiry) is not read.
			ImportStateVerifyIgnore: []string{"timeouts", "adopted", "client_secret", "client_secret_expires_at", "client_secret_key_id", "credential_expires_at"},
		}},
	})
}

// Combinations the import API cannot serve are plan-time errors on the attribute, with the
// fix; nothing reaches the tenant.
func TestAccMigrationApplication_GraphImportPlanErrors(t *testing.T) {
	s := registrationTenant(t)
	govCloud := func(cfg string) string {
		return strings.Replace(cfg, `provider "o365" {`, "provider \"o365\" {\n  cloud = \"usgovernment\"", 1)
	}
	for _, tc := range []struct {
		name, cfg, err string
	}{
		{"public folders", migrationConfig(s, mgmtClientID, "  protocol = \"graph_import\"\n  public_folders = true"),
			`(?s)Public folders need EWS.*primary and shared mailboxes only.*protocol = "ews"`},
		{"read_target_items over graph", migrationConfig(s, mgmtClientID, "  read_target_items = true"),
			`(?s)read_target_items needs protocol "graph_import".*MailboxItem\.Read\.All`},
		{"national cloud", govCloud(migrationConfig(s, mgmtClientID, "  protocol = \"GRAPH_IMPORT\"")),
			`(?s)graph_import is not offered in cloud "usgovernment".*worldwide cloud only.*protocol = "graph".*"ews"`},
		{"national cloud of the connection", providerBlock(s, defaultMaxRetries) + appResource("test",
			"  cloud = \"china\"\n  protocol = \"graph_import\"\n"+appLogin("5951643e-5013-442f-963c-1ee875bbe74a", "not-used-secret-0123456789", mailboxInScope)),
			`(?s)graph_import is not offered in cloud "china".*21Vianet.*protocol = "graph"`},
		{"provider's national cloud for the connection", govCloud(providerBlock(s, defaultMaxRetries) + appResource("test",
			"  protocol = \"graph_import\"\n"+appLogin("5951643e-5013-442f-963c-1ee875bbe74a", "not-used-secret-0123456789", mailboxInScope))),
			`(?s)graph_import is not offered in cloud "usgovernment".*GCC High`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := s.Counters().Total
			accTest(t, resource.TestCase{
				CheckDestroy: checkNoRegistration(s),
				Steps:        []resource.TestStep{{Config: tc.cfg, ExpectError: regexp.MustCompile(tc.err)}},
			})
			if n := len(s.ImportSessions()); n != 0 {
				t.Errorf("%d import sessions", n)
			}
			if tc.name != "provider's national cloud for the connection" && tc.name != "national cloud" {
				return
			}
			// The cloud is refused before any call: not even a token.
			if n := s.Counters().Total - calls; n != 0 {
				t.Errorf("%d requests to the tenant for a configuration refused at plan time", n)
			}
		})
	}
}

// o365_roles for a graph_import application: the import API's permissions, the optional
// item listing, and scoped roles with their assignment command.
func TestAccRolesDataSource_GraphImport(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc)")
	}
	const clientID = "5951643e-5013-442f-963c-1ee875bbe74a"
	cfg := func(body string) string {
		return `provider "o365" {}
data "o365_roles" "test" {
  connection_type = "application"
  protocol        = "graph_import"
  client_id       = "` + clientID + `"
` + body + `
}`
	}
	entry := func(i int, name, kind, permission string, required bool, toggle, command string) statecheck.StateCheck {
		var t knownvalue.Check = knownvalue.Null()
		if toggle != "" {
			t = knownvalue.StringExact(toggle)
		}
		return statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("roles").AtSliceIndex(i), knownvalue.ObjectPartial(map[string]knownvalue.Check{
			"name": knownvalue.StringExact(name), "kind": knownvalue.StringExact(kind), "required": knownvalue.Bool(required),
			"permission": knownvalue.StringExact(permission), "optional_toggle": t,
			"grant_command": knownvalue.StringRegexp(regexp.MustCompile(regexp.QuoteMeta(command))),
		}))
	}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: cfg(""),
			ConfigStateChecks: []statecheck.StateCheck{
				entry(0, "Microsoft Graph/MailboxItem.ImportExport.All", "application_permission", "MailboxItem.ImportExport.All", true, "", "Where-Object Value -eq 'MailboxItem.ImportExport.All'"),
				entry(1, "Microsoft Graph/MailboxFolder.ReadWrite.All", "application_permission", "MailboxFolder.ReadWrite.All", true, "", "MailboxFolder.ReadWrite.All"),
				entry(3, "Microsoft Graph/MailboxItem.Read.All", "application_permission", "MailboxItem.Read.All", false, "read_target_items", "MailboxItem.Read.All"),
				statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("roles"), knownvalue.ListSizeExact(6)),
				statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("required_role_names"), setOf("Microsoft Graph/MailboxFolder.ReadWrite.All",
					"Microsoft Graph/MailboxItem.ImportExport.All", "Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All")),
			},
		}, {
			Config: cfg("  mailbox_scope     = true\n  read_target_items = true"),
			ConfigStateChecks: []statecheck.StateCheck{
				entry(0, "Exchange/Application MailboxItem.ImportExport", "exchange_application_role", "Application MailboxItem.ImportExport", true, "",
					"-Role 'Application MailboxItem.ImportExport' -CustomResourceScope 'tf-o365 "+clientID+"'"),
				entry(3, "Exchange/Application MailboxItem.Read", "exchange_application_role", "Application MailboxItem.Read", true, "read_target_items", "-Role 'Application MailboxItem.Read'"),
				entry(4, "Microsoft Graph/User.Read.All", "application_permission", "User.Read.All", true, "", "New-MgServicePrincipalAppRoleAssignedTo"),
				statecheck.ExpectKnownValue(rolesDS, tfjsonpath.New("required_role_names"), setOf("Exchange/Application MailboxFolder.ReadWrite",
					"Exchange/Application MailboxItem.ImportExport", "Exchange/Application MailboxItem.Read", "Exchange/Application MailboxSettings.ReadWrite",
					"Microsoft Graph/User.Read.All")),
			},
		}, {
			Config:      cfg("  public_folders_role = true"),
			ExpectError: regexp.MustCompile(`(?s)Public folders need EWS.*public_folders_role`),
		}, {
			Config:      strings.Replace(cfg("  read_target_items = true"), `"graph_import"`, `"ews"`, 1),
			ExpectError: regexp.MustCompile(`(?s)read_target_items needs protocol "graph_import"`),
		}},
	})
}
