package emulator

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func control(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
}

func TestControlAPIRequiresToken(t *testing.T) {
	e := startTest(t, Options{ControlToken: "secret-token"})
	for _, h := range []map[string]string{nil, control("wrong"), {"Authorization": "secret-token"}} {
		if res := e.do("GET", "/_emulator/state", h, nil); res.status != http.StatusForbidden {
			t.Errorf("%v: %d", h, res.status)
		}
	}
	if e.srv.ControlToken() != "secret-token" {
		t.Errorf("ControlToken() = %q", e.srv.ControlToken())
	}
	if res := e.do("GET", "/_emulator/state", control("secret-token"), nil); res.status != http.StatusOK {
		t.Errorf("with token: %d", res.status)
	}
}

func TestControlAPIChangesState(t *testing.T) {
	e := startTest(t, Options{})
	h := control(e.srv.ControlToken())
	upn := "admin@contoso.onmicrosoft.com"

	res := e.do("POST", "/_emulator/users/"+upn+"/exchange-roles", h, []byte(`{"role":"Mail Recipients"}`))
	var created ExchangeAssignment
	if err := json.Unmarshal(res.body, &created); res.status != http.StatusCreated || err != nil || created.Name != "Mail Recipients-admin" {
		t.Fatalf("add exchange role: %d %s", res.status, res.body)
	}
	res = e.do("DELETE", "/_emulator/users/"+upn+"/exchange-roles/Mail%20Recipients", h, nil)
	if res.status != http.StatusOK || res.json(t)["removed"] != float64(1) {
		t.Errorf("remove exchange role: %d %s", res.status, res.body)
	}
	if res = e.do("POST", "/_emulator/users/"+upn+"/directory-roles", h, []byte(`{"role":"User Administrator"}`)); res.status != http.StatusCreated {
		t.Errorf("add directory role: %d %s", res.status, res.body)
	}
	if res = e.do("DELETE", "/_emulator/users/"+upn+"/directory-roles/User%20Administrator", h, nil); res.status != http.StatusOK {
		t.Errorf("remove directory role: %d %s", res.status, res.body)
	}
	if res = e.do("PATCH", "/_emulator/users/"+upn, h, []byte(`{"password":"new-pw","mfa":true,"locked":true}`)); res.status != http.StatusOK {
		t.Fatalf("patch: %d %s", res.status, res.body)
	}
	if u := res.json(t); u["mfa"] != true || u["locked"] != true || u["disabled"] != false {
		t.Errorf("patched user %v", u)
	}
	if codes := e.passwordGrant("contoso.onmicrosoft.com", upn, "new-pw", graphScope).json(t)["error_codes"]; !reflect.DeepEqual(codes, []any{float64(50053)}) {
		t.Errorf("locked after patch: %v", codes)
	}
	if res = e.do("PATCH", "/_emulator/users/"+upn, h, []byte(`{"surprise":1}`)); res.status != http.StatusBadRequest {
		t.Errorf("unknown field: %d", res.status)
	}
	if res = e.do("DELETE", "/_emulator/users/alice@contoso.com", h, nil); res.status != http.StatusNoContent {
		t.Errorf("delete user: %d", res.status)
	}
	if res = e.do("DELETE", "/_emulator/users/alice@contoso.com", h, nil); res.status != http.StatusNotFound {
		t.Errorf("delete again: %d", res.status)
	}
	if res = e.do("PUT", "/_emulator/latency", h, []byte(`{"latency":"5ms"}`)); res.status != http.StatusOK {
		t.Errorf("latency: %d %s", res.status, res.body)
	}
	if res = e.do("PUT", "/_emulator/propagation-delay", h, []byte(`{"delay":"5s"}`)); res.status != http.StatusOK {
		t.Errorf("propagation delay: %d %s", res.status, res.body)
	}
	var state State
	if err := json.Unmarshal(e.do("GET", "/_emulator/state", h, nil).body, &state); err != nil {
		t.Fatal(err)
	}
	if len(state.Users) != 10 || !strings.Contains(string(e.do("GET", "/_emulator/state", h, nil).body), `"propagation_delay":"5s"`) {
		t.Errorf("state after changes: %d users", len(state.Users))
	}
	if res = e.do("POST", "/_emulator/reset", h, nil); res.status != http.StatusNoContent {
		t.Errorf("reset: %d", res.status)
	}
	st := e.srv.Snapshot()
	if len(st.Users) != 11 || st.Users[0].MFA || st.Tenant.PropagationDelay != 0 || st.Tenant.Latency != 0 {
		t.Errorf("after reset: %+v", st.Tenant)
	}
	if e.token(upn, "admin-pw", graphScope) == "" {
		t.Error("seed password not restored")
	}
}

