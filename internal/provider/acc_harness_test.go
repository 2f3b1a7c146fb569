package provider

// The one acceptance-test harness: one seed (testSeed), one way to start the emulated tenant
// (startTenant), one provider block (providerBlock), one reader of the tenant's role
// assignments (tenantAssignments and the views on it). Every acceptance test of the package
// builds on these.

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

// protoV6Factories serves the provider in-process to the CLI under test.
var protoV6Factories = map[string]func() (tfprotov6.ProviderServer, error){
	"o365": providerserver.NewProtocol6WithError(New("test")()),
}

// Accounts of the test tenant (testSeed). Every password is unique so a test can search
// logs for it.
const (
	upnExchangeAdmin = "exadmin@contoso.onmicrosoft.com"  // Exchange Administrator, no management roles: may assign
	upnFull          = "full@contoso.onmicrosoft.com"     // holds every role, incl. User Administrator
	upnHelpdesk      = "helpdesk@contoso.onmicrosoft.com" // no roles, may not assign
	upnMFA           = "mfa@contoso.onmicrosoft.com"      // MFA, app password, Exchange Administrator
	upnGlobal        = "ga@contoso.onmicrosoft.com"       // Global Administrator
	upnDisabled      = "disabled@contoso.onmicrosoft.com" // disabled
	upnLocked        = "locked@contoso.onmicrosoft.com"   // locked
	upnVanity        = "vanity@contoso.com"               // non-initial domain, holds every role

	pwExchangeAdmin = "Ex-Admin-Pa55!"
	pwFull          = "Full-Pa55!"
	pwHelpdesk      = "Helpdesk-Pa55!"
	pwMFA           = "Mfa-Pa55!"
	appPwMFA        = "mfaapppassword01"
	pwGlobal        = "Global-Pa55!"
	appPwGlobal     = "gaapppassword002"
	pwDisabled      = "Disabled-Pa55!"
	pwLocked        = "Locked-Pa55!"
	pwVanity        = "Vanity-Pa55!"
)

// The reliability admins rel01…rel10 (reliability_test.go) may assign Exchange roles
// (Exchange Administrator) and hold none of the management roles; those from
// relUserMgmtMin on may also assign directory roles (Privileged Role Administrator), so
// their connections exercise the Graph write path.
const (
	relAdmins      = 10
	relUserMgmtMin = 9
	pwRelPrefix    = "Rel-Pa55-"
)

func relUPN(i int) string      { return fmt.Sprintf("rel%02d@contoso.onmicrosoft.com", i) }
func relPassword(i int) string { return fmt.Sprintf("%s%02d!", pwRelPrefix, i) }
func relUserMgmt(i int) bool   { return i >= relUserMgmtMin }

var allExchangeRoles = []string{"ApplicationImpersonation", "View-Only Configuration", "View-Only Recipients", "Mail Recipients", "Mail Recipient Creation", "Public Folders"}

// defaultRequired are the roles a connection requires with every toggle off.
var defaultRequired = []string{"ApplicationImpersonation", "Mail Recipient Creation", "Mail Recipients", "View-Only Configuration", "View-Only Recipients"}

// testSeed is the one tenant of the acceptance tests.
func testSeed() *emulator.Seed {
	yes := true
	exAdmin := []string{"Exchange Administrator"}
	users := []emulator.SeedUser{
		{UserPrincipalName: upnExchangeAdmin, DisplayName: "Exchange Admin", Alias: "exadmin", Password: pwExchangeAdmin, Mailbox: true, DirectoryRoles: exAdmin},
		{UserPrincipalName: upnFull, DisplayName: "Full", Alias: "full", Password: pwFull, Mailbox: true, ExchangeRoles: allExchangeRoles, DirectoryRoles: []string{"User Administrator"}},
		{UserPrincipalName: upnHelpdesk, DisplayName: "Helpdesk", Alias: "helpdesk", Password: pwHelpdesk, Mailbox: true},
		{UserPrincipalName: upnMFA, DisplayName: "MFA Admin", Alias: "mfa", Password: pwMFA, AppPassword: appPwMFA, MFA: true, MFARegistered: &yes, Mailbox: true, DirectoryRoles: exAdmin},
		{UserPrincipalName: upnGlobal, DisplayName: "Global Admin", Alias: "ga", Password: pwGlobal, AppPassword: appPwGlobal, MFA: true, Mailbox: true, DirectoryRoles: []string{"Global Administrator"}},
		{UserPrincipalName: upnDisabled, DisplayName: "Disabled", Alias: "disabled", Password: pwDisabled, Disabled: true, Mailbox: true},
		{UserPrincipalName: upnLocked, DisplayName: "Locked", Alias: "locked", Password: pwLocked, Locked: true, Mailbox: true},
		{UserPrincipalName: upnVanity, DisplayName: "Vanity", Alias: "vanity", Password: pwVanity, Mailbox: true, ExchangeRoles: allExchangeRoles},
	}
	for i := 1; i <= relAdmins; i++ {
		u := emulator.SeedUser{UserPrincipalName: relUPN(i), DisplayName: fmt.Sprintf("Reliability %02d", i), Alias: fmt.Sprintf("rel%02d", i), Password: relPassword(i), Mailbox: true, DirectoryRoles: exAdmin}
		if relUserMgmt(i) {
			u.DirectoryRoles = []string{"Exchange Administrator", "Privileged Role Administrator"}
		}
		users = append(users, u)
	}
	users = append(users, appTestUsers()...) // the app-only world: target_app_connection_test.go
	s := &emulator.Seed{
		TenantID: "3b2a1c0d-1111-4222-8333-944445555666", DisplayName: "Contoso", Cloud: "worldwide",
		Domains: []string{"contoso.onmicrosoft.com", "contoso.com"}, LegacyBasicAuth: true, Users: users,
		Applications: appTestApplications(), ManagementScopes: appTestScopes(),
	}
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}

