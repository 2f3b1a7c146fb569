package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// credential builds azidentity's username/password credential the way the
// provider points it at a non-Microsoft authority (WIRE §A2).
func (e *testEnv) credential(tenant, user, password string) azcore.TokenCredential {
	e.t.Helper()
	//lint:ignore SA1019 the provider's password path uses it (WIRE §0)
	cred, err := azidentity.NewUsernamePasswordCredential(tenant, "14d82eec-204b-4c2f-b7e8-296a70dab67e", user, password,
		&azidentity.UsernamePasswordCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.srv.URL() + "/"},
				Transport: e.client,
			},
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		e.t.Fatal(err)
	}
	return cred
}

func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if string(header) != `{"typ":"JWT","alg":"none"}` {
		t.Errorf("JWT header = %s", header)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload is not unpadded base64url: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAzidentityObtainsTokensForGraphAndExchange(t *testing.T) {
	e := startTest(t, Options{})
	ctx := context.Background()
	for _, tc := range []struct{ user, password string }{
		{"admin@contoso.onmicrosoft.com", "admin-pw"},
		{"mfa@contoso.onmicrosoft.com", "mfa-app-pw"}, // MFA account with its app password (DESIGN §1)
	} {
		cred := e.credential("contoso.onmicrosoft.com", tc.user, tc.password)
		for scope, aud := range map[string]string{graphScope: "https://graph.microsoft.com", exchangeScope: "https://outlook.office365.com"} {
			tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
			if err != nil {
				t.Fatalf("%s %s: %v", tc.user, scope, err)
			}
			c := claims(t, tok.Token)
			if c["aud"] != aud || c["upn"] != tc.user || c["tid"] != e.srv.TenantID() {
				t.Errorf("%s %s: claims %v", tc.user, scope, c)
			}
			if d := time.Until(tok.ExpiresOn); d < 50*time.Minute || d > 61*time.Minute {
				t.Errorf("expires in %v, want about 3599s", d)
			}
		}
	}
	// The second scope reused the refresh token; MSAL made one password grant per user.
	if got := e.srv.Counters().ByRoute["token"]; got < 2 {
		t.Errorf("token calls = %d", got)
	}
}

func TestAzidentityFailuresCarryAADSTSCodes(t *testing.T) {
	e := startTest(t, Options{})
	for _, tc := range []struct {
		name, tenant, user, password string
		code                         int
	}{
		{"unknown user", "contoso.onmicrosoft.com", "nobody@contoso.com", "x", 50034},
		{"disabled", "contoso.onmicrosoft.com", "disabled@contoso.com", "disabled-pw", 50057},
		{"locked", "contoso.onmicrosoft.com", "locked@contoso.com", "locked-pw", 50053},
		{"bad password", "contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com", "wrong", 50126},
		{"MFA with password", "contoso.onmicrosoft.com", "mfa@contoso.onmicrosoft.com", "mfa-pw", 50076},
		{"MFA not registered", "contoso.onmicrosoft.com", "unregistered@contoso.onmicrosoft.com", "unreg-pw", 50079},
		{"conditional access", "contoso.onmicrosoft.com", "blocked@contoso.com", "blocked-pw", 53003},
		{"unknown tenant", "fabrikam.onmicrosoft.com", "admin@fabrikam.onmicrosoft.com", "x", 90002},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.credential(tc.tenant, tc.user, tc.password).GetToken(context.Background(),
				policy.TokenRequestOptions{Scopes: []string{graphScope}})
			var authErr *azidentity.AuthenticationFailedError
			if !errors.As(err, &authErr) || authErr.RawResponse == nil {
				t.Fatalf("error %v (%T), want AuthenticationFailedError with a response", err, err)
			}
			body, _ := io.ReadAll(authErr.RawResponse.Body)
			var parsed struct {
				ErrorCodes []int `json:"error_codes"`
			}
			if err := json.Unmarshal(body, &parsed); err != nil || len(parsed.ErrorCodes) != 1 || parsed.ErrorCodes[0] != tc.code {
				t.Fatalf("error_codes = %v (%v), want [%d]; body %s", parsed.ErrorCodes, err, tc.code, body)
			}
		})
	}
}

