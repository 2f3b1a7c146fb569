package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const (
	northwindID = "5a1e9c3d-7b2f-4d8e-b6a4-1c0d9e8f7a6b"
	tailspinID  = "9e4b2d6f-1a3c-4b5d-8e7f-6a5b4c3d2e1f"
)

// startCluster serves three tenants at one URL: the tests' Contoso (first),
// testdata/northwind.json and testdata/tailspin.json. The env's srv is Contoso.
func startCluster(t *testing.T) (*Cluster, *testEnv) {
	t.Helper()
	contoso, err := ParseSeed([]byte(testSeedJSON))
	if err != nil {
		t.Fatal(err)
	}
	seeds := []*Seed{contoso}
	for _, file := range []string{"testdata/northwind.json", "testdata/tailspin.json"} {
		seed, err := LoadSeed(file)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, seed)
	}
	c, err := StartTenants(seeds, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	first := c.Tenants()[0]
	return c, &testEnv{t: t, srv: first, client: trustingClient(t, first, false)}
}

// tokenAt signs in at the token endpoint of tenant (a GUID, a domain or organizations).
func (e *testEnv) tokenAt(tenant, user, password, scope string) map[string]any {
	e.t.Helper()
	res := e.passwordGrant(tenant, user, password, scope)
	if res.status != http.StatusOK {
		e.t.Fatalf("token for %s at %s: %d %s", user, tenant, res.status, res.body)
	}
	return res.json(e.t)
}

func TestClusterTenants(t *testing.T) {
	c, _ := startCluster(t)
	tenants := c.Tenants()
	if len(tenants) != 3 || tenants[1].TenantID() != northwindID || tenants[2].InitialDomain() != "tailspin.onmicrosoft.com" {
		t.Fatalf("tenants %v", tenants)
	}
	for _, name := range []string{"NorthwindTraders.com", "northwind.onmicrosoft.com", strings.ToUpper(northwindID)} {
		if c.Tenant(name) != tenants[1] {
			t.Errorf("Tenant(%q) is not Northwind", name)
		}
	}
	if c.Tenant("nowhere.example") != nil || c.Tenant("") != nil {
		t.Error("an unknown name found a tenant")
	}
	for _, s := range tenants {
		if s.URL() != c.URL() || string(s.CAPEM()) != string(c.CAPEM()) || s.CAFile() != c.CAFile() || s.ControlToken() != c.ControlToken() {
			t.Errorf("%s: URL, CA or control token differs from the cluster's", s.TenantID())
		}
	}
}

