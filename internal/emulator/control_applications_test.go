package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func TestControlAPIApplications(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	h := control(e.srv.ControlToken())
	f := testCertificates(t)
	const newApp = "d1849304-b5c6-41d2-b3e4-657081920314"

	body, _ := json.Marshal(map[string]any{"display_name": "added by control", "app_id": newApp,
		"secrets":           []map[string]any{{"value": "control-secret-1"}},
		"graph_permissions": []string{"Mail.ReadWrite"}})
	res := e.do("POST", "/_emulator/applications", h, body)
	if res.status != http.StatusCreated || res.json(t)["app_id"] != newApp {
		t.Fatalf("add application: %d %s", res.status, res.body)
	}
	if res = e.do("POST", "/_emulator/applications", h, body); res.status != http.StatusConflict {
		t.Errorf("the same app id again: %d %s", res.status, res.body)
	}
	if res = e.do("POST", "/_emulator/applications", h, []byte(`{"display_name":"x","graph_permissions":["Mail.Everything"]}`)); res.status != http.StatusBadRequest {
		t.Errorf("unknown permission: %d %s", res.status, res.body)
	}
	tok := func(secret string) response {
		return e.secretGrant("contoso.onmicrosoft.com", newApp, secret, graphScope)
	}
	if res = tok("control-secret-1"); res.status != http.StatusOK {
		t.Fatalf("token: %d %s", res.status, res.body)
	}

	// An expired secret and a PEM certificate.
	past, yesterday := time.Now().Add(-72*time.Hour), time.Now().Add(-time.Hour)
	secret, _ := json.Marshal(SeedSecret{DisplayName: "old", Value: "control-secret-2", Start: &past, End: &yesterday})
	if res = e.do("POST", "/_emulator/applications/"+newApp+"/secrets", h, secret); res.status != http.StatusCreated {
		t.Fatalf("add secret: %d %s", res.status, res.body)
	}
	if got := aadCode(t, tok("control-secret-2")); got != 7000222 {
		t.Errorf("expired secret: AADSTS%d", got)
	}
	// A working secret's end date moved into the past: it expires at once; moved back, it works.
	keyOf := func(value string) string {
		for _, a := range e.srv.Snapshot().Applications {
			for _, p := range a.PasswordCredentials {
				if a.AppID == newApp && strings.HasPrefix(value, p.Hint) && p.DisplayName != "old" {
					return p.KeyID
				}
			}
		}
		return ""
	}
	key := keyOf("control-secret-1")
	if res = e.do("PATCH", "/_emulator/applications/"+newApp+"/credentials/"+key, h, []byte(`{"end":"`+yesterday.UTC().Format(time.RFC3339)+`"}`)); res.status != http.StatusOK {
		t.Fatalf("move end: %d %s", res.status, res.body)
	}
	if got := aadCode(t, tok("control-secret-1")); got != 7000222 {
		t.Errorf("secret moved into the past: AADSTS%d", got)
	}
	if err := e.srv.SetApplicationCredentialEnd(newApp, key, time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if res = tok("control-secret-1"); res.status != http.StatusOK {
		t.Errorf("secret moved back: %d %s", res.status, res.body)
	}
	if res = e.do("PATCH", "/_emulator/applications/"+newApp+"/credentials/"+key, h, []byte(`{}`)); res.status != http.StatusBadRequest {
		t.Errorf("no end: %d %s", res.status, res.body)
	}
	cert, _ := json.Marshal(SeedCertificate{PEM: string(f.cert.PEM)}) // certificate and key: the key is not kept
	res = e.do("POST", "/_emulator/applications/"+newApp+"/certificates", h, cert)
	var app Application
	if err := json.Unmarshal(res.body, &app); res.status != http.StatusCreated || err != nil || len(app.KeyCredentials) != 1 ||
		app.KeyCredentials[0].Thumbprint != f.cert.Thumbprint || !app.KeyCredentials[0].End.Equal(f.cert.Certificate.NotAfter) {
		t.Fatalf("add certificate: %d %s", res.status, res.body)
	}
	if res = e.assertionGrant(newApp, assertionSpec{signer: f.cert}.sign(t, e.srv, newApp), graphScope); res.status != http.StatusOK {
		t.Errorf("certificate token: %d %s", res.status, res.body)
	}
	if res = e.do("DELETE", "/_emulator/applications/"+newApp+"/credentials/"+app.KeyCredentials[0].KeyID, h, nil); res.status != http.StatusOK {
		t.Errorf("remove credential: %d %s", res.status, res.body)
	}
	if got := aadCode(t, e.assertionGrant(newApp, assertionSpec{signer: f.cert}.sign(t, e.srv, newApp), graphScope)); got != 700027 {
		t.Errorf("removed certificate: AADSTS%d", got)
	}

	// Consents behind the provider's back.
	roles := func() any { return claims(t, as[string](t, tok("control-secret-1").json(t)["access_token"]))["roles"] }
	if res = e.do("POST", "/_emulator/applications/"+newApp+"/consents", h, []byte(`{"resource":"exchange","permission":"full_access_as_app"}`)); res.status != http.StatusCreated {
		t.Errorf("add consent: %d %s", res.status, res.body)
	}
	if res = e.do("DELETE", "/_emulator/applications/"+newApp+"/consents/"+url.PathEscape("Microsoft Graph")+"/Mail.ReadWrite", h, nil); res.status != http.StatusOK || res.json(t)["removed"] != float64(1) {
		t.Errorf("remove consent: %d %s", res.status, res.body)
	}
	if got := roles(); got != nil {
		t.Errorf("Graph roles after removal: %v", got)
	}
	// Directory and Exchange roles, and the service principal switch.
	if res = e.do("POST", "/_emulator/applications/"+newApp+"/directory-roles", h, []byte(`{"role":"Exchange Administrator"}`)); res.status != http.StatusCreated {
		t.Errorf("add directory role: %d %s", res.status, res.body)
	}
	if res = e.do("POST", "/_emulator/applications/"+newApp+"/exchange-roles", h, []byte(`{"role":"Application Mail.ReadWrite","scope":"tf-o365 target mailboxes"}`)); res.status != http.StatusCreated ||
		res.json(t)["custom_resource_scope"] != "tf-o365 target mailboxes" || res.json(t)["role_assignee_type"] != "ServicePrincipal" {
		t.Errorf("add exchange role: %d %s", res.status, res.body)
	}
	st := e.srv.Snapshot()
	var ptr *ExchangeServicePrincipal
	for i := range st.ExchangeServicePrincipals {
		if st.ExchangeServicePrincipals[i].AppID == newApp {
			ptr = &st.ExchangeServicePrincipals[i]
		}
	}
	if ptr == nil || len(ptr.Assignments) != 1 || ptr.ObjectID != spID(t, e.srv, newApp) {
		t.Errorf("Exchange service principal in state: %+v", ptr)
	}
	if res = e.do("DELETE", "/_emulator/applications/"+newApp+"/exchange-roles/"+url.PathEscape("Application Mail.ReadWrite"), h, nil); res.status != http.StatusOK || res.json(t)["removed"] != float64(1) {
		t.Errorf("remove exchange role: %d %s", res.status, res.body)
	}
	if res = e.do("PATCH", "/_emulator/applications/"+newApp, h, []byte(`{"enabled":false}`)); res.status != http.StatusOK {
		t.Errorf("disable: %d %s", res.status, res.body)
	}
	if got := aadCode(t, tok("control-secret-1")); got != 7000112 {
		t.Errorf("disabled: AADSTS%d", got)
	}
	if res = e.do("POST", "/_emulator/management-scopes", h, []byte(`{"name":"sales","recipient_filter":"Department -eq 'Sales'"}`)); res.status != http.StatusCreated {
		t.Errorf("add scope: %d %s", res.status, res.body)
	}
	if res = e.do("POST", "/_emulator/management-scopes", h, []byte(`{"name":"bad","recipient_filter":"Department -eq"}`)); res.status != http.StatusBadRequest {
		t.Errorf("bad scope: %d %s", res.status, res.body)
	}
	if res = e.do("PUT", "/_emulator/rbac-delay", h, []byte(`{"delay":"45m"}`)); res.status != http.StatusOK || e.srv.Snapshot().Tenant.RBACDelay != 45*time.Minute {
		t.Errorf("rbac delay: %d %s", res.status, res.body)
	}
	if res = e.do("PATCH", "/_emulator/organization", h, []byte(`{"impersonation_retired":true,"ews_enabled":false,"ews_disablement_date":"2026-10-01"}`)); res.status != http.StatusOK ||
		res.json(t)["impersonation_retired"] != true || res.json(t)["ews_enabled"] != false || res.json(t)["ews_disablement_date"] != "2026-10-01" {
		t.Errorf("organization: %d %s", res.status, res.body)
	}

	// State shows the new objects, never a secret.
	state := e.do("GET", "/_emulator/state", h, nil)
	for _, secret := range []string{"control-secret-1", "control-secret-2", appSecret, "PRIVATE KEY"} {
		if strings.Contains(string(state.body), secret) {
			t.Errorf("state shows %q", secret)
		}
	}
	var decoded State
	if err := json.Unmarshal(state.body, &decoded); err != nil || len(decoded.Applications) != 9 || len(decoded.ResourceServicePrincipals) != 2 ||
		len(decoded.ManagementScopes) != 2 || decoded.Tenant.RBACDelay != 45*time.Minute || !decoded.Organization.ImpersonationRetired {
		t.Errorf("state: %v %+v", err, decoded.Organization)
	}
	if res = e.do("DELETE", "/_emulator/applications/"+newApp, h, nil); res.status != http.StatusNoContent {
		t.Errorf("delete: %d", res.status)
	}
	if got := aadCode(t, tok("control-secret-1")); got != 700016 {
		t.Errorf("deleted: AADSTS%d", got)
	}
	if res = e.do("DELETE", "/_emulator/applications/"+newApp, h, nil); res.status != http.StatusNotFound {
		t.Errorf("delete again: %d", res.status)
	}
	// Reset brings the seed back.
	_ = e.srv.Reset()
	if st := e.srv.Snapshot(); len(st.Applications) != 8 || st.Organization.ImpersonationRetired || st.Tenant.RBACDelay != 0 {
		t.Errorf("after reset: %d apps, %+v", len(st.Applications), st.Organization)
	}
}

func TestResourceServicePrincipalsCarryWireIDs(t *testing.T) {
	e := startTest(t, Options{})
	want := map[string]map[string]string{
		"Microsoft Graph": {"Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9", "Calendars.ReadWrite": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
			"Contacts.ReadWrite": "6918b873-d17a-4dc1-b314-35f528134491", "MailboxSettings.ReadWrite": "6931bccd-447a-43d1-b442-00a195474933",
			"Tasks.ReadWrite.All": "44e666d1-d276-445b-a5fc-8815eeb81d55", "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
			"User.ReadWrite.All": "741f803b-c850-494e-b5df-cde7c675a1ca", "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
			"Organization.Read.All": "498476ce-e0fe-48b0-b801-37ba7e2685c6", "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
			"Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
			"Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "RoleManagement.ReadWrite.Directory": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8"},
		"Office 365 Exchange Online": {"full_access_as_app": "dc890d15-9560-4a4c-9b7f-a736ec74ec40", "Exchange.ManageAsApp": "dc50a0fb-09a3-484d-be87-e023b12c6440"},
	}
	appIDs := map[string]string{"Microsoft Graph": graphAppID, "Office 365 Exchange Online": exchangeAppID}
	st := e.srv.Snapshot()
	if len(st.ResourceServicePrincipals) != 2 || len(st.Applications) != 0 || len(st.ServicePrincipals) != 0 {
		t.Fatalf("the seed's world: %+v", st.ResourceServicePrincipals)
	}
	for _, sp := range st.ResourceServicePrincipals {
		if sp.AppID != appIDs[sp.DisplayName] {
			t.Errorf("%s app id %s", sp.DisplayName, sp.AppID)
		}
		got := map[string]string{}
		for _, r := range sp.AppRoles {
			got[r.Value] = r.ID
		}
		for value, id := range want[sp.DisplayName] {
			if got[value] != id {
				t.Errorf("%s %s = %s, want %s (WIRE §I8)", sp.DisplayName, value, got[value], id)
			}
		}
	}
	// Exchange's legacy Mail.ReadWrite is not Graph's.
	if legacyExchangeRoleID("Mail.ReadWrite") == want["Microsoft Graph"]["Mail.ReadWrite"] {
		t.Error("legacy Exchange role shares Graph's id")
	}
}

func TestSeedAppWorldValidation(t *testing.T) {
	base := func() *Seed {
		s, err := ParseSeed([]byte(testSeedJSON))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, tc := range map[string]struct {
		change func(*Seed)
		want   string
	}{
		"bad certificate": {func(s *Seed) {
			s.Applications = []SeedApplication{{DisplayName: "a", Certificates: []SeedCertificate{{PEM: "nope"}}}}
		}, "no PEM CERTIFICATE block"},
		"unknown permission": {func(s *Seed) {
			s.Applications = []SeedApplication{{DisplayName: "a", GraphPermissions: []string{"Mail.Everything"}}}
		}, `"Mail.Everything" is not an application permission of Microsoft Graph`},
		"unknown scope": {func(s *Seed) {
			s.Applications = []SeedApplication{{DisplayName: "a", ExchangeRoles: []SeedAppExchangeRole{{Role: "Application Mail.Read", Scope: "nope"}}}}
		}, `unknown management scope "nope"`},
		"bad filter": {func(s *Seed) {
			s.ManagementScopes = []SeedManagementScope{{Name: "x", RecipientFilter: "CustomAttribute16 -eq 'a'"}}
		}, "not a recognized filterable property"},
		"custom attribute key": {func(s *Seed) { s.Users[0].CustomAttributes = map[string]string{"16": "x"} }, `custom_attributes key "16"`},
		"bad date":             {func(s *Seed) { s.EWS = &SeedEWS{EndDate: "1 April 2027"} }, "ews.end_date"},
		"duplicate app id": {func(s *Seed) {
			s.Applications = []SeedApplication{{DisplayName: "a", AppID: fullAppID}, {DisplayName: "b", AppID: fullAppID}}
		}, "duplicate app_id"},
		"resource app id":     {func(s *Seed) { s.Applications = []SeedApplication{{DisplayName: "a", AppID: graphAppID}} }, "Microsoft resource"},
		"negative rbac delay": {func(s *Seed) { s.RBACDelay = -time.Second }, "rbac_delay is negative"},
	} {
		s := base()
		tc.change(s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	// Omitted, the new fields leave the seed's world as it was; the JSON
	// round trip (Start copies the seed through JSON) keeps them.
	s := appSeed(t)
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseSeed(data)
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if !reflect.DeepEqual(again.Applications[1].ExchangeRoles, s.Applications[1].ExchangeRoles) || again.Users[9].CustomAttributes["15"] != "migrate" {
		t.Errorf("round trip lost fields")
	}
	if _, err := ParseSeed([]byte(`{"tenant_id":"72f988bf-86f1-41af-91ab-2d7cd011db47","display_name":"C","domains":["c.com"],"users":[],"rbac_delay":"5m","impersonation_retired":true,"ews":{"enabled":null,"allowed_app_ids":null,"end_date":"2027-04-01"}}`)); err != nil {
		t.Errorf("app-world fields: %v", err)
	}
}

func TestNewTestCertificate(t *testing.T) {
	soon := time.Now().Add(10 * 24 * time.Hour).Truncate(time.Second)
	c, err := NewTestCertificate("expiring soon", soon)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Certificate.NotAfter.Equal(soon) || c.Certificate.Subject.CommonName != "expiring soon" || len(c.Thumbprint) != 40 {
		t.Errorf("certificate %v %s", c.Certificate.NotAfter, c.Thumbprint)
	}
	for name, parse := range map[string]func() (int, error){
		"PEM": func() (int, error) { certs, _, err := azidentity.ParseCertificates(c.PEM, nil); return len(certs), err },
		"PKCS#12": func() (int, error) {
			certs, _, err := azidentity.ParseCertificates(c.PKCS12, []byte(c.PKCS12Password))
			return len(certs), err
		},
	} {
		if n, err := parse(); err != nil || n != 1 {
			t.Errorf("%s: %d %v", name, n, err)
		}
	}
	if _, _, err := azidentity.ParseCertificates(c.PKCS12, []byte("wrong")); err == nil {
		t.Error("PKCS#12 opens with a wrong password")
	}
	expired, err := NewTestCertificate("expired", time.Now().Add(-time.Hour))
	if err != nil || !expired.Certificate.NotBefore.Before(expired.Certificate.NotAfter) || time.Now().Before(expired.Certificate.NotAfter) {
		t.Errorf("expired certificate: %v", err)
	}
}

func TestAppIDsAreDeterministic(t *testing.T) {
	run := func() State {
		e := startAppTest(t, Options{}, nil)
		_, _ = e.srv.AddApplication(SeedApplication{DisplayName: "later", Secrets: []SeedSecret{{Value: "x"}}, GraphPermissions: []string{"User.Read.All"}})
		st := e.srv.Snapshot()
		for i := range st.Applications {
			st.Applications[i].CreatedAt = time.Time{}
			for j := range st.Applications[i].PasswordCredentials {
				st.Applications[i].PasswordCredentials[j].Start, st.Applications[i].PasswordCredentials[j].End = time.Time{}, time.Time{}
			}
		}
		for i := range st.ServicePrincipals {
			for j := range st.ServicePrincipals[i].Consents {
				st.ServicePrincipals[i].Consents[j].CreatedAt = time.Time{}
			}
		}
		for i := range st.ExchangeServicePrincipals {
			for j := range st.ExchangeServicePrincipals[i].Assignments {
				st.ExchangeServicePrincipals[i].Assignments[j].CreatedAt = time.Time{}
			}
		}
		st.Users, st.RoleGroups = nil, nil
		return st
	}
	if a, b := run(), run(); !reflect.DeepEqual(a, b) {
		t.Errorf("two runs differ:\n%+v\n%+v", a, b)
	}
}

// TestExchangeOnline2026Seed: testdata/exchange-online-2026.json is a tenant
// of Exchange Online today (WIRE §0, §K): the role retired, EWS off for an
// organization that never configured it, apps instead of admin accounts.
func TestExchangeOnline2026Seed(t *testing.T) {
	seed, err := LoadSeed("testdata/exchange-online-2026.json")
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	srv, err := Start(seed, Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	e := &testEnv{t: t, srv: srv, client: trustingClient(t, srv, false)}
	const mgmt, mgmtSecret = "0f5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d", "Mgmt~Secret.0123456789abcdefghijklmno"
	grant := func(client, secret, scope string) response {
		return e.secretGrant("fabrikam.onmicrosoft.com", client, secret, scope)
	}
	if got := aadCode(t, grant("1a6c7d8e-9fa0-4b1c-8d2e-3f4a5b6c7d8e", "Old~Secret.0123456789abcdefghijklmnop", exchangeScope)); got != 7000222 {
		t.Errorf("the legacy app's expired secret: AADSTS%d", got)
	}
	res := grant(mgmt, mgmtSecret, exchangeScope)
	if res.status != http.StatusOK {
		t.Fatalf("management token: %d %s", res.status, res.body)
	}
	exo := as[string](t, res.json(t)["access_token"])
	body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": "Get-ManagementRole", "Parameters": map[string]any{"Identity": "ApplicationImpersonation"}}})
	h := bearer(exo)
	h["X-AnchorMailbox"] = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@fabrikam.onmicrosoft.com"
	res = e.do("POST", "/adminapi/beta/fabrikam.onmicrosoft.com/InvokeCommand", h, body)
	assertCmdletError(t, res, "ManagementObjectNotFoundException")
	body, _ = json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": "Get-OrganizationConfig", "Parameters": map[string]any{}}})
	if org := values(t, e.do("POST", "/adminapi/beta/fabrikam.onmicrosoft.com/InvokeCommand", h, body))[0]; org["EwsEnabled"] != nil {
		t.Errorf("EwsEnabled %v", org["EwsEnabled"])
	}
	// No admin account to fall back on: the Global Administrator is under MFA.
	if res := e.passwordGrant("fabrikam.onmicrosoft.com", "admin@fabrikam.onmicrosoft.com", "Fabr1kam-Admin!", exchangeScope); aadCode(t, res) != 50076 {
		t.Errorf("the admin is under MFA: %s", res.body)
	}
	if err := srv.AddConsent(mgmt, "exchange", "full_access_as_app"); err != nil {
		t.Fatal(err)
	}
	full := as[string](t, grant(mgmt, mgmtSecret, exchangeScope).json(t)["access_token"])
	if res := e.ewsApp(t, "2026 closed", full, "anna@fabrikam.com", getFolderRequest("PrimarySmtpAddress", "anna@fabrikam.com", "IdOnly", "inbox")); res.status != http.StatusForbidden {
		t.Errorf("EWS after the disablement date: %d", res.status)
	}
	yes := true
	srv.SetOrganizationEWSEnabled(&yes)
	if res := e.ewsApp(t, "2026 reopened", full, "anna@fabrikam.com", getFolderRequest("PrimarySmtpAddress", "anna@fabrikam.com", "IdOnly", "inbox")); res.status != http.StatusOK {
		t.Errorf("EWS with EwsEnabled true: %d", res.status)
	}
	if res := e.ewsApp(t, "2026 carla", full, "carla@fabrikam.com", getFolderRequest("PrimarySmtpAddress", "carla@fabrikam.com", "IdOnly", "inbox")); res.status != http.StatusForbidden {
		t.Errorf("Carla's mailbox is closed: %d", res.status)
	}
	clock.Advance(121 * 24 * time.Hour) // 2027-04-01
	full = as[string](t, grant(mgmt, mgmtSecret, exchangeScope).json(t)["access_token"])
	if res := e.ewsApp(t, "2027", full, "anna@fabrikam.com", getFolderRequest("PrimarySmtpAddress", "anna@fabrikam.com", "IdOnly", "inbox")); res.status != http.StatusForbidden {
		t.Errorf("EWS after its end: %d", res.status)
	}
	// The scope selects the Sales mailboxes (not the unlicensed Sales user).
	if _, err := srv.AddServicePrincipalExchangeRole(mgmt, SeedAppExchangeRole{Role: "Application Mail.Read", Scope: "Sales mailboxes"}); err != nil {
		t.Fatal(err)
	}
	h["Authorization"] = "Bearer " + as[string](t, grant(mgmt, mgmtSecret, exchangeScope).json(t)["access_token"])
	for who, want := range map[string]bool{"anna@fabrikam.com": true, "ben@fabrikam.com": true, "carla@fabrikam.com": false, "dev@fabrikam.com": false} {
		body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": "Test-ServicePrincipalAuthorization",
			"Parameters": map[string]any{"Identity": mgmt, "Resource": who}}})
		if rows := values(t, e.do("POST", "/adminapi/beta/fabrikam.onmicrosoft.com/InvokeCommand", h, body)); len(rows) != 1 || rows[0]["InScope"] != want {
			t.Errorf("%s: %v, want InScope %v", who, rows, want)
		}
	}
	st := srv.Snapshot()
	if len(st.ManagementScopes) != 1 || !st.Organization.ImpersonationRetired || st.Organization.EWSEndDate != "2027-04-01" {
		t.Errorf("state %+v %+v", st.ManagementScopes, st.Organization)
	}
}

func TestOptionsRBACDelayOverridesSeed(t *testing.T) {
	e := startAppTest(t, Options{RBACDelay: 5 * time.Minute}, func(s *Seed) { s.RBACDelay = time.Hour })
	if got := e.srv.Snapshot().Tenant.RBACDelay; got != 5*time.Minute {
		t.Errorf("rbac delay %v", got)
	}
	e.srv.SetRBACDelay(0)
	_ = e.srv.Reset()
	if got := e.srv.Snapshot().Tenant.RBACDelay; got != 5*time.Minute {
		t.Errorf("after reset: %v", got)
	}
}
