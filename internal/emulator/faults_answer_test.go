package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// checkFraming: the Content-Length sent is the body's length (HTTP framing
// intact: only the body is broken).
func checkFraming(t *testing.T, label string, res response) {
	t.Helper()
	if cl := res.header.Get("Content-Length"); cl != strconv.Itoa(len(res.body)) {
		t.Errorf("%s: Content-Length %q for a body of %d bytes", label, cl, len(res.body))
	}
}

func TestFaultAnswerTruncated(t *testing.T) {
	e := startTest(t, Options{})
	h := control(e.srv.ControlToken())
	tok := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	full := e.do("GET", "/v1.0/organization", bearer(tok), nil)
	if res := e.do("POST", "/_emulator/faults", h, []byte(`{"route":"graph.organization","answer":"truncated","count":1}`)); res.status != http.StatusCreated {
		t.Fatalf("inject: %d %s", res.status, res.body)
	}
	res := e.do("GET", "/v1.0/organization", bearer(tok), nil)
	if res.status != http.StatusOK || string(res.body) != string(full.body[:len(full.body)/2]) ||
		res.header.Get("Content-Type") != full.header.Get("Content-Type") {
		t.Errorf("truncated: %d %q %s\nfull: %s", res.status, res.header.Get("Content-Type"), res.body, full.body)
	}
	checkFraming(t, "truncated", res)
	if json.Valid(res.body) {
		t.Error("the truncated body is valid JSON")
	}
	if again := e.do("GET", "/v1.0/organization", bearer(tok), nil); string(again.body) != string(full.body) {
		t.Errorf("after count 1: %s", again.body)
	}

	// EWS: the envelope is cut, the write of an admin API call lands.
	exo := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
	e.srv.InjectFault(Fault{Route: "ews.GetFolder", Answer: AnswerTruncated, Count: 1})
	res = e.do("POST", "/EWS/Exchange.asmx", map[string]string{"Authorization": "Bearer " + exo, "Content-Type": "text/xml; charset=utf-8"},
		getFolderRequest("", "", "IdOnly", "inbox"))
	if res.status != http.StatusOK || !strings.HasPrefix(string(res.body), "<?xml") || strings.Contains(string(res.body), "</s:Envelope>") ||
		res.header.Get("Content-Type") != "text/xml; charset=utf-8" {
		t.Errorf("EWS truncated: %d %v %s", res.status, res.header, res.body)
	}
	checkFraming(t, "EWS truncated", res)
}

// TestFaultAnswerEmpty: the handler runs (a write lands), the answer keeps
// its success status and headers with no body; a refusal becomes a 200.
func TestFaultAnswerEmpty(t *testing.T) {
	e := startTest(t, Options{})
	exo := e.token("ga@contoso.onmicrosoft.com", "ga-app-pw", exchangeScope)
	e.srv.InjectFault(Fault{Route: "exo.New-ManagementRoleAssignment", Answer: AnswerEmpty, Count: 1})
	res := e.invoke(exo, "New-ManagementRoleAssignment", map[string]any{"Role": "Mail Recipients", "User": "admin@contoso.onmicrosoft.com"})
	if res.status != http.StatusOK || len(res.body) != 0 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Errorf("empty: %d %v %q", res.status, res.header, res.body)
	}
	checkFraming(t, "empty", res)
	got := values(t, e.invoke(exo, "Get-ManagementRoleAssignment", map[string]any{"Identity": "Mail Recipients-admin"}))
	if len(got) != 1 {
		t.Errorf("the write did not land: %v", got)
	}

	e.srv.InjectFault(Fault{Route: "graph.user", Answer: AnswerEmpty})
	res = e.do("GET", "/v1.0/me", bearer("not-a-token"), nil)
	if res.status != http.StatusOK || len(res.body) != 0 {
		t.Errorf("empty over a 401: %d %q", res.status, res.body)
	}
	checkFraming(t, "empty over a 401", res)
}

// TestFaultAnswerHTML: a proxy's page answers instead of the service, which
// never sees the request.
func TestFaultAnswerHTML(t *testing.T) {
	e := startTest(t, Options{})
	h := control(e.srv.ControlToken())
	if res := e.do("POST", "/_emulator/faults", h, []byte(`{"route":"token","answer":"html","count":1,"delay":"1ms"}`)); res.status != http.StatusCreated {
		t.Fatalf("inject: %d %s", res.status, res.body)
	}
	res := e.passwordGrant("contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.HasPrefix(string(res.body), "<!DOCTYPE html>") {
		t.Errorf("html: %d %v %s", res.status, res.header, res.body)
	}
	checkFraming(t, "html", res)
	e.srv.mu.Lock()
	issued := len(e.srv.accessTokens)
	e.srv.mu.Unlock()
	if issued != 0 {
		t.Errorf("the token endpoint ran behind the proxy's page: %d tokens", issued)
	}
	if c := e.srv.Counters(); c.ByRoute["token"] != 1 {
		t.Errorf("counters %+v", c.ByRoute)
	}
}

func TestFaultAnswerValidation(t *testing.T) {
	e := startTest(t, Options{})
	h := control(e.srv.ControlToken())
	for _, body := range []string{
		`{"route":"token","answer":"partial"}`,
		`{"route":"token","answer":"empty","status":503}`,
		`{"route":"token","answer":"html","drop_response":true}`,
		`{"route":"token","answer":"truncated","reset":true}`,
		`{"route":"ews.GetFolder","answer":"empty","ews_busy":true}`,
	} {
		if res := e.do("POST", "/_emulator/faults", h, []byte(body)); res.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", body, res.status, res.body)
		}
	}
	b, err := json.Marshal(Fault{Route: "*", Answer: AnswerHTML})
	if err != nil || string(b) != `{"route":"*","answer":"html"}` {
		t.Errorf("JSON %s %v", b, err)
	}
}
