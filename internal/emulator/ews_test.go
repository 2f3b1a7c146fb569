package emulator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// getFolderRequest builds the GetFolder envelope of WIRE §D2; sidKind names
// the ConnectingSID element when impersonating.
func getFolderRequest(sidKind, target, shape string, folderIDs ...string) []byte {
	var header strings.Builder
	header.WriteString(`<t:RequestServerVersion Version="Exchange2013_SP1"/>`)
	if target != "" {
		fmt.Fprintf(&header, `<t:ExchangeImpersonation><t:ConnectingSID><t:%s>%s</t:%s></t:ConnectingSID></t:ExchangeImpersonation>`, sidKind, target, sidKind)
	}
	var ids strings.Builder
	for _, id := range folderIDs {
		if name, ok := strings.CutPrefix(id, "id:"); ok {
			fmt.Fprintf(&ids, `<t:FolderId Id="%s"/>`, name)
		} else {
			fmt.Fprintf(&ids, `<t:DistinguishedFolderId Id="%s"/>`, id)
		}
	}
	return []byte(`<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
               xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
               xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header>` + header.String() + `</soap:Header>
  <soap:Body>
    <m:GetFolder>
      <m:FolderShape><t:BaseShape>` + shape + `</t:BaseShape></m:FolderShape>
      <m:FolderIds>` + ids.String() + `</m:FolderIds>
    </m:GetFolder>
  </soap:Body>
</soap:Envelope>`)
}

// ews posts a GetFolder request, validating request and response with
// Microsoft's schemas.
func (e *testEnv) ews(t *testing.T, label, authorization string, request []byte) response {
	t.Helper()
	validateSOAP(t, label+" request", request)
	res := e.do("POST", "/EWS/Exchange.asmx", map[string]string{
		"Authorization": authorization, "Content-Type": "text/xml; charset=utf-8"}, request)
	if res.status == http.StatusOK || res.status == http.StatusInternalServerError {
		validateSOAP(t, label+" response", res.body)
	}
	return res
}

var folderIDPattern = regexp.MustCompile(`<t:FolderId Id="([^"]+)" ChangeKey="([^"]+)"/>`)

func TestEWSGetFolderOwnMailbox(t *testing.T) {
	e := startTest(t, Options{})
	auth := "Bearer " + e.token("admin@contoso.onmicrosoft.com", "admin-pw", exchangeScope)
	res := e.ews(t, "own", auth, getFolderRequest("", "", "IdOnly", "msgfolderroot", "inbox"))
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/xml; charset=utf-8" {
		t.Fatalf("%d %s", res.status, res.body)
	}
	body := string(res.body)
	if strings.Count(body, `<m:GetFolderResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>`) != 2 ||
		!strings.Contains(body, `<h:ServerVersionInfo MajorVersion="15"`) {
		t.Errorf("response %s", body)
	}
	ids := folderIDPattern.FindAllStringSubmatch(body, -1)
	if len(ids) != 2 || ids[0][1] == ids[1][1] {
		t.Fatalf("folder ids %v", ids)
	}
	// Ids are deterministic, and a FolderId can be asked for again.
	again := e.ews(t, "own again", auth, getFolderRequest("", "", "Default", "id:"+ids[1][1], "calendar"))
	if got := folderIDPattern.FindAllStringSubmatch(string(again.body), -1); len(got) != 2 || got[0][1] != ids[1][1] {
		t.Errorf("FolderId round trip: %s", again.body)
	}
	if !strings.Contains(string(again.body), "<t:DisplayName>Inbox</t:DisplayName>") ||
		!strings.Contains(string(again.body), "<t:CalendarFolder>") {
		t.Errorf("Default shape: %s", again.body)
	}
	bad := e.ews(t, "bad id", auth, getFolderRequest("", "", "IdOnly", "id:AAMkAGVtdWxhdG9y"))
	if !strings.Contains(string(bad.body), "<m:ResponseCode>ErrorFolderNotFound</m:ResponseCode>") {
		t.Errorf("unknown folder id: %s", bad.body)
	}
}

