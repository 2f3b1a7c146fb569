package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Client ids of the mailbox import fixtures (importSeed).
const (
	importAppID     = "d1849304-b5c6-41d2-b3e4-657081920314" // Entra: User.Read.All, MailboxFolder.Read.All, MailboxItem.ImportExport.All
	folderAppID     = "e2950415-c6d7-42e3-84f5-768192031425" // Entra: MailboxFolder.ReadWrite.All only
	rbacImportAppID = "f3a61526-d7e8-43f4-95a6-879203142536" // RBAC: Application MailboxFolder.Read + MailboxItem.ImportExport, scoped to "migrate"
	tenantGUID      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
)

// importSeed adds the mailbox import applications to the app seed.
func importSeed(s *Seed) {
	s.Applications = append(s.Applications,
		SeedApplication{DisplayName: "tf-o365 import", AppID: importAppID, Secrets: []SeedSecret{{Value: appSecret}},
			GraphPermissions: []string{"User.Read.All", "MailboxFolder.Read.All", "MailboxItem.ImportExport.All"}},
		SeedApplication{DisplayName: "tf-o365 folders", AppID: folderAppID, Secrets: []SeedSecret{{Value: appSecret}},
			GraphPermissions: []string{"MailboxFolder.ReadWrite.All"}},
		SeedApplication{DisplayName: "tf-o365 import scoped", AppID: rbacImportAppID, Secrets: []SeedSecret{{Value: appSecret}},
			GraphPermissions: []string{"User.Read.All"},
			ExchangeRoles: []SeedAppExchangeRole{
				{Role: "Application MailboxFolder.Read", Scope: "tf-o365 target mailboxes"},
				{Role: "Application MailboxItem.ImportExport", Scope: "tf-o365 target mailboxes"}}})
}

func startImportTest(t *testing.T, opts Options, change func(*Seed)) *testEnv {
	t.Helper()
	return startAppTest(t, opts, func(s *Seed) {
		importSeed(s)
		if change != nil {
			change(s)
		}
	})
}

// mailboxIDOf is a user's mailbox id as the snapshot shows it.
func mailboxIDOf(t *testing.T, srv *Server, upn string) string {
	t.Helper()
	for _, u := range srv.Snapshot().Users {
		if u.UserPrincipalName == upn {
			return u.MailboxID
		}
	}
	t.Fatalf("no user %s", upn)
	return ""
}

// doURL is do for an absolute URL (the import host).
func (e *testEnv) doURL(method, rawURL string, body []byte) response {
	e.t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, data}
}

func foldersPath(mailboxID string) string {
	return "/v1.0/admin/exchange/mailboxes/" + mailboxID + "/folders"
}

func importSessionPath(mailboxID string) string {
	return "/v1.0/admin/exchange/mailboxes/" + mailboxID + "/createImportSession"
}

func TestExchangeSettingsMailboxID(t *testing.T) {
	e := startImportTest(t, Options{}, nil)
	tok := e.appToken(importAppID, graphScope)
	alice := mailboxIDOf(t, e.srv, "alice@contoso.com")
	if !strings.HasPrefix(alice, "MBX:") || !strings.HasSuffix(alice, "@"+tenantGUID) || alice == mailboxIDOf(t, e.srv, "admin@contoso.onmicrosoft.com") {
		t.Fatalf("mailbox id %q", alice)
	}
	if id := mailboxIDOf(t, e.srv, "nomailbox@contoso.com"); id != "" {
		t.Errorf("a user without mailbox has mailbox id %q", id)
	}
	res := e.do("GET", "/v1.0/users/alice@contoso.com/settings/exchange", bearer(tok), nil)
	body := res.json(t)
	if res.status != http.StatusOK || body["primaryMailboxId"] != alice || len(body) != 2 ||
		body["@odata.context"] != e.srv.URL()+"/v1.0/$metadata#users('alice%40contoso.com')/settings/exchange/$entity" {
		t.Errorf("settings/exchange: %d %s", res.status, res.body)
	}
	// By object id too, and stable across a reset.
	aliceOID := ""
	for _, u := range e.srv.Snapshot().Users {
		if u.UserPrincipalName == "alice@contoso.com" {
			aliceOID = u.ObjectID
		}
	}
	if err := e.srv.Reset(); err != nil {
		t.Fatal(err)
	}
	if got := e.do("GET", "/v1.0/users/"+aliceOID+"/settings/exchange", bearer(tok), nil).json(t)["primaryMailboxId"]; got != alice {
		t.Errorf("by object id after reset: %v", got)
	}
	for _, tc := range []struct {
		name, token, path string
		status            int
	}{
		{"user without mailbox", tok, "/v1.0/users/nomailbox@contoso.com/settings/exchange", 404},
		{"unknown user", tok, "/v1.0/users/nobody@contoso.com/settings/exchange", 404},
		{"no User.Read.All", e.appToken(folderAppID, graphScope), "/v1.0/users/alice@contoso.com/settings/exchange", 403},
		{"no query options", tok, "/v1.0/users/alice@contoso.com/settings/exchange?$select=primaryMailboxId", 400},
		{"Exchange token", e.appToken(importAppID, exchangeScope), "/v1.0/users/alice@contoso.com/settings/exchange", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do("GET", tc.path, bearer(tc.token), nil)
			if res.status != tc.status || jsonPath(t, res.json(t), "error", "code") == nil {
				t.Errorf("%d %s, want %d with a Graph error", res.status, res.body, tc.status)
			}
		})
	}
	if c := e.srv.Counters(); c.ByRoute["graph.exchangeSettings"] != 6 || c.ByRouteUser["graph.exchangeSettings"][importAppID] != 5 {
		t.Errorf("counters %v", c.ByRoute)
	}
}