// startTenant starts the emulated tenant for one acceptance test (skipped without TF_ACC).
func startTenant(t *testing.T, opts emulator.Options) *emulator.Server {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make testacc)")
	}
	s, err := emulator.Start(testSeed(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// defaultMaxRetries is the provider's max_retries in most tests.
const defaultMaxRetries = 3

// providerBlock points the provider at the emulated tenant: only endpoints and the CA differ
// from a configuration for Microsoft.
func providerBlock(s *emulator.Server, maxRetries int) string {
	return fmt.Sprintf(`
provider "o365" {
  endpoints = {
    login    = %[1]q
    graph    = %[1]q
    exchange = %[1]q
  }
  ca_certificate_file = %[2]q
  max_retries         = %[3]d
}
`, s.URL(), s.CAFile(), maxRetries)
}

const res = "o365_target_connection.test"

// connectionConfig renders one o365_target_connection "test" with the given body lines.
func connectionConfig(s *emulator.Server, body string) string {
	return providerBlock(s, defaultMaxRetries) + fmt.Sprintf(`
resource "o365_target_connection" "test" {
  name = "Target"
%s
}
`, body)
}

// adminLogin is the body of a connection signing in as upn with its password.
func adminLogin(upn, password string) string {
	return fmt.Sprintf("  admin_email = %q\n  password    = %q", upn, password)
}

// accTest runs an acceptance test case on the CLI under test, the provider served
// in-process.
func accTest(t *testing.T, tc resource.TestCase) {
	t.Helper()
	tc.ProtoV6ProviderFactories = protoV6Factories
	resource.Test(t, tc)
}

// assignment is one role assignment the emulated tenant shows.
type assignment struct {
	user      string // whose it is (UPN)
	role      string // the role's name
	id        string // the Exchange assignment's name, or the directory assignment's id
	createdBy string // who created it through the API ("" for the seed's own)
	directory bool   // a directory role (else an Exchange management role)
	direct    bool   // assigned to the user itself (not through a role group)
}

// tenantAssignments reads every role assignment of the emulated tenant.
func tenantAssignments(s *emulator.Server) []assignment {
	var out []assignment
	for _, u := range s.Snapshot().Users {
		upn := strings.ToLower(u.UserPrincipalName)
		for _, a := range u.ExchangeAssignments {
			out = append(out, assignment{user: upn, role: a.Role, id: a.Name, createdBy: a.CreatedBy,
				direct: a.AssignmentMethod == "" || a.AssignmentMethod == "Direct"})
		}
		for _, a := range u.DirectoryRoleAssignments {
			out = append(out, assignment{user: upn, role: a.RoleDisplayName, id: a.ID, createdBy: a.CreatedBy, directory: true, direct: true})
		}
	}
	return out
}

// assignmentsOf lists the direct assignments of upn.
func assignmentsOf(s *emulator.Server, upn string) []assignment {
	var out []assignment
	for _, a := range tenantAssignments(s) {
		if a.direct && a.user == strings.ToLower(upn) {
			out = append(out, a)
		}
	}
	return out
}

// rolesOf lists the roles assigned directly to upn, directory or Exchange ones (sorted).
func rolesOf(s *emulator.Server, upn string, directory bool) []string {
	var out []string
	for _, a := range assignmentsOf(s, upn) {
		if a.directory == directory {
			out = append(out, a.role)
		}
	}
	sort.Strings(out)
	return out
}

func exchangeRolesOf(s *emulator.Server, upn string) []string  { return rolesOf(s, upn, false) }
func directoryRolesOf(s *emulator.Server, upn string) []string { return rolesOf(s, upn, true) }

// assignmentsCreatedBy counts the Exchange and directory assignments created by creator.
func assignmentsCreatedBy(s *emulator.Server, creator string) int {
	n := 0
	for _, a := range tenantAssignments(s) {
		if strings.EqualFold(a.createdBy, creator) {
			n++
		}
	}
	return n
}

// checkTenant adapts a check of the emulated tenant's own state to a TestStep check.
func checkTenant(f func() error) func(*terraform.State) error {
	return func(*terraform.State) error { return f() }
}

func equalStrings(got, want []string) error {
	g := append([]string(nil), got...)
	w := append([]string(nil), want...)
	sort.Strings(g)
	sort.Strings(w)
	if strings.Join(g, "|") != strings.Join(w, "|") {
		return fmt.Errorf("tenant has %q, want %q", g, w)
	}
	return nil
}

func setOf(ss ...string) knownvalue.Check {
	checks := make([]knownvalue.Check, 0, len(ss))
	for _, s := range ss {
		checks = append(checks, knownvalue.StringExact(s))
	}
	return knownvalue.SetExact(checks)
}

// diagPath returns the attribute path of a diagnostic, or "".
func diagPath(d diag.Diagnostic) string {
	if wp, ok := d.(diag.DiagnosticWithPath); ok {
		return wp.Path().String()
	}
	return ""
}

var nonEmpty = regexp.MustCompile(`\S`)