func TestTokenErrorBodyShape(t *testing.T) {
	e := startTest(t, Options{})
	res := e.passwordGrant("contoso.onmicrosoft.com", "mfa@contoso.onmicrosoft.com", "mfa-pw", graphScope)
	if res.status != http.StatusBadRequest {
		t.Fatalf("status %d", res.status)
	}
	body := res.json(t)
	desc := as[string](t, body["error_description"])
	if !strings.HasPrefix(desc, "AADSTS50076: ") || !strings.Contains(desc, "\r\nTrace ID: ") ||
		!strings.Contains(desc, "\r\nCorrelation ID: ") || !strings.Contains(desc, "\r\nTimestamp: ") {
		t.Errorf("error_description = %q", desc)
	}
	for key, want := range map[string]any{"error": "invalid_grant", "suberror": "basic_action",
		"error_uri": "https://login.microsoftonline.com/error?code=50076"} {
		if body[key] != want {
			t.Errorf("%s = %v, want %v", key, body[key], want)
		}
	}
	for _, key := range []string{"timestamp", "trace_id", "correlation_id", "claims"} {
		if s, _ := body[key].(string); s == "" {
			t.Errorf("%s missing", key)
		}
	}
}

func TestTokenResponseShape(t *testing.T) {
	e := startTest(t, Options{})
	res := e.passwordGrant("72f988bf-86f1-41af-91ab-2d7cd011db47", "ga@contoso.onmicrosoft.com", "ga-app-pw", graphScope)
	body := res.json(t)
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) || body["ext_expires_in"] != float64(3599) {
		t.Errorf("token response %v", body)
	}
	if body["scope"] != graphScope+" openid offline_access profile" {
		t.Errorf("scope = %v", body["scope"])
	}
	access := claims(t, as[string](t, body["access_token"]))
	wids, _ := access["wids"].([]any)
	if len(wids) != 1 || wids[0] != "62e90394-69f5-4237-9190-012177145e10" {
		t.Errorf("wids = %v", access["wids"])
	}
	for _, k := range []string{"aud", "iss", "tid", "oid", "upn", "preferred_username", "scp", "exp", "iat", "nbf"} {
		if _, ok := access[k]; !ok {
			t.Errorf("access token lacks %s", k)
		}
	}
	id := claims(t, as[string](t, body["id_token"]))
	if id["iss"] != e.srv.URL()+"/"+e.srv.TenantID()+"/v2.0" || id["preferred_username"] != "ga@contoso.onmicrosoft.com" {
		t.Errorf("id_token claims %v", id)
	}
	info, err := base64.RawURLEncoding.DecodeString(as[string](t, body["client_info"]))
	if err != nil || !strings.Contains(string(info), `"utid":"72f988bf-86f1-41af-91ab-2d7cd011db47"`) {
		t.Errorf("client_info %s (%v)", info, err)
	}
}

func TestTokenScopeRules(t *testing.T) {
	e := startTest(t, Options{})
	for _, tc := range []struct {
		scope string
		code  float64
	}{
		{graphScope + " " + exchangeScope, 700022},
		{"https://graph.microsoft.us/.default", 500011}, // another cloud's resource
	} {
		res := e.passwordGrant("contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com", "admin-pw", tc.scope)
		if codes := as[[]any](t, res.json(t)["error_codes"]); codes[0] != tc.code {
			t.Errorf("%s: error_codes %v, want %v", tc.scope, codes, tc.code)
		}
	}
	res := e.passwordGrant("organizations", "admin@contoso.onmicrosoft.com", "admin-pw", "https://outlook.office365.com/EWS.AccessAsUser.All")
	if res.status != http.StatusOK || claims(t, as[string](t, res.json(t)["access_token"]))["aud"] != "https://outlook.office365.com" {
		t.Errorf("EWS scope via /organizations: %d %s", res.status, res.body)
	}
}

