package connection

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

const (
	appTenant  = "fabrikam.onmicrosoft.com"
	appOpen    = "11111111-2222-4333-8444-555555555555" // Graph, everything consented
	appScoped  = "22222222-3333-4444-8555-666666666666" // Graph via RBAC for Applications, without Exchange.ManageAsApp
	appEWS     = "33333333-4444-4555-8666-777777777777" // EWS, may read the switches
	appEWSRBAC = "44444444-5555-4666-8777-999999999999" // EWS through Application EWS.AccessAsApp, without Exchange.ManageAsApp
	appSecret  = "app-secret-value-0123456789abcdef"
	mbxA       = "exadmin@fabrikam.onmicrosoft.com"
)

// setupApps starts the tenant of connection_test.go with three applications, on the real
// clock (certificates are made for now).
func setupApps(t *testing.T) (*emulator.Server, *Env, cloud.Cloud) {
	t.Helper()
	seed := parseSeed(t, seedJSON)
	seed.ManagementScopes = []emulator.SeedManagementScope{{Name: "everyone", RecipientFilter: "RecipientType -eq 'UserMailbox'"}}
	seed.Applications = []emulator.SeedApplication{
		{DisplayName: "open", AppID: appOpen, Secrets: []emulator.SeedSecret{{Value: appSecret}},
			GraphPermissions: []string{"Mail.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite", "MailboxSettings.ReadWrite", "User.Read.All"}},
		{DisplayName: "scoped", AppID: appScoped, Secrets: []emulator.SeedSecret{{Value: appSecret}}, GraphPermissions: []string{"User.Read.All"},
			ExchangeRoles: []emulator.SeedAppExchangeRole{{Role: "Application Mail.ReadWrite", Scope: "everyone"}, {Role: "Application Calendars.ReadWrite", Scope: "everyone"}}},
		{DisplayName: "ews", AppID: appEWS, Secrets: []emulator.SeedSecret{{Value: appSecret}}, GraphPermissions: []string{"User.Read.All"},
			ExchangePermissions: []string{"full_access_as_app", "Exchange.ManageAsApp"}, DirectoryRoles: []string{"Global Reader"}},
		{DisplayName: "ews rbac", AppID: appEWSRBAC, Secrets: []emulator.SeedSecret{{Value: appSecret}}, GraphPermissions: []string{"User.Read.All"},
			ExchangeRoles: []emulator.SeedAppExchangeRole{{Role: "Application EWS.AccessAsApp", Scope: "everyone"}}},
	}
	s, hc, cl := startEmulated(t, seed, emulator.Options{})
	return s, &Env{HTTP: hc, ClientID: "fb78d390-0c51-40cd-8e17-fdbfab77341b", MaxRetries: 2, Now: time.Now}, cl
}

func appSpec(cl cloud.Cloud, app string, p roles.Protocol, mailboxes ...string) AppSpec {
	return AppSpec{Cloud: cl, Principal: App(appTenant, app, ClientSecretCredential(appSecret)), Protocol: p, Mailboxes: mailboxes}
}

func TestCheckApp_openApplication(t *testing.T) {
	s, env, cl := setupApps(t)
	st, err := env.CheckApp(context.Background(), appSpec(cl, appOpen, roles.ProtocolGraph, mbxA, "nomailbox@fabrikam.onmicrosoft.com"))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Missing) != 0 || len(st.Granted) != 5 || st.TenantID != s.TenantID() {
		t.Fatalf("status %+v", st)
	}
	if got := st.UnreachableMailboxes(); len(got) != 1 || got[0] != "nomailbox@fabrikam.onmicrosoft.com" || st.Unreachable[0].Problem != MailboxMissing {
		t.Fatalf("unreachable %+v", st.Unreachable)
	}
	// Everything consented: no Exchange token, no admin API call.
	c := s.Counters()
	for r, n := range c.ByRouteUser {
		if strings.HasPrefix(r, "exo.") && n[appOpen] > 0 {
			t.Errorf("%s called %d times", r, n[appOpen])
		}
	}
	if _, err := env.EnsureApp(context.Background(), appSpec(cl, appOpen, roles.ProtocolGraph, "nomailbox@fabrikam.onmicrosoft.com")); err == nil {
		t.Fatal("EnsureApp accepted an unreachable mailbox")
	} else if ce, ok := AsError(err); !ok || ce.Problem != ProblemUnreachable || !strings.Contains(ce.Detail, "no Exchange Online mailbox") {
		t.Fatalf("EnsureApp: %v", err)
	}
}

