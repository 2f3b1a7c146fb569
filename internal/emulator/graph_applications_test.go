package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// management returns an app-only Graph token of the management identity
// (Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All,
// Application.Read.All, Privileged Role Administrator).
func (e *testEnv) management() string { return e.appToken(managementAppID, graphScope) }

func TestGraphApplicationLifecycle(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	tok := e.management()
	f := testCertificates(t)
	create := `{"displayName":"tf-o365 created target","signInAudience":"AzureADMyOrg","tags":["tf-o365:7d3b5e8a"],
	 "requiredResourceAccess":[{"resourceAppId":"00000003-0000-0000-c000-000000000000","resourceAccess":[{"id":"e2a3a72e-5f79-4c64-b1b1-878b674786c9","type":"Role"}]}]}`
	res := e.do("POST", "/v1.0/applications", bearer(tok), []byte(create))
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	app := res.json(t)
	id, appID := as[string](t, app["id"]), as[string](t, app["appId"])
	if app["@odata.context"] != e.srv.URL()+"/v1.0/$metadata#applications/$entity" || app["displayName"] != "tf-o365 created target" ||
		len(id) != 36 || len(appID) != 36 || id == appID || res.header.Get("Location") != e.srv.URL()+"/v1.0/applications/"+id {
		t.Errorf("created %v %v", app, res.header)
	}
	for _, k := range []string{"keyCredentials", "passwordCredentials", "identifierUris"} {
		if v, ok := app[k].([]any); !ok || len(v) != 0 {
			t.Errorf("%s = %v", k, app[k])
		}
	}
	if jsonPath(t, app, "requiredResourceAccess", 0, "resourceAccess", 0, "id") != "e2a3a72e-5f79-4c64-b1b1-878b674786c9" {
		t.Errorf("requiredResourceAccess %v", app["requiredResourceAccess"])
	}

	// Found again by the tag the client set, or by appId, or by name.
	for _, filter := range []string{"tags/any(t:t eq 'tf-o365:7d3b5e8a')", "appId eq '" + appID + "'", "startswith(displayName,'tf-o365 cre')",
		"displayName eq 'TF-O365 CREATED TARGET' and tags/any(x:x eq 'tf-o365:7d3b5e8a')"} {
		list := e.do("GET", "/v1.0/applications?$filter="+url.QueryEscape(filter)+"&$select=id,appId,tags", bearer(tok), nil)
		v := as[[]any](t, jsonPath(t, list.json(t), "value"))
		if list.status != http.StatusOK || len(v) != 1 || as[map[string]any](t, v[0])["id"] != id || len(as[map[string]any](t, v[0])) != 3 {
			t.Errorf("%s: %d %s", filter, list.status, list.body)
		}
	}
	for _, filter := range []string{"notes eq 'x'", "tags/any(t:t ne 'x')", "appId eq x", "contains(displayName,'x')"} {
		if res := e.do("GET", "/v1.0/applications?$filter="+url.QueryEscape(filter), bearer(tok), nil); res.status != http.StatusBadRequest ||
			jsonPath(t, res.json(t), "error", "code") != "Request_UnsupportedQuery" {
			t.Errorf("%s: %d %s", filter, res.status, res.body)
		}
	}
	if v := as[[]any](t, jsonPath(t, e.do("GET", "/v1.0/applications?$filter="+url.QueryEscape("tags/any(t:t eq 'nope')"), bearer(tok), nil).json(t), "value")); len(v) != 0 {
		t.Errorf("no match: %v", v)
	}

	// Secrets: the value is returned once.
	res = e.do("POST", "/v1.0/applications/"+id+"/addPassword", bearer(tok), []byte(`{"passwordCredential":{"displayName":"tf-o365","endDateTime":"2030-01-01T00:00:00Z"}}`))
	secret := res.json(t)
	text, _ := secret["secretText"].(string)
	if res.status != http.StatusOK || len(text) < 16 || len(text) > 64 || secret["hint"] != text[:3] || secret["endDateTime"] != "2030-01-01T00:00:00Z" || secret["keyId"] == nil {
		t.Fatalf("addPassword: %d %s", res.status, res.body)
	}
	got := e.do("GET", "/v1.0/applications/"+id, bearer(tok), nil)
	if strings.Contains(string(got.body), text) || jsonPath(t, got.json(t), "passwordCredentials", 0, "secretText") != nil ||
		jsonPath(t, got.json(t), "passwordCredentials", 0, "keyId") != secret["keyId"] {
		t.Errorf("the secret is shown again: %s", got.body)
	}
	// Default end: two years after start.
	res = e.do("POST", "/v1.0/applications(appId='"+appID+"')/addPassword", bearer(tok), []byte(`{}`))
	second := res.json(t)
	start, _ := time.Parse(graphTime, as[string](t, second["startDateTime"]))
	end, _ := time.Parse(graphTime, as[string](t, second["endDateTime"]))
	if res.status != http.StatusOK || !end.Equal(start.AddDate(2, 0, 0)) {
		t.Errorf("addPassword by appId, default end: %d %s", res.status, res.body)
	}

	// No service principal yet: the secret is useless (AADSTS7000229).
	if got := aadCode(t, e.secretGrant("contoso.onmicrosoft.com", appID, text, graphScope)); got != 7000229 {
		t.Errorf("token before the service principal: AADSTS%d", got)
	}
	res = e.do("POST", "/v1.0/servicePrincipals", bearer(tok), []byte(`{"appId":"`+appID+`"}`))
	sp := res.json(t)
	if res.status != http.StatusCreated || sp["appId"] != appID || sp["accountEnabled"] != true || sp["id"] == id || len(as[[]any](t, sp["appRoles"])) != 0 {
		t.Fatalf("create service principal: %d %s", res.status, res.body)
	}
	if res = e.do("POST", "/v1.0/servicePrincipals", bearer(tok), []byte(`{"appId":"`+appID+`"}`)); res.status != http.StatusConflict {
		t.Errorf("second service principal: %d %s", res.status, res.body)
	}
	if res = e.do("POST", "/v1.0/servicePrincipals", bearer(tok), []byte(`{"appId":"00000000-0000-0000-0000-000000000001"}`)); res.status != http.StatusBadRequest {
		t.Errorf("service principal of no app: %d %s", res.status, res.body)
	}
	if res = e.secretGrant("contoso.onmicrosoft.com", appID, text, graphScope); res.status != http.StatusOK {
		t.Errorf("token with the new secret: %d %s", res.status, res.body)
	}

	// Certificate by PATCH: the list replaces the stored one.
	patch := func(body string) response { return e.do("PATCH", "/v1.0/applications/"+id, bearer(tok), []byte(body)) }
	key := func(c *TestCertificate) string {
		return fmt.Sprintf(`{"type":"AsymmetricX509Cert","usage":"Verify","key":%q,"displayName":"CN=tf-o365"}`, c.KeyBase64)
	}
	if res = patch(`{"keyCredentials":[` + key(f.cert) + `,` + key(f.otherCert) + `]}`); res.status != http.StatusNoContent {
		t.Fatalf("PATCH keyCredentials: %d %s", res.status, res.body)
	}
	if res = e.assertionGrant(appID, assertionSpec{signer: f.otherCert}.sign(t, e.srv, appID), graphScope); res.status != http.StatusOK {
		t.Errorf("token with the patched certificate: %d %s", res.status, res.body)
	}
	if res = patch(`{"keyCredentials":[` + key(f.cert) + `]}`); res.status != http.StatusNoContent {
		t.Fatal(res.status)
	}
	if got := aadCode(t, e.assertionGrant(appID, assertionSpec{signer: f.otherCert}.sign(t, e.srv, appID), graphScope)); got != 700027 {
		t.Errorf("replaced certificate still works: AADSTS%d", got)
	}
	keys := e.do("GET", "/v1.0/applications/"+id+"?$select=keyCredentials", bearer(tok), nil).json(t)
	if jsonPath(t, keys, "keyCredentials", 0, "key") != f.cert.KeyBase64 || len(as[[]any](t, keys["keyCredentials"])) != 1 {
		t.Errorf("$select=keyCredentials: %v", keys)
	}
	if jsonPath(t, e.do("GET", "/v1.0/applications/"+id, bearer(tok), nil).json(t), "keyCredentials", 0, "key") != nil {
		t.Error("key returned without $select")
	}
	list := e.do("GET", "/v1.0/applications?$filter=id+eq+'"+id+"'&$select=id,keyCredentials", bearer(tok), nil).json(t)
	if jsonPath(t, list, "value", 0, "keyCredentials", 0, "key") != nil {
		t.Error("key returned in a list: Graph returns it only on a single object's $select")
	}
	for name, body := range map[string]string{
		"bad key":              `{"keyCredentials":[{"type":"AsymmetricX509Cert","usage":"Verify","key":"bm90IGEgY2VydA=="}]}`,
		"symmetric":            `{"keyCredentials":[{"type":"Symmetric","usage":"Sign","key":"` + f.cert.KeyBase64 + `"}]}`,
		"end after the cert":   `{"keyCredentials":[{"type":"AsymmetricX509Cert","usage":"Verify","key":"` + f.cert.KeyBase64 + `","endDateTime":"2099-01-01T00:00:00Z"}]}`,
		"passwordCredentials":  `{"passwordCredentials":[{"displayName":"x"}]}`,
		"unknown property":     `{"colour":"blue"}`,
		"empty displayName":    `{"displayName":" "}`,
		"foreign identifier":   `{"identifierUris":["api://tf-o365-target"]}`,
		"unverified https uri": `{"identifierUris":["https://fabrikam.com/app"]}`,
	} {
		if res := patch(body); res.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	if res = patch(`{"identifierUris":["api://` + appID + `"],"displayName":"renamed"}`); res.status != http.StatusNoContent {
		t.Errorf("api://<appId>: %d %s", res.status, res.body)
	}
	if v := e.do("GET", "/v1.0/servicePrincipals/"+as[string](t, sp["id"]), bearer(tok), nil).json(t); v["displayName"] != "renamed" ||
		len(as[[]any](t, v["servicePrincipalNames"])) != 2 {
		t.Errorf("service principal after rename: %v", v)
	}

	// removePassword, then delete: the service principal goes too.
	if res = e.do("POST", "/v1.0/applications/"+id+"/removePassword", bearer(tok), []byte(`{"keyId":"`+as[string](t, secret["keyId"])+`"}`)); res.status != http.StatusNoContent {
		t.Errorf("removePassword: %d %s", res.status, res.body)
	}
	if got := aadCode(t, e.secretGrant("contoso.onmicrosoft.com", appID, text, graphScope)); got != 7000215 {
		t.Errorf("removed secret: AADSTS%d", got)
	}
	if res = e.do("POST", "/v1.0/applications/"+id+"/removePassword", bearer(tok), []byte(`{"keyId":"`+as[string](t, secret["keyId"])+`"}`)); res.status != http.StatusNotFound {
		t.Errorf("removePassword again: %d", res.status)
	}
	if res = e.do("DELETE", "/v1.0/applications/"+id, bearer(tok), nil); res.status != http.StatusNoContent {
		t.Errorf("delete: %d", res.status)
	}
	if res = e.do("GET", "/v1.0/servicePrincipals/"+as[string](t, sp["id"]), bearer(tok), nil); res.status != http.StatusNotFound {
		t.Errorf("service principal after the app's deletion: %d", res.status)
	}
	if res = e.do("GET", "/v1.0/applications(appId='"+appID+"')", bearer(tok), nil); res.status != http.StatusNotFound {
		t.Errorf("deleted app by appId: %d", res.status)
	}
	c := e.srv.Counters().ByRoute
	for _, route := range []string{"graph.applications.create", "graph.applications.list", "graph.applications.get", "graph.applications.update",
		"graph.applications.delete", "graph.applications.addPassword", "graph.applications.removePassword", "graph.servicePrincipals.create", "graph.servicePrincipals.get"} {
		if c[route] == 0 {
			t.Errorf("route %s not counted", route)
		}
	}
}

func TestGraphServicePrincipalsOfResources(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	tok := e.management()
	res := e.do("GET", "/v1.0/servicePrincipals?$filter="+url.QueryEscape("appId eq '00000002-0000-0ff1-ce00-000000000000'")+"&$select=id,appId,displayName,appRoles", bearer(tok), nil)
	body := res.json(t)
	if body["@odata.context"] != e.srv.URL()+"/v1.0/$metadata#servicePrincipals(id,appId,displayName,appRoles)" {
		t.Errorf("context %v", body["@odata.context"])
	}
	exo := as[map[string]any](t, jsonPath(t, body, "value", 0))
	if exo["displayName"] != "Office 365 Exchange Online" || len(exo) != 4 {
		t.Fatalf("Exchange Online: %v", exo)
	}
	role := as[map[string]any](t, jsonPath(t, exo, "appRoles", 0))
	if role["value"] != "full_access_as_app" || role["id"] != "dc890d15-9560-4a4c-9b7f-a736ec74ec40" || role["isEnabled"] != true ||
		role["origin"] != "Application" || jsonPath(t, role, "allowedMemberTypes", 0) != "Application" {
		t.Errorf("appRole %v", role)
	}
	if v := as[[]any](t, jsonPath(t, e.do("GET", "/v1.0/servicePrincipals?$filter="+url.QueryEscape("appId eq '00000007-0000-0000-c000-000000000000'"), bearer(tok), nil).json(t), "value")); len(v) != 0 {
		t.Errorf("an absent resource: %v", v)
	}
	// Paging over every service principal (2 resources + 7 seeded clients).
	e.srv.graphPageSize = 4
	n, next := 0, "/v1.0/servicePrincipals?$select=id"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		b := e.do("GET", next, bearer(tok), nil).json(t)
		n += len(as[[]any](t, b["value"]))
		link, _ := b["@odata.nextLink"].(string)
		next = strings.TrimPrefix(link, e.srv.URL())
	}
	if n != 9 {
		t.Errorf("paged %d service principals", n)
	}
	if res := e.do("DELETE", "/v1.0/servicePrincipals/"+as[string](t, exo["id"]), bearer(tok), nil); res.status != http.StatusForbidden {
		t.Errorf("delete Exchange Online: %d", res.status)
	}
}

