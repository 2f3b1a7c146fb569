package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	tid      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	oid      = "6b0fc15b-7c4e-4d0f-9a8e-5a1b2c3d4e5f"
	upn      = "admin@contoso.onmicrosoft.com"
	password = "S3cret-P@ssw0rd!"
	clientID = "11111111-2222-3333-4444-555555555555"
)

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// fakeLogin serves the identity platform calls MSAL makes for a password grant
// (WIRE.md §A4 openid-configuration, §A5 UserRealm, §A6/§A7 token), counting them.
type fakeLogin struct {
	srv *httptest.Server

	mu       sync.Mutex
	calls    map[string]int // "openid", "realm", "password", "refresh_token"
	password string
	failWith string // a §A8 body to return from the token endpoint with 400
	scopes   []string
	// answer, when set, answers token requests instead (it reports false to let the normal
	// answer through); n counts the token requests so far, this one included.
	answer func(w http.ResponseWriter, n int) bool
	// dropDiscovery is how many discovery requests (openid, realm) are dropped: the
	// connection is closed without an answer.
	dropDiscovery int
}

// drop closes the connection of a discovery request without answering, while
// dropDiscovery lasts.
func (f *fakeLogin) drop(w http.ResponseWriter) bool {
	f.mu.Lock()
	if f.dropDiscovery == 0 {
		f.mu.Unlock()
		return false
	}
	f.dropDiscovery--
	f.mu.Unlock()
	if h, ok := w.(http.Hijacker); ok {
		if conn, _, err := h.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
	return true
}

func newFakeLogin(t *testing.T) *fakeLogin {
	f := &fakeLogin{calls: map[string]int{}, password: password}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLogin) count(k string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[k]
}

func (f *fakeLogin) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.calls {
		n += v
	}
	return n
}

func (f *fakeLogin) serve(w http.ResponseWriter, r *http.Request) {
	host := "https://" + r.Host
	w.Header().Set("Content-Type", "application/json")
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/v2.0/.well-known/openid-configuration"):
		f.inc("openid")
		if f.drop(w) {
			return
		}
		tenant := strings.Split(strings.TrimPrefix(p, "/"), "/")[0]
		if tenant != "contoso.onmicrosoft.com" && tenant != tid {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.","error_codes":[90002]}`, tenant)
			return
		}
		fmt.Fprintf(w, `{"authorization_endpoint":"%[1]s/%[2]s/oauth2/v2.0/authorize","token_endpoint":"%[1]s/%[2]s/oauth2/v2.0/token","issuer":"%[1]s/%[2]s/v2.0","jwks_uri":"%[1]s/%[2]s/discovery/v2.0/keys"}`, host, tid)
	case strings.HasPrefix(p, "/common/UserRealm/"):
		f.inc("realm")
		if f.drop(w) {
			return
		}
		fmt.Fprint(w, `{"ver":"1.0","account_type":"Managed","domain_name":"contoso.onmicrosoft.com","cloud_instance_name":"microsoftonline.com","cloud_audience_urn":"urn:federation:MicrosoftOnline"}`)
	case strings.HasSuffix(p, "/oauth2/v2.0/token"):
		_ = r.ParseForm()
		gt := r.PostForm.Get("grant_type")
		f.inc(gt)
		f.mu.Lock()
		fail, pw, answer := f.failWith, f.password, f.answer
		f.scopes = append(f.scopes, r.PostForm.Get("scope"))
		n := f.calls["password"] + f.calls["client_credentials"] + f.calls["refresh_token"]
		f.mu.Unlock()
		if answer != nil && answer(w, n) {
			return
		}
		if fail != "" {
			w.WriteHeader(400)
			fmt.Fprint(w, fail)
			return
		}
		if gt == "password" && r.PostForm.Get("password") != pw {
			w.WriteHeader(400)
			fmt.Fprint(w, bodies["50126"])
			return
		}
		var scopes []string
		for _, s := range strings.Fields(r.PostForm.Get("scope")) {
			if s != "openid" && s != "profile" && s != "offline_access" {
				scopes = append(scopes, s)
			}
		}
		aud := "https://graph.microsoft.com"
		if len(scopes) > 0 {
			if u, err := url.Parse(scopes[0]); err == nil {
				aud = u.Scheme + "://" + u.Host
			}
		}
		now := time.Now().Unix()
		at := b64(map[string]any{"typ": "JWT", "alg": "none"}) + "." + b64(map[string]any{"aud": aud, "tid": tid, "oid": oid, "upn": upn, "exp": now + 3600}) + ".sig"
		idt := b64(map[string]any{"typ": "JWT", "alg": "none"}) + "." + b64(map[string]any{
			"aud": clientID, "iss": host + "/" + tid + "/v2.0", "iat": now, "nbf": now, "exp": now + 3600,
			"name": "Contoso Admin", "oid": oid, "preferred_username": upn, "sub": "sub-" + oid, "tid": tid, "ver": "2.0"}) + "."
		json.NewEncoder(w).Encode(map[string]any{
			"token_type": "Bearer", "scope": strings.Join(scopes, " "), "expires_in": 4346, "ext_expires_in": 4346,
			"access_token": at, "refresh_token": "1.refresh-" + fmt.Sprint(now), "id_token": idt,
			"client_info": b64(map[string]string{"uid": oid, "utid": tid}),
		})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeLogin) inc(k string) {
	f.mu.Lock()
	f.calls[k]++
	f.mu.Unlock()
}

