package connection

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

const appReader = "55555555-6666-4777-8888-aaaaaaaaaaaa" // reads Exchange roles (Exchange.ManageAsApp, Exchange Administrator)

// An application scoped by RBAC for Applications that may not read its own roles: the
// reader reads them. A removed role is missing alone, with its assignment command in the
// application's scope and never a tenant-wide consent; a role Exchange has not applied yet
// leaves the mailbox pending, not unreachable, and EnsureApp accepts it.
func TestCheckApp_scopedReadByReader(t *testing.T) {
	s, env, cl := setupApps(t)
	if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: "reader", AppID: appReader, Secrets: []emulator.SeedSecret{{Value: appSecret}},
		ExchangePermissions: []string{"Exchange.ManageAsApp"}, DirectoryRoles: []string{"Exchange Administrator"}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"Application Contacts.ReadWrite", "Application MailboxSettings.ReadWrite"} {
		if _, err := s.AddServicePrincipalExchangeRole(appScoped, emulator.SeedAppExchangeRole{Role: r, Scope: "everyone"}); err != nil {
			t.Fatal(err)
		}
	}
	reader := App(appTenant, appReader, ClientSecretCredential(appSecret))
	spec := appSpec(cl, appScoped, roles.ProtocolGraph, mbxA)
	spec.Reader = &reader
	if n, err := s.RemoveServicePrincipalExchangeRole(appScoped, "Application Mail.ReadWrite"); err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	st, err := env.CheckApp(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(st.Missing, ",") != "Exchange/Application Mail.ReadWrite" || MissingSummary(st) != "1 Exchange application role" {
		t.Fatalf("missing %v (%s)", st.Missing, MissingSummary(st))
	}
	text := MissingPermissionsText(st) + UnreachableText(st)
	if !strings.Contains(text, "-Role 'Application Mail.ReadWrite' -CustomResourceScope 'everyone'") ||
		strings.Contains(text, "New-MgServicePrincipalAppRoleAssignedTo") || strings.Contains(text, "admin consent") {
		t.Fatalf("advice:\n%s", text)
	}
	if len(st.Unreachable) != 1 || st.Unreachable[0].Problem != MailboxDenied ||
		st.Unreachable[0].Missing != "Exchange/Application Mail.ReadWrite" || !st.UnreachableForMissing() {
		t.Fatalf("unreachable %+v", st.Unreachable)
	}

	// The role assigned again, not yet applied by Exchange.
	s.SetRBACDelay(time.Hour)
	if _, err := s.AddServicePrincipalExchangeRole(appScoped, emulator.SeedAppExchangeRole{Role: "Application Mail.ReadWrite", Scope: "everyone"}); err != nil {
		t.Fatal(err)
	}
	st, err = setupAppsEnv(t, s).EnsureApp(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Missing) != 0 || len(st.Unreachable) != 0 || strings.Join(st.Pending, ",") != mbxA || !strings.Contains(PendingText(st), "30 minutes to 2 hours") {
		t.Fatalf("status %+v", st)
	}
	// Without a reader the roles stay unread: nothing is called pending.
	spec.Reader = nil
	if st, err = setupAppsEnv(t, s).CheckApp(context.Background(), spec); err != nil || len(st.Pending) != 0 {
		t.Fatalf("without reader: %+v %v", st, err)
	}
}

// A scoped application that was also consented a mailbox permission tenant-wide: the check
// that reads its Exchange roles anyway names the consent that defeats the scope, with the
// command that removes it; it never suggests granting more.
func TestCheckApp_scopeBypassedByConsent(t *testing.T) {
	s, env, cl := setupApps(t)
	if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: "reader", AppID: appReader, Secrets: []emulator.SeedSecret{{Value: appSecret}},
		ExchangePermissions: []string{"Exchange.ManageAsApp"}, DirectoryRoles: []string{"Exchange Administrator"}}); err != nil {
		t.Fatal(err)
	}
	reader := App(appTenant, appReader, ClientSecretCredential(appSecret))
	spec := appSpec(cl, appScoped, roles.ProtocolGraph, mbxA)
	spec.Reader = &reader
	st, err := env.CheckApp(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ScopeBypassed) != 0 {
		t.Fatalf("scope bypassed without a consent: %+v", st.ScopeBypassed)
	}
	if err := s.AddConsent(appScoped, "graph", "Mail.ReadWrite"); err != nil {
		t.Fatal(err)
	}
	st, err = setupAppsEnv(t, s).CheckApp(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ScopeBypassed) != 1 || st.ScopeBypassed[0].Permission != "Microsoft Graph/Mail.ReadWrite" ||
		!strings.Contains(st.ScopeBypassed[0].Revoke, "Remove-MgServicePrincipalAppRoleAssignment") {
		t.Fatalf("scope bypassed = %+v", st.ScopeBypassed)
	}
	if text := ScopeBypassText(st.ScopeBypassed); strings.Contains(text, "New-MgServicePrincipalAppRoleAssignedTo") {
		t.Fatalf("the advice grants: %s", text)
	}
}