func TestMailboxFoldersAuthorization(t *testing.T) {
	e := startImportTest(t, Options{}, nil)
	alice, admin := mailboxIDOf(t, e.srv, "alice@contoso.com"), mailboxIDOf(t, e.srv, "admin@contoso.onmicrosoft.com")
	entra, folders, scoped := e.appToken(importAppID, graphScope), e.appToken(folderAppID, graphScope), e.appToken(rbacImportAppID, graphScope)
	for _, tc := range []struct {
		name, token, path string
		status            int
	}{
		{"Entra MailboxFolder.Read.All", entra, foldersPath(alice), 200},
		{"Entra MailboxFolder.ReadWrite.All", folders, foldersPath(admin), 200},
		{"RBAC role, mailbox in scope", scoped, foldersPath(alice), 200},
		{"RBAC role, mailbox out of scope", scoped, foldersPath(admin), 403},
		{"Mail.ReadWrite does not open the API", e.appToken(fullAppID, graphScope), foldersPath(alice), 403},
		{"Application Mail.ReadWrite does not either", e.appToken(scopedAppID, graphScope), foldersPath(alice), 403},
		{"no permission", e.appToken(bareAppID, graphScope), foldersPath(alice), 403},
		{"delegated", e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope), foldersPath(admin), 403},
		{"unknown mailbox", entra, foldersPath("MBX:00000000-0000-0000-0000-000000000000@" + tenantGUID), 404},
		{"a UPN is not a mailbox id", entra, foldersPath("alice@contoso.com"), 404},
		{"percent-encoded id", entra, foldersPath(url.PathEscape(strings.ReplaceAll(alice, "@", "%40"))), 404},
		{"escaped id", entra, "/v1.0/admin/exchange/mailboxes/" + strings.NewReplacer(":", "%3A", "@", "%40").Replace(alice) + "/folders", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do("GET", tc.path, bearer(tc.token), nil)
			if res.status != tc.status {
				t.Fatalf("%d %s, want %d", res.status, res.body, tc.status)
			}
			if tc.status != 200 && jsonPath(t, res.json(t), "error", "code") == nil {
				t.Errorf("no Graph error envelope: %s", res.body)
			}
		})
	}
}