// TestClusterRoutesIdentity: the token endpoint, the OpenID metadata and home
// realm discovery answer for the tenant the request names.
func TestClusterRoutesIdentity(t *testing.T) {
	c, e := startCluster(t)
	e.tokenAt("northwindtraders.com", "admin@northwind.onmicrosoft.com", "N0rthwind-Admin!", graphScope)
	e.tokenAt(tailspinID, "admin@tailspin.onmicrosoft.com", "Ta1lspin-Admin!", graphScope)
	// Another tenant does not know the user (AADSTS50034), and an unknown tenant is 90002.
	if code := aadCode(t, e.passwordGrant("contoso.onmicrosoft.com", "admin@northwind.onmicrosoft.com", "N0rthwind-Admin!", graphScope)); code != 50034 {
		t.Errorf("Northwind's user at Contoso: AADSTS%d", code)
	}
	res := e.passwordGrant("nowhere.example", "admin@northwind.onmicrosoft.com", "N0rthwind-Admin!", graphScope)
	if res.status != http.StatusBadRequest || res.json(t)["error"] != "invalid_tenant" || aadCode(t, res) != 90002 {
		t.Errorf("unknown tenant: %d %s", res.status, res.body)
	}
	// /organizations goes to the user's home tenant, and so does its refresh token.
	org := e.tokenAt("organizations", "ga@tailspin.onmicrosoft.com", "tailspinapppassw", graphScope)
	if n := c.Tenant(tailspinID).Counters().ByRouteUser["token"]["ga@tailspin.onmicrosoft.com"]; n != 1 {
		t.Errorf("Tailspin counted %d token requests", n)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {"14d82eec-204b-4c2f-b7e8-296a70dab67e"},
		"refresh_token": {as[string](t, org["refresh_token"])}, "scope": {exchangeScope}}
	res = e.do("POST", "/organizations/oauth2/v2.0/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
	if res.status != http.StatusOK || c.Tenant(tailspinID).Counters().ByRouteUser["token"]["ga@tailspin.onmicrosoft.com"] != 2 {
		t.Errorf("refresh at /organizations: %d %s", res.status, res.body)
	}

	meta := e.do("GET", "/northwindtraders.com/v2.0/.well-known/openid-configuration", nil, nil).json(t)
	if meta["issuer"] != c.URL()+"/"+northwindID+"/v2.0" {
		t.Errorf("Northwind's issuer %v", meta["issuer"])
	}
	if res := e.do("GET", "/nowhere.example/v2.0/.well-known/openid-configuration", nil, nil); aadCode(t, res) != 90002 {
		t.Errorf("unknown tenant's metadata: %d %s", res.status, res.body)
	}
	realm := e.do("GET", "/common/UserRealm/nancy@northwindtraders.com?api-version=1.0", nil, nil).json(t)
	if realm["account_type"] != "Managed" || realm["domain_name"] != "northwindtraders.com" || realm["federation_brand_name"] != "Northwind Traders" {
		t.Errorf("Northwind's realm %v", realm)
	}
	if realm := e.do("GET", "/common/UserRealm/x@nowhere.example?api-version=1.0", nil, nil).json(t); realm["account_type"] != "Unknown" {
		t.Errorf("unknown domain's realm %v", realm)
	}
}

// TestClusterRoutesByToken: a token issued by Northwind is served
// Northwind's data by Graph, the admin API and EWS; Contoso does not know it.
func TestClusterRoutesByToken(t *testing.T) {
	c, e := startCluster(t)
	graph := as[string](t, e.tokenAt(northwindID, "migration@northwind.onmicrosoft.com", "N0rthwind-M1gration!", graphScope)["access_token"])
	exo := as[string](t, e.tokenAt(northwindID, "migration@northwind.onmicrosoft.com", "N0rthwind-M1gration!", exchangeScope)["access_token"])

	if me := e.do("GET", "/v1.0/me", bearer(graph), nil).json(t); me["userPrincipalName"] != "migration@northwind.onmicrosoft.com" {
		t.Errorf("me %v", me)
	}
	org := e.do("GET", "/v1.0/organization", bearer(graph), nil).json(t)
	if id := jsonPath(t, org, "value", 0, "id"); id != northwindID {
		t.Errorf("organization %v", id)
	}
	body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": "Get-ManagementRoleAssignment",
		"Parameters": map[string]any{"RoleAssignee": "migration@northwind.onmicrosoft.com"}}})
	if res := e.do("POST", "/adminapi/beta/northwindtraders.com/InvokeCommand", bearer(exo), body); res.status != http.StatusOK || len(values(t, res)) != 5 {
		t.Errorf("admin API at Northwind: %d %s", res.status, res.body)
	}
	if res := e.do("POST", "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", bearer(exo), body); res.status != http.StatusUnauthorized {
		t.Errorf("Northwind's token at Contoso's admin API: %d %s", res.status, res.body)
	}
	if res := e.do("POST", "/adminapi/beta/nowhere.example/InvokeCommand", bearer(exo), body); res.status != http.StatusNotFound ||
		!strings.Contains(string(res.body), "The tenant 'nowhere.example' couldn't be found.") {
		t.Errorf("unknown tenant at the admin API: %d %s", res.status, res.body)
	}
	if res := e.ews(t, "cluster bearer", "Bearer "+exo, getFolderRequest("", "", "IdOnly", "inbox")); res.status != http.StatusOK {
		t.Errorf("EWS with Northwind's token: %d %s", res.status, res.body)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("ga@tailspin.onmicrosoft.com:tailspinapppassw"))
	if res := e.ews(t, "cluster basic", basic, getFolderRequest("", "", "IdOnly", "inbox")); res.status != http.StatusOK {
		t.Errorf("EWS Basic at Tailspin: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/v1.0/me", bearer("not-a-token"), nil); res.status != http.StatusUnauthorized ||
		!strings.Contains(string(res.body), "InvalidAuthenticationToken") {
		t.Errorf("unknown token: %d %s", res.status, res.body)
	}

	// Counters are per tenant: Contoso counted the calls it refused, Northwind
	// its own and the one naming an unknown tenant (which it answered).
	nw, contoso := c.Tenant(northwindID).Counters(), e.srv.Counters()
	if nw.ByRouteUser["graph.user"]["migration@northwind.onmicrosoft.com"] != 1 || nw.ByRoute["exo.Get-ManagementRoleAssignment"] != 2 ||
		nw.ByRoute["ews.GetFolder"] != 1 || nw.ByRoute["token"] != 2 {
		t.Errorf("Northwind's counters %+v", nw)
	}
	if contoso.ByRoute["exo.Get-ManagementRoleAssignment"] != 1 || contoso.ByRoute["graph.user"] != 1 || contoso.ByRoute["token"] != 0 {
		t.Errorf("Contoso's counters %+v", contoso)
	}
	if ts := c.Tenant(tailspinID).Counters(); ts.ByRouteUser["ews.GetFolder"]["ga@tailspin.onmicrosoft.com"] != 1 || ts.Total != 1 {
		t.Errorf("Tailspin's counters %+v", ts)
	}
}

