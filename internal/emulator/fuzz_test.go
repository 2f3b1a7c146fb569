package emulator

// Fuzz targets for the emulated tenant's request handlers: arbitrary bodies, paths and
// headers must never panic a handler. The requests go straight to Server.ServeHTTP (no
// network, and no net/http recover hiding a panic). Run them with scripts/fuzz.sh.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

type fuzzTenant struct {
	srv                       *Server
	exoToken, graphToken      string
	adminExoToken, adminGraph string
}

var (
	fuzzOnce sync.Once
	fuzzEnv  *fuzzTenant
)

// fuzzServer starts one emulated tenant per fuzzing process and signs in the Global
// Administrator and a plain admin for Exchange and Graph.
func fuzzServer(f *testing.F) *fuzzTenant {
	f.Helper()
	fuzzOnce.Do(func() {
		seed, err := ParseSeed([]byte(testSeedJSON))
		if err != nil {
			panic(err)
		}
		srv, err := Start(seed, Options{})
		if err != nil {
			panic(err)
		}
		tok := func(user, pw, scope string) string {
			form := url.Values{"grant_type": {"password"}, "client_id": {"14d82eec-204b-4c2f-b7e8-296a70dab67e"},
				"username": {user}, "password": {pw}, "scope": {scope + " openid offline_access profile"}}
			rec := serve(srv, http.MethodPost, "/contoso.onmicrosoft.com/oauth2/v2.0/token",
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
			var m struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m.AccessToken == "" {
				panic("fuzz setup: no token for " + user + ": " + rec.Body.String())
			}
			return m.AccessToken
		}
		fuzzEnv = &fuzzTenant{srv: srv,
			exoToken:      tok("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope),
			graphToken:    tok("ga@contoso.onmicrosoft.com", "ga-app-pw", graphScope),
			adminExoToken: tok("exadmin@contoso.onmicrosoft.com", "exadmin-pw", exchangeScope),
			adminGraph:    tok("exadmin@contoso.onmicrosoft.com", "exadmin-pw", graphScope),
		}
	})
	return fuzzEnv
}

func serve(srv *Server, method, target string, headers map[string]string, body []byte) *httptest.ResponseRecorder {
	req, err := http.NewRequest(method, srv.URL()+target, bytes.NewReader(body))
	if err != nil {
		return nil
	}
	req.RemoteAddr = "127.0.0.1:1"
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec == nil {
		return // not a valid request: nothing was served
	}
	if rec.Code < 100 || rec.Code > 599 {
		t.Fatalf("status %d", rec.Code)
	}
}

func FuzzTokenEndpoint(f *testing.F) {
	env := fuzzServer(f)
	f.Add("contoso.onmicrosoft.com", "application/x-www-form-urlencoded",
		"grant_type=password&client_id=14d82eec-204b-4c2f-b7e8-296a70dab67e&username=admin%40contoso.onmicrosoft.com&password=admin-pw&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default+openid")
	f.Add("contoso.onmicrosoft.com", "application/x-www-form-urlencoded", "grant_type=refresh_token&refresh_token=x&scope=https%3A%2F%2Foutlook.office365.com%2F.default")
	f.Add("organizations", "application/x-www-form-urlencoded", "grant_type=password&username=mfa%40contoso.onmicrosoft.com&password=mfa-pw&scope=a+b+c")
	f.Add("72f988bf-86f1-41af-91ab-2d7cd011db47", "application/json", `{"grant_type":"password"}`)
	f.Add("", "", "%%%&&&==")
	f.Add("contoso.onmicrosoft.com", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=5951643e-5013-442f-963c-1ee875bbe74a&client_secret=x&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
	f.Add("contoso.onmicrosoft.com", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJhbGciOiJQUzI1NiJ9.e30.AA&scope=https%3A%2F%2Foutlook.office365.com%2F.default")
	f.Fuzz(func(t *testing.T, tenant, contentType, body string) {
		rec := serve(env.srv, http.MethodPost, "/"+url.PathEscape(tenant)+"/oauth2/v2.0/token",
			map[string]string{"Content-Type": contentType}, []byte(body))
		checkAnswer(t, rec)
		if rec != nil && rec.Code == http.StatusOK && !strings.Contains(body, "grant_type") {
			t.Fatalf("token issued for a body without grant_type: %q", body)
		}
	})
}

func FuzzIdentityMetadata(f *testing.F) {
	env := fuzzServer(f)
	f.Add("/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	f.Add("/common/UserRealm/admin@contoso.onmicrosoft.com?api-version=1.0")
	f.Add("/common/discovery/instance?api-version=1.1&authorization_endpoint=https://x/y/oauth2/v2.0/authorize")
	f.Fuzz(func(t *testing.T, target string) {
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "/_emulator") {
			return
		}
		checkAnswer(t, serve(env.srv, http.MethodGet, target, nil, nil))
	})
}

func FuzzInvokeCommand(f *testing.F) {
	env := fuzzServer(f)
	f.Add(true, `{"CmdletInput":{"CmdletName":"Get-ManagementRoleAssignment","Parameters":{"RoleAssignee":"exadmin@contoso.onmicrosoft.com"}}}`)
	f.Add(true, `{"CmdletInput":{"CmdletName":"New-ManagementRoleAssignment","Parameters":{"Role":"Mail Recipients","User":"alice@contoso.com","Name":"x"}}}`)
	f.Add(false, `{"CmdletInput":{"CmdletName":"Remove-ManagementRoleAssignment","Parameters":{"Identity":"x","Confirm":false}}}`)
	f.Add(true, `{"CmdletInput":{"CmdletName":"Get-ManagementRoleAssignment","Parameters":{"Identity":null,"GetEffectiveUsers":"yes","Role":7}}}`)
	f.Add(false, `{"CmdletInput":{"CmdletName":"Get-Mailbox"}}`)
	f.Add(true, `{"CmdletInput":{"CmdletName":"New-ManagementScope","Parameters":{"Name":"s","RecipientRestrictionFilter":"(Department -eq 'a' -or CustomAttribute1 -like 'b*') -and -not RecipientType -eq 'User'"}}}`)
	f.Add(true, `{"CmdletInput":{"CmdletName":"Set-ManagementScope","Parameters":{"Identity":"s","Name":"t","RecipientRestrictionFilter":"-not (PrimarySmtpAddress -like '*@contoso.com')"}}}`)
	f.Add(true, `{"CmdletInput":{"CmdletName":"Get-OrganizationConfig","Parameters":{"RetrieveEwsOperationAccessPolicy":true}}}`)
	f.Add(true, `{"CmdletInput":{"CmdletName":"Test-ServicePrincipalAuthorization","Parameters":{"Identity":"x","Resource":"alice.com"}}}`)
	f.Add(true, `[]`)
	f.Fuzz(func(t *testing.T, asGlobalAdmin bool, body string) {
		tok := env.adminExoToken
		if asGlobalAdmin {
			tok = env.exoToken
		}
		rec := serve(env.srv, http.MethodPost, "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand",
			map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json", "Prefer": "odata.maxpagesize=2"}, []byte(body))
		checkAnswer(t, rec)
		if rec != nil && rec.Code >= 500 {
			t.Fatalf("InvokeCommand answered %d to %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}

func FuzzEWS(f *testing.F) {
	env := fuzzServer(f)
	get := func(impersonate string) string {
		h := `<t:RequestServerVersion Version="Exchange2013_SP1"/>`
		if impersonate != "" {
			h += `<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>` + impersonate + `</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`
		}
		return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><soap:Header>` +
			h + `</soap:Header><soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="msgfolderroot"/><t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>alice@contoso.com</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:FolderIds></m:GetFolder></soap:Body></soap:Envelope>`
	}
	f.Add(0, get(""))
	f.Add(1, get("alice@contoso.com"))
	f.Add(2, get("nomailbox@contoso.com"))
	f.Add(0, `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><FindItem/></soap:Body></soap:Envelope>`)
	f.Add(1, `<a><b></a>`)
	f.Fuzz(func(t *testing.T, auth int, body string) {
		h := map[string]string{"Content-Type": "text/xml; charset=utf-8"}
		switch auth % 3 {
		case 0:
			h["Authorization"] = "Bearer " + env.adminExoToken
		case 1:
			h["Authorization"] = "Bearer " + env.exoToken
		default:
			h["Authorization"] = "Basic bWZhQGNvbnRvc28ub25taWNyb3NvZnQuY29tOm1mYS1hcHAtcHc=" // mfa:app password
		}
		rec := serve(env.srv, http.MethodPost, "/EWS/Exchange.asmx", h, []byte(body))
		checkAnswer(t, rec)
		if rec != nil && rec.Code != http.StatusOK && rec.Code != http.StatusInternalServerError {
			t.Fatalf("EWS answered %d (want 200 or a 500 SOAP fault) to %q", rec.Code, body)
		}
	})
}

func FuzzGraph(f *testing.F) {
	env := fuzzServer(f)
	f.Add("GET", "/v1.0/users/exadmin@contoso.onmicrosoft.com?$select=id,userPrincipalName", "")
	f.Add("GET", "/v1.0/users/exadmin@contoso.onmicrosoft.com/memberOf", "")
	f.Add("GET", "/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq 'x'&$expand=roleDefinition&$skiptoken=abc", "")
	f.Add("POST", "/v1.0/roleManagement/directory/roleAssignments", `{"roleDefinitionId":"fe930be7-5e62-47db-91af-98c3a49a38b1","principalId":"x","directoryScopeId":"/"}`)
	f.Add("DELETE", "/v1.0/roleManagement/directory/roleAssignments/abc", "")
	f.Add("GET", "/v1.0/users/alice@contoso.com/mailFolders/inbox?$select=id,displayName", "")
	f.Add("GET", "/v1.0/me/messages?$top=1&$select=id", "")
	f.Add("POST", "/v1.0/applications", `{"displayName":"x","tags":["a"],"keyCredentials":[{"type":"AsymmetricX509Cert","usage":"Verify","key":"AAAA"}]}`)
	f.Add("GET", "/v1.0/applications?$filter=tags/any(t:t eq 'a') and startswith(displayName,'x')&$select=id,appId", "")
	f.Add("PATCH", "/v1.0/applications(appId='x')", `{"identifierUris":["api://x"]}`)
	f.Add("POST", "/v1.0/servicePrincipals/x/appRoleAssignedTo", `{"principalId":"x","resourceId":"x","appRoleId":"x"}`)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/v1.0/") {
			return
		}
		switch method {
		case "GET", "POST", "DELETE", "PATCH":
		default:
			return
		}
		rec := serve(env.srv, method, target, map[string]string{"Authorization": "Bearer " + env.graphToken, "Content-Type": "application/json"}, []byte(body))
		checkAnswer(t, rec)
	})
}

func FuzzControlFault(f *testing.F) {
	env := fuzzServer(f)
	f.Add(`{"route":"graph.user","status":429,"retry_after":"2","count":3}`)
	f.Add(`{"route":"ews.GetFolder","ews_busy":true,"back_off_milliseconds":500,"every_nth":2}`)
	f.Add(`{"route":"*","delay":"250ms","probability":0.5}`)
	f.Add(`{"route":"*","delay":"-1h"}`)
	f.Add(`{"route":"graph.applications.create","drop_response":true,"count":1}`)
	f.Fuzz(func(t *testing.T, body string) {
		rec := serve(env.srv, http.MethodPost, "/_emulator/faults",
			map[string]string{"Authorization": "Bearer " + env.srv.ControlToken(), "Content-Type": "application/json"}, []byte(body))
		env.srv.ClearFaults()
		checkAnswer(t, rec)
		if rec != nil && rec.Code >= 500 {
			t.Fatalf("control API answered %d to %q", rec.Code, body)
		}
	})
}

func FuzzParseSeed(f *testing.F) {
	f.Add([]byte(testSeedJSON))
	f.Add([]byte(`{"tenant_id":"x","users":[{}]}`))
	f.Add([]byte(`{"propagation_delay":"1h","users":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSeed(data)
		if err == nil && s == nil {
			t.Fatal("nil seed without error")
		}
	})
}

var (
	importFuzzOnce sync.Once
	importFuzzSrv  *Server
	importFuzzTok  string // an app-only Graph token of importAppID
	importFuzzURL  string // the path and query of alice's import session
	importFuzzMBX  string // alice's mailbox id
)

// importFuzzServer starts a tenant with the mailbox import applications, signs
// importAppID in and creates an import session for alice.
func importFuzzServer() {
	importFuzzOnce.Do(func() {
		seed, err := ParseSeed([]byte(testSeedJSON))
		if err != nil {
			panic(err)
		}
		seed.ManagementScopes = []SeedManagementScope{{Name: "tf-o365 target mailboxes", RecipientFilter: "CustomAttribute15 -eq 'migrate'"}}
		importSeed(seed)
		if importFuzzSrv, err = Start(seed, Options{}); err != nil {
			panic(err)
		}
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {importAppID}, "client_secret": {appSecret}, "scope": {graphScope}}
		rec := serve(importFuzzSrv, http.MethodPost, "/contoso.onmicrosoft.com/oauth2/v2.0/token",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
		var token struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &token); err != nil || token.AccessToken == "" {
			panic("fuzz setup: no app token: " + rec.Body.String())
		}
		importFuzzTok = token.AccessToken
		for _, u := range importFuzzSrv.Snapshot().Users {
			if u.UserPrincipalName == "alice@contoso.com" {
				importFuzzMBX = u.MailboxID
			}
		}
		rec = serve(importFuzzSrv, http.MethodPost, "/v1.0/admin/exchange/mailboxes/"+importFuzzMBX+"/createImportSession",
			map[string]string{"Authorization": "Bearer " + importFuzzTok}, nil)
		var session struct {
			ImportURL string `json:"importUrl"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &session) != nil || session.ImportURL == "" {
			panic("fuzz setup: no import session: " + rec.Body.String())
		}
		u, err := url.Parse(session.ImportURL)
		if err != nil {
			panic(err)
		}
		importFuzzURL = u.RequestURI()
	})
}

// FuzzMailboxImport: Graph's mailbox import routes with a permitted caller,
// and uploads to an import URL (a live session's path and token, or fuzzed).
func FuzzMailboxImport(f *testing.F) {
	importFuzzServer()
	f.Add("GET", "/v1.0/users/alice@contoso.com/settings/exchange", "")
	f.Add("GET", "/v1.0/admin/exchange/mailboxes/"+importFuzzMBX+"/folders?$top=3&$skip=2&$select=id,type&$filter=type eq 'IPF.Note'", "")
	f.Add("POST", "/v1.0/admin/exchange/mailboxes/"+importFuzzMBX+"/createImportSession", "{}")
	f.Add("POST", "/v1.0/admin/exchange/mailboxes/MBX:x@y/createImportSession", "")
	f.Add("POST", "", `{"FolderId":"x","Mode":"update","Data":"AA==","ItemId":"i","ChangeKey":"c"}`)
	f.Add("POST", "/api/gv1.0/Mailboxes('MBX:x@y')/importItem?authtoken=x", `{"FolderId":1}`)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		headers := map[string]string{"Content-Type": "application/json"}
		switch {
		case target == "":
			target = importFuzzURL // the live session
		case strings.HasPrefix(target, "/v1.0/"):
			headers["Authorization"] = "Bearer " + importFuzzTok
		case !strings.HasPrefix(target, importPathPrefix):
			return
		}
		if method != "GET" && method != "POST" {
			return
		}
		checkAnswer(t, serve(importFuzzSrv, method, target, headers, []byte(body)))
		// Keep the tenant small: the first session, no uploads.
		importFuzzSrv.mu.Lock()
		importFuzzSrv.tenant.importSessions = importFuzzSrv.tenant.importSessions[:1]
		importFuzzSrv.tenant.importUploads = nil
		importFuzzSrv.mu.Unlock()
	})
}