func TestMailboxFoldersPaging(t *testing.T) {
	e := startImportTest(t, Options{}, nil)
	tok := e.appToken(importAppID, graphScope)
	alice := mailboxIDOf(t, e.srv, "alice@contoso.com")

	// The default page holds 10 and links the next by $skip.
	first := e.do("GET", foldersPath(alice), bearer(tok), nil).json(t)
	next, _ := first["@odata.nextLink"].(string)
	if len(as[[]any](t, first["value"])) != mailboxFolderPageSize ||
		!strings.HasPrefix(next, e.srv.URL()+foldersPath(alice)+"?") || !strings.Contains(next, "%24skip=10") {
		t.Fatalf("first page: %v", first)
	}
	inbox := as[map[string]any](t, as[[]any](t, first["value"])[0])
	for _, k := range []string{"@odata.type", "id", "displayName", "parentFolderId", "parentMailboxUrl", "childFolderCount", "totalItemCount", "wellKnownName", "type"} {
		if _, ok := inbox[k]; !ok {
			t.Errorf("mailboxFolder lacks %s: %v", k, inbox)
		}
	}
	if inbox["wellKnownName"] != "inbox" || inbox["type"] != "IPF.Note" || inbox["parentMailboxUrl"] != e.srv.URL()+"/v1.0/admin/exchange/mailboxes/"+alice {
		t.Errorf("inbox: %v", inbox)
	}

	// $top and $skip: follow the links to the end, every folder once, with $select kept.
	seen := map[string]bool{}
	pages := 0
	for link := e.srv.URL() + foldersPath(alice) + "?$top=3&$select=id,wellKnownName"; link != ""; pages++ {
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		res := e.do("GET", u.RequestURI(), bearer(tok), nil)
		body := res.json(t)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d %s", link, res.status, res.body)
		}
		for _, v := range as[[]any](t, body["value"]) {
			f := as[map[string]any](t, v)
			id, _ := f["id"].(string)
			if len(f) != 3 || id == "" || seen[id] {
				t.Errorf("page %d: %v", pages, f)
			}
			seen[id] = true
		}
		link, _ = body["@odata.nextLink"].(string)
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != len(mailboxFolders) || pages != (len(mailboxFolders)+2)/3 {
		t.Errorf("%d folders in %d pages", len(seen), pages)
	}
	if v := e.do("GET", foldersPath(alice)+"?$skip=100", bearer(tok), nil).json(t); len(as[[]any](t, v["value"])) != 0 || v["@odata.nextLink"] != nil {
		t.Errorf("past the end: %v", v)
	}
	calendar := e.do("GET", foldersPath(alice)+"?"+url.Values{"$filter": {"type eq 'IPF.Appointment'"}, "$select": {"displayName,type"}}.Encode(), bearer(tok), nil).json(t)
	if v := as[[]any](t, calendar["value"]); len(v) != 1 || as[map[string]any](t, v[0])["displayName"] != "Calendar" {
		t.Errorf("$filter: %v", calendar)
	}
	for _, q := range []string{"$top=0", "$top=x", "$skip=-1", "$select=nope", "$orderby=displayName", "$filter=size gt 0"} {
		if res := e.do("GET", foldersPath(alice)+"?"+q, bearer(tok), nil); res.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", q, res.status, res.body)
		}
	}
}