// TestClusterFaultStaysInItsTenant: Contoso's token endpoint answers 503,
// the other tenants sign in; a fault injected through the control API for
// Tailspin leaves Northwind alone.
func TestClusterFaultStaysInItsTenant(t *testing.T) {
	c, e := startCluster(t)
	e.srv.InjectFault(Fault{Route: "token", Status: http.StatusServiceUnavailable})
	res := e.passwordGrant("contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	if res.status != http.StatusServiceUnavailable || aadCode(t, res) != 90033 {
		t.Errorf("Contoso's sign-in: %d %s", res.status, res.body)
	}
	e.tokenAt("northwind.onmicrosoft.com", "admin@northwind.onmicrosoft.com", "N0rthwind-Admin!", graphScope)
	ts := as[string](t, e.tokenAt("tailspin.onmicrosoft.com", "admin@tailspin.onmicrosoft.com", "Ta1lspin-Admin!", graphScope)["access_token"])
	nw := as[string](t, e.tokenAt("northwind.onmicrosoft.com", "admin@northwind.onmicrosoft.com", "N0rthwind-Admin!", graphScope)["access_token"])

	h := control(c.ControlToken())
	if res := e.do("POST", "/_emulator/tenants/tailspintoys.com/faults", h, []byte(`{"route":"graph.organization","status":503}`)); res.status != http.StatusCreated {
		t.Fatalf("inject at Tailspin: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/v1.0/organization", bearer(ts), nil); res.status != http.StatusServiceUnavailable {
		t.Errorf("Tailspin's organization: %d", res.status)
	}
	if res := e.do("GET", "/v1.0/organization", bearer(nw), nil); res.status != http.StatusOK {
		t.Errorf("Northwind's organization: %d %s", res.status, res.body)
	}
	if n := e.srv.Counters().ByRoute["token"]; n != 1 {
		t.Errorf("Contoso counted %d token requests, want 1", n)
	}
	if n := c.Tenant(northwindID).Counters().ByRoute["token"]; n != 2 {
		t.Errorf("Northwind counted %d token requests, want 2", n)
	}
}

// TestClusterControlAPI: /_emulator/tenants lists the tenants,
// /_emulator/tenants/{tenant}/… is that tenant's control API and
// /_emulator/… stays the first tenant's.
func TestClusterControlAPI(t *testing.T) {
	c, e := startCluster(t)
	h := control(c.ControlToken())
	var list struct{ Tenants []Tenant }
	if err := json.Unmarshal(e.do("GET", "/_emulator/tenants", h, nil).body, &list); err != nil || len(list.Tenants) != 3 ||
		list.Tenants[1].ID != northwindID || list.Tenants[1].Domains[0] != "northwind.onmicrosoft.com" || list.Tenants[2].DisplayName != "Tailspin Toys" {
		t.Fatalf("tenants %+v %v", list, err)
	}
	for path, want := range map[string]int{
		"/_emulator/tenants":                            http.StatusForbidden,
		"/_emulator/tenants/northwindtraders.com/state": http.StatusForbidden,
	} {
		if res := e.do("GET", path, control("wrong"), nil); res.status != want {
			t.Errorf("%s without the token: %d", path, res.status)
		}
	}
	if res := e.do("GET", "/_emulator/tenants/nowhere.example/state", h, nil); res.status != http.StatusNotFound {
		t.Errorf("unknown tenant: %d %s", res.status, res.body)
	}
	if res := e.do("POST", "/_emulator/tenants", h, nil); res.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /_emulator/tenants: %d", res.status)
	}
	var st State
	if err := json.Unmarshal(e.do("GET", "/_emulator/tenants/"+northwindID+"/state", h, nil).body, &st); err != nil || st.Tenant.ID != northwindID {
		t.Errorf("Northwind's state: %+v %v", st.Tenant, err)
	}
	if err := json.Unmarshal(e.do("GET", "/_emulator/state", h, nil).body, &st); err != nil || st.Tenant.ID != e.srv.TenantID() {
		t.Errorf("/_emulator/state: %+v %v", st.Tenant, err)
	}

	// An out-of-band change (the UPN escaped in the path) reaches Northwind only.
	res := e.do("POST", "/_emulator/tenants/northwindtraders.com/users/nancy%40northwindtraders.com/exchange-roles", h, []byte(`{"role":"Mail Recipients"}`))
	if res.status != http.StatusCreated {
		t.Fatalf("add a role at Northwind: %d %s", res.status, res.body)
	}
	if res := e.do("POST", "/_emulator/users/nancy@northwindtraders.com/exchange-roles", h, []byte(`{"role":"Mail Recipients"}`)); res.status != http.StatusNotFound {
		t.Errorf("Northwind's user at Contoso's control API: %d", res.status)
	}
	nw := c.Tenant(northwindID)
	nancyRoles := func() int {
		for _, u := range nw.Snapshot().Users {
			if u.UserPrincipalName == "nancy@northwindtraders.com" {
				return len(u.ExchangeAssignments)
			}
		}
		return -1
	}
	if n := nancyRoles(); n != 1 {
		t.Errorf("Nancy has %d Exchange assignments after the change", n)
	}
	// Counters, their reset and the tenant's reset are the tenant's.
	var counters Counters
	if err := json.Unmarshal(e.do("GET", "/_emulator/tenants/northwind.onmicrosoft.com/counters", h, nil).body, &counters); err != nil ||
		counters.ByRoute["control"] != 3 || counters.Total != 0 {
		t.Errorf("Northwind's counters %+v %v", counters, err)
	}
	if res := e.do("POST", "/_emulator/tenants/northwind.onmicrosoft.com/reset", h, nil); res.status != http.StatusNoContent {
		t.Errorf("reset Northwind: %d", res.status)
	}
	if n := nancyRoles(); n != 0 {
		t.Errorf("Nancy has %d Exchange assignments after its reset", n)
	}
	if c := e.srv.Counters(); c.ByRoute["control"] != 2 {
		t.Errorf("Contoso's control calls: %+v", c.ByRoute)
	}
}

