package connection

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// The tenant of the registration tests: management applications with every right, without
// Privileged Role Administrator, and without Exchange rights; an application and a scope
// that existed before (delete must not touch them); mailboxes in and out of a scope.
const (
	regTenant      = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
	mgmtFull       = "0f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
	mgmtNoPRA      = "1f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
	mgmtNoExchange = "2f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
	mgmtSecret     = "Mgmt~Secret.0123456789abcdefghijklmno"
	otherApp       = "3f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
	inScope        = "ben@contoso.com"
	outOfScope     = "carla@contoso.com"
	filter         = "CustomAttribute15 -eq 'migrate'"
)

var regSeedJSON = `{"tenant_id":"` + regTenant + `","display_name":"Contoso","cloud":"worldwide",
 "domains":["contoso.onmicrosoft.com","contoso.com"],"propagation_delay":"0s","impersonation_retired":true,"rbac_delay":"0s",
 "management_scopes":[{"name":"Sales mailboxes","recipient_filter":"Department -eq 'Sales'"}],
 "applications":[
  {"display_name":"management","app_id":"` + mgmtFull + `","secrets":[{"value":"` + mgmtSecret + `"}],
   "graph_permissions":["Application.ReadWrite.All","AppRoleAssignment.ReadWrite.All","Application.Read.All"],
   "exchange_permissions":["Exchange.ManageAsApp"],"directory_roles":["Privileged Role Administrator","Exchange Administrator"]},
  {"display_name":"management without PRA","app_id":"` + mgmtNoPRA + `","secrets":[{"value":"` + mgmtSecret + `"}],
   "graph_permissions":["Application.ReadWrite.All","AppRoleAssignment.ReadWrite.All","Application.Read.All"],
   "exchange_permissions":["Exchange.ManageAsApp"],"directory_roles":["Exchange Administrator"]},
  {"display_name":"management without Exchange","app_id":"` + mgmtNoExchange + `","secrets":[{"value":"` + mgmtSecret + `"}],
   "graph_permissions":["Application.ReadWrite.All","AppRoleAssignment.ReadWrite.All","Application.Read.All"],
   "directory_roles":["Privileged Role Administrator"]},
  {"display_name":"existing app","app_id":"` + otherApp + `","secrets":[{"value":"Other~Secret.0123456789abcdefghijklmno"}],
   "graph_permissions":["Mail.ReadWrite"],"exchange_roles":[{"role":"Application Mail.ReadWrite","scope":"Sales mailboxes"}]}],
 "users":[
  {"user_principal_name":"admin@contoso.onmicrosoft.com","alias":"admin","password":"pw-admin","mailbox":true,"directory_roles":["Global Administrator"]},
  {"user_principal_name":"` + inScope + `","alias":"ben","password":"pw-ben","mailbox":true,"custom_attributes":{"15":"migrate"}},
  {"user_principal_name":"` + outOfScope + `","alias":"carla","password":"pw-carla","mailbox":true,"department":"Sales"}]}`

func regSetup(t *testing.T) (*emulator.Server, *Env, cloud.Cloud) {
	t.Helper()
	s, hc, cl := startEmulated(t, parseSeed(t, regSeedJSON), emulator.Options{})
	return s, &Env{HTTP: hc, ClientID: "fb78d390-0c51-40cd-8e17-fdbfab77341b", MaxRetries: 2, Sleep: func(context.Context, time.Duration) error { return nil }, Now: time.Now}, cl
}

func regSpec(cl cloud.Cloud, mgmt string, scoped bool) RegistrationSpec {
	spec := RegistrationSpec{
		Cloud:          cl,
		Management:     Principal{Kind: identity.Application, Name: mgmt, Tenant: "contoso.onmicrosoft.com", Credential: ClientSecretCredential(mgmtSecret)},
		DisplayName:    "tf-o365 migration target",
		Options:        roles.AppOptions{Protocol: roles.ProtocolGraph, Scoped: scoped},
		CreateSecret:   true,
		SecretLifetime: 180 * 24 * time.Hour,
	}
	if scoped {
		spec.RecipientFilter = filter
	}
	return spec
}