func TestGraphConsent(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	tok := e.management()
	st := e.srv.Snapshot()
	resource := map[string]string{}
	for _, r := range st.ResourceServicePrincipals {
		resource[r.DisplayName] = r.ID
	}
	graph, exo := resource["Microsoft Graph"], resource["Office 365 Exchange Online"]
	principal := spID(t, e.srv, bareAppID)
	grant := func(token, resourceID, roleID string) response {
		body := fmt.Sprintf(`{"principalId":%q,"resourceId":%q,"appRoleId":%q}`, principal, resourceID, roleID)
		return e.do("POST", "/v1.0/servicePrincipals/"+resourceID+"/appRoleAssignedTo", bearer(token), []byte(body))
	}
	res := grant(tok, graph, "e2a3a72e-5f79-4c64-b1b1-878b674786c9")
	a := res.json(t)
	if res.status != http.StatusCreated || a["@odata.context"] != e.srv.URL()+"/v1.0/$metadata#servicePrincipals('"+graph+"')/appRoleAssignedTo/$entity" ||
		a["principalId"] != principal || a["resourceId"] != graph || a["principalType"] != "ServicePrincipal" ||
		a["resourceDisplayName"] != "Microsoft Graph" || a["principalDisplayName"] != "tf-o365 bare" || len(as[string](t, a["id"])) != 43 {
		t.Fatalf("grant: %d %s", res.status, res.body)
	}
	if !strings.Contains(strings.Join(anyStrings(claims(t, e.appToken(bareAppID, graphScope))["roles"]), " "), "Mail.ReadWrite") {
		t.Error("the new token lacks the consented role")
	}
	for name, tc := range map[string]struct {
		res  response
		want string
	}{
		"duplicate":         {grant(tok, graph, "e2a3a72e-5f79-4c64-b1b1-878b674786c9"), "Permission being assigned already exists on the object."},
		"unknown app role":  {grant(tok, graph, "00000000-0000-0000-0000-000000000000"), "Permission being assigned was not found on application."},
		"role of the other": {grant(tok, exo, "e2a3a72e-5f79-4c64-b1b1-878b674786c9"), "Permission being assigned was not found on application."},
		"resource mismatch": {e.do("POST", "/v1.0/servicePrincipals/"+exo+"/appRoleAssignedTo", bearer(tok), []byte(`{"principalId":"`+principal+`","resourceId":"`+graph+`","appRoleId":"dc890d15-9560-4a4c-9b7f-a736ec74ec40"}`)), "resourceId"},
		"unknown principal": {e.do("POST", "/v1.0/servicePrincipals/"+exo+"/appRoleAssignedTo", bearer(tok), []byte(`{"principalId":"00000000-0000-0000-0000-000000000009","resourceId":"`+exo+`","appRoleId":"dc890d15-9560-4a4c-9b7f-a736ec74ec40"}`)), "does not exist"},
	} {
		if tc.res.status != http.StatusBadRequest || jsonPath(t, tc.res.json(t), "error", "code") != "Request_BadRequest" ||
			!strings.Contains(as[string](t, jsonPath(t, tc.res.json(t), "error", "message")), tc.want) {
			t.Errorf("%s: %d %s", name, tc.res.status, tc.res.body)
		}
	}
	// List (every principal; filtered client-side), then revoke.
	list := func() []any {
		return as[[]any](t, jsonPath(t, e.do("GET", "/v1.0/servicePrincipals/"+graph+"/appRoleAssignedTo", bearer(tok), nil).json(t), "value"))
	}
	before := len(list())
	if before < 2 {
		t.Errorf("appRoleAssignedTo lists %d", before)
	}
	if res := e.do("GET", "/v1.0/servicePrincipals/"+graph+"/appRoleAssignedTo?$filter="+url.QueryEscape("principalId eq '"+principal+"'"), bearer(tok), nil); res.status != http.StatusBadRequest {
		t.Errorf("$filter on appRoleAssignedTo: %d", res.status)
	}
	mine := as[[]any](t, jsonPath(t, e.do("GET", "/v1.0/servicePrincipals/"+principal+"/appRoleAssignments", bearer(tok), nil).json(t), "value"))
	if len(mine) != 1 || as[map[string]any](t, mine[0])["id"] != a["id"] {
		t.Errorf("appRoleAssignments of the principal: %v", mine)
	}
	if res := e.do("DELETE", "/v1.0/servicePrincipals/"+graph+"/appRoleAssignedTo/"+as[string](t, a["id"]), bearer(tok), nil); res.status != http.StatusNoContent {
		t.Errorf("revoke: %d %s", res.status, res.body)
	}
	if len(list()) != before-1 {
		t.Error("revoked assignment still listed")
	}
	if res := e.do("DELETE", "/v1.0/servicePrincipals/"+graph+"/appRoleAssignedTo/"+as[string](t, a["id"]), bearer(tok), nil); res.status != http.StatusNotFound {
		t.Errorf("revoke again: %d", res.status)
	}
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestGraphRegistrationAuthorization is WIRE §I11 for delegated and app-only callers.
func TestGraphRegistrationAuthorization(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	st := e.srv.Snapshot()
	resource := map[string]string{}
	for _, r := range st.ResourceServicePrincipals {
		resource[r.DisplayName] = r.ID
	}
	principal := spID(t, e.srv, bareAppID)
	consent := func(token, res, role string) int {
		body := fmt.Sprintf(`{"principalId":%q,"resourceId":%q,"appRoleId":%q}`, principal, resource[res], role)
		r := e.do("POST", "/v1.0/servicePrincipals/"+resource[res]+"/appRoleAssignedTo", bearer(token), []byte(body))
		if r.status == http.StatusCreated {
			_ = e.do("DELETE", "/v1.0/servicePrincipals/"+resource[res]+"/appRoleAssignedTo/"+as[string](t, r.json(t)["id"]), bearer(e.management()), nil)
		}
		return r.status
	}
	createApp := func(token string) int {
		r := e.do("POST", "/v1.0/applications", bearer(token), []byte(`{"displayName":"probe"}`))
		if r.status == http.StatusCreated {
			_ = e.do("DELETE", "/v1.0/applications/"+as[string](t, r.json(t)["id"]), bearer(e.management()), nil)
		}
		return r.status
	}
	const graphMail, exoFull = "e2a3a72e-5f79-4c64-b1b1-878b674786c9", "dc890d15-9560-4a4c-9b7f-a736ec74ec40"
	if err := e.srv.AddDirectoryRole("alice@contoso.com", "Application Administrator"); err != nil {
		t.Fatal(err)
	}
	appAdmin := e.token("alice@contoso.com", "alice-pw", graphScope)
	ga := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", graphScope)
	plain := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)

	// A management app without Privileged Role Administrator.
	if err := e.srv.RemoveServicePrincipalDirectoryRole(managementAppID, "Privileged Role Administrator"); err != nil {
		t.Fatal(err)
	}
	noPRA := e.appToken(managementAppID, graphScope)
	if err := e.srv.AddServicePrincipalDirectoryRole(managementAppID, "Privileged Role Administrator"); err != nil {
		t.Fatal(err)
	}
	// One with AppRoleAssignment.ReadWrite.All but no permission to read
	// applications (WIRE §I9).
	for _, p := range []string{"Application.Read.All", "Application.ReadWrite.All"} {
		if _, err := e.srv.RemoveConsent(managementAppID, "graph", p); err != nil {
			t.Fatal(err)
		}
	}
	noRead := e.appToken(managementAppID, graphScope)
	for _, p := range []string{"Application.Read.All", "Application.ReadWrite.All"} {
		if err := e.srv.AddConsent(managementAppID, "graph", p); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name                    string
		token                   string
		create, graph, exchange int
	}{
		{"Global Administrator", ga, 201, 201, 201},
		{"Application Administrator", appAdmin, 201, 403, 201},
		{"no directory role", plain, 403, 403, 403},
		{"management app", e.management(), 201, 201, 201},
		{"management app without Privileged Role Administrator", noPRA, 201, 403, 403},
		{"management app without Application.Read(Write).All", noRead, 403, 403, 403},
		{"app without permissions", e.appToken(bareAppID, graphScope), 403, 403, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := createApp(tc.token); got != tc.create {
				t.Errorf("create application: %d, want %d", got, tc.create)
			}
			if got := consent(tc.token, "Microsoft Graph", graphMail); got != tc.graph {
				t.Errorf("consent to Graph: %d, want %d", got, tc.graph)
			}
			if got := consent(tc.token, "Office 365 Exchange Online", exoFull); got != tc.exchange {
				t.Errorf("consent to Exchange: %d, want %d", got, tc.exchange)
			}
		})
	}
	bare := e.appToken(bareAppID, graphScope)
	if res := e.do("GET", "/v1.0/applications", bearer(bare), nil); res.status != http.StatusForbidden {
		t.Errorf("app-only read without Application.Read.All: %d", res.status)
	}
	if res := e.do("GET", "/v1.0/applications", bearer(plain), nil); res.status != http.StatusOK {
		t.Errorf("delegated read: %d", res.status)
	}
	// Giving the service principal a directory role (WIRE §C5, §I11).
	body := fmt.Sprintf(`{"roleDefinitionId":"29232cdf-9323-42fd-ade2-1d097af3e4de","principalId":%q,"directoryScopeId":"/"}`, principal)
	res := e.do("POST", "/v1.0/roleManagement/directory/roleAssignments", bearer(e.management()), []byte(body))
	if res.status != http.StatusCreated {
		t.Fatalf("directory role for a service principal: %d %s", res.status, res.body)
	}
	if wids := claims(t, e.appToken(bareAppID, exchangeScope))["wids"]; fmt.Sprint(wids) != "[29232cdf-9323-42fd-ade2-1d097af3e4de]" {
		t.Errorf("wids after the assignment: %v", wids)
	}
	list := e.do("GET", "/v1.0/roleManagement/directory/roleAssignments?$filter="+url.QueryEscape("principalId eq '"+principal+"'")+"&$expand=principal", bearer(e.management()), nil)
	if jsonPath(t, list.json(t), "value", 0, "principal", "@odata.type") != "#microsoft.graph.servicePrincipal" {
		t.Errorf("expand principal: %s", list.body)
	}
	if res := e.do("POST", "/v1.0/roleManagement/directory/roleAssignments", bearer(bare), []byte(body)); res.status != http.StatusForbidden {
		t.Errorf("app without RoleManagement.ReadWrite.Directory: %d", res.status)
	}
}