func newProvider(f *fakeLogin) *Provider {
	return New(Options{AuthorityHost: f.srv.URL, ClientID: clientID, HTTPClient: f.srv.Client(), MaxRetries: 1})
}

const (
	graphScope    = "https://graph.microsoft.com/.default"
	exchangeScope = "https://outlook.office365.com/.default"
)

func TestTokenCachesPerCredentialAndScope(t *testing.T) {
	f := newFakeLogin(t)
	p := newProvider(f)
	ctx := context.Background()

	tok, err := p.User("contoso.onmicrosoft.com", upn, password).Token(ctx, graphScope)
	if err != nil {
		t.Fatal(err)
	}
	if tok.TenantID != tid || tok.ObjectID != oid || tok.UPN != upn || tok.Value == "" || time.Until(tok.ExpiresOn) < time.Hour {
		t.Fatalf("token = %v", tok)
	}
	if f.count("password") != 1 || f.count("openid") != 1 || f.count("realm") != 1 {
		t.Fatalf("first token calls = %v", f.calls)
	}

	before := f.total()
	tok2, err := p.User("contoso.onmicrosoft.com", upn, password).Token(ctx, graphScope)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.total() - before; n != 0 {
		t.Fatalf("second Token for the same scope made %d requests (%v), want 0", n, f.calls)
	}
	if tok2.Value != tok.Value {
		t.Fatal("second Token returned a different token")
	}

	// Another resource: served silently (refresh_token grant) or, at worst, one password grant.
	before = f.total()
	tok3, err := p.User("contoso.onmicrosoft.com", upn, password).Token(ctx, exchangeScope)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.total() - before; n != 1 {
		t.Fatalf("token for another scope made %d requests (%v), want 1", n, f.calls)
	}
	if f.count("refresh_token") != 1 {
		t.Errorf("another scope should use the refresh token silently; calls = %v", f.calls)
	}
	if tok3.Value == tok.Value {
		t.Fatal("token for another scope equals the first")
	}
	// Same account through a new Provider value is a different process-level cache only if
	// the Provider differs; the same Provider shares one credential.
	if len(p.creds) != 1 {
		t.Fatalf("credentials cached = %d, want 1", len(p.creds))
	}
}

func TestTokenConcurrentCallersShareOneCredential(t *testing.T) {
	f := newFakeLogin(t)
	p := newProvider(f)
	var wg sync.WaitGroup
	var failures atomic.Int32
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.User("contoso.onmicrosoft.com", upn, password).Token(context.Background(), graphScope); err != nil {
				failures.Add(1)
			}
		}()
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatal("concurrent Token failed")
	}
	if n := f.count("password"); n != 1 {
		t.Fatalf("password grants = %d, want 1", n)
	}
}

func TestTokenErrorsAreAuthErrorsWithoutSecret(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   string
		tenant string
		pw     string
		is     func(error) bool
		code   int
	}{
		{name: "wrong password", pw: "wrong-password", is: IsInvalidCredentials, code: 50126},
		{name: "mfa", body: bodies["50076"], is: IsMFARequired, code: 50076},
		{name: "disabled", body: bodies["50057"], is: IsDisabled, code: 50057},
		{name: "unknown tenant", tenant: "nowhere.example", is: IsTenantNotFound, code: 90002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLogin(t)
			f.failWith = tc.body
			p := newProvider(f)
			tenant := tc.tenant
			if tenant == "" {
				tenant = "contoso.onmicrosoft.com"
			}
			pw := password
			if tc.pw != "" {
				pw = tc.pw
			}
			_, err := p.User(tenant, upn, pw).Token(context.Background(), graphScope)
			if err == nil {
				t.Fatal("no error")
			}
			if !tc.is(err) {
				t.Fatalf("predicate false for %v", err)
			}
			ae, ok := AsAuthError(err)
			if !ok || ae.Code != tc.code {
				t.Fatalf("AsAuthError = %+v, %v", ae, ok)
			}
			msg := err.Error()
			if !strings.Contains(msg, fmt.Sprintf("AADSTS%d", tc.code)) {
				t.Errorf("message lacks the AADSTS code: %s", msg)
			}
			if strings.Contains(msg, pw) || strings.Contains(msg, "Trace ID") {
				t.Errorf("message leaks secret or noise: %s", msg)
			}
		})
	}
}

func TestTokenRejectsCommonTenant(t *testing.T) {
	p := New(Options{AuthorityHost: "https://login.microsoftonline.com/", ClientID: clientID})
	if _, err := p.User("common", upn, password).Token(context.Background(), graphScope); err == nil {
		t.Fatal("password grant on /common must be refused locally")
	}
}

func TestTokenHonoursCancellation(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	p := New(Options{AuthorityHost: srv.URL, ClientID: clientID, HTTPClient: srv.Client(), MaxRetries: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.User("contoso.onmicrosoft.com", upn, password).Token(ctx, graphScope)
	if err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("cancellation took %s", d)
	}
}

func TestClaims(t *testing.T) {
	at := b64(map[string]string{"alg": "none"}) + "." + b64(map[string]string{"tid": tid, "oid": oid, "upn": upn}) + ".x"
	if c := parseClaims(at); c.TenantID != tid || c.ObjectID != oid || c.upn() != upn {
		t.Fatalf("claims = %+v", c)
	}
	for _, opaque := range []string{"", "opaque", "a.!!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1]"))} {
		if c := parseClaims(opaque); c.TenantID+c.ObjectID+c.upn() != "" {
			t.Errorf("claims(%q) = %+v", opaque, c)
		}
	}
}