// appOf finds an application of the tenant by client id.
func appOf(s *emulator.Server, clientID string) (*emulator.Application, *emulator.ServicePrincipal) {
	st := s.Snapshot()
	var app *emulator.Application
	for i := range st.Applications {
		if strings.EqualFold(st.Applications[i].AppID, clientID) {
			app = &st.Applications[i]
		}
	}
	for i := range st.ServicePrincipals {
		if strings.EqualFold(st.ServicePrincipals[i].AppID, clientID) {
			return app, &st.ServicePrincipals[i]
		}
	}
	return app, nil
}

func consentsOf(sp *emulator.ServicePrincipal) []string {
	var out []string
	if sp == nil {
		return out
	}
	for _, c := range sp.Consents {
		out = append(out, c.Resource+"/"+c.Permission)
	}
	sort.Strings(out)
	return out
}

func exchangeRolesOfApp(s *emulator.Server, clientID string) []string {
	var out []string
	for _, p := range s.Snapshot().ExchangeServicePrincipals {
		if strings.EqualFold(p.AppID, clientID) {
			for _, a := range p.Assignments {
				out = append(out, a.Role+"@"+a.CustomResourceScope)
			}
		}
	}
	sort.Strings(out)
	return out
}

func countApps(s *emulator.Server, name string) int {
	n := 0
	for _, a := range s.Snapshot().Applications {
		if a.DisplayName == name {
			n++
		}
	}
	return n
}

// mailboxReachable opens the mailbox's inbox with the application's own token.
func mailboxReachable(t *testing.T, e *Env, cl cloud.Cloud, clientID, secret, mailbox string) error {
	t.Helper()
	src, err := e.identity(cl.AuthorityHost()).Application("contoso.onmicrosoft.com", clientID, identity.ClientSecret(secret))
	if err != nil {
		t.Fatal(err)
	}
	g := graph.New(cl.Endpoints.Graph, e.HTTP, func(ctx context.Context) (string, error) {
		tok, err := src.Token(ctx, cl.GraphScope())
		return tok.Value, err
	}, transport.Policy{MaxRetries: 0})
	_, err = g.GetInbox(context.Background(), mailbox)
	return err
}

var unscopedConsents = []string{"Microsoft Graph/Calendars.ReadWrite", "Microsoft Graph/Contacts.ReadWrite", "Microsoft Graph/Mail.ReadWrite",
	"Microsoft Graph/MailboxSettings.ReadWrite", "Microsoft Graph/User.Read.All"}

