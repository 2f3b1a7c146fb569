package identity

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// Many accounts of one tenant share the authority's OpenID configuration and the domain's
// home realm answer: each account's first token costs one request (the password grant).
func TestDiscoverySharedAcrossAccounts(t *testing.T) {
	f := newFakeLogin(t)
	p := newProvider(f)
	const accounts = 12
	var wg sync.WaitGroup
	errs := make(chan error, accounts)
	for i := 0; i < accounts; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("admin%02d@contoso.onmicrosoft.com", i)
			if _, err := p.User("contoso.onmicrosoft.com", user, password).Token(context.Background(), exchangeScope); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if f.count("openid") != 1 || f.count("realm") != 1 || f.count("password") != accounts {
		t.Fatalf("calls = %v, want openid 1, realm 1, password %d", f.calls, accounts)
	}
}

// A failed discovery is not cached: the next sign-in asks again (and fails the same way).
func TestDiscoveryErrorsNotCached(t *testing.T) {
	f := newFakeLogin(t)
	p := newProvider(f)
	for i := 0; i < 2; i++ {
		user := fmt.Sprintf("u%d@nowhere.example", i)
		if _, err := p.User("nowhere.example", user, password).Token(context.Background(), graphScope); !IsTenantNotFound(err) {
			t.Fatalf("attempt %d: err = %v, want tenant not found", i, err)
		}
	}
	if n := f.count("openid"); n < 2 {
		t.Fatalf("openid-configuration requests = %d, want one per attempt (errors are not cached)", n)
	}
}

// A discovery request whose connection drops is a network failure, retried like one of the
// token request: MSAL keeps only its text ("unable to resolve an endpoint"), the note its
// cause.
func TestDiscoveryConnectionDropIsRetried(t *testing.T) {
	f := newFakeLogin(t)
	f.dropDiscovery = 1
	p := New(Options{AuthorityHost: f.srv.URL, ClientID: clientID, HTTPClient: f.srv.Client(), MaxRetries: 2, Sleep: noSleep})
	tok, err := p.User("contoso.onmicrosoft.com", upn, password).Token(context.Background(), graphScope)
	if err != nil || tok.Value == "" {
		t.Fatalf("token = %v, err = %v, want a token after one retry", tok, err)
	}
	if n := f.count("openid"); n != 2 {
		t.Fatalf("openid-configuration requests = %d, want 2 (dropped, then answered)", n)
	}

	// Dropped every time: the failure is the network's, after the retries, not a refusal.
	f = newFakeLogin(t)
	f.dropDiscovery = 100
	p = New(Options{AuthorityHost: f.srv.URL, ClientID: clientID, HTTPClient: f.srv.Client(), MaxRetries: 2, Sleep: noSleep})
	if _, err := p.User("contoso.onmicrosoft.com", upn, password).Token(context.Background(), graphScope); err == nil || !transport.IsTransientNetError(err) {
		t.Fatalf("err = %v, want the network failure", err)
	}
	if n := f.count("openid"); n != 3 {
		t.Fatalf("openid-configuration requests = %d, want 3 (one and two retries)", n)
	}
	if n := f.count("password"); n != 0 {
		t.Fatalf("token requests = %d, want none without discovery", n)
	}
}

func TestDiscoveryKey(t *testing.T) {
	for _, tc := range []struct {
		method, url, want string
	}{
		{"GET", "https://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration", "oidc https://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration?"},
		{"GET", "https://Login.Example/common/UserRealm/Admin@Contoso.com?api-version=1.0", "realm https://login.example contoso.com?api-version=1.0"},
		{"GET", "https://login.example/common/userrealm/bob@contoso.com?api-version=1.0", "realm https://login.example contoso.com?api-version=1.0"},
		{"GET", "https://login.example/common/UserRealm/no-domain?api-version=1.0", ""},
		{"POST", "https://login.example/contoso.com/oauth2/v2.0/token", ""},
		{"GET", "https://graph.example/v1.0/me", ""},
	} {
		req, err := http.NewRequest(tc.method, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := discoveryKey(req); got != tc.want {
			t.Errorf("discoveryKey(%s %s) = %q, want %q", tc.method, tc.url, got, tc.want)
		}
	}
}