func TestEWSNoMailbox(t *testing.T) {
	e := startTest(t, Options{})
	auth := "Bearer " + e.token("nomailbox@contoso.com", "nomailbox-pw", exchangeScope)
	res := e.ews(t, "no mailbox", auth, getFolderRequest("", "", "IdOnly", "inbox"))
	if res.status != http.StatusOK || !strings.Contains(string(res.body),
		`<m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>The SMTP address has no mailbox associated with it.</m:MessageText><m:ResponseCode>ErrorNonExistentMailbox</m:ResponseCode>`) {
		t.Errorf("%d %s", res.status, res.body)
	}
}

func TestEWSImpersonation(t *testing.T) {
	e := startTest(t, Options{})
	migration := "Bearer " + e.token("migration@contoso.onmicrosoft.com", "migration-pw", exchangeScope)
	for _, kind := range []string{"PrimarySmtpAddress", "SmtpAddress", "PrincipalName"} {
		res := e.ews(t, "impersonate "+kind, migration, getFolderRequest(kind, "alice@contoso.com", "IdOnly", "msgfolderroot"))
		if res.status != http.StatusOK || !strings.Contains(string(res.body), "NoError") {
			t.Errorf("%s: %d %s", kind, res.status, res.body)
		}
	}
	// Alice's folders differ from the caller's own.
	own := e.ews(t, "own", migration, getFolderRequest("", "", "IdOnly", "msgfolderroot"))
	alice := e.ews(t, "alice", migration, getFolderRequest("PrimarySmtpAddress", "alice@contoso.com", "IdOnly", "msgfolderroot"))
	if folderIDPattern.FindString(string(own.body)) == folderIDPattern.FindString(string(alice.body)) {
		t.Error("impersonated mailbox has the caller's folder ids")
	}

	res := e.ews(t, "no such mailbox", migration, getFolderRequest("PrimarySmtpAddress", "nomailbox@contoso.com", "IdOnly", "inbox"))
	if res.status != http.StatusInternalServerError || !strings.Contains(string(res.body), "a:ErrorNonExistentMailbox</faultcode>") {
		t.Errorf("target without mailbox: %d %s", res.status, res.body)
	}

	// Organization Management holds ApplicationImpersonation only as Delegating.
	for _, who := range []struct{ user, password string }{
		{"admin@contoso.onmicrosoft.com", "admin-pw"}, {"ga@contoso.onmicrosoft.com", "ga-app-pw"}} {
		auth := "Bearer " + e.token(who.user, who.password, exchangeScope)
		res := e.ews(t, "denied "+who.user, auth, getFolderRequest("PrimarySmtpAddress", "alice@contoso.com", "IdOnly", "inbox"))
		if res.status != http.StatusInternalServerError || !strings.Contains(string(res.body),
			`<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorImpersonateUserDenied</faultcode>`) ||
			!strings.Contains(string(res.body), `<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorImpersonateUserDenied</e:ResponseCode>`) {
			t.Errorf("%s: %d %s", who.user, res.status, res.body)
		}
	}
}

func TestEWSImpersonationWaitsForPropagation(t *testing.T) {
	clock := newFakeClock()
	e := startTest(t, Options{Clock: clock.Now, PropagationDelay: 10 * time.Minute})
	ga := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
	if res := e.invoke(ga, "New-ManagementRoleAssignment", map[string]any{"Role": "ApplicationImpersonation", "User": "admin@contoso.onmicrosoft.com"}); res.status != http.StatusOK {
		t.Fatalf("assign: %d %s", res.status, res.body)
	}
	admin := "Bearer " + e.token("admin@contoso.onmicrosoft.com", "admin-pw", exchangeScope)
	request := getFolderRequest("PrimarySmtpAddress", "alice@contoso.com", "IdOnly", "inbox")
	if res := e.ews(t, "before", admin, request); res.status != http.StatusInternalServerError {
		t.Errorf("before the delay: %d", res.status)
	}
	clock.Advance(9 * time.Minute)
	if res := e.ews(t, "almost", admin, request); res.status != http.StatusInternalServerError {
		t.Errorf("after 9m: %d", res.status)
	}
	clock.Advance(time.Minute)
	if res := e.ews(t, "after", admin, request); res.status != http.StatusOK {
		t.Errorf("after the delay: %d %s", res.status, res.body)
	}
	// Removing the assignment takes effect at once.
	if n, err := e.srv.RemoveExchangeRoleAssignment("admin@contoso.onmicrosoft.com", "ApplicationImpersonation"); n != 1 || err != nil {
		t.Fatalf("remove: %d %v", n, err)
	}
	if res := e.ews(t, "removed", admin, request); res.status != http.StatusInternalServerError {
		t.Errorf("after removal: %d", res.status)
	}
}

