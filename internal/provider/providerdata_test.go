package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

// A provider process gives each warning once: the EWS end date once whatever the number of
// resources over EWS, a problem of one application once for all its connections.
func TestWarnOnce(t *testing.T) {
	d := &providerData{}
	var diags diag.Diagnostics
	for range 3 {
		d.warnEWSEnd(&diags, "ews")
		d.warnEWSEnd(&diags, "graph")
		d.warnOnce(&diags, "app-a|missing", path.Root("missing_permissions"), "Application a lacks 1 permission", "")
	}
	d.warnOnce(&diags, "app-b|missing", path.Root("missing_permissions"), "Application b lacks 1 permission", "")
	if diags.WarningsCount() != 3 || !strings.Contains(diags[0].Summary(), "1 April 2027") {
		t.Fatalf("%d warnings: %v", diags.WarningsCount(), diags)
	}
}

// A permission the plan of the application grants again is no warning of its connections
// (it would be printed after the apply that granted it); one the plan leaves missing is.
func TestConnectionDoesNotWarnOfWhatItsApplicationGrantsAgain(t *testing.T) {
	const tenant, client = "3B2A1C0D-1111-4222-8333-944445555666", "e75c9b47-1a75-5497-b669-f75b7320fb32"
	d := &providerData{}
	app := &migrationApplicationResource{data: d}
	state := &migrationApplicationModel{
		TenantID: types.StringValue(tenant), ClientID: types.StringValue(client),
		MissingPermissions: stringSet([]string{"Microsoft Graph/User.Read.All"}),
	}
	app.noteRegrants(state)
	conn := &targetAppConnectionResource{data: d}

	var diags diag.Diagnostics
	conn.addDrift(&diags, client, &connection.AppStatus{TenantID: strings.ToLower(tenant), Missing: []string{"Microsoft Graph/User.Read.All"}})
	if diags.WarningsCount() != 0 {
		t.Fatalf("a permission the application's plan grants again was warned about: %v", diags)
	}
	conn.addDrift(&diags, client, &connection.AppStatus{TenantID: tenant, Missing: []string{"Microsoft Graph/Mail.ReadWrite", "Microsoft Graph/User.Read.All"}})
	if diags.WarningsCount() != 1 || !strings.Contains(diags[0].Summary(), "Mail.ReadWrite") {
		t.Fatalf("a permission the plan leaves missing must be warned about: %v", diags)
	}
	other := &targetAppConnectionResource{data: &providerData{}}
	diags = nil
	other.addDrift(&diags, client, &connection.AppStatus{TenantID: tenant, Missing: []string{"Microsoft Graph/User.Read.All"}})
	if diags.WarningsCount() != 1 {
		t.Fatalf("without the application's plan in the process the connection must warn: %v", diags)
	}
}

// A consent that defeats an application's mailbox scope is a warning with the command that
// removes it: on mailbox_scope for the application, once for all its connections (on
// granted_permissions), none without such a consent.
func TestScopeBypassWarnings(t *testing.T) {
	b := []connection.ScopeBypass{{Permission: "Microsoft Graph/Mail.ReadWrite", Revoke: "Remove-MgServicePrincipalAppRoleAssignment -ServicePrincipalId x"}}
	var diags diag.Diagnostics
	warnScopeBypassed(&diags, path.Root("mailbox_scope"), nil)
	if len(diags) != 0 {
		t.Fatalf("warning without a bypass: %v", diags)
	}
	warnScopeBypassed(&diags, path.Root("mailbox_scope"), b)
	w, ok := diags[0].(diag.DiagnosticWithPath)
	if len(diags) != 1 || !ok || !w.Path().Equal(path.Root("mailbox_scope")) ||
		!strings.Contains(w.Summary(), "Microsoft Graph/Mail.ReadWrite consented tenant-wide") || !strings.Contains(w.Detail(), b[0].Revoke) {
		t.Fatalf("application warning: %v", diags)
	}

	r := &targetAppConnectionResource{data: &providerData{}}
	diags = nil
	for range 3 {
		r.addDrift(&diags, "e75c9b47-1a75-5497-b669-f75b7320fb32", &connection.AppStatus{TenantID: "t", ScopeBypassed: b})
	}
	w, ok = diags[0].(diag.DiagnosticWithPath)
	if len(diags) != 1 || !ok || !w.Path().Equal(path.Root("granted_permissions")) || !strings.Contains(w.Detail(), "given once") {
		t.Fatalf("connection warnings: %v", diags)
	}
}

// One consent removed from an application of 100 connections is one warning: each
// connection's mailbox, refused only for want of that permission, is in its
// unreachable_mailboxes but not a warning of its own. A mailbox refused for another cause
// (outside the scope) is still warned about, with the connection.
func TestMissingPermissionIsOneWarningForAllConnections(t *testing.T) {
	const tenant, client, perm = "3b2a1c0d-1111-4222-8333-944445555666", "e75c9b47-1a75-5497-b669-f75b7320fb32", "Microsoft Graph/Mail.ReadWrite"
	d := &providerData{}
	var diags diag.Diagnostics
	for i := range 100 {
		conn := &targetAppConnectionResource{data: d}
		conn.addDrift(&diags, client, &connection.AppStatus{
			TenantID: tenant, Missing: []string{perm},
			Unreachable: []connection.Unreachable{{Mailbox: fmt.Sprintf("user%03d@contoso.com", i), Problem: connection.MailboxDenied, Missing: perm}},
		})
	}
	if diags.WarningsCount() != 1 || !strings.Contains(diags[0].Summary(), "Mail.ReadWrite") ||
		!strings.Contains(diags[0].Detail(), "unreachable_mailboxes") {
		t.Fatalf("want one warning, of the missing permission and naming unreachable_mailboxes; got %d: %v", diags.WarningsCount(), diags)
	}
	(&targetAppConnectionResource{data: d}).addDrift(&diags, client, &connection.AppStatus{
		TenantID: tenant, Missing: []string{perm},
		Unreachable: []connection.Unreachable{
			{Mailbox: "a@contoso.com", Problem: connection.MailboxDenied, Missing: perm},
			{Mailbox: "b@contoso.com", Problem: connection.MailboxOutOfScope},
		},
	})
	if diags.WarningsCount() != 2 || !strings.Contains(diags[1].Summary(), "2 mailboxes unreachable") {
		t.Fatalf("a mailbox refused for another cause must be warned about: %v", diags)
	}
}