func TestRegisterGraphWithCertificateAndSecret(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	cert, err := emulator.NewTestCertificate("tf-o365 migration", time.Now().Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	spec := regSpec(cl, mgmtFull, false)
	spec.Certificate, err = ParsePublicCertificate(publicPart(t, cert.CertPEM))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	app, sp := appOf(s, reg.ClientID)
	if app == nil || sp == nil || app.ObjectID != reg.ObjectID || sp.ID != reg.ServicePrincipalID || reg.TenantID != regTenant {
		t.Fatalf("reg=%+v app=%+v sp=%+v", reg, app, sp)
	}
	if len(app.Tags) != 1 || !strings.HasPrefix(app.Tags[0], registrationTagPrefix) {
		t.Fatalf("tags = %v", app.Tags)
	}
	if got := consentsOf(sp); fmt.Sprint(got) != fmt.Sprint(unscopedConsents) {
		t.Fatalf("consents = %v", got)
	}
	if len(app.KeyCredentials) != 1 || len(app.PasswordCredentials) != 1 || reg.Secret == nil || reg.Secret.Value == "" {
		t.Fatalf("credentials: keys=%v passwords=%v secret=%v", app.KeyCredentials, app.PasswordCredentials, reg.Secret)
	}
	if len(reg.Missing) != 0 || fmt.Sprint(reg.Granted) != fmt.Sprint(reg.Required) || len(reg.Required) != 5 {
		t.Fatalf("required=%v granted=%v missing=%v", reg.Required, reg.Granted, reg.Missing)
	}
	if reg.CredentialExpiresAt.IsZero() || reg.CredentialExpiresAt.After(time.Now().Add(181*24*time.Hour)) {
		t.Fatalf("credential expiry %v", reg.CredentialExpiresAt)
	}
	if len(reg.Warnings) != 0 {
		t.Fatalf("warnings %v: the emulator seeds the documented ids", reg.Warnings)
	}
	// The application's own token opens a mailbox (tenant-wide consent).
	if err := mailboxReachable(t, e, cl, reg.ClientID, reg.Secret.Value, outOfScope); err != nil {
		t.Fatal(err)
	}
	// A second run changes nothing: same objects, same secret.
	spec.Known = *reg
	again, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	app2, sp2 := appOf(s, reg.ClientID)
	if countApps(s, spec.DisplayName) != 1 || again.Secret.KeyID != reg.Secret.KeyID || len(app2.PasswordCredentials) != 1 ||
		len(app2.KeyCredentials) != 1 || fmt.Sprint(consentsOf(sp2)) != fmt.Sprint(unscopedConsents) {
		t.Fatalf("second run: apps=%d secret %v→%v app=%+v", countApps(s, spec.DisplayName), reg.Secret, again.Secret, app2)
	}
	// Renaming is in place; dropping the secret removes it.
	spec.Known, spec.DisplayName, spec.CreateSecret = *again, "renamed", false
	third, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	app3, _ := appOf(s, reg.ClientID)
	if app3.DisplayName != "renamed" || len(app3.PasswordCredentials) != 0 || third.Secret != nil {
		t.Fatalf("third run: app=%+v secret=%v", app3, third.Secret)
	}
}

// publicPart keeps only the CERTIFICATE block of a PEM.
func publicPart(t *testing.T, pemText []byte) string {
	t.Helper()
	s := string(pemText)
	i := strings.Index(s, "-----BEGIN CERTIFICATE-----")
	j := strings.Index(s, "-----END CERTIFICATE-----")
	if i < 0 || j < 0 {
		t.Fatal("no certificate in the test PEM")
	}
	return s[i : j+len("-----END CERTIFICATE-----")+1]
}

func TestParsePublicCertificateRefusesKeys(t *testing.T) {
	cert, err := emulator.NewTestCertificate("x", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePublicCertificate(string(cert.KeyPEM) + string(cert.CertPEM)); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("err = %v", err)
	}
	if _, err := ParsePublicCertificate("garbage"); err == nil {
		t.Fatal("garbage parsed")
	}
	c, err := ParsePublicCertificate(publicPart(t, cert.CertPEM))
	if err != nil || len(c.Thumbprint) != 40 {
		t.Fatalf("c=%v err=%v", c, err)
	}
}

// With a mailbox scope: no tenant-wide consent for mailbox data, the Exchange side made and
// verified; the application reaches the mailbox in scope only.
func TestRegisterScoped(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	spec := regSpec(cl, mgmtFull, true)
	reg, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	_, sp := appOf(s, reg.ClientID)
	if got := consentsOf(sp); fmt.Sprint(got) != "[Microsoft Graph/User.Read.All]" {
		t.Fatalf("consents = %v (mailbox data must not be consented tenant-wide)", got)
	}
	scope := ScopeName(reg.ClientID)
	want := []string{"Application Calendars.ReadWrite@" + scope, "Application Contacts.ReadWrite@" + scope, "Application Mail.ReadWrite@" + scope, "Application MailboxSettings.ReadWrite@" + scope}
	if got := exchangeRolesOfApp(s, reg.ClientID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("exchange roles = %v", got)
	}
	if len(reg.Missing) != 0 || len(reg.Granted) != 5 {
		t.Fatalf("granted=%v missing=%v", reg.Granted, reg.Missing)
	}
	if err := mailboxReachable(t, e, cl, reg.ClientID, reg.Secret.Value, inScope); err != nil {
		t.Fatalf("in scope: %v", err)
	}
	if err := mailboxReachable(t, e, cl, reg.ClientID, reg.Secret.Value, outOfScope); !graph.IsMailAccessDenied(err) {
		t.Fatalf("out of scope: %v", err)
	}
	// A new filter changes the scope in place (Set-ManagementScope); the assignments stay.
	spec.Known, spec.WasScoped, spec.RecipientFilter = *reg, true, "Department -eq 'Sales'"
	changed, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	var filters []string
	for _, sc := range s.Snapshot().ManagementScopes {
		if sc.Name == scope {
			filters = append(filters, sc.RecipientFilter)
		}
	}
	if fmt.Sprint(filters) != "[Department -eq 'Sales']" || changed.ClientID != reg.ClientID || len(exchangeRolesOfApp(s, reg.ClientID)) != 4 {
		t.Fatalf("filters %v, exchange %v", filters, exchangeRolesOfApp(s, reg.ClientID))
	}
	if err := mailboxReachable(t, e, cl, reg.ClientID, reg.Secret.Value, outOfScope); err != nil {
		t.Fatalf("carla is in Sales, now in scope: %v", err)
	}
	// Dropping the scope undoes the Exchange side and consents tenant-wide instead.
	spec.Known, spec.Options.Scoped, spec.WasScoped = *reg, false, true
	if _, err := e.Register(ctx, spec); err != nil {
		t.Fatal(err)
	}
	_, sp = appOf(s, reg.ClientID)
	if got := exchangeRolesOfApp(s, reg.ClientID); len(got) != 0 || fmt.Sprint(consentsOf(sp)) != fmt.Sprint(unscopedConsents) {
		t.Fatalf("unscoped again: exchange=%v consents=%v", got, consentsOf(sp))
	}
	for _, sc := range s.Snapshot().ManagementScopes {
		if sc.Name == scope {
			t.Fatal("the scope was left behind")
		}
	}
}

// Drift: a consent and a scoped assignment removed behind the provider's back show as
// missing and are granted again.
func TestReadRegistrationDriftAndRepair(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	spec := regSpec(cl, mgmtFull, true)
	reg, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveConsent(reg.ClientID, "graph", "User.Read.All"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RemoveServicePrincipalExchangeRole(reg.ClientID, "Application Mail.ReadWrite"); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	spec.Known = *reg
	read, err := e.ReadRegistration(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(read.Missing) != "[Exchange/Application Mail.ReadWrite Microsoft Graph/User.Read.All]" {
		t.Fatalf("missing = %v", read.Missing)
	}
	if read.Secret == nil || read.Secret.KeyID != reg.Secret.KeyID {
		t.Fatalf("secret %v", read.Secret)
	}
	spec.Known = *read
	fixed, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(fixed.Missing) != 0 || len(exchangeRolesOfApp(s, reg.ClientID)) != 4 {
		t.Fatalf("missing=%v exchange=%v", fixed.Missing, exchangeRolesOfApp(s, reg.ClientID))
	}
	// Deleted out of band: gone.
	if err := s.RemoveApplication(reg.ClientID); err != nil {
		t.Fatal(err)
	}
	gone, err := e.ReadRegistration(ctx, spec)
	if err != nil || !gone.Gone {
		t.Fatalf("gone=%+v err=%v", gone, err)
	}
}

// Lost answers: the emulator does the work and drops the answer; exactly one of each exists.
func TestRegisterLostAnswersDoubleNothing(t *testing.T) {
	s, e, cl := regSetup(t)
	for _, route := range []string{"graph.applications.create", "graph.servicePrincipals.create", "graph.appRoleAssignedTo.create",
		"graph.applications.addPassword", "exo.New-ServicePrincipal", "exo.New-ManagementScope", "exo.New-ManagementRoleAssignment"} {
		s.InjectFault(emulator.Fault{Route: route, DropResponse: true, Count: 1})
	}
	spec := regSpec(cl, mgmtFull, true)
	reg, err := e.Register(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	app, sp := appOf(s, reg.ClientID)
	if countApps(s, spec.DisplayName) != 1 || len(app.PasswordCredentials) != 1 || app.PasswordCredentials[0].KeyID != reg.Secret.KeyID {
		t.Fatalf("apps=%d passwords=%v secret=%v", countApps(s, spec.DisplayName), app.PasswordCredentials, reg.Secret)
	}
	if fmt.Sprint(consentsOf(sp)) != "[Microsoft Graph/User.Read.All]" || len(exchangeRolesOfApp(s, reg.ClientID)) != 4 {
		t.Fatalf("consents=%v exchange=%v", consentsOf(sp), exchangeRolesOfApp(s, reg.ClientID))
	}
	n := 0
	for _, sc := range s.Snapshot().ManagementScopes {
		if sc.Name == ScopeName(reg.ClientID) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d scopes", n)
	}
	// Each create was sent once (its lost answer recovered by reading), except addPassword:
	// its value is needed, so the orphan is removed and the secret added again.
	c := s.Counters().ByRoute
	for route, want := range map[string]int{"graph.applications.create": 1, "graph.servicePrincipals.create": 1, "graph.appRoleAssignedTo.create": 1,
		"graph.applications.addPassword": 2, "graph.applications.removePassword": 1, "exo.New-ManagementScope": 1, "exo.New-ServicePrincipal": 1, "exo.New-ManagementRoleAssignment": 4} {
		if c[route] != want {
			t.Errorf("%s sent %d times, want %d", route, c[route], want)
		}
	}
	// The secret that works is the one returned (the orphan of the lost answer is gone).
	if err := mailboxReachable(t, e, cl, reg.ClientID, reg.Secret.Value, inScope); err != nil {
		t.Fatal(err)
	}
}

// Without Privileged Role Administrator the consent to Graph fails with the right to grant
// named; what was made is returned, and the next run (with the right) finishes it.
func TestRegisterWithoutPrivilegedRoleAdministrator(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	spec := regSpec(cl, mgmtNoPRA, false)
	reg, err := e.Register(ctx, spec)
	ce, ok := AsError(err)
	if !ok || ce.Problem != ProblemManagementDenied || !strings.Contains(ce.Detail, "Privileged Role Administrator") ||
		!strings.Contains(ce.Detail, "AppRoleAssignment.ReadWrite.All") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), mgmtSecret) {
		t.Fatal("the management secret is in the error")
	}
	if reg.ObjectID == "" || reg.ClientID == "" || reg.ServicePrincipalID == "" {
		t.Fatalf("what was made is not returned: %+v", reg)
	}
	spec.Management.Name, spec.Known = mgmtFull, *reg
	done, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if done.ClientID != reg.ClientID || countApps(s, spec.DisplayName) != 1 || len(done.Missing) != 0 {
		t.Fatalf("done=%+v apps=%d", done, countApps(s, spec.DisplayName))
	}
}

func TestRegisterScopedWithoutExchangeRights(t *testing.T) {
	_, e, cl := regSetup(t)
	_, err := e.Register(context.Background(), regSpec(cl, mgmtNoExchange, true))
	ce, ok := AsError(err)
	if !ok || ce.Problem != ProblemManagementDenied || !strings.Contains(ce.Detail, "Exchange.ManageAsApp") || !strings.Contains(ce.Detail, "Exchange Administrator") {
		t.Fatalf("err = %v", err)
	}
}

// Delete removes what the registration made, and nothing that existed before.
func TestUnregisterRemovesOnlyItsOwn(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	before := s.Snapshot()
	spec := regSpec(cl, mgmtFull, true)
	reg, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.Known = *reg
	if err := e.Unregister(ctx, spec); err != nil {
		t.Fatal(err)
	}
	after := s.Snapshot()
	if len(after.Applications) != len(before.Applications) || len(after.ServicePrincipals) != len(before.ServicePrincipals) ||
		len(after.ExchangeServicePrincipals) != len(before.ExchangeServicePrincipals) || len(after.ManagementScopes) != len(before.ManagementScopes) {
		t.Fatalf("before %d/%d/%d/%d after %d/%d/%d/%d", len(before.Applications), len(before.ServicePrincipals), len(before.ExchangeServicePrincipals), len(before.ManagementScopes),
			len(after.Applications), len(after.ServicePrincipals), len(after.ExchangeServicePrincipals), len(after.ManagementScopes))
	}
	_, other := appOf(s, otherApp)
	if fmt.Sprint(consentsOf(other)) != "[Microsoft Graph/Mail.ReadWrite]" || len(exchangeRolesOfApp(s, otherApp)) != 1 {
		t.Fatal("the existing application lost its permissions")
	}
	// Deleting again (already gone) is fine.
	if err := e.Unregister(ctx, spec); err != nil {
		t.Fatal(err)
	}
}

// Import: only the client id is known; the read finds the rest.
func TestReadRegistrationByClientID(t *testing.T) {
	_, e, cl := regSetup(t)
	ctx := context.Background()
	spec := regSpec(cl, mgmtFull, false)
	reg, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.Known = Registration{ClientID: reg.ClientID}
	read, err := e.ReadRegistration(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if read.ObjectID != reg.ObjectID || read.ServicePrincipalID != reg.ServicePrincipalID || len(read.Missing) != 0 || read.Gone {
		t.Fatalf("read=%+v", read)
	}
}

// EWS: full_access_as_app on Exchange Online (not Graph's mail permissions), plus
// User.ReadWrite.All with user management; scoped, the Exchange role EWS.AccessAsApp instead.
func TestRegisterEWS(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	spec := regSpec(cl, mgmtFull, false)
	spec.Options = roles.AppOptions{Protocol: roles.ProtocolEWS, PublicFolders: true, UserManagement: true}
	reg, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	_, sp := appOf(s, reg.ClientID)
	want := "[Microsoft Graph/User.Read.All Microsoft Graph/User.ReadWrite.All Office 365 Exchange Online/full_access_as_app]"
	if got := consentsOf(sp); fmt.Sprint(got) != want || len(reg.Missing) != 0 {
		t.Fatalf("consents = %v, missing %v", got, reg.Missing)
	}
	spec.Known, spec.Options.Scoped, spec.RecipientFilter = *reg, true, filter
	scoped, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	_, sp = appOf(s, reg.ClientID)
	if got := consentsOf(sp); fmt.Sprint(got) != "[Microsoft Graph/User.Read.All Microsoft Graph/User.ReadWrite.All]" {
		t.Fatalf("scoped consents = %v", got)
	}
	if got := exchangeRolesOfApp(s, reg.ClientID); fmt.Sprint(got) != "[Application EWS.AccessAsApp@"+ScopeName(reg.ClientID)+"]" || len(scoped.Missing) != 0 {
		t.Fatalf("exchange roles = %v, missing %v", got, scoped.Missing)
	}
}

// An application that existed before is adopted (read by client id), completed with a
// scope and a certificate (the answers of the PATCH and the assignments lost), and removed
// again: only what the registration added goes; the application, its secret, its consent,
// its Exchange service principal and its own assignment stay.
func TestAdoptedRegistrationRemovesOnlyWhatItAdded(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	// A secret under the provider's name from before the import is the application's own too.
	if _, err := s.AddApplicationSecret(otherApp, emulator.SeedSecret{DisplayName: secretNamePrefix + "earlier", Value: "Earlier~Secret.0123456789abcdefghij"}); err != nil {
		t.Fatal(err)
	}
	before, beforeSP := appOf(s, otherApp)
	spec := regSpec(cl, mgmtFull, true)
	spec.Known = Registration{ClientID: otherApp}
	read, err := e.ReadRegistration(ctx, spec)
	if err != nil || read.Adoption == nil || read.ObjectID != before.ObjectID {
		t.Fatalf("read=%+v err=%v", read, err)
	}
	cert, err := emulator.NewTestCertificate("engine", time.Now().Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Certificate, err = ParsePublicCertificate(publicPart(t, cert.CertPEM)); err != nil {
		t.Fatal(err)
	}
	for _, route := range []string{"graph.applications.update", "exo.New-ManagementRoleAssignment"} {
		s.InjectFault(emulator.Fault{Route: route, DropResponse: true, Count: 2})
	}
	spec.Known = *read
	reg, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	app, sp := appOf(s, otherApp)
	a := reg.Adoption
	if a == nil || len(app.KeyCredentials) != 1 || len(a.Keys) != 1 || a.Keys[0] != app.KeyCredentials[0].KeyID ||
		len(a.Secrets) != 1 || reg.Secret == nil || a.Secrets[0] != reg.Secret.KeyID || !a.Scope || a.ExchangeServicePrincipal || a.ServicePrincipal ||
		len(a.Assignments) != 4 || len(a.Consents) != 1 {
		t.Fatalf("adoption %+v, keys %v", a, app.KeyCredentials)
	}
	// Its own tenant-wide Mail.ReadWrite stays (not Terraform's to revoke); User.Read.All is added.
	if got := consentsOf(sp); fmt.Sprint(got) != "[Microsoft Graph/Mail.ReadWrite Microsoft Graph/User.Read.All]" {
		t.Fatalf("consents %v", got)
	}
	if c := s.Counters().ByRoute; c["exo.New-ManagementRoleAssignment"] != 4 || c["graph.applications.update"] < 3 {
		t.Fatalf("assignments sent %d times (want 4: lost answers found again), PATCHes %d (two answers lost)",
			c["exo.New-ManagementRoleAssignment"], c["graph.applications.update"])
	}
	if got := exchangeRolesOfApp(s, otherApp); len(got) != 5 {
		t.Fatalf("exchange roles %v: want its own and the four in the registration's scope", got)
	}
	// The same certificate again: found by its thumbprint, not added twice.
	spec.Known = *reg
	if again, err := e.Register(ctx, spec); err != nil || len(again.Adoption.Keys) != 1 {
		t.Fatalf("again: %+v %v", again, err)
	}
	if app, _ := appOf(s, otherApp); len(app.KeyCredentials) != 1 {
		t.Fatalf("keys %v", app.KeyCredentials)
	}
	if err := e.Unregister(ctx, spec); err != nil {
		t.Fatal(err)
	}
	app, sp = appOf(s, otherApp)
	if app == nil || sp == nil || sp.ID != beforeSP.ID || len(app.KeyCredentials) != 0 || fmt.Sprint(app.PasswordCredentials) != fmt.Sprint(before.PasswordCredentials) {
		t.Fatalf("after: app=%+v sp=%v, secrets before %v", app, sp, before.PasswordCredentials)
	}
	if got := consentsOf(sp); fmt.Sprint(got) != fmt.Sprint(consentsOf(beforeSP)) {
		t.Fatalf("consents after %v, before %v", got, consentsOf(beforeSP))
	}
	if got := exchangeRolesOfApp(s, otherApp); fmt.Sprint(got) != "[Application Mail.ReadWrite@Sales mailboxes]" {
		t.Fatalf("exchange roles after %v", got)
	}
	for _, sc := range s.Snapshot().ManagementScopes {
		if sc.Name == ScopeName(otherApp) {
			t.Fatal("the registration's scope was left behind")
		}
	}
}

// A filter with a syntax error fails before any call; one Exchange refuses (an unknown
// property) fails at the scope, and the create is undone: no application is left.
func TestRegisterRefusedFilterLeavesNothing(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	spec := regSpec(cl, mgmtFull, true)
	spec.RecipientFilter = "Department -eq Sales"
	_, err := e.Register(ctx, spec)
	if ce, ok := AsError(err); !ok || ce.Problem != ProblemScopeRefused || !strings.Contains(ce.Detail, "write Department -eq 'Sales'") {
		t.Fatalf("err = %v", err)
	}
	if n := s.Counters().ByRoute["graph.applications.create"]; n != 0 {
		t.Fatalf("%d applications created for a filter with a syntax error", n)
	}
	spec.RecipientFilter = "NoSuchProperty -eq 'x'"
	reg, err := e.Register(ctx, spec)
	ce, ok := AsError(err)
	if !ok || ce.Problem != ProblemScopeRefused || !strings.Contains(ce.Detail, "deleted again") || reg.ObjectID != "" || reg.ClientID != "" {
		t.Fatalf("reg=%+v err=%v", reg, err)
	}
	if c := s.Counters().ByRoute; c["graph.applications.create"] != 1 || countApps(s, spec.DisplayName) != 0 {
		t.Fatalf("created %d, left %d", c["graph.applications.create"], countApps(s, spec.DisplayName))
	}
	for _, p := range s.Snapshot().ExchangeServicePrincipals {
		if p.DisplayName == spec.DisplayName {
			t.Fatal("the Exchange service principal was left behind")
		}
	}
}

// An adopted application keeps what it asked for; the registration's needs are added.
func TestWithAccessKeepsTheApplicationsOwn(t *testing.T) {
	have := []graph.RequiredResourceAccess{{ResourceAppID: "graph", ResourceAccess: []graph.ResourceAccess{{ID: "sites", Type: "Role"}, {ID: "mail", Type: "Role"}}},
		{ResourceAppID: "sharepoint", ResourceAccess: []graph.ResourceAccess{{ID: "x", Type: "Scope"}}}}
	want := []graph.RequiredResourceAccess{{ResourceAppID: "GRAPH", ResourceAccess: []graph.ResourceAccess{{ID: "MAIL", Type: "Role"}, {ID: "users", Type: "Role"}}},
		{ResourceAppID: "exchange", ResourceAccess: []graph.ResourceAccess{{ID: "eas", Type: "Role"}}}}
	got := withAccess(have, want)
	if fmt.Sprint(got) != "[{graph [{sites Role} {mail Role} {users Role}]} {sharepoint [{x Scope}]} {exchange [{eas Role}]}]" {
		t.Fatalf("got %v", got)
	}
	if !sameAccess(withAccess(got, want), got) || len(have[0].ResourceAccess) != 2 {
		t.Fatalf("not idempotent, or have changed: %v", have)
	}
}

// The configured certificate of an adopted application (registered before, not added) is a
// managed credential: its end is the registration's credential expiry.
func TestAdoptedCertificateCountsForExpiry(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	cert, err := emulator.NewTestCertificate("engine", time.Now().Add(20*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApplicationCertificate(otherApp, emulator.SeedCertificate{DisplayName: "CN=engine", PEM: string(cert.CertPEM)}); err != nil {
		t.Fatal(err)
	}
	spec := regSpec(cl, mgmtFull, false)
	spec.CreateSecret = false
	if spec.Certificate, err = ParsePublicCertificate(publicPart(t, cert.CertPEM)); err != nil {
		t.Fatal(err)
	}
	spec.Known = Registration{ClientID: otherApp}
	read, err := e.ReadRegistration(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.Known = *read
	reg, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	app, _ := appOf(s, otherApp)
	if len(app.KeyCredentials) != 1 || len(reg.Adoption.Keys) != 0 || !reg.CredentialExpiresAt.Equal(cert.Certificate.NotAfter.UTC()) {
		t.Fatalf("keys %v, adoption %+v, expiry %v (certificate until %v)", app.KeyCredentials, reg.Adoption, reg.CredentialExpiresAt, cert.Certificate.NotAfter)
	}
}

// A tenant-wide consent of mailbox data given behind the provider's back to a scoped
// registration defeats the scope: the read names it with the command that removes it, and
// says nothing of the consents the scope does not concern.
func TestReadRegistrationNamesConsentsThatBypassTheScope(t *testing.T) {
	s, e, cl := regSetup(t)
	ctx := context.Background()
	spec := regSpec(cl, mgmtFull, true)
	reg, err := e.Register(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.ScopeBypassed) != 0 {
		t.Fatalf("a fresh scoped registration bypasses its scope: %+v", reg.ScopeBypassed)
	}
	if err := s.AddConsent(reg.ClientID, "graph", "Mail.ReadWrite"); err != nil {
		t.Fatal(err)
	}
	spec.Known = *reg
	read, err := e.ReadRegistration(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.ScopeBypassed) != 1 || read.ScopeBypassed[0].Permission != "Microsoft Graph/Mail.ReadWrite" ||
		!strings.Contains(read.ScopeBypassed[0].Revoke, "appId eq '"+reg.ClientID+"'") ||
		!strings.Contains(read.ScopeBypassed[0].Revoke, "Remove-MgServicePrincipalAppRoleAssignment") {
		t.Fatalf("scope bypassed = %+v", read.ScopeBypassed)
	}
	if text := ScopeBypassText(read.ScopeBypassed); !strings.Contains(text, "every mailbox") || !strings.Contains(text, read.ScopeBypassed[0].Revoke) {
		t.Fatalf("text: %s", text)
	}
	// Unscoped, the same consent is what the registration asks for: no bypass.
	spec.Options.Scoped, spec.WasScoped, spec.Known = false, true, *read
	if _, err := e.Register(ctx, spec); err != nil {
		t.Fatal(err)
	}
	unscoped, err := e.ReadRegistration(ctx, spec)
	if err != nil || len(unscoped.ScopeBypassed) != 0 {
		t.Fatalf("unscoped: %+v, %v", unscoped.ScopeBypassed, err)
	}
}