func TestControlAPIFaultsAndCounters(t *testing.T) {
	e := startTest(t, Options{})
	h := control(e.srv.ControlToken())
	res := e.do("POST", "/_emulator/faults", h, []byte(`{"route":"graph.organization","status":503,"retry_after":"0.5","count":1,"delay":"10ms"}`))
	if res.status != http.StatusCreated || res.json(t)["id"] == "" {
		t.Fatalf("inject: %d %s", res.status, res.body)
	}
	if res = e.do("POST", "/_emulator/faults", h, []byte(`{"route":"graph.nothing","status":500}`)); res.status != http.StatusBadRequest {
		t.Errorf("unknown route accepted: %d", res.status)
	}
	tok := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	if res = e.do("GET", "/v1.0/organization", bearer(tok), nil); res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") != "0.5" {
		t.Errorf("fault: %d %v", res.status, res.header)
	}
	if res = e.do("GET", "/v1.0/organization", bearer(tok), nil); res.status != http.StatusOK {
		t.Errorf("after count: %d", res.status)
	}
	var c Counters
	if err := json.Unmarshal(e.do("GET", "/_emulator/counters", h, nil).body, &c); err != nil {
		t.Fatal(err)
	}
	if c.ByRoute["graph.organization"] != 2 || c.ByRouteUser["graph.organization"]["admin@contoso.onmicrosoft.com"] != 2 ||
		c.ByUser["admin@contoso.onmicrosoft.com"] != 3 || c.Total != 3 {
		t.Errorf("counters %+v", c)
	}
	e.do("DELETE", "/_emulator/counters", h, nil)
	e.do("POST", "/_emulator/faults", h, []byte(`{"route":"*","status":500}`))
	e.do("DELETE", "/_emulator/faults", h, nil)
	if res = e.do("GET", "/v1.0/organization", bearer(tok), nil); res.status != http.StatusOK {
		t.Errorf("after clearing faults: %d", res.status)
	}
	if c := e.srv.Counters(); c.Total != 1 {
		t.Errorf("after reset: %+v", c)
	}
}

func TestFaultThrottlingGraph(t *testing.T) {
	e := startTest(t, Options{})
	tok := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	e.srv.InjectFault(Fault{Route: "graph.user", User: "ADMIN@contoso.onmicrosoft.com", Status: 429, RetryAfter: "2", Count: 2})
	for i := range 3 {
		res := e.do("GET", "/v1.0/me", bearer(tok), nil)
		want := http.StatusTooManyRequests
		if i == 2 {
			want = http.StatusOK
		}
		if res.status != want {
			t.Fatalf("request %d: %d", i, res.status)
		}
		if want == http.StatusTooManyRequests {
			body := res.json(t)
			if res.header.Get("Retry-After") != "2" || jsonPath(t, body, "error", "code") != "TooManyRequests" ||
				jsonPath(t, body, "error", "message") != "Please retry again later." ||
				jsonPath(t, body, "error", "innerError", "status") != "429" || jsonPath(t, body, "error", "innerError", "code") != "429" {
				t.Errorf("429 %v %s", res.header, res.body)
			}
		}
	}
	// The fault was for admin only.
	e.srv.InjectFault(Fault{Route: "graph.user", User: "someone@contoso.com", Status: 429})
	if res := e.do("GET", "/v1.0/me", bearer(tok), nil); res.status != http.StatusOK {
		t.Errorf("other user's fault applied: %d", res.status)
	}
}