func TestEWSAuthentication(t *testing.T) {
	e := startTest(t, Options{})
	request := getFolderRequest("", "", "IdOnly", "inbox")
	basic := func(user, password string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	}
	if res := e.ews(t, "basic app password", basic("mfa@contoso.onmicrosoft.com", "mfa-app-pw"), request); res.status != http.StatusOK {
		t.Errorf("Basic with app password: %d %s", res.status, res.body)
	}
	graphToken := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	for name, auth := range map[string]string{
		"basic with password": basic("mfa@contoso.onmicrosoft.com", "mfa-pw"),
		"graph token":         "Bearer " + graphToken,
		"no credentials":      "",
		"unknown token":       "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.e30.",
	} {
		res := e.ews(t, name, auth, request)
		if res.status != http.StatusUnauthorized || len(res.body) != 0 ||
			!strings.HasPrefix(res.header.Get("WWW-Authenticate"), `Bearer client_id="00000002-0000-0ff1-ce00-000000000000"`) ||
			res.header.Get("x-ms-diagnostics") == "" {
			t.Errorf("%s: %d %q %v", name, res.status, res.body, res.header)
		}
	}
}

func TestEWSFaults(t *testing.T) {
	e := startTest(t, Options{})
	auth := "Bearer " + e.token("admin@contoso.onmicrosoft.com", "admin-pw", exchangeScope)
	e.srv.InjectFault(Fault{Route: "ews.GetFolder", EWSBusy: true, BackOffMilliseconds: 297749, Count: 1})
	res := e.ews(t, "busy", auth, getFolderRequest("", "", "IdOnly", "inbox"))
	if res.status != http.StatusInternalServerError || !strings.Contains(string(res.body), "a:ErrorServerBusy</faultcode>") ||
		!strings.Contains(string(res.body), `<t:Value Name="BackOffMilliseconds">297749</t:Value>`) {
		t.Errorf("busy: %d %s", res.status, res.body)
	}
	if res := e.ews(t, "after busy", auth, getFolderRequest("", "", "IdOnly", "inbox")); res.status != http.StatusOK {
		t.Errorf("Count 1 fault applied twice: %d", res.status)
	}

	res = e.do("POST", "/EWS/Exchange.asmx", map[string]string{"Authorization": auth}, []byte("<soap:Envelope"))
	validateSOAP(t, "schema fault", res.body)
	if res.status != http.StatusInternalServerError || !strings.Contains(string(res.body), "a:ErrorSchemaValidation</faultcode>") ||
		!strings.Contains(string(res.body), "<t:LineNumber>") {
		t.Errorf("malformed XML: %d %s", res.status, res.body)
	}
	bad := strings.Replace(string(getFolderRequest("", "", "IdOnly", "inbox")), "Exchange2013_SP1", "Exchange1999", 1)
	res = e.do("POST", "/EWS/Exchange.asmx", map[string]string{"Authorization": auth}, []byte(bad))
	validateSOAP(t, "version fault", res.body)
	if !strings.Contains(string(res.body), "a:ErrorInvalidServerVersion</faultcode>") {
		t.Errorf("bad version: %s", res.body)
	}
}
