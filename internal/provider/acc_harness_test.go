package provider

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
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

var allExchangeRoles = []string{"ApplicationImpersonation", "View-Only Configuration", "View-Only Recipients", "Mail Recipients", "Mail Recipient Creation", "Public Folders"}

func testSeed() *emulator.Seed {
	q := func(ss []string) string {
		b, _ := jsonMarshal(ss)
		return string(b)
	}
	s, err := emulator.ParseSeed([]byte(fmt.Sprintf(`{
 "tenant_id":"3b2a1c0d-1111-4222-8333-944445555666","display_name":"Contoso","cloud":"worldwide",
 "domains":["contoso.onmicrosoft.com","contoso.com"],"legacy_basic_auth":true,"propagation_delay":"0s",
 "users":[
  {"user_principal_name":%q,"display_name":"Exchange Admin","alias":"exadmin","password":%q,"mailbox":true,"directory_roles":["Exchange Administrator"]},
  {"user_principal_name":%q,"display_name":"Full","alias":"full","password":%q,"mailbox":true,"exchange_roles":%s,"directory_roles":["User Administrator"]},
  {"user_principal_name":%q,"display_name":"Helpdesk","alias":"helpdesk","password":%q,"mailbox":true},
  {"user_principal_name":%q,"display_name":"MFA Admin","alias":"mfa","password":%q,"app_password":%q,"mfa":true,"mfa_registered":true,"mailbox":true,"directory_roles":["Exchange Administrator"]},
  {"user_principal_name":%q,"display_name":"Global Admin","alias":"ga","password":%q,"app_password":%q,"mfa":true,"mailbox":true,"directory_roles":["Global Administrator"]},
  {"user_principal_name":%q,"display_name":"Disabled","alias":"disabled","password":%q,"disabled":true,"mailbox":true},
  {"user_principal_name":%q,"display_name":"Locked","alias":"locked","password":%q,"locked":true,"mailbox":true},
  {"user_principal_name":%q,"display_name":"Vanity","alias":"vanity","password":%q,"mailbox":true,"exchange_roles":%s}
 ]}`,
		upnExchangeAdmin, pwExchangeAdmin, upnFull, pwFull, q(allExchangeRoles), upnHelpdesk, pwHelpdesk,
		upnMFA, pwMFA, appPwMFA, upnGlobal, pwGlobal, appPwGlobal, upnDisabled, pwDisabled, upnLocked, pwLocked,
		upnVanity, pwVanity, q(allExchangeRoles))))
	if err != nil {
		panic(err)
	}
	return s
}

// startTenant starts an emulated tenant for one test.
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

// providerBlock points the provider at the emulated tenant: only endpoints and the CA differ
// from a configuration for Microsoft.
func providerBlock(s *emulator.Server) string {
	return fmt.Sprintf(`
provider "o365" {
  endpoints = {
    login    = %[1]q
    graph    = %[1]q
    exchange = %[1]q
  }
  ca_certificate_file = %[2]q
  max_retries         = 3
}
`, s.URL(), s.CAFile())
}

// exchangeRolesOf lists the roles the tenant shows assigned directly to upn (sorted).
func exchangeRolesOf(s *emulator.Server, upn string) []string {
	var out []string
	for _, u := range s.Snapshot().Users {
		if !strings.EqualFold(u.UserPrincipalName, upn) {
			continue
		}
		for _, a := range u.ExchangeAssignments {
			if a.AssignmentMethod == "" || a.AssignmentMethod == "Direct" {
				out = append(out, a.Role)
			}
		}
	}
	sort.Strings(out)
	return out
}

// assignmentsCreatedBy counts the Exchange and directory assignments created by creator.
func assignmentsCreatedBy(s *emulator.Server, creator string) int {
	n := 0
	for _, u := range s.Snapshot().Users {
		for _, a := range u.ExchangeAssignments {
			if strings.EqualFold(a.CreatedBy, creator) {
				n++
			}
		}
		for _, a := range u.DirectoryRoleAssignments {
			if strings.EqualFold(a.CreatedBy, creator) {
				n++
			}
		}
	}
	return n
}

func directoryRolesOf(s *emulator.Server, upn string) []string {
	var out []string
	for _, u := range s.Snapshot().Users {
		if strings.EqualFold(u.UserPrincipalName, upn) {
			for _, a := range u.DirectoryRoleAssignments {
				out = append(out, a.RoleDisplayName)
			}
		}
	}
	sort.Strings(out)
	return out
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