func TestFaultEveryNthAndProbability(t *testing.T) {
	e := startTest(t, Options{})
	tok := e.token("admin@contoso.onmicrosoft.com", "admin-pw", exchangeScope)
	e.srv.InjectFault(Fault{Route: "exo.Get-ManagementRoleAssignment", Status: 429, EveryNth: 3})
	var statuses []int
	for range 6 {
		statuses = append(statuses, e.invoke(tok, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": "admin"}).status)
	}
	if !reflect.DeepEqual(statuses, []int{200, 200, 429, 200, 200, 429}) {
		t.Errorf("every 3rd: %v", statuses)
	}
	e.srv.ClearFaults()
	e.srv.InjectFault(Fault{Route: "*", Status: 429, Count: 1})
	res := e.invoke(tok, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": "admin"})
	if res.status != http.StatusTooManyRequests || !strings.Contains(as[string](t, jsonPath(t, res.json(t), "error", "details", 0, "message")), "maximum number of concurrent requests") {
		t.Errorf("EXO 429 body: %s", res.body)
	}
	e.srv.ClearFaults()

	// Probability is deterministic per fault: two servers see the same pattern.
	pattern := func() []int {
		e := startTest(t, Options{})
		e.srv.InjectFault(Fault{Route: "userrealm", Status: 503, Probability: 0.5})
		var out []int
		for range 12 {
			out = append(out, e.do("GET", "/common/UserRealm/a%40contoso.com?api-version=1.0", nil, nil).status)
		}
		return out
	}
	first, second := pattern(), pattern()
	failed := 0
	for _, status := range first {
		if status == http.StatusServiceUnavailable {
			failed++
		}
	}
	if !reflect.DeepEqual(first, second) || failed == 0 || failed == 12 {
		t.Errorf("probability 0.5: %v vs %v", first, second)
	}
}

func TestFaultResetAndDelay(t *testing.T) {
	e := startTest(t, Options{})
	e.srv.InjectFault(Fault{Route: "openid-configuration", Reset: true, Count: 1})
	client := trustingClient(t, e.srv, true)
	if _, err := client.Get(e.srv.URL() + "/contoso.com/v2.0/.well-known/openid-configuration"); err == nil {
		t.Error("reset fault: request succeeded")
	}
	if res, err := client.Get(e.srv.URL() + "/contoso.com/v2.0/.well-known/openid-configuration"); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("after reset fault: %v", err)
	}

	e.srv.InjectFault(Fault{Route: "userrealm", Delay: 150 * time.Millisecond, Count: 1})
	start := time.Now()
	res := e.do("GET", "/common/UserRealm/a%40contoso.com?api-version=1.0", nil, nil)
	if d := time.Since(start); res.status != http.StatusOK || d < 150*time.Millisecond {
		t.Errorf("delay fault: %d after %v", res.status, d)
	}
	e.srv.SetLatency(100 * time.Millisecond)
	start = time.Now()
	e.do("GET", "/common/UserRealm/a%40contoso.com?api-version=1.0", nil, nil)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("latency: %v", d)
	}
}

func TestFaultOnTokenEndpoint(t *testing.T) {
	e := startTest(t, Options{})
	e.srv.InjectFault(Fault{Route: "token", Status: 429, RetryAfter: "1", Count: 1})
	res := e.passwordGrant("contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "1" {
		t.Errorf("%d %s", res.status, res.body)
	}
	if codes, _ := res.json(t)["error_codes"].([]any); len(codes) != 1 {
		t.Errorf("AADSTS body expected: %s", res.body)
	}
}

func TestConcurrentUse(t *testing.T) {
	e := startTest(t, Options{})
	ga := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
	graph := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", graphScope)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				switch (i + j) % 4 {
				case 0:
					e.invoke(ga, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": "migration"})
				case 1:
					e.do("GET", "/v1.0/roleManagement/directory/roleAssignments", bearer(graph), nil)
				case 2:
					_, _ = e.srv.AddExchangeRoleAssignment("alice@contoso.com", "Mail Recipients")
					e.srv.Snapshot()
				case 3:
					_, _ = e.srv.RemoveExchangeRoleAssignment("alice@contoso.com", "Mail Recipients")
					e.srv.Counters()
				}
			}
		})
	}
	wg.Wait()
	if c := e.srv.Counters(); c.ByUser["ga@contoso.onmicrosoft.com"] < 40 {
		t.Errorf("counters %+v", c.ByUser)
	}
}

