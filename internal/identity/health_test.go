package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

func noSleep(context.Context, time.Duration) error { return nil }

// A 200 from the token endpoint is a token only with what the identity platform always
// sends (WIRE.md §A6): an empty, cut, HTML or incomplete answer is a transient failure,
// retried, and never a token.
func TestTokenMalformedAnswersAreRetriedNeverTokens(t *testing.T) {
	bodies := map[string]struct{ contentType, body string }{
		"empty":             {"application/json", ""},
		"truncated":         {"application/json", `{"token_type":"Bearer","expires_in":4346,"access_tok`},
		"html":              {"text/html; charset=utf-8", "<html><body>Proxy error</body></html>"},
		"no access_token":   {"application/json", `{"token_type":"Bearer","expires_in":4346}`},
		"no expires_in":     {"application/json", `{"token_type":"Bearer","access_token":"x.y.z"}`},
		"empty accesstoken": {"application/json", `{"token_type":"Bearer","expires_in":4346,"access_token":""}`},
	}
	for name, b := range bodies {
		t.Run(name, func(t *testing.T) {
			write := func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", b.contentType)
				w.Header().Set("Content-Length", fmt.Sprint(len(b.body)))
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(b.body))
			}
			// Broken twice, then right: the sign-in succeeds after two retries.
			f := newFakeLogin(t)
			f.answer = func(w http.ResponseWriter, n int) bool {
				if n > 2 {
					return false
				}
				write(w)
				return true
			}
			p := New(Options{AuthorityHost: f.srv.URL, ClientID: clientID, HTTPClient: f.srv.Client(), MaxRetries: 3, Sleep: noSleep})
			tok, err := p.User("contoso.onmicrosoft.com", upn, password).Token(context.Background(), graphScope)
			if err != nil || tok.Value == "" || tok.TenantID != tid {
				t.Fatalf("token = %v, err = %v", tok, err)
			}
			if n := f.count("password"); n != 3 {
				t.Fatalf("token requests = %d, want 3", n)
			}

			// Always broken: the failure says so, and no token comes out.
			f = newFakeLogin(t)
			f.answer = func(w http.ResponseWriter, _ int) bool { write(w); return true }
			p = New(Options{AuthorityHost: f.srv.URL, ClientID: clientID, HTTPClient: f.srv.Client(), MaxRetries: 2, Sleep: noSleep})
			tok, err = p.User("contoso.onmicrosoft.com", upn, password).Token(context.Background(), graphScope)
			if err == nil || tok.Value != "" || !transport.IsMalformedAnswer(err) {
				t.Fatalf("token = %v, err = %v, want a malformed answer", tok, err)
			}
			if n := f.count("password"); n != 3 {
				t.Fatalf("token requests = %d, want 3 (one and two retries)", n)
			}
		})
	}
}

// Every account of a tenant whose token endpoint is down: one call retries, the others
// share its diagnosis at once, and another tenant's accounts are not held up.
func TestTokenTenantOutageIsSharedNotRepeated(t *testing.T) {
	f := newFakeLogin(t)
	f.answer = func(w http.ResponseWriter, _ int) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprint(w, `{"error":"temporarily_unavailable","error_description":"AADSTS90033: A transient error has occurred. Please try again.","error_codes":[90033]}`)
		return true
	}
	h := &transport.Health{Cooldown: time.Hour}
	p := New(Options{AuthorityHost: f.srv.URL, ClientID: clientID, HTTPClient: f.srv.Client(), MaxRetries: 4, Sleep: noSleep, Health: h})
	const accounts = 12
	errs := make([]error, accounts)
	var wg sync.WaitGroup
	for i := range accounts {
		wg.Go(func() {
			user := fmt.Sprintf("admin%d@contoso.onmicrosoft.com", i)
			_, errs[i] = p.User("contoso.onmicrosoft.com", user, password).Token(context.Background(), graphScope)
		})
	}
	wg.Wait()
	for i, err := range errs {
		ue, ok := errors.AsType[*transport.UnavailableError](err)
		if !ok || ue.Tenant != "contoso.onmicrosoft.com" || ue.Service != "login" {
			t.Fatalf("account %d: %v, want the tenant's sign-in unavailable", i, err)
		}
		if ae, ok := AsAuthError(err); !ok || ae.StatusCode != http.StatusServiceUnavailable || ae.Code != 90033 {
			t.Fatalf("account %d: the diagnosis lost the answer: %v", i, err)
		}
	}
	// At most every account's first request, plus one call's retries.
	if n := f.count("password"); n > accounts+4 {
		t.Fatalf("token requests = %d, want at most %d", n, accounts+4)
	}
	before := f.count("password")
	if _, err := p.User("contoso.onmicrosoft.com", "late@contoso.onmicrosoft.com", password).Token(context.Background(), graphScope); !transport.IsUnavailable(err) {
		t.Fatalf("a call during the cool-down: %v", err)
	}
	if f.count("password") != before {
		t.Fatal("a call during the cool-down asked the token endpoint")
	}
}
