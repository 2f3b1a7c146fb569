package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestGraphMailboxProbeMatchesWire(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	tok := e.appToken(fullAppID, graphScope)
	res := e.do("GET", "/v1.0/users/alice@contoso.com/mailFolders/inbox?$select=id,displayName,totalItemCount", bearer(tok), nil)
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	body := res.json(t)
	if body["@odata.context"] != e.srv.URL()+"/v1.0/$metadata#users('alice%40contoso.com')/mailFolders(id,displayName,totalItemCount)/$entity" ||
		body["displayName"] != "Inbox" || body["totalItemCount"] != float64(0) || len(body) != 4 {
		t.Errorf("inbox %v", body)
	}
	id, _ := body["id"].(string)
	if !strings.HasPrefix(id, "AAMk") || strings.ContainsAny(id, "+/") {
		t.Errorf("folder id %q is not a URL-safe Graph id", id)
	}
	// The id finds the folder again, by user id too; all properties without $select.
	aliceID := ""
	for _, u := range e.srv.Snapshot().Users {
		if u.UserPrincipalName == "alice@contoso.com" {
			aliceID = u.ObjectID
		}
	}
	again := e.do("GET", "/v1.0/users/"+aliceID+"/mailFolders/"+url.PathEscape(id), bearer(tok), nil).json(t)
	for _, k := range []string{"id", "displayName", "parentFolderId", "childFolderCount", "unreadItemCount", "totalItemCount", "sizeInBytes", "isHidden"} {
		if _, ok := again[k]; !ok {
			t.Errorf("full mailFolder lacks %s: %v", k, again)
		}
	}
	if again["id"] != id {
		t.Errorf("id round trip: %v", again["id"])
	}
	messages := e.do("GET", "/v1.0/users/alice@contoso.com/messages?$top=1&$select=id", bearer(tok), nil)
	if v, ok := messages.json(t)["value"].([]any); messages.status != http.StatusOK || !ok || len(v) != 0 {
		t.Errorf("messages: %d %s", messages.status, messages.body)
	}
	if c := e.srv.Counters(); c.ByRoute["graph.mailFolders"] != 2 || c.ByRoute["graph.messages"] != 1 || c.ByUser[fullAppID] < 3 {
		t.Errorf("counters %v %v", c.ByRoute, c.ByUser)
	}
}

func TestGraphMailboxProbeErrors(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	full := e.appToken(fullAppID, graphScope)
	scoped := e.appToken(scopedAppID, graphScope)
	bare := e.appToken(bareAppID, graphScope)
	admin := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	for _, tc := range []struct {
		name, token, path string
		status            int
		code              string
	}{
		{"unknown user", full, "/v1.0/users/nobody@contoso.com/mailFolders/inbox", 404, "ErrorInvalidUser"},
		{"no mail permission", bare, "/v1.0/users/alice@contoso.com/mailFolders/inbox", 403, "ErrorAccessDenied"},
		{"no mail permission, messages", bare, "/v1.0/users/alice@contoso.com/messages?$top=1", 403, "ErrorAccessDenied"},
		{"/me app-only", full, "/v1.0/me/mailFolders/inbox", 400, "BadRequest"},
		{"/me messages app-only", full, "/v1.0/me/messages", 400, "BadRequest"},
		{"RBAC scope contains the mailbox", scoped, "/v1.0/users/alice@contoso.com/mailFolders/inbox", 200, ""},
		{"RBAC scope excludes the mailbox", scoped, "/v1.0/users/admin@contoso.onmicrosoft.com/mailFolders/inbox", 403, "ErrorAccessDenied"},
		{"delegated, own mailbox", admin, "/v1.0/me/mailFolders/inbox", 200, ""},
		{"delegated, other mailbox", admin, "/v1.0/users/alice@contoso.com/mailFolders/inbox", 403, "ErrorAccessDenied"},
		{"unknown folder", full, "/v1.0/users/alice@contoso.com/mailFolders/nosuchfolder", 404, "ErrorItemNotFound"},
		{"bad $top", full, "/v1.0/users/alice@contoso.com/messages?$top=0", 400, "ErrorInvalidUrlQuery"},
		{"Exchange token", e.appToken(fullAppID, exchangeScope), "/v1.0/users/alice@contoso.com/mailFolders/inbox", 401, "InvalidAuthenticationToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do("GET", tc.path, bearer(tc.token), nil)
			if res.status != tc.status {
				t.Fatalf("%d %s, want %d", res.status, res.body, tc.status)
			}
			if tc.code != "" {
				body := res.json(t)
				if jsonPath(t, body, "error", "code") != tc.code || jsonPath(t, body, "error", "innerError", "request-id") == nil {
					t.Errorf("body %s, want code %s", res.body, tc.code)
				}
			}
		})
	}
	// A user without a mailbox: both codes Microsoft is seen to answer, in turn.
	seen := map[string]bool{}
	for range 4 {
		res := e.do("GET", "/v1.0/users/nomailbox@contoso.com/mailFolders/inbox", bearer(full), nil)
		if res.status != http.StatusNotFound {
			t.Fatalf("no mailbox: %d", res.status)
		}
		seen[as[string](t, jsonPath(t, res.json(t), "error", "code"))] = true
	}
	if !seen["MailboxNotEnabledForRESTAPI"] || !seen["ResourceNotFound"] || len(seen) != 2 {
		t.Errorf("no-mailbox codes %v", seen)
	}
}