func TestRefreshTokenRevokedByPasswordChange(t *testing.T) {
	e := startTest(t, Options{})
	body := e.passwordGrant("contoso.onmicrosoft.com", "admin@contoso.onmicrosoft.com", "admin-pw", graphScope).json(t)
	refresh := func() response {
		return e.do("POST", "/contoso.onmicrosoft.com/oauth2/v2.0/token",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			[]byte("grant_type=refresh_token&client_id=x&scope="+exchangeScope+"&refresh_token="+as[string](t, body["refresh_token"])))
	}
	if res := refresh(); res.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", res.status, res.body)
	}
	if err := e.srv.SetPassword("admin@contoso.onmicrosoft.com", "new-pw"); err != nil {
		t.Fatal(err)
	}
	if codes := as[[]any](t, refresh().json(t)["error_codes"]); codes[0] != float64(50173) {
		t.Errorf("after password change: %v", codes)
	}
}

func TestOpenIDConfigurationAndUserRealm(t *testing.T) {
	e := startTest(t, Options{})
	res := e.do("GET", "/contoso.com/v2.0/.well-known/openid-configuration?", nil, nil)
	body := res.json(t)
	if body["issuer"] != e.srv.URL()+"/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0" {
		t.Errorf("issuer = %v", body["issuer"])
	}
	if body["token_endpoint"] != e.srv.URL()+"/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token" {
		t.Errorf("token_endpoint = %v", body["token_endpoint"])
	}
	res = e.do("GET", "/fabrikam.com/v2.0/.well-known/openid-configuration", nil, nil)
	if res.status != http.StatusBadRequest || res.json(t)["error"] != "invalid_tenant" {
		t.Errorf("unknown tenant: %d %s", res.status, res.body)
	}
	realm := e.do("GET", "/common/UserRealm/admin%40contoso.onmicrosoft.com?api-version=1.0", nil, nil).json(t)
	if realm["account_type"] != "Managed" || realm["domain_name"] != "contoso.onmicrosoft.com" || realm["cloud_instance_name"] != "microsoftonline.com" {
		t.Errorf("realm = %v", realm)
	}
	realm = e.do("GET", "/common/UserRealm/x%40fabrikam.com?api-version=1.0", nil, nil).json(t)
	if _, has := realm["domain_name"]; realm["account_type"] != "Unknown" || has {
		t.Errorf("unknown realm = %v", realm)
	}
}

func TestTokensFollowTenantState(t *testing.T) {
	clock := newFakeClock()
	e := startTest(t, Options{Clock: clock.Now})
	tok := e.token("admin@contoso.onmicrosoft.com", "admin-pw", graphScope)
	get := func(token string) int {
		return e.do("GET", "/v1.0/users/admin@contoso.onmicrosoft.com", bearer(token), nil).status
	}
	if got := get(tok); got != http.StatusOK {
		t.Fatalf("fresh token: %d", got)
	}
	exoToken := e.token("admin@contoso.onmicrosoft.com", "admin-pw", exchangeScope)
	if got := get(exoToken); got != http.StatusUnauthorized {
		t.Errorf("Exchange token on Graph: %d, want 401", got)
	}
	if err := e.srv.SetDisabled("admin@contoso.onmicrosoft.com", true); err != nil {
		t.Fatal(err)
	}
	if got := get(tok); got != http.StatusUnauthorized {
		t.Errorf("disabled user's token: %d, want 401", got)
	}
	_ = e.srv.SetDisabled("admin@contoso.onmicrosoft.com", false)
	clock.Advance(time.Hour)
	if got := get(tok); got != http.StatusUnauthorized {
		t.Errorf("expired token: %d, want 401", got)
	}
}