// An application scoped by RBAC for Applications that may not read its Exchange roles: its
// mailbox access is proven by the probe, the permissions it cannot show are unconfirmed,
// never missing, and nothing asks it for Exchange.ManageAsApp.
func TestCheckApp_scopedWithoutManageAsApp(t *testing.T) {
	s, env, cl := setupApps(t)
	st, err := env.CheckApp(context.Background(), appSpec(cl, appScoped, roles.ProtocolGraph, mbxA))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Missing) != 0 || len(st.Unreachable) != 0 || len(st.Unconfirmed) != 4 || !strings.Contains(st.ExchangeRolesUnread, "Exchange.ManageAsApp") {
		t.Fatalf("status %+v", st)
	}
	if n := s.Counters().ByRouteUser["exo.Test-ServicePrincipalAuthorization"][appScoped]; n != 0 {
		t.Fatalf("Test-ServicePrincipalAuthorization called %d times without Exchange.ManageAsApp", n)
	}
	// Given Exchange.ManageAsApp and a reading role, the roles are read once per process.
	if err := s.AddConsent(appScoped, "exchange", "Exchange.ManageAsApp"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddServicePrincipalDirectoryRole(appScoped, "Global Reader"); err != nil {
		t.Fatal(err)
	}
	env2 := setupAppsEnv(t, s)
	for range 3 {
		st, err = env2.CheckApp(context.Background(), appSpec(cl, appScoped, roles.ProtocolGraph, mbxA))
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"Exchange/Application Calendars.ReadWrite", "Exchange/Application Mail.ReadWrite", "Microsoft Graph/User.Read.All"}
	if strings.Join(st.Granted, "|") != strings.Join(want, "|") {
		t.Fatalf("granted %v, want %v", st.Granted, want)
	}
	if strings.Join(st.Missing, "|") != "Exchange/Application Contacts.ReadWrite|Exchange/Application MailboxSettings.ReadWrite" {
		t.Fatalf("missing %v", st.Missing)
	}
	if fix := st.MissingFixes["Exchange/Application Contacts.ReadWrite"]; !strings.Contains(fix, "New-ManagementRoleAssignment") || !strings.Contains(fix, "'everyone'") {
		t.Fatalf("fix %q", fix)
	}
	if n := s.Counters().ByRouteUser["exo.Test-ServicePrincipalAuthorization"][appScoped]; n != 1 {
		t.Fatalf("Exchange roles read %d times by three checks in one process, want once", n)
	}
}

// EWS granted by the Exchange role Application EWS.AccessAsApp, which the application may
// not read: the impersonation probe proves it, so full_access_as_app is unconfirmed, not
// missing.
func TestCheckApp_ewsThroughRBAC(t *testing.T) {
	s, env, cl := setupApps(t)
	st, err := env.CheckApp(context.Background(), appSpec(cl, appEWSRBAC, roles.ProtocolEWS, mbxA))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Healthy() || len(st.Unconfirmed) != 1 || st.Unconfirmed[0] != "Exchange/Application EWS.AccessAsApp" {
		t.Fatalf("status %+v", st)
	}
	if n := s.Counters().ByRouteUser["ews.GetFolder"][appEWSRBAC]; n != 1 {
		t.Fatalf("%d EWS probes, want 1", n)
	}
	// Its role removed, the mailbox is refused, and the permission is then missing.
	if n, err := s.RemoveServicePrincipalExchangeRole(appEWSRBAC, "Application EWS.AccessAsApp"); err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	st, err = setupAppsEnv(t, s).CheckApp(context.Background(), appSpec(cl, appEWSRBAC, roles.ProtocolEWS, mbxA))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Unreachable) != 1 || st.Unreachable[0].Problem != MailboxDenied || strings.Join(st.Missing, ",") != "Office 365 Exchange Online/full_access_as_app" ||
		!strings.Contains(st.Unreachable[0].Detail, "Application EWS.AccessAsApp") {
		t.Fatalf("status %+v", st)
	}
	if st.Unreachable[0].Missing != st.Missing[0] || !st.UnreachableForMissing() {
		t.Fatalf("the mailbox is refused for want of the missing permission: %+v", st.Unreachable)
	}
}