// TestLostResponses: with drop_response the work is done and the answer lost;
// a client that looks before retrying finds exactly one object (DESIGN §7.2).
func TestLostResponses(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	tok := e.management()
	lost := trustingClient(t, e.srv, true)
	send := func(method, path string, body []byte, headers map[string]string) error {
		req, _ := http.NewRequest(method, e.srv.URL()+path, strings.NewReader(string(body)))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		res, err := lost.Do(req)
		if err == nil {
			res.Body.Close()
		}
		return err
	}
	for _, route := range []string{"graph.applications.create", "graph.applications.addPassword", "graph.appRoleAssignedTo.create", "exo.New-ManagementScope"} {
		if res := e.do("POST", "/_emulator/faults", control(e.srv.ControlToken()), []byte(`{"route":"`+route+`","drop_response":true,"count":1}`)); res.status != http.StatusCreated {
			t.Fatalf("inject %s: %d %s", route, res.status, res.body)
		}
	}
	if err := send("POST", "/v1.0/applications", []byte(`{"displayName":"lost","tags":["tf-o365:lost"]}`), bearer(tok)); err == nil {
		t.Error("create application: answer not lost")
	}
	list := as[[]any](t, jsonPath(t, e.do("GET", "/v1.0/applications?$filter="+url.QueryEscape("tags/any(t:t eq 'tf-o365:lost')"), bearer(tok), nil).json(t), "value"))
	if len(list) != 1 {
		t.Fatalf("after the lost create: %d applications", len(list))
	}
	id := as[string](t, as[map[string]any](t, list[0])["id"])
	if err := send("POST", "/v1.0/applications/"+id+"/addPassword", []byte(`{"passwordCredential":{"displayName":"tf-o365 lost"}}`), bearer(tok)); err == nil {
		t.Error("addPassword: answer not lost")
	}
	if creds := as[[]any](t, jsonPath(t, e.do("GET", "/v1.0/applications/"+id, bearer(tok), nil).json(t), "passwordCredentials")); len(creds) != 1 ||
		as[map[string]any](t, creds[0])["displayName"] != "tf-o365 lost" {
		t.Errorf("after the lost addPassword: %v", creds)
	}
	graph := e.srv.Snapshot().ResourceServicePrincipals[0].ID
	principal := spID(t, e.srv, bareAppID)
	if err := send("POST", "/v1.0/servicePrincipals/"+graph+"/appRoleAssignedTo",
		[]byte(`{"principalId":"`+principal+`","resourceId":"`+graph+`","appRoleId":"df021288-bdef-4463-88db-98f22de89214"}`), bearer(tok)); err == nil {
		t.Error("consent: answer not lost")
	}
	if roles := claims(t, e.appToken(bareAppID, graphScope))["roles"]; fmt.Sprint(roles) != "[User.Read.All]" {
		t.Errorf("after the lost consent: %v", roles)
	}
	scope, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": "New-ManagementScope",
		"Parameters": map[string]any{"Name": "lost", "RecipientRestrictionFilter": "Department -eq 'Sales'"}}})
	h := bearer(e.appToken(managementAppID, exchangeScope))
	h["X-AnchorMailbox"] = appAnchor
	if err := send("POST", "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", scope, h); err == nil {
		t.Error("New-ManagementScope: answer not lost")
	}
	if v := values(t, e.invokeApp(e.appToken(managementAppID, exchangeScope), "Get-ManagementScope", map[string]any{"Identity": "lost"})); len(v) != 1 {
		t.Errorf("after the lost New-ManagementScope: %v", v)
	}
	// The faults were used up: the next requests are answered.
	if res := e.do("POST", "/v1.0/applications/"+id+"/addPassword", bearer(tok), []byte(`{}`)); res.status != http.StatusOK {
		t.Errorf("after the fault: %d", res.status)
	}
	if res := e.do("POST", "/_emulator/faults", control(e.srv.ControlToken()), []byte(`{"route":"graph.applications.create","drop_response":true,"status":500}`)); res.status != http.StatusBadRequest {
		t.Errorf("drop_response with a status: %d", res.status)
	}
}

func TestGraphServicePrincipalOfAResourceExists(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	res := e.do("POST", "/v1.0/servicePrincipals", bearer(e.management()), []byte(`{"appId":"00000003-0000-0000-c000-000000000000"}`))
	if res.status != http.StatusConflict || jsonPath(t, res.json(t), "error", "code") != "Request_MultipleObjectsWithSameKeyValue" {
		t.Errorf("Microsoft Graph's service principal again: %d %s", res.status, res.body)
	}
}