func TestStartTenantsRefusesClashes(t *testing.T) {
	parse := func(id, domains string) *Seed {
		s, err := ParseSeed([]byte(`{"tenant_id":"` + id + `","display_name":"T ` + id[:4] + `","domains":` + domains + `,"users":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := parse("11111111-1111-4111-8111-111111111111", `["a.onmicrosoft.com","shared.com"]`)
	b := parse("22222222-2222-4222-8222-222222222222", `["b.onmicrosoft.com","Shared.com"]`)
	sameID := parse("11111111-1111-4111-8111-111111111111", `["c.onmicrosoft.com"]`)
	_, err := StartTenants([]*Seed{a, b, sameID}, Options{})
	if err == nil || !strings.Contains(err.Error(), "seeds[0] (T 1111) and seeds[1] (T 2222) both have shared.com") ||
		!strings.Contains(err.Error(), "seeds[0] (T 1111) and seeds[2] (T 1111) both have 11111111-1111-4111-8111-111111111111") {
		t.Errorf("clashes: %v", err)
	}
	if _, err := StartTenants(nil, Options{}); err == nil {
		t.Error("no seed accepted")
	}
	if _, err := StartTenants([]*Seed{a, nil}, Options{}); err == nil {
		t.Error("a nil seed accepted")
	}
	bad := *b
	bad.TenantID = "nope"
	if _, err := StartTenants([]*Seed{a, &bad}, Options{}); err == nil || !strings.Contains(err.Error(), "seeds[1]: invalid seed") {
		t.Errorf("invalid second seed: %v", err)
	}
}
