package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestGraphUserMatchesWire(t *testing.T) {
	e := startTest(t, Options{})
	tok := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	res := e.do("GET", "/v1.0/users/admin@contoso.onmicrosoft.com?$select=id,userPrincipalName,displayName,mail,accountEnabled",
		map[string]string{"Authorization": "Bearer " + tok, "client-request-id": "e70c5c1b-8b47-68c0-3171-3d22f5e0bd54"}, nil)
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if res.header.Get("request-id") == "" || res.header.Get("client-request-id") != "e70c5c1b-8b47-68c0-3171-3d22f5e0bd54" {
		t.Errorf("headers %v", res.header)
	}
	// WIRE §C1 example, field by field.
	body := res.json(t)
	want := map[string]any{
		"@odata.context":    e.srv.URL() + "/v1.0/$metadata#users(id,userPrincipalName,displayName,mail,accountEnabled)/$entity",
		"userPrincipalName": "admin@contoso.onmicrosoft.com", "displayName": "Contoso Admin",
		"mail": "admin@contoso.com", "accountEnabled": true,
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %v, want %v", k, body[k], v)
		}
	}
	if id, _ := body["id"].(string); len(id) != 36 || len(body) != 6 {
		t.Errorf("id %v, keys %d", body["id"], len(body))
	}
	// Without $select, accountEnabled is not returned.
	body = e.do("GET", "/v1.0/users/"+as[string](t, body["id"]), bearer(tok), nil).json(t)
	if _, has := body["accountEnabled"]; has || body["userPrincipalName"] != "admin@contoso.onmicrosoft.com" {
		t.Errorf("default properties: %v", body)
	}
	res = e.do("GET", "/v1.0/users/nobody@contoso.com", bearer(tok), nil)
	if res.status != http.StatusNotFound || jsonPath(t, res.json(t), "error", "code") != "Request_ResourceNotFound" {
		t.Errorf("404: %d %s", res.status, res.body)
	}
	inner := as[map[string]any](t, jsonPath(t, res.json(t), "error", "innerError"))
	for _, k := range []string{"date", "request-id", "client-request-id"} {
		if inner[k] == nil {
			t.Errorf("innerError lacks %s", k)
		}
	}
}

func TestGraphOrganizationMatchesWire(t *testing.T) {
	e := startTest(t, Options{})
	tok := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	body := e.do("GET", "/v1.0/organization?$select=id,displayName,verifiedDomains", bearer(tok), nil).json(t)
	if body["@odata.context"] != e.srv.URL()+"/v1.0/$metadata#organization(id,displayName,verifiedDomains)" {
		t.Errorf("context %v", body["@odata.context"])
	}
	org := as[map[string]any](t, jsonPath(t, body, "value", 0))
	if org["id"] != "72f988bf-86f1-41af-91ab-2d7cd011db47" || org["displayName"] != "Contoso" {
		t.Errorf("org %v", org)
	}
	initial := as[map[string]any](t, jsonPath(t, org, "verifiedDomains", 0))
	def := as[map[string]any](t, jsonPath(t, org, "verifiedDomains", 1))
	if initial["name"] != "contoso.onmicrosoft.com" || initial["isInitial"] != true || initial["isDefault"] != false ||
		initial["capabilities"] != "Email, OfficeCommunicationsOnline" || initial["type"] != "Managed" {
		t.Errorf("initial domain %v", initial)
	}
	if def["name"] != "contoso.com" || def["isDefault"] != true || def["isInitial"] != false {
		t.Errorf("default domain %v", def)
	}
}

func TestGraphMemberOfAndRoleDefinitions(t *testing.T) {
	e := startTest(t, Options{})
	tok := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", graphScope)
	role := as[map[string]any](t, jsonPath(t, e.do("GET", "/v1.0/users/ga@contoso.onmicrosoft.com/memberOf", bearer(tok), nil).json(t), "value", 0))
	if role["@odata.type"] != "#microsoft.graph.directoryRole" || role["displayName"] != "Global Administrator" ||
		role["roleTemplateId"] != "62e90394-69f5-4237-9190-012177145e10" || role["id"] == role["roleTemplateId"] {
		t.Errorf("memberOf %v", role)
	}
	filter := url.QueryEscape("displayName eq 'User Administrator'")
	def := as[[]any](t, jsonPath(t, e.do("GET", "/v1.0/roleManagement/directory/roleDefinitions?$filter="+filter, bearer(tok), nil).json(t), "value"))
	if len(def) != 1 {
		t.Fatalf("definitions %v", def)
	}
	d := as[map[string]any](t, def[0])
	if d["id"] != "fe930be7-5e62-47db-91af-98c3a49a38b1" || d["templateId"] != d["id"] || d["isBuiltIn"] != true ||
		d["displayName"] != "User Administrator" {
		t.Errorf("definition %v", d)
	}
	if _, ok := jsonPath(t, d, "rolePermissions", 0, "allowedResourceActions").([]any); !ok {
		t.Errorf("rolePermissions %v", d["rolePermissions"])
	}
}

