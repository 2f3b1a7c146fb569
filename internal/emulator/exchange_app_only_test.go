package emulator

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestExchangeAppOnlySession(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	full := e.appToken(fullAppID, exchangeScope)
	reader := e.appToken(readerAppID, exchangeScope)
	bare := e.appToken(bareAppID, exchangeScope)
	management := e.appToken(managementAppID, exchangeScope)
	get := func(token string, anchor string) response {
		h := bearer(token)
		if anchor != "" {
			h["X-AnchorMailbox"] = anchor
		}
		return e.do("POST", "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", h,
			[]byte(`{"CmdletInput":{"CmdletName":"Get-OrganizationConfig","Parameters":{}}}`))
	}
	if res := get(full, appAnchor); res.status != http.StatusOK {
		t.Fatalf("Exchange Administrator app: %d %s", res.status, res.body)
	}
	for _, anchor := range []string{"UPN:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com",
		"APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@" + e.srv.TenantID()} {
		if res := get(full, anchor); res.status != http.StatusOK {
			t.Errorf("anchor %s: %d", anchor, res.status)
		}
	}
	for _, anchor := range []string{"", "UPN:admin@contoso.onmicrosoft.com", "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@fabrikam.com"} {
		if res := get(full, anchor); res.status != http.StatusBadRequest {
			t.Errorf("anchor %q: %d", anchor, res.status)
		}
	}
	for _, tc := range []struct {
		name, token, cmdlet string
		params              map[string]any
		message             string
	}{
		{"no Exchange.ManageAsApp", bare, "Get-OrganizationConfig", nil, "Exchange.ManageAsApp"},
		{"read-only role", reader, "New-ManagementScope", map[string]any{"Name": "x", "RecipientRestrictionFilter": "Department -eq 'x'"}, "User is not allowed to call New-ManagementScope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.invokeApp(tc.token, tc.cmdlet, tc.params)
			if res.status != http.StatusUnauthorized || jsonPath(t, res.json(t), "error", "code") != "Unauthorized" ||
				!strings.Contains(as[string](t, jsonPath(t, res.json(t), "error", "message")), tc.message) ||
				jsonPath(t, res.json(t), "error", "innererror", "type") != "Microsoft.Exchange.Admin.OData.Core.ODataServiceException" {
				t.Fatalf("%d %s", res.status, res.body)
			}
		})
	}
	// A directory role Exchange does not accept for app-only sessions.
	if err := e.srv.RemoveServicePrincipalDirectoryRole(managementAppID, "Exchange Administrator"); err != nil {
		t.Fatal(err)
	}
	if res := e.invokeApp(management, "Get-OrganizationConfig", nil); res.status != http.StatusOK {
		t.Errorf("the issued token keeps its wids: %d", res.status)
	}
	res := e.invokeApp(e.appToken(managementAppID, exchangeScope), "Get-OrganizationConfig", nil)
	if res.status != http.StatusUnauthorized || !strings.Contains(string(res.body), "isn't supported in this scenario") {
		t.Errorf("Privileged Role Administrator only: %d %s", res.status, res.body)
	}
	if v := values(t, e.invokeApp(reader, "Get-CASMailbox", map[string]any{"Identity": "alice@contoso.com"})); len(v) != 1 {
		t.Errorf("Global Reader reads: %v", v)
	}
}