// TestRBACDelayForGraph: RBAC-for-Applications changes reach Graph after the
// configured delay; Test-ServicePrincipalAuthorization sees them at once (WIRE §J7.2).
func TestRBACDelayForGraph(t *testing.T) {
	clock := newFakeClock()
	e := startAppTest(t, Options{Clock: clock.Now}, func(s *Seed) { s.RBACDelay = 30 * time.Minute })
	if got := e.srv.Snapshot().Tenant.RBACDelay; got != 30*time.Minute {
		t.Fatalf("rbac delay %v", got)
	}
	// Seeded assignments date from the start, so they too wait for the delay.
	probe := func() int {
		return e.do("GET", "/v1.0/users/alice@contoso.com/mailFolders/inbox", bearer(e.appToken(scopedAppID, graphScope)), nil).status
	}
	inScope := func() any {
		res := e.invokeApp(e.appToken(scopedAppID, exchangeScope), "Test-ServicePrincipalAuthorization", map[string]any{"Identity": scopedAppID, "Resource": "alice@contoso.com"})
		for _, row := range values(t, res) {
			if row["RoleName"] == "Application Mail.ReadWrite" {
				return row["InScope"]
			}
		}
		return "no row"
	}
	if got := probe(); got != http.StatusForbidden {
		t.Errorf("before the delay: %d", got)
	}
	clock.Advance(30 * time.Minute)
	if got := probe(); got != http.StatusOK {
		t.Errorf("after the delay: %d", got)
	}
	if n, err := e.srv.RemoveServicePrincipalExchangeRole(scopedAppID, "Application Mail.ReadWrite"); n != 1 || err != nil {
		t.Fatalf("remove: %d %v", n, err)
	}
	if got := inScope(); got != "no row" {
		t.Errorf("Test-ServicePrincipalAuthorization after removal: %v", got)
	}
	clock.Advance(29 * time.Minute)
	if got := probe(); got != http.StatusOK {
		t.Errorf("removal within the delay: %d", got)
	}
	clock.Advance(time.Minute)
	if got := probe(); got != http.StatusForbidden {
		t.Errorf("removal after the delay: %d", got)
	}
	// Put back: immediate for Test-ServicePrincipalAuthorization.
	if _, err := e.srv.AddServicePrincipalExchangeRole(scopedAppID, SeedAppExchangeRole{Role: "Application Mail.ReadWrite", Scope: "tf-o365 target mailboxes"}); err != nil {
		t.Fatal(err)
	}
	if got := inScope(); got != true {
		t.Errorf("Test-ServicePrincipalAuthorization after adding: %v", got)
	}
	if got := probe(); got != http.StatusForbidden {
		t.Errorf("new assignment before the delay: %d", got)
	}
}