func TestImportSession(t *testing.T) {
	clock := newFakeClock()
	e := startImportTest(t, Options{Clock: clock.Now}, nil)
	tok := e.appToken(importAppID, graphScope)
	alice := mailboxIDOf(t, e.srv, "alice@contoso.com")

	res := e.do("POST", importSessionPath(alice), bearer(tok), nil)
	body := res.json(t)
	if res.status != http.StatusOK || len(body) != 3 || body["@odata.context"] != e.srv.URL()+"/v1.0/$metadata#microsoft.graph.mailboxItemImportSession" {
		t.Fatalf("createImportSession: %d %s", res.status, res.body)
	}
	importURL, err := url.Parse(as[string](t, body["importUrl"]))
	if err != nil {
		t.Fatal(err)
	}
	graphURL, _ := url.Parse(e.srv.URL())
	if importURL.Host == graphURL.Host || "https://"+importURL.Host != e.srv.ImportURL() ||
		importURL.Path != "/api/gv1.0/Mailboxes('"+alice+"')/importItem" || len(importURL.Query().Get("authtoken")) < 32 {
		t.Errorf("importUrl %s (Graph at %s)", importURL, e.srv.URL())
	}
	expires, err := time.Parse(time.RFC3339Nano, as[string](t, body["expirationDateTime"]))
	if err != nil || !expires.Equal(clock.Now().UTC().Add(importSessionLifetime).Truncate(100*time.Nanosecond)) {
		t.Errorf("expirationDateTime %v (%v), now %v", body["expirationDateTime"], err, clock.Now())
	}

	// Recorded, without its token; nothing was uploaded.
	sessions := e.srv.ImportSessions()
	if len(sessions) != 1 || sessions[0].MailboxID != alice || sessions[0].UserPrincipalName != "alice@contoso.com" ||
		sessions[0].CreatedBy != importAppID || !sessions[0].ExpiresAt.Equal(expires) || len(e.srv.ImportUploads()) != 0 {
		t.Errorf("sessions %+v", sessions)
	}
	state, _ := json.Marshal(e.srv.Snapshot())
	if bytes.Contains(state, []byte(importURL.Query().Get("authtoken"))) || !bytes.Contains(state, []byte(`"import_sessions":[{`)) {
		t.Errorf("snapshot: %s", state)
	}

	scoped := e.appToken(rbacImportAppID, graphScope)
	admin := mailboxIDOf(t, e.srv, "admin@contoso.onmicrosoft.com")
	for _, tc := range []struct {
		name, token, path string
		body              []byte
		status            int
	}{
		{"a body is refused", tok, importSessionPath(alice), []byte(`{"folderId":"x"}`), 400},
		{"RBAC role, mailbox in scope", scoped, importSessionPath(alice), nil, 200},
		{"RBAC role, mailbox out of scope", scoped, importSessionPath(admin), nil, 403},
		{"folders only", e.appToken(folderAppID, graphScope), importSessionPath(alice), nil, 403},
		{"no permission", e.appToken(bareAppID, graphScope), importSessionPath(alice), nil, 403},
		{"unknown mailbox", tok, importSessionPath("MBX:00000000-0000-0000-0000-000000000000@" + tenantGUID), nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do("POST", tc.path, bearer(tc.token), tc.body)
			if res.status != tc.status {
				t.Fatalf("%d %s, want %d", res.status, res.body, tc.status)
			}
		})
	}
	if n := len(e.srv.ImportSessions()); n != 2 {
		t.Errorf("%d sessions recorded, want the 2 created", n)
	}
	// The Graph host does not serve the upload path.
	if res := e.do("POST", importURL.RequestURI(), nil, []byte(`{}`)); res.status != http.StatusNotFound || len(e.srv.ImportUploads()) != 0 {
		t.Errorf("upload path on the Graph host: %d, uploads %v", res.status, e.srv.ImportUploads())
	}
	if c := e.srv.Counters(); c.ByRoute["graph.createImportSession"] != 7 || c.ByRoute[importRoute] != 0 {
		t.Errorf("counters %v", c.ByRoute)
	}
}

