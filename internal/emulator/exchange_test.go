package emulator

import (
	"net/http"
	"strings"
	"testing"
)

// assignmentKeys are the keys of WIRE §E3's object, in order.
var assignmentKeys = []string{"Name", "Identity", "Role", "RoleAssignee", "RoleAssigneeName", "RoleAssigneeType",
	"AssignmentMethod", "User", "RoleAssignmentDelegationType", "Enabled", "RecipientReadScope", "ConfigReadScope",
	"RecipientWriteScope", "ConfigWriteScope", "CustomRecipientWriteScope", "CustomConfigWriteScope",
	"CustomResourceScope", "IsValid", "Guid@data.type", "Guid@odata.type", "Guid", "WhenCreatedUTC@data.type", "WhenCreatedUTC"}

func values(t *testing.T, res response) []map[string]any {
	t.Helper()
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	var out []map[string]any
	for _, v := range as[[]any](t, res.json(t)["value"]) {
		out = append(out, as[map[string]any](t, v))
	}
	return out
}

func TestInvokeCommandNewGetRemoveMatchWire(t *testing.T) {
	e := startTest(t, Options{})
	tok := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)

	res := e.invoke(tok, "New-ManagementRoleAssignment", map[string]any{"Role": "Mail Recipients", "User": "admin@contoso.onmicrosoft.com"})
	body := res.json(t)
	// Envelope of WIRE §E2.
	if body["@odata.context"] != e.srv.URL()+"/adminapi/beta/contoso.onmicrosoft.com/$metadata#Collection(Exchange.GenericHashTable)" ||
		body["adminapi.warnings@odata.type"] != "#Collection(String)" {
		t.Errorf("envelope %v", body)
	}
	if w, ok := body["@adminapi.warnings"].([]any); !ok || len(w) != 0 {
		t.Errorf("warnings %v", body["@adminapi.warnings"])
	}
	for _, h := range []string{"Rate-Limit-Limit", "Rate-Limit-Remaining", "Rate-Limit-Reset", "request-id"} {
		if res.header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	created := values(t, res)[0]
	want := map[string]any{"Name": "Mail Recipients-admin", "Identity": "Mail Recipients-admin", "Role": "Mail Recipients",
		"RoleAssignee": "admin", "RoleAssigneeName": "admin", "RoleAssigneeType": "User", "AssignmentMethod": "Direct",
		"User": "admin", "RoleAssignmentDelegationType": "Regular", "Enabled": true, "RecipientReadScope": "Organization",
		"ConfigReadScope": "OrganizationConfig", "RecipientWriteScope": "Organization", "ConfigWriteScope": "OrganizationConfig",
		"CustomRecipientWriteScope": nil, "CustomConfigWriteScope": nil, "CustomResourceScope": nil, "IsValid": true,
		"Guid@data.type": "System.Guid", "Guid@odata.type": "#Guid", "WhenCreatedUTC@data.type": "System.DateTime"}
	for k, v := range want {
		if got, ok := created[k]; !ok || got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if len(created) != len(assignmentKeys) {
		t.Errorf("keys: got %d, want %d", len(created), len(assignmentKeys))
	}
	if g, _ := created["Guid"].(string); len(g) != 36 {
		t.Errorf("Guid %v", created["Guid"])
	}
	if w, _ := created["WhenCreatedUTC"].(string); len(w) != len("2026-09-30T10:00:00.0000000+00:00") || !strings.HasSuffix(w, "+00:00") {
		t.Errorf("WhenCreatedUTC %v", created["WhenCreatedUTC"])
	}
	// Key order as in WIRE §E3.
	raw := string(res.body)
	last := -1
	for _, k := range assignmentKeys {
		i := strings.Index(raw, `"`+k+`":`)
		if i < last {
			t.Errorf("key %s out of order", k)
		}
		last = i
	}

	res = e.invoke(tok, "New-ManagementRoleAssignment", map[string]any{"Role": "Mail Recipients", "User": "admin@contoso.onmicrosoft.com"})
	assertCmdletError(t, res, "ManagementObjectAlreadyExistsException")
	assertCmdletError(t, e.invoke(tok, "New-ManagementRoleAssignment", map[string]any{"Role": "No Such Role", "User": "admin@contoso.onmicrosoft.com"}),
		"ManagementObjectNotFoundException")

	got := values(t, e.invoke(tok, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": "admin@contoso.onmicrosoft.com"}))
	if len(got) != 1 || got[0]["Guid"] != created["Guid"] {
		t.Errorf("Get after New: %v", got)
	}
	res = e.invoke(tok, "Remove-ManagementRoleAssignment", map[string]any{"Identity": "Mail Recipients-admin", "Confirm": false})
	if v := values(t, res); len(v) != 0 {
		t.Errorf("Remove returned %v", v)
	}
	assertCmdletError(t, e.invoke(tok, "Remove-ManagementRoleAssignment", map[string]any{"Identity": "Mail Recipients-admin", "Confirm": false}),
		"ManagementObjectNotFoundException")
	if st := e.srv.Snapshot(); len(st.Users[0].ExchangeAssignments) != 0 {
		t.Errorf("state after remove: %v", st.Users[0].ExchangeAssignments)
	}
}

// assertCmdletError checks the §E5 envelope and the exception type.
func assertCmdletError(t *testing.T, res response, exception string) {
	t.Helper()
	body := res.json(t)
	if res.status < 400 || jsonPath(t, body, "error", "message") != "Error executing cmdlet" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	parts := strings.SplitN(as[string](t, jsonPath(t, body, "error", "details", 0, "message")), "|", 3)
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "Ex") || !strings.HasSuffix(parts[1], "."+exception) || parts[2] == "" {
		t.Errorf("details message %q, want Ex…|…%s|text", parts, exception)
	}
	if jsonPath(t, body, "error", "details", 0, "code") != "Client" ||
		jsonPath(t, body, "error", "innererror", "type") != "Microsoft.Exchange.Admin.OData.Core.ODataServiceException" ||
		jsonPath(t, body, "error", "innererror", "internalexception", "message") != parts[2] ||
		jsonPath(t, body, "error", "innererror", "internalexception", "type") != parts[1] {
		t.Errorf("envelope %s", res.body)
	}
}

func TestGetManagementRoleAssignmentIncludesRoleGroups(t *testing.T) {
	e := startTest(t, Options{})
	tok := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
	all := values(t, e.invoke(tok, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": "ga@contoso.onmicrosoft.com"}))
	roles := map[string]map[string]any{}
	for _, a := range all {
		if a["RoleAssigneeType"] != "RoleGroup" || a["AssignmentMethod"] != "RoleGroup" || a["RoleAssigneeName"] != "Organization Management" {
			t.Errorf("role group assignment %v", a)
		}
		roles[as[string](t, a["Role"])] = a
	}
	for _, r := range []string{"View-Only Configuration", "View-Only Recipients", "Mail Recipients", "Mail Recipient Creation", "Public Folders", "Role Management"} {
		if roles[r]["RoleAssignmentDelegationType"] != "Regular" {
			t.Errorf("%s: %v", r, roles[r])
		}
	}
	if roles["ApplicationImpersonation"]["RoleAssignmentDelegationType"] != "Delegating" {
		t.Errorf("ApplicationImpersonation via Organization Management: %v", roles["ApplicationImpersonation"])
	}
	regular := values(t, e.invoke(tok, "Get-ManagementRoleAssignment", map[string]any{
		"RoleAssignee": "ga@contoso.onmicrosoft.com", "Role": "ApplicationImpersonation", "Delegating": false}))
	if len(regular) != 0 {
		t.Errorf("Delegating:false filter: %v", regular)
	}
}

func TestInvokeCommandAuthorization(t *testing.T) {
	e := startTest(t, Options{})
	admin := e.token("admin@contoso.onmicrosoft.com", "admin-pw", exchangeScope)
	// Anyone may read their own assignments…
	if v := values(t, e.invoke(admin, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": "admin@contoso.onmicrosoft.com"})); len(v) != 0 {
		t.Errorf("own assignments %v", v)
	}
	// …but not others', nor assign roles.
	for _, tc := range []struct {
		cmdlet string
		params map[string]any
	}{
		{"Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": "ga@contoso.onmicrosoft.com"}},
		{"New-ManagementRoleAssignment", map[string]any{"Role": "Mail Recipients", "User": "admin@contoso.onmicrosoft.com"}},
		{"Remove-ManagementRoleAssignment", map[string]any{"Identity": "Mail Recipients-migration", "Confirm": false}},
	} {
		res := e.invoke(admin, tc.cmdlet, tc.params)
		if res.status != http.StatusForbidden {
			t.Errorf("%s: %d", tc.cmdlet, res.status)
		}
		assertCmdletError(t, res, "AccessDeniedException")
	}
	// An Exchange Administrator (directory role) may assign.
	exadmin := e.token("exadmin@contoso.onmicrosoft.com", "exadmin-pw", exchangeScope)
	if v := values(t, e.invoke(exadmin, "New-ManagementRoleAssignment", map[string]any{"Role": "Public Folders", "User": "admin", "Name": "tf-o365 Public Folders admin"})); v[0]["Name"] != "tf-o365 Public Folders admin" {
		t.Errorf("named assignment %v", v)
	}
	// Wrong audience and no token: 401 with an empty body.
	graphToken := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", graphScope)
	for _, tok := range []string{graphToken, ""} {
		res := e.invoke(tok, "Get-ManagementRoleAssignment", map[string]any{})
		if res.status != http.StatusUnauthorized || len(res.body) != 0 || !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("401: %d %q %v", res.status, res.body, res.header)
		}
	}
}

func TestInvokeCommandParameterErrors(t *testing.T) {
	e := startTest(t, Options{})
	tok := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
	assertCmdletError(t, e.invoke(tok, "Get-ManagementRoleAssignment", map[string]any{"Bogus": 1}), "ParameterBindingException")
	assertCmdletError(t, e.invoke(tok, "New-ManagementRoleAssignment", map[string]any{"Role": "Mail Recipients"}), "ParameterBindingException")
	assertCmdletError(t, e.invoke(tok, "Get-Mailbox", map[string]any{}), "CommandNotFoundException")
	assertCmdletError(t, e.invoke(tok, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": "nobody@contoso.com"}), "ManagementObjectNotFoundException")
	assertCmdletError(t, e.invoke(tok, "New-ManagementRoleAssignment", map[string]any{"Role": "Mail Recipients", "User": "admin", "Name": strings.Repeat("n", 65)}), "DataValidationException")
}

func TestInvokeCommandPaging(t *testing.T) {
	e := startTest(t, Options{})
	tok := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
	body := []byte(`{"CmdletInput":{"CmdletName":"Get-ManagementRoleAssignment","Parameters":{"RoleAssignee":"ga@contoso.onmicrosoft.com"}}}`)
	headers := bearer(tok)
	headers["Prefer"] = "odata.maxpagesize=3"
	path, total, pages := "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", 0, 0
	for path != "" {
		res := e.do("POST", path, headers, body)
		total += len(values(t, res))
		pages++
		next, _ := res.json(t)["@odata.nextLink"].(string)
		path = strings.TrimPrefix(next, e.srv.URL())
	}
	if total != 7 || pages != 3 {
		t.Errorf("%d assignments over %d pages, want 7 over 3", total, pages)
	}
	// The tenant GUID works in the path too, and $select trims the objects.
	res := e.do("POST", "/adminapi/beta/72f988bf-86f1-41af-91ab-2d7cd011db47/InvokeCommand?$select=Role,Guid", bearer(tok), body)
	if v := values(t, res)[0]; len(v) != 4 || v["Role"] == nil || v["Guid@odata.type"] == nil {
		t.Errorf("$select: %v", v)
	}
}