func TestGetOrganizationConfigAndCASMailbox(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	tok := e.appToken(fullAppID, exchangeScope)
	org := values(t, e.invokeApp(tok, "Get-OrganizationConfig", map[string]any{}))[0]
	if v, ok := org["EwsEnabled"]; !ok || v != nil {
		t.Errorf("EwsEnabled not configured: %v", org)
	}
	if _, has := org["EwsAllowedAppIDs"]; has {
		t.Errorf("EwsAllowedAppIDs without -RetrieveEwsOperationAccessPolicy: %v", org)
	}
	for _, k := range []string{"EwsApplicationAccessPolicy", "EwsAllowList", "EwsBlockList", "EwsAllowOutlook", "EwsAllowMacOutlook", "EwsAllowEntourage"} {
		if _, ok := org[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	yes := true
	e.srv.SetOrganizationEWSEnabled(&yes)
	e.srv.SetEWSAllowedAppIDs([]string{fullAppID, scopedAppID})
	org = values(t, e.invokeApp(tok, "Get-OrganizationConfig", map[string]any{"RetrieveEwsOperationAccessPolicy": true}))[0]
	if org["EwsEnabled"] != true || org["EwsAllowedAppIDs"] != fullAppID+","+scopedAppID {
		t.Errorf("configured: %v", org)
	}
	// $select works on these bags as on any (WIRE §K2).
	h := bearer(tok)
	h["X-AnchorMailbox"] = appAnchor
	sel := e.do("POST", "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand?$select=EwsEnabled,EwsAllowList", h,
		[]byte(`{"CmdletInput":{"CmdletName":"Get-OrganizationConfig","Parameters":{}}}`))
	if v := values(t, sel)[0]; len(v) != 3 || v["EwsEnabled"] != true {
		t.Errorf("$select: %v", v)
	}

	cas := values(t, e.invokeApp(tok, "Get-CASMailbox", map[string]any{"Identity": "alice@contoso.com"}))
	if len(cas) != 1 || cas[0]["PrimarySmtpAddress"] != "alice@contoso.com" || cas[0]["EwsEnabled"] != nil {
		t.Errorf("alice %v", cas)
	}
	if _, ok := cas[0]["EwsEnabled"]; !ok {
		t.Error("EwsEnabled key missing")
	}
	no := false
	if err := e.srv.SetMailboxEWSEnabled("alice@contoso.com", &no); err != nil {
		t.Fatal(err)
	}
	if v := values(t, e.invokeApp(tok, "Get-CASMailbox", map[string]any{"Identity": "alice"}))[0]; v["EwsEnabled"] != false {
		t.Errorf("alice after Set: %v", v)
	}
	assertCmdletError(t, e.invokeApp(tok, "Get-CASMailbox", map[string]any{"Identity": "nomailbox@contoso.com"}), "ManagementObjectNotFoundException")
	assertCmdletError(t, e.invokeApp(tok, "Get-CASMailbox", map[string]any{"Identity": "nobody@contoso.com"}), "ManagementObjectNotFoundException")
	all := values(t, e.invokeApp(tok, "Get-CASMailbox", map[string]any{}))
	if len(all) != 6 { // the test seed's users with a mailbox
		t.Errorf("all CAS mailboxes: %d", len(all))
	}

	// Delegated: an admin without roles reads only their own mailbox.
	admin := e.token("admin@contoso.onmicrosoft.com", "admin-pw", exchangeScope)
	if v := values(t, e.invoke(admin, "Get-CASMailbox", map[string]any{"Identity": "admin@contoso.onmicrosoft.com"})); len(v) != 1 {
		t.Errorf("own CAS mailbox: %v", v)
	}
	assertCmdletError(t, e.invoke(admin, "Get-CASMailbox", map[string]any{"Identity": "alice@contoso.com"}), "AccessDeniedException")
	assertCmdletError(t, e.invoke(admin, "Get-OrganizationConfig", map[string]any{}), "AccessDeniedException")
	mfa := e.token("mfa@contoso.onmicrosoft.com", "mfa-app-pw", exchangeScope) // View-Only Configuration
	if v := values(t, e.invoke(mfa, "Get-OrganizationConfig", map[string]any{})); len(v) != 1 {
		t.Errorf("View-Only Configuration reads the organization: %v", v)
	}
}

func TestTestServicePrincipalAuthorization(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	tok := e.appToken(fullAppID, exchangeScope)
	rows := func(params map[string]any) map[string]map[string]any {
		byRole := map[string]map[string]any{}
		for _, v := range values(t, e.invokeApp(tok, "Test-ServicePrincipalAuthorization", params)) {
			byRole[as[string](t, v["RoleName"])] = v
		}
		return byRole
	}
	sp := spID(t, e.srv, scopedAppID)
	for _, identity := range []string{scopedAppID, sp} {
		got := rows(map[string]any{"Identity": identity})
		row := got["Application Mail.ReadWrite"]
		if len(got) != 2 || row["GrantedPermissions"] != "Mail.ReadWrite" || row["AllowedResourceScope"] != "tf-o365 target mailboxes" ||
			row["ScopeType"] != "CustomRecipientScope" || row["InScope"] != "Not Run" {
			t.Errorf("%s: %v", identity, got)
		}
	}
	if got := rows(map[string]any{"Identity": scopedAppID, "Resource": "alice@contoso.com"}); got["Application EWS.AccessAsApp"]["InScope"] != true {
		t.Errorf("alice: %v", got)
	}
	if got := rows(map[string]any{"Identity": scopedAppID, "Resource": "admin@contoso.onmicrosoft.com"}); got["Application Mail.ReadWrite"]["InScope"] != false {
		t.Errorf("admin: %v", got)
	}
	// The full-access app has Entra consent only and no Exchange service
	// principal: Test-ServicePrincipalAuthorization does not know it (WIRE §J6).
	assertCmdletError(t, e.invokeApp(tok, "Test-ServicePrincipalAuthorization", map[string]any{"Identity": fullAppID}), "ManagementObjectNotFoundException")
	assertCmdletError(t, e.invokeApp(tok, "Test-ServicePrincipalAuthorization", map[string]any{"Identity": "00000000-0000-0000-0000-000000000000"}), "ManagementObjectNotFoundException")
	assertCmdletError(t, e.invokeApp(tok, "Test-ServicePrincipalAuthorization", map[string]any{}), "ParameterBindingException")
}

func TestGetManagementRoleAndRetirement(t *testing.T) {
	e := startTest(t, Options{})
	ga := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
	role := values(t, e.invoke(ga, "Get-ManagementRole", map[string]any{"Identity": "ApplicationImpersonation"}))
	if len(role) != 1 || role[0]["Name"] != "ApplicationImpersonation" || role[0]["RoleType"] != "ApplicationImpersonation" {
		t.Errorf("ApplicationImpersonation: %v", role)
	}
	apps := values(t, e.invoke(ga, "Get-ManagementRole", map[string]any{"Identity": "Application*"}))
	found := map[string]any{}
	for _, r := range apps {
		found[as[string](t, r["Name"])] = r["RoleType"]
	}
	if len(apps) != 20 || found["Application EWS.AccessAsApp"] != "ApplicationEWSAccessAsApp" || found["ApplicationImpersonation"] == nil ||
		found["Application MailboxItem.ImportExport"] != "ApplicationMailboxItemImportExport" || found["Application MailboxFolder.Read"] != "ApplicationMailboxFolderRead" {
		t.Errorf("Application*: %d %v", len(apps), found)
	}
	assertCmdletError(t, e.invoke(ga, "Get-ManagementRole", map[string]any{"Identity": "No Such Role"}), "ManagementObjectNotFoundException")
	admin := e.token("admin@contoso.onmicrosoft.com", "admin-pw", exchangeScope)
	assertCmdletError(t, e.invoke(admin, "Get-ManagementRole", map[string]any{}), "AccessDeniedException")

	e.srv.SetImpersonationRetired(true)
	for _, tc := range []struct {
		cmdlet string
		params map[string]any
	}{
		{"Get-ManagementRole", map[string]any{"Identity": "ApplicationImpersonation"}},
		{"Get-ManagementRoleAssignment", map[string]any{"Role": "ApplicationImpersonation", "GetEffectiveUsers": true}},
		{"New-ManagementRoleAssignment", map[string]any{"Role": "ApplicationImpersonation", "User": "admin"}},
	} {
		res := e.invoke(ga, tc.cmdlet, tc.params)
		assertCmdletError(t, res, "ManagementObjectNotFoundException")
		if res.status != http.StatusNotFound || !strings.Contains(string(res.body), "object 'ApplicationImpersonation' couldn't be found") {
			t.Errorf("%s: %d %s", tc.cmdlet, res.status, res.body)
		}
	}
	if v := values(t, e.invoke(ga, "Get-ManagementRole", map[string]any{"Identity": "Application*"})); len(v) != 19 {
		t.Errorf("Application* after retirement: %d", len(v))
	}
	for _, a := range values(t, e.invoke(ga, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": "ga@contoso.onmicrosoft.com"})) {
		if a["Role"] == "ApplicationImpersonation" {
			t.Errorf("retired role still assigned: %v", a)
		}
	}
	// A tenant seeded retired: the role is absent from the start, and a seed
	// assigning it is refused.
	seed, _ := ParseSeed([]byte(testSeedJSON))
	seed.ImpersonationRetired = true
	if err := seed.Validate(); err == nil || !strings.Contains(err.Error(), "ApplicationImpersonation is retired") {
		t.Errorf("seed with the retired role: %v", err)
	}
}

// TestExchangeRBACForApplications walks WIRE §J's order of operations with an
// app-only management identity: New-ServicePrincipal → New-ManagementScope →
// New-ManagementRoleAssignment -App → Test-ServicePrincipalAuthorization, and
// back.
func TestExchangeRBACForApplications(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	tok := e.appToken(managementAppID, exchangeScope)
	target := spID(t, e.srv, bareAppID)
	appObjectID := ""
	for _, a := range e.srv.Snapshot().Applications {
		if a.AppID == bareAppID {
			appObjectID = a.ObjectID
		}
	}

	// New-ServicePrincipal wants the service principal's id, not the application's.
	assertCmdletError(t, e.invokeApp(tok, "New-ServicePrincipal", map[string]any{"AppId": bareAppID, "ObjectId": appObjectID}), "ManagementObjectNotFoundException")
	assertCmdletError(t, e.invokeApp(tok, "New-ServicePrincipal", map[string]any{"AppId": scopedAppID, "ObjectId": target}), "TaskException")
	created := values(t, e.invokeApp(tok, "New-ServicePrincipal", map[string]any{"AppId": bareAppID, "ObjectId": target, "DisplayName": "tf-o365 bare"}))
	if len(created) != 1 || created[0]["Identity"] != target || created[0]["AppId"] != bareAppID || created[0]["ObjectId"] != target || created[0]["DisplayName"] != "tf-o365 bare" {
		t.Fatalf("New-ServicePrincipal: %v", created)
	}
	assertCmdletError(t, e.invokeApp(tok, "New-ServicePrincipal", map[string]any{"AppId": bareAppID, "ServiceId": target}), "ManagementObjectAlreadyExistsException")
	if v := values(t, e.invokeApp(tok, "Get-ServicePrincipal", map[string]any{"Identity": bareAppID})); len(v) != 1 || v[0]["ObjectId"] != target {
		t.Errorf("Get-ServicePrincipal by AppId: %v", v)
	}
	// A non-existent Identity returns every pointer, as Microsoft warns (WIRE §J2).
	if v := values(t, e.invokeApp(tok, "Get-ServicePrincipal", map[string]any{"Identity": "00000000-0000-0000-0000-000000000000"})); len(v) != 2 {
		t.Errorf("Get-ServicePrincipal of nobody: %v", v)
	}

	// Scopes.
	assertCmdletError(t, e.invokeApp(tok, "New-ManagementScope", map[string]any{"Name": "sales", "RecipientRestrictionFilter": "Department -eq 'Sales' -and"}), "ParameterBindingException")
	assertCmdletError(t, e.invokeApp(tok, "New-ManagementScope", map[string]any{"Name": strings.Repeat("s", 65), "RecipientRestrictionFilter": "Department -eq 'Sales'"}), "DataValidationException")
	scope := values(t, e.invokeApp(tok, "New-ManagementScope", map[string]any{"Name": "sales", "RecipientRestrictionFilter": "Department -eq 'Sales'"}))
	if len(scope) != 1 || scope[0]["Name"] != "sales" || scope[0]["RecipientFilter"] != "Department -eq 'Sales'" ||
		scope[0]["ScopeRestrictionType"] != "RecipientScope" || scope[0]["Exclusive"] != false {
		t.Fatalf("New-ManagementScope: %v", scope)
	}
	assertCmdletError(t, e.invokeApp(tok, "New-ManagementScope", map[string]any{"Name": "Sales", "RecipientRestrictionFilter": "Department -eq 'x'"}), "ManagementObjectAlreadyExistsException")
	if v := values(t, e.invokeApp(tok, "Get-ManagementScope", map[string]any{})); len(v) != 2 {
		t.Errorf("Get-ManagementScope: %v", v)
	}
	assertCmdletError(t, e.invokeApp(tok, "Get-ManagementScope", map[string]any{"Identity": "nope"}), "ManagementObjectNotFoundException")

	// Assignments of the App parameter set.
	assign := func(params map[string]any) response { return e.invokeApp(tok, "New-ManagementRoleAssignment", params) }
	assertCmdletError(t, assign(map[string]any{"Role": "Application Mail.ReadWrite", "App": "00000000-0000-0000-0000-000000000000"}), "ManagementObjectNotFoundException")
	assertCmdletError(t, assign(map[string]any{"Role": "Application Mail.ReadWrite", "App": target, "CustomResourceScope": "nope"}), "ManagementObjectNotFoundException")
	assertCmdletError(t, assign(map[string]any{"Role": "Application Mail.ReadWrite", "App": target, "RecipientAdministrativeUnitScope": "au"}), "ParameterBindingException")
	assertCmdletError(t, assign(map[string]any{"Role": "Application Mail.ReadWrite", "User": "admin"}), "TaskException")
	a := values(t, assign(map[string]any{"Name": "tf-o365 Application Mail.ReadWrite", "Role": "Application Mail.ReadWrite", "App": target, "CustomResourceScope": "sales"}))
	if len(a) != 1 || a[0]["RoleAssigneeType"] != "ServicePrincipal" || a[0]["RoleAssignee"] != target || a[0]["CustomResourceScope"] != "sales" ||
		a[0]["RecipientWriteScope"] != "CustomRecipientScope" || a[0]["User"] != nil || len(a[0]) != len(assignmentKeys) {
		t.Fatalf("New-ManagementRoleAssignment -App: %v", a)
	}
	byAppID := values(t, assign(map[string]any{"Role": "Application EWS.AccessAsApp", "App": bareAppID}))
	if byAppID[0]["Name"] != "Application EWS.AccessAsApp-"+target || byAppID[0]["RecipientWriteScope"] != "Organization" || byAppID[0]["CustomResourceScope"] != nil {
		t.Errorf("organization-wide by AppId: %v", byAppID)
	}
	assertCmdletError(t, assign(map[string]any{"Name": "tf-o365 Application Mail.ReadWrite", "Role": "Application Mail.ReadWrite", "App": target}), "ManagementObjectAlreadyExistsException")
	got := values(t, e.invokeApp(tok, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": target}))
	if len(got) != 2 {
		t.Errorf("Get-ManagementRoleAssignment -RoleAssignee <sp>: %v", got)
	}
	assertCmdletError(t, e.invokeApp(tok, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": target, "RoleAssigneeType": "ServicePrincipal"}), "ParameterBindingException")
	rows := values(t, e.invokeApp(tok, "Test-ServicePrincipalAuthorization", map[string]any{"Identity": target, "Resource": "alice@contoso.com"}))
	if len(rows) != 2 || rows[0]["InScope"] != true || rows[1]["ScopeType"] != "Organization" {
		t.Errorf("Test-ServicePrincipalAuthorization: %v", rows)
	}
	// The Graph probe honours it at once with rbac_delay 0.
	if res := e.do("GET", "/v1.0/users/alice@contoso.com/mailFolders/inbox", bearer(e.appToken(bareAppID, graphScope)), nil); res.status != http.StatusOK {
		t.Errorf("probe in scope: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/v1.0/users/admin@contoso.onmicrosoft.com/mailFolders/inbox", bearer(e.appToken(bareAppID, graphScope)), nil); res.status != http.StatusForbidden {
		t.Errorf("probe out of scope: %d", res.status)
	}

	// Removal in reverse order; a scope or pointer in use is refused.
	assertCmdletError(t, e.invokeApp(tok, "Remove-ManagementScope", map[string]any{"Identity": "sales", "Confirm": false}), "TaskException")
	assertCmdletError(t, e.invokeApp(tok, "Remove-ServicePrincipal", map[string]any{"Identity": target, "Confirm": false}), "TaskException")
	for _, name := range []string{"tf-o365 Application Mail.ReadWrite", "Application EWS.AccessAsApp-" + target} {
		if v := values(t, e.invokeApp(tok, "Remove-ManagementRoleAssignment", map[string]any{"Identity": name, "Confirm": false})); len(v) != 0 {
			t.Errorf("remove %s: %v", name, v)
		}
	}
	if v := values(t, e.invokeApp(tok, "Remove-ManagementScope", map[string]any{"Identity": "sales", "Confirm": false})); len(v) != 0 {
		t.Errorf("Remove-ManagementScope: %v", v)
	}
	if v := values(t, e.invokeApp(tok, "Remove-ServicePrincipal", map[string]any{"Identity": target, "Confirm": false})); len(v) != 0 {
		t.Errorf("Remove-ServicePrincipal: %v", v)
	}
	assertCmdletError(t, e.invokeApp(tok, "Remove-ServicePrincipal", map[string]any{"Identity": target, "Confirm": false}), "ManagementObjectNotFoundException")
	st := e.srv.Snapshot()
	if len(st.ExchangeServicePrincipals) != 1 || len(st.ManagementScopes) != 1 {
		t.Errorf("state after removal: %+v %+v", st.ExchangeServicePrincipals, st.ManagementScopes)
	}
	// Delegated: Organization Management may do the same; an admin without roles may not.
	ga := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
	if v := values(t, e.invoke(ga, "New-ManagementScope", map[string]any{"Name": "it", "RecipientRestrictionFilter": "Department -eq 'IT'"})); len(v) != 1 {
		t.Errorf("Global Administrator: %v", v)
	}
	admin := e.token("admin@contoso.onmicrosoft.com", "admin-pw", exchangeScope)
	assertCmdletError(t, e.invoke(admin, "New-ManagementScope", map[string]any{"Name": "x", "RecipientRestrictionFilter": "Department -eq 'x'"}), "AccessDeniedException")
}

// TestSetManagementScope: Set-ManagementScope changes a scope in place
// (office-docs-powershell Set-ManagementScope.md) with New-ManagementScope's
// filter subset, errors and rights; its assignments follow at once for
// Test-ServicePrincipalAuthorization and after the RBAC delay for Graph
// (WIRE §J7.2).
func TestSetManagementScope(t *testing.T) {
	clock := newFakeClock()
	e := startAppTest(t, Options{Clock: clock.Now, RBACDelay: 30 * time.Minute}, nil)
	clock.Advance(30 * time.Minute) // the seeded assignments are in force
	tok := e.appToken(managementAppID, exchangeScope)
	set := func(params map[string]any) response { return e.invokeApp(tok, "Set-ManagementScope", params) }
	const scope = "tf-o365 target mailboxes"
	filterOf := func(name string) any {
		v := values(t, e.invokeApp(tok, "Get-ManagementScope", map[string]any{"Identity": name}))
		if len(v) != 1 {
			t.Fatalf("Get-ManagementScope %s: %v", name, v)
		}
		return v[0]["RecipientFilter"]
	}
	probe := func(mailbox string) int {
		return e.do("GET", "/v1.0/users/"+mailbox+"/mailFolders/inbox", bearer(e.appToken(scopedAppID, graphScope)), nil).status
	}
	inScope := func(mailbox string) any {
		for _, row := range values(t, e.invokeApp(tok, "Test-ServicePrincipalAuthorization", map[string]any{"Identity": scopedAppID, "Resource": mailbox})) {
			if row["RoleName"] == "Application Mail.ReadWrite" {
				return row["InScope"]
			}
		}
		return "no row"
	}
	if probe("alice@contoso.com") != http.StatusOK || probe("admin@contoso.onmicrosoft.com") != http.StatusForbidden {
		t.Fatal("seeded scope not in force")
	}

	for _, tc := range []struct {
		name      string
		params    map[string]any
		exception string
	}{
		{"no identity", map[string]any{"RecipientRestrictionFilter": "Department -eq 'IT'"}, "ParameterBindingException"},
		{"unknown scope", map[string]any{"Identity": "nope", "RecipientRestrictionFilter": "Department -eq 'IT'"}, "ManagementObjectNotFoundException"},
		{"filter outside the subset", map[string]any{"Identity": scope, "RecipientRestrictionFilter": "City -eq 'Seattle'"}, "ParameterBindingException"},
		{"broken filter", map[string]any{"Identity": scope, "RecipientRestrictionFilter": "Department -eq 'IT' -and"}, "ParameterBindingException"},
		{"empty filter", map[string]any{"Identity": scope, "RecipientRestrictionFilter": ""}, "ParameterBindingException"},
		{"null filter", map[string]any{"Identity": scope, "RecipientRestrictionFilter": nil}, "ParameterBindingException"},
		{"on-premises parameter set", map[string]any{"Identity": scope, "DatabaseRestrictionFilter": "Name -eq 'db'"}, "ParameterBindingException"},
		{"organizational unit", map[string]any{"Identity": scope, "RecipientRoot": "contoso.com/Sales"}, "ParameterBindingException"},
		{"name too long", map[string]any{"Identity": scope, "Name": strings.Repeat("s", 65)}, "DataValidationException"},
		{"filter of another type", map[string]any{"Identity": scope, "RecipientRestrictionFilter": 15}, "ParameterBindingException"},
	} {
		t.Run(tc.name, func(t *testing.T) { assertCmdletError(t, set(tc.params), tc.exception) })
	}
	if got := filterOf(scope); got != "CustomAttribute15 -eq 'migrate'" {
		t.Fatalf("a refused Set-ManagementScope changed the filter: %v", got)
	}
	// Rights: a read-only app session, and a user without Role Management.
	if res := e.invokeApp(e.appToken(readerAppID, exchangeScope), "Set-ManagementScope", map[string]any{"Identity": scope, "RecipientRestrictionFilter": "Department -eq 'IT'"}); res.status != http.StatusUnauthorized ||
		!strings.Contains(string(res.body), "User is not allowed to call Set-ManagementScope") {
		t.Errorf("Global Reader app: %d %s", res.status, res.body)
	}
	admin := e.token("admin@contoso.onmicrosoft.com", "admin-pw", exchangeScope)
	assertCmdletError(t, e.invoke(admin, "Set-ManagementScope", map[string]any{"Identity": scope, "RecipientRestrictionFilter": "Department -eq 'IT'"}), "AccessDeniedException")

	// The change: no object in the answer, the new filter read back at once.
	if v := values(t, set(map[string]any{"Identity": scope, "RecipientRestrictionFilter": "Department -eq 'IT'", "Confirm": false})); len(v) != 0 {
		t.Errorf("Set-ManagementScope answered %v", v)
	}
	if got := filterOf(scope); got != "Department -eq 'IT'" {
		t.Errorf("filter after Set: %v", got)
	}
	if st := e.srv.Snapshot(); len(st.ManagementScopes) != 1 || st.ManagementScopes[0].RecipientFilter != "Department -eq 'IT'" {
		t.Errorf("state: %+v", st.ManagementScopes)
	}
	if inScope("admin@contoso.onmicrosoft.com") != true || inScope("alice@contoso.com") != false {
		t.Errorf("Test-ServicePrincipalAuthorization after Set: admin %v, alice %v", inScope("admin@contoso.onmicrosoft.com"), inScope("alice@contoso.com"))
	}
	clock.Advance(29 * time.Minute)
	if probe("alice@contoso.com") != http.StatusOK || probe("admin@contoso.onmicrosoft.com") != http.StatusForbidden {
		t.Error("Graph applied the new filter before the RBAC delay")
	}
	// A second change within the delay: Graph still sees the first filter
	// until the delay has passed since it was replaced.
	if v := values(t, set(map[string]any{"Identity": scope, "RecipientRestrictionFilter": "RecipientType -eq 'UserMailbox'"})); len(v) != 0 {
		t.Errorf("second Set: %v", v)
	}
	clock.Advance(time.Minute)
	if probe("alice@contoso.com") != http.StatusForbidden || probe("admin@contoso.onmicrosoft.com") != http.StatusOK {
		t.Error("Graph did not apply the first new filter after the RBAC delay")
	}
	clock.Advance(29 * time.Minute)
	if probe("alice@contoso.com") != http.StatusOK || probe("admin@contoso.onmicrosoft.com") != http.StatusOK {
		t.Error("Graph did not apply the second filter after the RBAC delay")
	}

	// Renaming: assignments follow the scope; a taken name is refused.
	if v := values(t, e.invokeApp(tok, "New-ManagementScope", map[string]any{"Name": "sales", "RecipientRestrictionFilter": "Department -eq 'Sales'"})); len(v) != 1 {
		t.Fatalf("New-ManagementScope: %v", v)
	}
	assertCmdletError(t, set(map[string]any{"Identity": scope, "Name": "SALES"}), "ManagementObjectAlreadyExistsException")
	if v := values(t, set(map[string]any{"Identity": scope, "Name": "tf-o365 mailboxes"})); len(v) != 0 {
		t.Errorf("rename: %v", v)
	}
	assertCmdletError(t, e.invokeApp(tok, "Get-ManagementScope", map[string]any{"Identity": scope}), "ManagementObjectNotFoundException")
	if got := filterOf("tf-o365 mailboxes"); got != "RecipientType -eq 'UserMailbox'" {
		t.Errorf("renamed scope's filter: %v", got)
	}
	for _, a := range values(t, e.invokeApp(tok, "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": spID(t, e.srv, scopedAppID)})) {
		if a["CustomResourceScope"] != "tf-o365 mailboxes" {
			t.Errorf("assignment after rename: %v", a)
		}
	}
	assertCmdletError(t, e.invokeApp(tok, "Remove-ManagementScope", map[string]any{"Identity": "tf-o365 mailboxes", "Confirm": false}), "TaskException")
	if probe("alice@contoso.com") != http.StatusOK {
		t.Error("a rename changed who is in scope")
	}
	// Delegated: Organization Management may change a scope too, by its Guid.
	guid := values(t, e.invokeApp(tok, "Get-ManagementScope", map[string]any{"Identity": "sales"}))[0]["Guid"]
	ga := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
	if v := values(t, e.invoke(ga, "Set-ManagementScope", map[string]any{"Identity": guid, "RecipientRestrictionFilter": "Department -like 'Sal*'"})); len(v) != 0 {
		t.Errorf("Global Administrator: %v", v)
	}
	if got := filterOf("sales"); got != "Department -like 'Sal*'" {
		t.Errorf("filter set by Guid: %v", got)
	}
}