func TestIDsAreDeterministic(t *testing.T) {
	run := func() (State, string) {
		e := startTest(t, Options{})
		tok := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
		res := e.invoke(tok, "New-ManagementRoleAssignment", map[string]any{"Role": "Mail Recipients", "User": "alice"})
		guid := as[string](t, values(t, res)[0]["Guid"])
		_, _ = e.srv.AddExchangeRoleAssignment("alice@contoso.com", "Public Folders")
		_ = e.srv.AddDirectoryRole("alice@contoso.com", "User Administrator")
		return e.srv.Snapshot(), guid
	}
	first, guid1 := run()
	second, guid2 := run()
	if guid1 != guid2 {
		t.Errorf("assignment guid %s vs %s", guid1, guid2)
	}
	strip := func(st State) State { // creation times are clock-dependent
		for i := range st.Users {
			for j := range st.Users[i].ExchangeAssignments {
				st.Users[i].ExchangeAssignments[j].CreatedAt = time.Time{}
			}
		}
		for i := range st.RoleGroups {
			for j := range st.RoleGroups[i].Assignments {
				st.RoleGroups[i].Assignments[j].CreatedAt = time.Time{}
			}
		}
		return st
	}
	if !reflect.DeepEqual(strip(first), strip(second)) {
		t.Error("two runs of the same operations produced different state")
	}
}

func TestSeedValidation(t *testing.T) {
	for name, seed := range map[string]string{
		"bad GUID":       `{"tenant_id":"nope","display_name":"C","domains":["c.onmicrosoft.com"],"users":[]}`,
		"duplicate UPN":  `{"tenant_id":"72f988bf-86f1-41af-91ab-2d7cd011db47","display_name":"C","domains":["c.com"],"users":[{"user_principal_name":"a@c.com","password":"p"},{"user_principal_name":"A@c.com","password":"p"}]}`,
		"foreign domain": `{"tenant_id":"72f988bf-86f1-41af-91ab-2d7cd011db47","display_name":"C","domains":["c.com"],"users":[{"user_principal_name":"a@d.com","password":"p"}]}`,
		"unknown role":   `{"tenant_id":"72f988bf-86f1-41af-91ab-2d7cd011db47","display_name":"C","domains":["c.com"],"users":[{"user_principal_name":"a@c.com","password":"p","exchange_roles":["Mail Recipient"]}]}`,
		"unknown field":  `{"tenant_id":"72f988bf-86f1-41af-91ab-2d7cd011db47","display_name":"C","domains":["c.com"],"users":[],"legacy_basic":true}`,
		"bad delay":      `{"tenant_id":"72f988bf-86f1-41af-91ab-2d7cd011db47","display_name":"C","domains":["c.com"],"users":[],"propagation_delay":"soon"}`,
	} {
		if _, err := ParseSeed([]byte(seed)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseSeed([]byte(`{"tenant_id":"72f988bf-86f1-41af-91ab-2d7cd011db47","display_name":"C","domains":["c.com"],"users":[{"user_principal_name":"a@c.com","password":"p","exchange_roles":["Mail Recipient"]}]}`)); err == nil ||
		!strings.Contains(err.Error(), `unknown Exchange role "Mail Recipient"`) {
		t.Errorf("error message: %v", err)
	}
	seed, err := LoadSeed("../../examples/demo/tenant.json")
	if err != nil {
		t.Fatalf("demo tenant: %v", err)
	}
	srv, err := Start(seed, Options{CAFile: t.TempDir() + "/ca.pem"})
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(srv.CAFile())
	if err != nil || string(pem) != string(srv.CAPEM()) {
		t.Errorf("CA file: %v", err)
	}
	if err := srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Error(err)
	}
}