func TestImportUpload(t *testing.T) {
	clock := newFakeClock()
	e := startImportTest(t, Options{Clock: clock.Now}, nil)
	tok := e.appToken(importAppID, graphScope)
	alice, admin := mailboxIDOf(t, e.srv, "alice@contoso.com"), mailboxIDOf(t, e.srv, "admin@contoso.onmicrosoft.com")
	session := func(mailbox string) *url.URL {
		u, err := url.Parse(as[string](t, e.do("POST", importSessionPath(mailbox), bearer(tok), nil).json(t)["importUrl"]))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	aliceURL, adminURL := session(alice), session(admin)
	inbox := e.do("GET", foldersPath(alice)+"?$top=1&$select=id", bearer(tok), nil).json(t)
	folderID := as[string](t, as[map[string]any](t, as[[]any](t, inbox["value"])[0])["id"])
	item := func(extra string) []byte {
		return []byte(`{"FolderId":"` + folderID + `","Mode":"create","Data":"AQAAAAgAAAA="` + extra + `}`)
	}

	res := e.doURL("POST", aliceURL.String(), item(""))
	body := res.json(t)
	if res.status != http.StatusOK || body["itemId"] == nil || body["changeKey"] == nil ||
		body["@odata.context"] != e.srv.ImportURL()+"/api/gv1.0/$metadata#microsoft.graph.importMailboxItemResponse" {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	update := `{"FolderId":"` + folderID + `","Mode":"update","Data":"AQAAAAgAAAA=","ItemId":"` + as[string](t, body["itemId"]) + `","ChangeKey":"` + as[string](t, body["changeKey"]) + `"}`
	if res := e.doURL("POST", aliceURL.String(), []byte(update)); res.status != http.StatusOK || res.json(t)["itemId"] != body["itemId"] {
		t.Errorf("update: %d %s", res.status, res.body)
	}

	badToken := *aliceURL
	badToken.RawQuery = url.Values{"authtoken": {"not-a-session"}}.Encode()
	otherMailbox := *adminURL
	otherMailbox.Path = aliceURL.Path // admin's token on alice's URL
	for _, tc := range []struct {
		name, url string
		body      []byte
		status    int
	}{
		{"unknown authtoken", badToken.String(), item(""), 401},
		{"no authtoken", e.srv.ImportURL() + aliceURL.Path, item(""), 401},
		{"another mailbox's session", otherMailbox.String(), item(""), 403},
		{"not JSON", aliceURL.String(), []byte("MIME-Version: 1.0"), 400},
		{"create with an ItemId", aliceURL.String(), item(`,"ItemId":"x"`), 400},
		{"unknown property", aliceURL.String(), item(`,"Folder":"x"`), 400},
		{"unknown folder", aliceURL.String(), []byte(`{"FolderId":"nope","Mode":"create","Data":"AQAAAAgAAAA="}`), 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := e.doURL("POST", tc.url, tc.body); res.status != tc.status {
				t.Errorf("%d %s, want %d", res.status, res.body, tc.status)
			}
		})
	}
	clock.Advance(importSessionLifetime)
	if res := e.doURL("POST", aliceURL.String(), item("")); res.status != http.StatusUnauthorized {
		t.Errorf("expired: %d %s", res.status, res.body)
	}
	// Only its own path: anything else on the import host is 404, unrecorded.
	if res := e.doURL("GET", e.srv.ImportURL()+"/v1.0/users/alice@contoso.com/settings/exchange", nil); res.status != http.StatusNotFound {
		t.Errorf("Graph on the import host: %d", res.status)
	}

	uploads := e.srv.ImportUploads()
	statuses := []int{}
	for _, u := range uploads {
		statuses = append(statuses, u.Status)
	}
	if want := []int{200, 200, 401, 401, 403, 400, 400, 400, 404, 401}; !equalInts(statuses, want) {
		t.Fatalf("upload statuses %v, want %v", statuses, want)
	}
	if u := uploads[0]; u.MailboxID != alice || u.SessionID != e.srv.ImportSessions()[0].ID || u.Mode != "create" || u.FolderID != folderID || u.ItemID == "" {
		t.Errorf("first upload %+v", u)
	}
	if uploads[2].SessionID != "" || uploads[4].SessionID != e.srv.ImportSessions()[1].ID {
		t.Errorf("sessions of refused uploads: %+v", uploads)
	}
	if s := e.srv.ImportSessions(); s[0].Uploads != 2 || s[1].Uploads != 0 {
		t.Errorf("sessions %+v", s)
	}
	if c := e.srv.Counters(); c.ByRoute[importRoute] != len(uploads) || c.ByRouteUser[importRoute][importAppID] != 8 {
		t.Errorf("counters %v %v", c.ByRoute, c.ByRouteUser[importRoute])
	}

	// The control API shows the same; Reset forgets them.
	ctl := e.do("GET", "/_emulator/import-sessions", bearer(e.srv.ControlToken()), nil).json(t)
	if len(as[[]any](t, ctl["sessions"])) != 2 || len(as[[]any](t, ctl["uploads"])) != len(uploads) {
		t.Errorf("control API: %v", ctl)
	}
	if err := e.srv.Reset(); err != nil {
		t.Fatal(err)
	}
	if st := e.srv.Snapshot(); len(st.ImportSessions) != 0 || len(st.ImportUploads) != 0 || len(e.srv.ImportSessions()) != 0 {
		t.Errorf("after reset: %+v %+v", st.ImportSessions, st.ImportUploads)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMailboxImportRBACDelay: an RBAC-for-Applications grant opens the
// folders and import sessions only once rbac_delay has passed, by the
// emulator's clock, as for the mail routes (WIRE §J7.2).
func TestMailboxImportRBACDelay(t *testing.T) {
	clock := newFakeClock()
	e := startImportTest(t, Options{Clock: clock.Now}, func(s *Seed) { s.RBACDelay = 30 * time.Minute })
	alice := mailboxIDOf(t, e.srv, "alice@contoso.com")
	probe := func() (int, int) {
		tok := e.appToken(rbacImportAppID, graphScope)
		return e.do("GET", foldersPath(alice)+"?$top=1&$select=id", bearer(tok), nil).status,
			e.do("POST", importSessionPath(alice), bearer(tok), nil).status
	}
	if f, s := probe(); f != 403 || s != 403 {
		t.Errorf("within the delay: folders %d, session %d", f, s)
	}
	clock.Advance(30*time.Minute - time.Second)
	if f, s := probe(); f != 403 || s != 403 {
		t.Errorf("a second before: folders %d, session %d", f, s)
	}
	clock.Advance(time.Second)
	if f, s := probe(); f != 200 || s != 200 {
		t.Errorf("after the delay: folders %d, session %d", f, s)
	}
	// Removed: still granted until the delay has passed again.
	if n, err := e.srv.RemoveServicePrincipalExchangeRole(rbacImportAppID, "Application MailboxItem.ImportExport"); n != 1 || err != nil {
		t.Fatalf("remove: %d %v", n, err)
	}
	if _, s := probe(); s != 200 {
		t.Errorf("removal within the delay: %d", s)
	}
	clock.Advance(30 * time.Minute)
	if f, s := probe(); f != 200 || s != 403 {
		t.Errorf("removal after the delay: folders %d, session %d", f, s)
	}
}

func TestMailboxImportCatalog(t *testing.T) {
	e := startImportTest(t, Options{}, nil)
	want := map[string]string{
		"MailboxItem.ImportExport.All": "76577085-e73d-4f1d-b26a-85fb33892327",
		"MailboxFolder.ReadWrite.All":  "fef87b92-8391-4589-9da7-eb93dab7dc8a",
		"MailboxFolder.Read.All":       "99280d24-a782-4793-93cc-0888549957f6",
		"MailboxItem.Read.All":         "7d9f353d-a7bd-4fbb-822a-26d5dd39a3ce",
		"MailboxItem.Export.All":       "937550e9-33a3-494b-88ae-d9cd394b1fbb",
	}
	// Clients resolve the ids by value from the Graph service principal.
	tok := e.appToken(managementAppID, graphScope)
	res := e.do("GET", "/v1.0/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+graphAppID+"'"), bearer(tok), nil)
	sps := as[[]any](t, res.json(t)["value"])
	if len(sps) != 1 {
		t.Fatalf("Graph service principal: %d %s", res.status, res.body)
	}
	got := map[string]string{}
	for _, r := range as[[]any](t, as[map[string]any](t, sps[0])["appRoles"]) {
		role := as[map[string]any](t, r)
		got[as[string](t, role["value"])] = as[string](t, role["id"])
	}
	for value, id := range want {
		if got[value] != id {
			t.Errorf("%s: %q, want %s", value, got[value], id)
		}
	}
	// The Exchange application roles: assignable, and shown by Test-ServicePrincipalAuthorization.
	ex := e.appToken(fullAppID, exchangeScope)
	sp := spID(t, e.srv, rbacImportAppID)
	for _, role := range []string{"Application MailboxFolder.ReadWrite", "Application MailboxItem.Read", "Application MailboxItem.ReadWrite", "Application MailboxItem.Export"} {
		res := e.invokeApp(ex, "New-ManagementRoleAssignment", map[string]any{"App": sp, "Role": role, "CustomResourceScope": "tf-o365 target mailboxes"})
		if res.status != http.StatusOK {
			t.Errorf("New-ManagementRoleAssignment %s: %d %s", role, res.status, res.body)
		}
	}
	rows := map[string]map[string]any{}
	for _, v := range values(t, e.invokeApp(ex, "Test-ServicePrincipalAuthorization", map[string]any{"Identity": rbacImportAppID, "Resource": "alice@contoso.com"})) {
		rows[as[string](t, v["RoleName"])] = v
	}
	if r := rows["Application MailboxItem.ImportExport"]; len(rows) != 6 || r["GrantedPermissions"] != "MailboxItem.ImportExport.All" || r["InScope"] != true {
		t.Errorf("Test-ServicePrincipalAuthorization: %v", rows)
	}
}

// TestMailboxImportNationalCloud: the API exists in the worldwide cloud only
// (WIRE §M1.4); a national cloud's Graph does not know its segments.
func TestMailboxImportNationalCloud(t *testing.T) {
	e := startImportTest(t, Options{}, func(s *Seed) { s.Cloud = "usgovernment" })
	tok := e.appToken(importAppID, "https://graph.microsoft.us/.default")
	alice := mailboxIDOf(t, e.srv, "alice@contoso.com")
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1.0/users/alice@contoso.com/settings/exchange"},
		{"GET", foldersPath(alice)},
		{"POST", importSessionPath(alice)},
	} {
		if res := e.do(r.method, r.path, bearer(tok), nil); res.status != http.StatusBadRequest {
			t.Errorf("%s %s: %d %s", r.method, r.path, res.status, res.body)
		}
	}
	if len(e.srv.ImportSessions()) != 0 {
		t.Errorf("sessions in a national cloud: %v", e.srv.ImportSessions())
	}
	// The same token reads the user: the refusal is the cloud, not the token.
	if res := e.do("GET", "/v1.0/users/alice@contoso.com", bearer(tok), nil); res.status != http.StatusOK {
		t.Errorf("user: %d %s", res.status, res.body)
	}
}

func TestMailboxImportFaults(t *testing.T) {
	e := startImportTest(t, Options{}, nil)
	tok := e.appToken(importAppID, graphScope)
	alice := mailboxIDOf(t, e.srv, "alice@contoso.com")
	e.srv.InjectFault(Fault{Route: "graph.createImportSession", Status: 503, RetryAfter: "1", Count: 1})
	e.srv.InjectFault(Fault{Route: importRoute, Status: 429, Count: 1})
	res := e.do("POST", importSessionPath(alice), bearer(tok), nil)
	if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") != "1" || len(e.srv.ImportSessions()) != 0 {
		t.Fatalf("injected 503: %d %s", res.status, res.body)
	}
	importURL := as[string](t, e.do("POST", importSessionPath(alice), bearer(tok), nil).json(t)["importUrl"])
	if res := e.doURL("POST", importURL, []byte(`{}`)); res.status != http.StatusTooManyRequests || jsonPath(t, res.json(t), "error", "code") == nil {
		t.Errorf("injected 429 on the upload: %d %s", res.status, res.body)
	}
	for _, route := range []string{"graph.exchangeSettings", "graph.mailboxFolders", "graph.createImportSession", importRoute} {
		if err := (Fault{Route: route, Status: 500}).validate(); err != nil {
			t.Errorf("%s: %v", route, err)
		}
	}
}

// TestImportHostRoutesToTenant: one import host serves every tenant of a
// cluster; an upload reaches the tenant of the mailbox in its path (the first
// tenant answers one that names none).
func TestImportHostRoutesToTenant(t *testing.T) {
	contoso := appSeed(t)
	importSeed(contoso)
	fabrikam, err := ParseSeed([]byte(strings.ReplaceAll(strings.ReplaceAll(testSeedJSON, "contoso", "fabrikam"), tenantGUID, northwindID)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := StartTenants([]*Seed{fabrikam, contoso}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	first, srv := c.Tenants()[0], c.Tenants()[1]
	e := &testEnv{t: t, srv: srv, client: trustingClient(t, srv, false)}
	if first.ImportURL() != srv.ImportURL() || c.ImportURL() != srv.ImportURL() || srv.ImportURL() == srv.URL() {
		t.Fatalf("import hosts %s %s %s (Graph %s)", first.ImportURL(), srv.ImportURL(), c.ImportURL(), srv.URL())
	}
	alice := mailboxIDOf(t, srv, "alice@contoso.com")
	importURL := as[string](t, e.do("POST", importSessionPath(alice), bearer(e.appToken(importAppID, graphScope)), nil).json(t)["importUrl"])
	if res := e.doURL("POST", importURL, []byte(`{"FolderId":"x","Mode":"create","Data":"AA=="}`)); res.status != http.StatusNotFound {
		t.Errorf("upload to an unknown folder: %d %s", res.status, res.body)
	}
	u, _ := url.Parse(importURL)
	u.RawQuery = "authtoken=forged"
	if res := e.doURL("POST", u.String(), []byte(`{}`)); res.status != http.StatusUnauthorized {
		t.Errorf("forged token: %d", res.status)
	}
	if res := e.doURL("POST", srv.ImportURL()+"/api/gv1.0/Mailboxes('nobody')/importItem", []byte(`{}`)); res.status != http.StatusUnauthorized {
		t.Errorf("no mailbox, no token: %d", res.status)
	}
	if got, other := len(srv.ImportUploads()), len(first.ImportUploads()); got != 2 || other != 1 {
		t.Errorf("uploads: Contoso %d, the first tenant %d", got, other)
	}
}
