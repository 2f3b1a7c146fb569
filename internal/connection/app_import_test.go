package connection

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

const (
	appImport       = "66666666-7777-4888-8999-bbbbbbbbbbbb" // graph_import, everything consented in Entra
	appImportScoped = "77777777-8888-4999-8aaa-cccccccccccc" // graph_import through Exchange roles scoped to "helpdesk"
	mbxB            = "helpdesk@fabrikam.onmicrosoft.com"
)

// addImportApps adds a consented graph_import application, a scoped one (its Exchange roles
// limited to the helpdesk mailbox) and the reader of its roles.
func addImportApps(t *testing.T, s *emulator.Server) {
	t.Helper()
	if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: "import", AppID: appImport, Secrets: []emulator.SeedSecret{{Value: appSecret}},
		GraphPermissions: []string{"User.Read.All", "MailboxFolder.ReadWrite.All", "MailboxItem.ImportExport.All", "MailboxSettings.ReadWrite"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: "reader", AppID: appReader, Secrets: []emulator.SeedSecret{{Value: appSecret}},
		ExchangePermissions: []string{"Exchange.ManageAsApp"}, DirectoryRoles: []string{"Exchange Administrator"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: "import scoped", AppID: appImportScoped, Secrets: []emulator.SeedSecret{{Value: appSecret}},
		GraphPermissions: []string{"User.Read.All"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddManagementScope("helpdesk", "Department -eq 'Helpdesk'"); err != nil {
		t.Fatal(err)
	}
	dept := "Helpdesk"
	if err := s.SetUserRecipientProperties(mbxB, &dept, nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"Application MailboxFolder.ReadWrite", "Application MailboxItem.ImportExport", "Application MailboxSettings.ReadWrite"} {
		if _, err := s.AddServicePrincipalExchangeRole(appImportScoped, emulator.SeedAppExchangeRole{Role: r, Scope: "helpdesk"}); err != nil {
			t.Fatal(err)
		}
	}
}

// A consented graph_import application: each mailbox costs three Graph requests, creates one
// import session and uploads nothing; a user without a mailbox is missing; no log line
// carries the upload URL's token.
func TestCheckApp_graphImport(t *testing.T) {
	s, env, cl := setupApps(t)
	addImportApps(t, s)
	var mu sync.Mutex
	var logged strings.Builder
	env.Log = func(_ context.Context, msg string, f map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(&logged, msg, f)
	}
	st, err := env.CheckApp(context.Background(), appSpec(cl, appImport, roles.ProtocolGraphImport, mbxA, mbxB, "nomailbox@fabrikam.onmicrosoft.com"))
	if err != nil {
		t.Fatal(err)
	}
	want := "Microsoft Graph/MailboxFolder.ReadWrite.All|Microsoft Graph/MailboxItem.ImportExport.All|Microsoft Graph/MailboxSettings.ReadWrite|Microsoft Graph/User.Read.All"
	if len(st.Missing) != 0 || strings.Join(st.Granted, "|") != want {
		t.Fatalf("granted %v, missing %v", st.Granted, st.Missing)
	}
	if got := st.UnreachableMailboxes(); strings.Join(got, ",") != "nomailbox@fabrikam.onmicrosoft.com" || st.Unreachable[0].Problem != MailboxMissing {
		t.Fatalf("unreachable %+v", st.Unreachable)
	}
	c := s.Counters()
	for route, n := range map[string]int{"graph.exchangeSettings": 3, "graph.mailboxFolders": 2, "graph.createImportSession": 2, "graph.mailFolders": 0} {
		if got := c.ByRouteUser[route][appImport]; got != n {
			t.Errorf("%s: %d requests, want %d", route, got, n)
		}
	}
	sessions := s.ImportSessions()
	var upns []string
	for _, x := range sessions {
		upns = append(upns, x.UserPrincipalName)
	}
	if strings.Join(upns, ",") != mbxA+","+mbxB {
		t.Fatalf("import sessions for %v", upns)
	}
	if u := s.ImportUploads(); len(u) != 0 {
		t.Fatalf("uploads %+v", u)
	}
	if strings.Contains(logged.String(), "authtoken") || strings.Contains(logged.String(), "importItem") || !strings.Contains(logged.String(), "createImportSession") {
		t.Fatalf("log lines:\n%s", logged.String())
	}
}

// A scoped graph_import application: a mailbox outside the scope is out of scope (not a
// consent to give); its import role removed, the role is missing and the advice is the
// scoped assignment, never a tenant-wide consent.
func TestCheckApp_graphImportScoped(t *testing.T) {
	s, env, cl := setupApps(t)
	addImportApps(t, s)
	reader := App(appTenant, appReader, ClientSecretCredential(appSecret))
	spec := appSpec(cl, appImportScoped, roles.ProtocolGraphImport, mbxA, mbxB)
	spec.Reader = &reader
	st, err := env.CheckApp(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Missing) != 0 || len(st.Unreachable) != 1 || st.Unreachable[0].Mailbox != mbxA || st.Unreachable[0].Problem != MailboxOutOfScope ||
		!strings.Contains(st.Unreachable[0].Detail, "helpdesk") || st.Unreachable[0].Missing != "" || st.UnreachableForMissing() {
		t.Fatalf("status %+v", st)
	}
	if n := len(s.ImportSessions()); n != 1 {
		t.Fatalf("%d import sessions, want 1 (the mailbox in scope)", n)
	}

	if n, err := s.RemoveServicePrincipalExchangeRole(appImportScoped, "Application MailboxItem.ImportExport"); err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	st, err = setupAppsEnv(t, s).CheckApp(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(st.Missing, ",") != "Exchange/Application MailboxItem.ImportExport" {
		t.Fatalf("missing %v", st.Missing)
	}
	var detail string
	for _, u := range st.Unreachable {
		if u.Mailbox == mbxB {
			detail = u.Detail
		}
	}
	text := MissingPermissionsText(st) + detail
	if !strings.Contains(text, "-Role 'Application MailboxItem.ImportExport' -CustomResourceScope 'helpdesk'") ||
		strings.Contains(text, "New-MgServicePrincipalAppRoleAssignedTo") || strings.Contains(text, "admin consent") {
		t.Fatalf("advice:\n%s", text)
	}
	if _, err := setupAppsEnv(t, s).EnsureApp(context.Background(), spec); err == nil {
		t.Fatal("EnsureApp accepted a missing import role")
	}
}

// Without User.Read.All no mailbox id is readable: the directory permission is named, as an
// Entra consent even for a scoped application.
func TestCheckApp_graphImportWithoutUserRead(t *testing.T) {
	s, env, cl := setupApps(t)
	addImportApps(t, s)
	if n, err := s.RemoveConsent(appImportScoped, "graph", "User.Read.All"); err != nil || n != 1 {
		t.Fatalf("remove consent: %d %v", n, err)
	}
	reader := App(appTenant, appReader, ClientSecretCredential(appSecret))
	spec := appSpec(cl, appImportScoped, roles.ProtocolGraphImport, mbxB)
	spec.Reader = &reader
	st, err := env.CheckApp(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(st.Missing, ",") != "Microsoft Graph/User.Read.All" || len(st.Unreachable) != 1 || st.Unreachable[0].Problem != MailboxDenied ||
		!strings.Contains(st.Unreachable[0].Detail, "User.Read.All") || !strings.Contains(st.Unreachable[0].Detail, "New-MgServicePrincipalAppRoleAssignedTo") ||
		st.Unreachable[0].Missing != "Microsoft Graph/User.Read.All" {
		t.Fatalf("status %+v", st)
	}
	if n := s.Counters().ByRouteUser["graph.createImportSession"][appImportScoped]; n != 0 {
		t.Fatalf("%d sessions without a mailbox id", n)
	}
}

// Many connections of one scoped application checked at once (a plan's parallelism): the
// application's Exchange roles are read once per process, the callers that come while the
// read is in flight wait for it, and each connection still makes its own three requests.
func TestCheckApp_exchangeRolesReadOncePerProcess(t *testing.T) {
	s, env, cl := setupApps(t)
	addImportApps(t, s)
	reader := App(appTenant, appReader, ClientSecretCredential(appSecret))
	spec := appSpec(cl, appImportScoped, roles.ProtocolGraphImport, mbxB)
	spec.Reader = &reader
	// Slow the read so that every connection arrives while it is in flight.
	s.InjectFault(emulator.Fault{Route: "exo.Test-ServicePrincipalAuthorization", Delay: 50 * time.Millisecond})
	const connections = 10
	var wg sync.WaitGroup
	errs := make(chan error, connections)
	for range connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := env.CheckApp(context.Background(), spec)
			switch {
			case err != nil:
				errs <- err
			case len(st.Missing) != 0 || len(st.Unreachable) != 0 || st.ExchangeRolesUnread != "":
				errs <- fmt.Errorf("status %+v", st)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c := s.Counters()
	if n := c.ByRoute["exo.Test-ServicePrincipalAuthorization"]; n != 1 {
		t.Errorf("Test-ServicePrincipalAuthorization asked %d times, want once per process", n)
	}
	if n := c.ByRouteUser["graph.createImportSession"][appImportScoped]; n != connections {
		t.Errorf("createImportSession asked %d times, want one per connection (%d)", n, connections)
	}
}