// setupAppsEnv is a second provider process (a new Env) on the same tenant.
func setupAppsEnv(t *testing.T, s *emulator.Server) *Env {
	t.Helper()
	hc, err := transport.NewHTTPClient(s.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	return &Env{HTTP: hc, MaxRetries: 2, Now: time.Now}
}

// The EWS switches of WIRE.md §K2–K3, each diagnosed with the command that opens it.
func TestCheckApp_ewsSwitches(t *testing.T) {
	s, _, cl := setupApps(t)
	on, off := true, false
	check := func() *AppStatus {
		t.Helper()
		e := setupAppsEnv(t, s) // a new process: a new token, as every plan
		st, err := e.CheckApp(context.Background(), appSpec(cl, appEWS, roles.ProtocolEWS, mbxA))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := check(); st.EWSStatus != EWSEnabled || !st.Healthy() {
		t.Fatalf("open: %+v", st)
	}
	s.SetOrganizationEWSEnabled(&on)
	s.SetEWSAllowedAppIDs([]string{appOpen})
	st := check()
	if st.EWSStatus != EWSAppNotAllowed || !strings.Contains(st.EWSDetail, `-EwsAllowedAppIDs "`+appOpen+","+appEWS+`"`) {
		t.Fatalf("allow list: %+v", st)
	}
	s.SetEWSAllowedAppIDs(nil)
	if err := s.SetMailboxEWSEnabled(mbxA, &off); err != nil {
		t.Fatal(err)
	}
	if st := check(); st.EWSStatus != EWSDisabledForMailbox || !strings.Contains(st.EWSDetail, "Set-CASMailbox -Identity '"+mbxA+"' -EwsEnabled $true") {
		t.Fatalf("mailbox: %+v", st)
	}
	if err := s.SetMailboxEWSEnabled(mbxA, nil); err != nil {
		t.Fatal(err)
	}
	s.SetOrganizationEWSEnabled(nil)
	s.SetEWSDisablementDate(time.Now().Add(-24 * time.Hour))
	if st := check(); st.EWSStatus != EWSDisabledForOrganization || !strings.Contains(st.EWSDetail, "not configured") {
		t.Fatalf("phased disablement: %+v", st)
	}
	// Without a reading role the admin API refuses: "disabled", saying what it could not read.
	if err := s.RemoveServicePrincipalDirectoryRole(appEWS, "Global Reader"); err != nil {
		t.Fatal(err)
	}
	if st := check(); st.EWSStatus != EWSDisabled || !strings.Contains(st.EWSDetail, "failed") {
		t.Fatalf("no reading role: %+v", st)
	}
}

func TestCheckApp_credentialErrors(t *testing.T) {
	_, env, cl := setupApps(t)
	spec := appSpec(cl, appOpen, roles.ProtocolGraph, mbxA)
	// A certificate that does not parse never becomes a credential; one without its key is
	// refused before any request.
	if _, err := ParseClientCertificate("-----BEGIN CERTIFICATE-----\nnot\n-----END CERTIFICATE-----\n", ""); err == nil {
		t.Fatal("a certificate that does not parse was read")
	}
	cert, err := emulator.NewTestCertificate("fabrikam app", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	publicOnly, err := ParsePublicCertificate(string(cert.CertPEM))
	if err != nil {
		t.Fatal(err)
	}
	spec.Principal.Credential = CertificateCredential(publicOnly)
	_, err = env.CheckApp(context.Background(), spec)
	if ce, ok := AsError(err); !ok || ce.Problem != ProblemCredentials || ce.Reason != ReasonBadCredential {
		t.Fatalf("bad certificate: %v", err)
	}
	spec.Principal.Credential = ClientSecretCredential("wrong-secret-value")
	_, err = env.CheckApp(context.Background(), spec)
	if ce, ok := AsError(err); !ok || ce.Problem != ProblemCredentials || ce.Reason != ReasonWrongSecret || ce.Code != 7000215 || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Fatalf("wrong secret: %v", err)
	}
	spec = appSpec(cl, "44444444-5555-4666-8777-888888888888", roles.ProtocolGraph, mbxA)
	_, err = env.CheckApp(context.Background(), spec)
	if ce, ok := AsError(err); !ok || ce.Problem != ProblemAccountGone || ce.Code != 700016 {
		t.Fatalf("unknown application: %v", err)
	}
}

func TestCheckApp_certificate(t *testing.T) {
	s, env, cl := setupApps(t)
	cert, err := emulator.NewTestCertificate("fabrikam app", time.Now().Add(40*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApplicationCertificate(appOpen, emulator.SeedCertificate{PEM: string(cert.CertPEM)}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ value, password string }{
		{string(cert.PEM), ""},
		{encodeStd(cert.PKCS12), cert.PKCS12Password},
	} {
		parsed, err := ParseClientCertificate(c.value, c.password)
		if err != nil {
			t.Fatal(err)
		}
		spec := appSpec(cl, appOpen, roles.ProtocolGraph, mbxA)
		spec.Principal.Credential = CertificateCredential(parsed)
		st, err := env.CheckApp(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if !st.CredentialExpiresAt.Equal(cert.Certificate.NotAfter) || !st.Healthy() {
			t.Fatalf("status %+v", st)
		}
	}
	info, err := ParseClientCertificate(string(cert.PEM), "")
	if err != nil || info.Thumbprint != cert.Thumbprint {
		t.Fatalf("ParseClientCertificate: %+v %v", info, err)
	}
}

func encodeStd(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// A new Exchange application role that Exchange has not applied yet (RBAC changes take 30
// minutes to 2 hours): the mailbox is refused, but Test-ServicePrincipalAuthorization says
// the role covers it, so the mailbox is pending (wait), not unreachable (grant).
func TestCheckApp_rbacNotYetEffective(t *testing.T) {
	s, env, cl := setupApps(t)
	s.SetRBACDelay(time.Hour)
	const pending = "55555555-6666-4777-8888-aaaaaaaaaaaa"
	if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: "pending", AppID: pending, Secrets: []emulator.SeedSecret{{Value: appSecret}},
		GraphPermissions: []string{"User.Read.All"}, ExchangePermissions: []string{"Exchange.ManageAsApp"}, DirectoryRoles: []string{"Global Reader"},
		ExchangeRoles: []emulator.SeedAppExchangeRole{{Role: "Application Mail.ReadWrite", Scope: "everyone"}}}); err != nil {
		t.Fatal(err)
	}
	st, err := env.CheckApp(context.Background(), appSpec(cl, pending, roles.ProtocolGraph, mbxA))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Unreachable) != 0 || strings.Join(st.Pending, ",") != mbxA || !strings.Contains(PendingText(st), "30 minutes to 2 hours") {
		t.Fatalf("status %+v", st)
	}
}

// A connection made right after its application was registered: Entra answers AADSTS700016
// until it has replicated the registration, and a create waits for it (within bounds); an
// update, or an application that never appears, fails without more ado.
func TestEnsureApp_waitsForReplication(t *testing.T) {
	s, env, cl := setupApps(t)
	const late = "66666666-7777-4888-8999-bbbbbbbbbbbb"
	var sleeps []time.Duration
	registered := false
	env.Sleep = func(_ context.Context, d time.Duration) error {
		sleeps = append(sleeps, d)
		if len(sleeps) == 2 && !registered {
			registered = true
			if _, err := s.AddApplication(emulator.SeedApplication{DisplayName: "late", AppID: late, Secrets: []emulator.SeedSecret{{Value: appSecret}},
				GraphPermissions: []string{"Mail.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite", "MailboxSettings.ReadWrite", "User.Read.All"}}); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	}
	spec := appSpec(cl, late, roles.ProtocolGraph, mbxA)
	if _, err := env.EnsureApp(context.Background(), spec); err == nil || len(sleeps) != 0 {
		t.Fatalf("an update waited (%v) or succeeded: %v", sleeps, err)
	}
	spec.New = true
	st, err := env.EnsureApp(context.Background(), spec)
	if err != nil || !st.Healthy() || len(sleeps) != 2 {
		t.Fatalf("after %v: %+v %v", sleeps, st, err)
	}
	sleeps = nil
	spec = appSpec(cl, "77777777-8888-4999-8aaa-cccccccccccc", roles.ProtocolGraph, mbxA)
	spec.New = true
	if _, err := env.EnsureApp(context.Background(), spec); err == nil || len(sleeps) != 4 {
		t.Fatalf("an application that never appears: %v after %v", err, sleeps)
	}
}
