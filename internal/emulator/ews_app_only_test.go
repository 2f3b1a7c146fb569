package emulator

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// ewsApp posts a GetFolder request with an app-only token and, when anchor
// is not empty, X-AnchorMailbox; both envelopes are schema-checked.
func (e *testEnv) ewsApp(t *testing.T, label, token, anchor string, request []byte) response {
	t.Helper()
	validateSOAP(t, label+" request", request)
	h := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/xml; charset=utf-8"}
	if anchor != "" {
		h["X-AnchorMailbox"] = anchor
	}
	res := e.do("POST", "/EWS/Exchange.asmx", h, request)
	if res.status == http.StatusOK || res.status == http.StatusInternalServerError {
		validateSOAP(t, label+" response", res.body)
	}
	return res
}

func faultCode(res response) string {
	body := string(res.body)
	i := strings.Index(body, `<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:`)
	if res.status != http.StatusInternalServerError || i < 0 {
		return ""
	}
	rest := body[i+len(`<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:`):]
	return rest[:strings.Index(rest, "<")]
}

func TestEWSAppOnly(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	full := e.appToken(fullAppID, exchangeScope)
	scoped := e.appToken(scopedAppID, exchangeScope)
	bare := e.appToken(bareAppID, exchangeScope)
	impersonate := func(target string) []byte {
		return getFolderRequest("PrimarySmtpAddress", target, "IdOnly", "msgfolderroot", "inbox")
	}
	for _, tc := range []struct {
		name, token, anchor string
		request             []byte
		fault, message      string // fault "" = success
	}{
		{"full_access_as_app", full, "alice@contoso.com", impersonate("alice@contoso.com"), "", ""},
		{"anchor with SMTP: prefix", full, "SMTP:alice@contoso.com", impersonate("alice@contoso.com"), "", ""},
		{"no ExchangeImpersonation", full, "alice@contoso.com", getFolderRequest("", "", "IdOnly", "inbox"),
			"ErrorInvalidExchangeImpersonationHeaderData", "ExchangeImpersonation SOAP header must be present for this type of OAuth token."},
		{"no X-AnchorMailbox", full, "", impersonate("alice@contoso.com"),
			"ErrorInvalidExchangeImpersonationHeaderData", "must not exist for this type of OAuth token."},
		{"anchor of another mailbox", full, "admin@contoso.com", impersonate("alice@contoso.com"),
			"ErrorInvalidExchangeImpersonationHeaderData", "must not exist"},
		{"in the RBAC scope", scoped, "alice@contoso.com", impersonate("alice@contoso.com"), "", ""},
		{"outside the RBAC scope", scoped, "admin@contoso.com", impersonate("admin@contoso.com"), "ErrorAccessDenied", ""},
		{"no EWS right at all", bare, "alice@contoso.com", impersonate("alice@contoso.com"), "ErrorImpersonateUserDenied", ""},
		{"no mailbox", full, "nomailbox@contoso.com", impersonate("nomailbox@contoso.com"), "ErrorNonExistentMailbox", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.ewsApp(t, tc.name, tc.token, tc.anchor, tc.request)
			if tc.fault == "" {
				if res.status != http.StatusOK || strings.Count(string(res.body), "<m:ResponseCode>NoError</m:ResponseCode>") != 2 {
					t.Fatalf("%d %s", res.status, res.body)
				}
				return
			}
			if got := faultCode(res); got != tc.fault || !strings.Contains(string(res.body), tc.message) {
				t.Fatalf("fault %q (%d %s), want %s %q", got, res.status, res.body, tc.fault, tc.message)
			}
		})
	}
	// The impersonated mailbox's folders are the user's, as with a user token.
	app := e.ewsApp(t, "app ids", full, "alice@contoso.com", impersonate("alice@contoso.com"))
	migration := "Bearer " + e.token("migration@contoso.onmicrosoft.com", "migration-pw", exchangeScope)
	user := e.ews(t, "user ids", migration, impersonate("alice@contoso.com"))
	if folderIDPattern.FindString(string(app.body)) != folderIDPattern.FindString(string(user.body)) {
		t.Error("app-only and user impersonation see different folder ids")
	}
}