func TestGraphRoleAssignmentsLifecycle(t *testing.T) {
	e := startTest(t, Options{})
	ga := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", graphScope)
	admin := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	adminID := e.srv.Snapshot().Users[0].ObjectID
	create := []byte(fmt.Sprintf(`{"@odata.type":"#microsoft.graph.unifiedRoleAssignment","roleDefinitionId":"fe930be7-5e62-47db-91af-98c3a49a38b1","principalId":%q,"directoryScopeId":"/"}`, adminID))

	// 403 for a caller without Global / Privileged Role Administrator (WIRE §C0).
	res := e.do("POST", "/v1.0/roleManagement/directory/roleAssignments", bearer(admin), create)
	if res.status != http.StatusForbidden || jsonPath(t, res.json(t), "error", "code") != "Authorization_RequestDenied" ||
		jsonPath(t, res.json(t), "error", "message") != "Insufficient privileges to complete the operation." {
		t.Errorf("403: %d %s", res.status, res.body)
	}
	res = e.do("POST", "/v1.0/roleManagement/directory/roleAssignments", bearer(ga), create)
	if res.status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.status, res.body)
	}
	created := res.json(t)
	if created["@odata.context"] != e.srv.URL()+"/v1.0/$metadata#roleManagement/directory/roleAssignments/$entity" ||
		created["principalId"] != adminID || created["directoryScopeId"] != "/" || !strings.HasSuffix(as[string](t, created["id"]), "-1") {
		t.Errorf("created %v", created)
	}
	res = e.do("POST", "/v1.0/roleManagement/directory/roleAssignments", bearer(ga), create)
	if res.status != http.StatusBadRequest || jsonPath(t, res.json(t), "error", "message") != "A conflicting object with one or more of the specified property values is present in the directory." {
		t.Errorf("duplicate: %d %s", res.status, res.body)
	}

	filter := url.QueryEscape(fmt.Sprintf("principalId eq '%s'", adminID))
	list := e.do("GET", "/v1.0/roleManagement/directory/roleAssignments?$filter="+filter+"&$expand=roleDefinition", bearer(admin), nil).json(t)
	if list["@odata.context"] != e.srv.URL()+"/v1.0/$metadata#roleManagement/directory/roleAssignments(roleDefinition())" {
		t.Errorf("context %v", list["@odata.context"])
	}
	a := as[map[string]any](t, jsonPath(t, list, "value", 0))
	if a["id"] != created["id"] || a["resourceScope"] != "/" || jsonPath(t, a, "roleDefinition", "displayName") != "User Administrator" {
		t.Errorf("listed %v", a)
	}

	res = e.do("DELETE", "/v1.0/roleManagement/directory/roleAssignments/"+as[string](t, created["id"]), bearer(admin), nil)
	if res.status != http.StatusForbidden {
		t.Errorf("delete by non-admin: %d", res.status)
	}
	if res = e.do("DELETE", "/v1.0/roleManagement/directory/roleAssignments/"+as[string](t, created["id"]), bearer(ga), nil); res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Errorf("delete: %d %s", res.status, res.body)
	}
	if res = e.do("DELETE", "/v1.0/roleManagement/directory/roleAssignments/"+as[string](t, created["id"]), bearer(ga), nil); res.status != http.StatusNotFound {
		t.Errorf("delete again: %d", res.status)
	}
}

func TestGraphRoleAssignmentsPaging(t *testing.T) {
	e := startTest(t, Options{})
	e.srv.graphPageSize = 2
	tok := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	var ids []string
	next := "/v1.0/roleManagement/directory/roleAssignments"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		body := e.do("GET", next, bearer(tok), nil).json(t)
		for _, v := range as[[]any](t, body["value"]) {
			ids = append(ids, as[string](t, as[map[string]any](t, v)["id"]))
		}
		link, _ := body["@odata.nextLink"].(string)
		next = strings.TrimPrefix(link, e.srv.URL())
	}
	if len(ids) != 3 { // seeded: ga, exadmin, migration
		t.Errorf("listed %d assignments over pages of 2: %v", len(ids), ids)
	}
	body := e.do("GET", "/v1.0/roleManagement/directory/roleAssignments?$top=1", bearer(tok), nil).json(t)
	if len(as[[]any](t, body["value"])) != 1 || body["@odata.nextLink"] == nil {
		t.Errorf("$top=1: %v", body)
	}
}

func TestGraph401Shape(t *testing.T) {
	e := startTest(t, Options{})
	res := e.do("GET", "/v1.0/organization", nil, nil)
	var body struct {
		Error struct {
			Code       string         `json:"code"`
			Message    string         `json:"message"`
			InnerError map[string]any `json:"innerError"`
		} `json:"error"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil || res.status != http.StatusUnauthorized ||
		body.Error.Code != "InvalidAuthenticationToken" || body.Error.InnerError["request-id"] == nil {
		t.Errorf("%d %s", res.status, res.body)
	}
}

// TestGraphBatchNotServed: the emulator does not serve Graph's JSON batching
// (the provider sends each request on its own), so neither the path nor a
// fault on it exists (RELIABILITY.md's "not covered").
func TestGraphBatchNotServed(t *testing.T) {
	e := startTest(t, Options{})
	tok := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", graphScope)
	e.srv.ResetCounters()
	body := []byte(`{"requests":[{"id":"1","method":"GET","url":"/organization"}]}`)
	if res := e.do("POST", "/v1.0/$batch", bearer(tok), body); res.status != http.StatusNotFound {
		t.Errorf("POST /v1.0/$batch: %d %s", res.status, res.body)
	}
	for _, route := range []string{"graph.batch", "graph.$batch"} {
		res := e.do("POST", "/_emulator/faults", control(e.srv.ControlToken()), []byte(`{"route":"`+route+`","status":503}`))
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "unknown route") {
			t.Errorf("fault on %s: %d %s", route, res.status, res.body)
		}
	}
	if c := e.srv.Counters(); c.Total != 0 {
		t.Errorf("an unserved path was counted: %+v", c)
	}
}