// TestEWSGates applies WIRE §K3's decision in order, with the clock.
func TestEWSGates(t *testing.T) {
	yes, no := true, false
	jan := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		now     time.Time
		ews     *SeedEWS
		mailbox *bool // alice's CASMailbox EwsEnabled
		open    bool
	}{
		{"not configured, no dates (the seed's world)", jan, nil, nil, true},
		{"organization false", jan, &SeedEWS{Enabled: &no}, nil, false},
		{"organization true", jan, &SeedEWS{Enabled: &yes}, nil, true},
		{"null before the disablement date", jan, &SeedEWS{DisablementDate: "2026-10-01"}, nil, true},
		{"null after the disablement date", jan.AddDate(0, 10, 0), &SeedEWS{DisablementDate: "2026-10-01"}, nil, false},
		{"true after the disablement date", jan.AddDate(0, 10, 0), &SeedEWS{Enabled: &yes, DisablementDate: "2026-10-01"}, nil, true},
		{"true after the end date", time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), &SeedEWS{Enabled: &yes, EndDate: "2027-04-01"}, nil, false},
		{"true the day before the end date", time.Date(2027, 3, 31, 23, 0, 0, 0, time.UTC), &SeedEWS{Enabled: &yes, EndDate: "2027-04-01"}, nil, true},
		{"mailbox false", jan, nil, &no, false},
		{"mailbox true, organization false", jan, &SeedEWS{Enabled: &no}, &yes, false},
		{"allow list without the app", jan, &SeedEWS{Enabled: &yes, AllowedAppIDs: []string{scopedAppID}}, nil, false},
		{"allow list with the app", jan, &SeedEWS{Enabled: &yes, AllowedAppIDs: []string{scopedAppID, fullAppID}}, nil, true},
		{"allow list but not configured", jan, &SeedEWS{AllowedAppIDs: []string{scopedAppID}}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{now: tc.now}
			e := startAppTest(t, Options{Clock: clock.Now}, func(s *Seed) {
				s.EWS = tc.ews
				for i := range s.Users {
					if s.Users[i].UserPrincipalName == "alice@contoso.com" {
						s.Users[i].EWSEnabled = tc.mailbox
					}
				}
			})
			res := e.ewsApp(t, tc.name, e.appToken(fullAppID, exchangeScope), "alice@contoso.com",
				getFolderRequest("PrimarySmtpAddress", "alice@contoso.com", "IdOnly", "inbox"))
			switch {
			case tc.open && res.status != http.StatusOK:
				t.Errorf("want open: %d %s", res.status, res.body)
			case !tc.open && (res.status != http.StatusForbidden || len(res.body) != 0):
				t.Errorf("want a bare 403: %d %s", res.status, res.body)
			}
		})
	}
	// The gates apply to users too, and the control API moves them.
	e := startAppTest(t, Options{}, nil)
	alice := "Bearer " + e.token("alice@contoso.com", "alice-pw", exchangeScope)
	own := getFolderRequest("", "", "IdOnly", "inbox")
	if res := e.ews(t, "alice own", alice, own); res.status != http.StatusOK {
		t.Fatalf("alice: %d", res.status)
	}
	h := control(e.srv.ControlToken())
	if res := e.do("PATCH", "/_emulator/users/alice@contoso.com", h, []byte(`{"ews_enabled":false}`)); res.status != http.StatusOK || res.json(t)["ews_enabled"] != false {
		t.Fatalf("patch mailbox: %d %s", res.status, res.body)
	}
	if res := e.ews(t, "alice closed", alice, own); res.status != http.StatusForbidden {
		t.Errorf("mailbox closed: %d", res.status)
	}
	if res := e.do("PATCH", "/_emulator/users/alice@contoso.com", h, []byte(`{"ews_enabled":null}`)); res.status != http.StatusOK || res.json(t)["ews_enabled"] != nil {
		t.Fatalf("patch back: %d %s", res.status, res.body)
	}
	if res := e.do("PATCH", "/_emulator/organization", h, []byte(`{"ews_enabled":true,"ews_allowed_app_ids":["`+fullAppID+`"]}`)); res.status != http.StatusOK {
		t.Fatalf("patch organization: %d %s", res.status, res.body)
	}
	if res := e.ews(t, "alice allow list", alice, own); res.status != http.StatusForbidden {
		t.Errorf("a public client outside the allow list: %d", res.status)
	}
	if res := e.do("PATCH", "/_emulator/organization", h, []byte(`{"ews_allowed_app_ids":null,"ews_end_date":"2020-01-01"}`)); res.status != http.StatusOK ||
		res.json(t)["ews_allowed_app_ids"] != nil || res.json(t)["ews_end_date"] != "2020-01-01" {
		t.Fatalf("patch organization: %d %s", res.status, res.body)
	}
	if res := e.ews(t, "alice after the end", alice, own); res.status != http.StatusForbidden {
		t.Errorf("after the end date: %d", res.status)
	}
	if res := e.do("PATCH", "/_emulator/organization", h, []byte(`{"ews_end_date":"April"}`)); res.status != http.StatusBadRequest {
		t.Errorf("bad date: %d", res.status)
	}
}

// TestEWSImpersonationRetired: with ApplicationImpersonation gone, a user's
// impersonation is denied even for a former holder (WIRE §K1).
func TestEWSImpersonationRetired(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	migration := "Bearer " + e.token("migration@contoso.onmicrosoft.com", "migration-pw", exchangeScope)
	request := getFolderRequest("PrimarySmtpAddress", "alice@contoso.com", "IdOnly", "inbox")
	if res := e.ews(t, "before retirement", migration, request); res.status != http.StatusOK {
		t.Fatalf("before: %d", res.status)
	}
	e.srv.SetImpersonationRetired(true)
	if got := faultCode(e.ews(t, "after retirement", migration, request)); got != "ErrorImpersonateUserDenied" {
		t.Errorf("after retirement: %q", got)
	}
	// The app-only path is unaffected.
	if res := e.ewsApp(t, "app after retirement", e.appToken(fullAppID, exchangeScope), "alice@contoso.com", request); res.status != http.StatusOK {
		t.Errorf("app-only: %d %s", res.status, res.body)
	}
}
