package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func (e *testEnv) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: e.srv.URL() + "/"}, Transport: e.client}
}

// TestAzidentityAppOnlyCredentials: Microsoft's own client gets app-only
// tokens with a secret, a PEM certificate and a PKCS#12 certificate (WIRE §I6).
func TestAzidentityAppOnlyCredentials(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	f := testCertificates(t)
	secret, err := azidentity.NewClientSecretCredential("contoso.onmicrosoft.com", fullAppID, appSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	pemCerts, pemKey, err := azidentity.ParseCertificates(f.cert.PEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	p12Certs, p12Key, err := azidentity.ParseCertificates(f.cert.PKCS12, []byte(f.cert.PKCS12Password))
	if err != nil {
		t.Fatalf("PKCS#12: %v", err)
	}
	// certificate is the PEM or (pkcs12) the PKCS#12 form of the same certificate.
	certificate := func(chain, pkcs12 bool) azcore.TokenCredential {
		certs, key := pemCerts, pemKey
		if pkcs12 {
			certs, key = p12Certs, p12Key
		}
		c, err := azidentity.NewClientCertificateCredential(e.srv.TenantID(), fullAppID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true, SendCertificateChain: chain})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	sp := spID(t, e.srv, fullAppID)
	for _, tc := range []struct {
		name string
		cred azcore.TokenCredential
		acr  string
	}{
		{"secret", secret, "1"},
		{"PEM certificate", certificate(false, false), "2"},
		{"PEM certificate with x5c", certificate(true, false), "2"},
		{"PKCS#12 certificate", certificate(false, true), "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for scope, want := range map[string]struct {
				aud   string
				roles []any
			}{
				graphScope:    {"https://graph.microsoft.com", []any{"Mail.ReadWrite", "User.Read.All"}},
				exchangeScope: {"https://outlook.office365.com", []any{"full_access_as_app", "Exchange.ManageAsApp"}},
			} {
				tok, err := tc.cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
				if err != nil {
					t.Fatalf("%s: %v", scope, err)
				}
				c := claims(t, tok.Token)
				wantClaims := map[string]any{"aud": want.aud, "iss": "https://sts.windows.net/" + e.srv.TenantID() + "/",
					"appid": fullAppID, "appidacr": tc.acr, "idtyp": "app", "oid": sp, "sub": sp, "tid": e.srv.TenantID(), "ver": "1.0",
					"app_displayname": "tf-o365 migration target"}
				for k, v := range wantClaims {
					if c[k] != v {
						t.Errorf("%s: %s = %v, want %v", scope, k, c[k], v)
					}
				}
				if !reflect.DeepEqual(c["roles"], want.roles) {
					t.Errorf("%s: roles = %v, want %v", scope, c["roles"], want.roles)
				}
				if !reflect.DeepEqual(c["wids"], []any{"29232cdf-9323-42fd-ade2-1d097af3e4de"}) {
					t.Errorf("%s: wids = %v", scope, c["wids"])
				}
				for _, absent := range []string{"upn", "scp", "name"} {
					if _, has := c[absent]; has {
						t.Errorf("%s: app-only token has %s", scope, absent)
					}
				}
			}
		})
	}
}

func TestClientCredentialsResponseShape(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	res := e.secretGrant(e.srv.TenantID(), fullAppID, appSecret, graphScope)
	body := res.json(t)
	if res.status != http.StatusOK || body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) || body["ext_expires_in"] != float64(3599) {
		t.Fatalf("%d %s", res.status, res.body)
	}
	for _, absent := range []string{"refresh_token", "id_token", "client_info", "scope"} {
		if _, has := body[absent]; has {
			t.Errorf("app-only answer has %s (WIRE §I3)", absent)
		}
	}
	// A consent-less app still gets a token, without a roles claim (WIRE §I4).
	bare := claims(t, e.appToken(bareAppID, graphScope))
	if _, has := bare["roles"]; has {
		t.Errorf("roles without consent: %v", bare["roles"])
	}
	if _, has := bare["wids"]; has {
		t.Errorf("wids without directory role: %v", bare["wids"])
	}
	// HTTP Basic client authentication (RFC 6749 §2.3.1): values form-encoded first.
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {exchangeScope}}
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(fullAppID) + ":" + url.QueryEscape(appSecret)))
	res = e.do("POST", "/contoso.onmicrosoft.com/oauth2/v2.0/token",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic " + basic}, []byte(form.Encode()))
	if res.status != http.StatusOK || claims(t, as[string](t, res.json(t)["access_token"]))["appidacr"] != "1" {
		t.Errorf("Basic: %d %s", res.status, res.body)
	}
	if got := e.srv.Counters().ByUser[fullAppID]; got < 2 {
		t.Errorf("token requests counted under the client id: %d", got)
	}
}

func TestClientCredentialsErrors(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	for _, tc := range []struct {
		name, tenant, client, secret, scope string
		status, code                        int
		errorField                          string
	}{
		{"wrong secret", "contoso.onmicrosoft.com", fullAppID, "wrong", graphScope, 401, 7000215, "invalid_client"},
		{"secret id instead of value", "contoso.onmicrosoft.com", fullAppID, "11111111-2222-3333-4444-555555555555", graphScope, 401, 7000215, "invalid_client"},
		{"expired secret", "contoso.onmicrosoft.com", expiredAppID, appSecret, graphScope, 401, 7000222, "invalid_client"},
		{"unknown application", "contoso.onmicrosoft.com", "00000000-1111-2222-3333-444444444444", appSecret, graphScope, 400, 700016, "unauthorized_client"},
		{"organizations", "organizations", fullAppID, appSecret, graphScope, 400, 700016, "unauthorized_client"},
		{"no credential", "contoso.onmicrosoft.com", fullAppID, "", graphScope, 401, 7000218, "invalid_client"},
		{"named scope", "contoso.onmicrosoft.com", fullAppID, appSecret, "https://graph.microsoft.com/Mail.Read", 400, 1002012, "invalid_scope"},
		{"bare permission", "contoso.onmicrosoft.com", fullAppID, appSecret, "User.Read.All", 400, 1002012, "invalid_scope"},
		{"two resources", "contoso.onmicrosoft.com", fullAppID, appSecret, graphScope + " " + exchangeScope, 400, 700022, "invalid_scope"},
		{"another cloud", "contoso.onmicrosoft.com", fullAppID, appSecret, "https://graph.microsoft.us/.default", 400, 500011, "invalid_resource"},
		{"disabled service principal", "contoso.onmicrosoft.com", disabledAppID, appSecret, graphScope, 400, 7000112, "unauthorized_client"},
		{"no service principal", "contoso.onmicrosoft.com", noSPAppID, appSecret, graphScope, 401, 7000229, "invalid_client"},
		{"unknown tenant", "fabrikam.onmicrosoft.com", fullAppID, appSecret, graphScope, 400, 90002, "invalid_tenant"},
		{"common", "common", fullAppID, appSecret, graphScope, 400, 9001023, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.secretGrant(tc.tenant, tc.client, tc.secret, tc.scope)
			if res.status != tc.status || aadCode(t, res) != tc.code || res.json(t)["error"] != tc.errorField {
				t.Fatalf("%d %s, want %d %s AADSTS%d", res.status, res.body, tc.status, tc.errorField, tc.code)
			}
			body := res.json(t)
			desc, _ := body["error_description"].(string)
			if !strings.HasPrefix(desc, "AADSTS") || !strings.Contains(desc, "\r\nTrace ID: ") || body["trace_id"] == nil || body["correlation_id"] == nil {
				t.Errorf("§A8 body shape: %s", res.body)
			}
			if strings.Contains(string(res.body), appSecret) {
				t.Error("the secret is echoed in the error")
			}
		})
	}
}

// TestAzidentityAppOnlyFailuresCarryCodes: the provider reads error_codes
// through azidentity's AuthenticationFailedError (WIRE §I5).
func TestAzidentityAppOnlyFailuresCarryCodes(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	f := testCertificates(t)
	expiredCerts, expiredKey, err := azidentity.ParseCertificates(f.expiredCert.PEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherCerts, otherKey, _ := azidentity.ParseCertificates(f.otherCert.PEM, nil)
	opts := &azidentity.ClientCertificateCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true}
	wrongSecret, _ := azidentity.NewClientSecretCredential("contoso.onmicrosoft.com", fullAppID, "wrong",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true})
	expired, _ := azidentity.NewClientCertificateCredential("contoso.onmicrosoft.com", expiredAppID, expiredCerts, expiredKey, opts)
	unregistered, _ := azidentity.NewClientCertificateCredential("contoso.onmicrosoft.com", fullAppID, otherCerts, otherKey, opts)
	for name, tc := range map[string]struct {
		cred azcore.TokenCredential
		code int
	}{"wrong secret": {wrongSecret, 7000215}, "expired certificate": {expired, 700027}, "unregistered certificate": {unregistered, 700027}} {
		_, err := tc.cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{graphScope}})
		var authErr *azidentity.AuthenticationFailedError
		if !errors.As(err, &authErr) || authErr.RawResponse == nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, _ := io.ReadAll(authErr.RawResponse.Body)
		var parsed struct {
			ErrorCodes []int `json:"error_codes"`
		}
		if json.Unmarshal(body, &parsed) != nil || len(parsed.ErrorCodes) != 1 || parsed.ErrorCodes[0] != tc.code {
			t.Errorf("%s: %s, want AADSTS%d", name, body, tc.code)
		}
	}
}

// TestClientAssertionChecks covers WIRE §I2: both header variants, both
// base64 alphabets padded or not, and every check's AADSTS code.
func TestClientAssertionChecks(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	f := testCertificates(t)
	now := time.Now()
	for _, tc := range []struct {
		name   string
		client string
		spec   assertionSpec
		code   int // 0 = success
		reason string
	}{
		{"PS256 x5t#S256 std padded (MSAL Go)", fullAppID, assertionSpec{signer: f.cert}, 0, ""},
		{"RS256 x5t std padded (older MSAL)", fullAppID, assertionSpec{alg: "RS256", thumbprint: "x5t", signer: f.cert}, 0, ""},
		{"PS256 x5t#S256 base64url unpadded", fullAppID, assertionSpec{encoding: base64.RawURLEncoding, signer: f.cert}, 0, ""},
		{"RS256 x5t base64url padded", fullAppID, assertionSpec{alg: "RS256", thumbprint: "x5t", encoding: base64.URLEncoding, signer: f.cert}, 0, ""},
		{"PS256 x5t std unpadded", fullAppID, assertionSpec{thumbprint: "x5t", encoding: base64.RawStdEncoding, signer: f.cert}, 0, ""},
		{"aud names the tenant by domain", fullAppID, assertionSpec{signer: f.cert, aud: e.srv.URL() + "/contoso.onmicrosoft.com/oauth2/v2.0/token"}, 0, ""},
		{"unregistered key", fullAppID, assertionSpec{signer: f.otherCert}, 700027, "The key was not found."},
		{"signature by another key", fullAppID, assertionSpec{signer: f.otherCert, headerCert: f.cert}, 700027, "did not match"},
		{"expired key", expiredAppID, assertionSpec{signer: f.expiredCert}, 700027, "The key used is expired."},
		{"wrong audience", fullAppID, assertionSpec{signer: f.cert, aud: "https://login.microsoftonline.com/" + e.srv.TenantID() + "/oauth2/v2.0/token"}, 700023, ""},
		{"v1 token endpoint as audience", fullAppID, assertionSpec{signer: f.cert, aud: e.srv.URL() + "/" + e.srv.TenantID() + "/oauth2/token"}, 700023, ""},
		{"issuer is another app", fullAppID, assertionSpec{signer: f.cert, iss: scopedAppID}, 700021, ""},
		{"subject differs from issuer", fullAppID, assertionSpec{signer: f.cert, sub: "someone"}, 50048, ""},
		{"expired assertion", fullAppID, assertionSpec{signer: f.cert, nbf: now.Add(-time.Hour), exp: now.Add(-30 * time.Minute)}, 700024, ""},
		{"not yet valid", fullAppID, assertionSpec{signer: f.cert, nbf: now.Add(time.Hour), exp: now.Add(70 * time.Minute)}, 700024, ""},
		{"no exp", fullAppID, assertionSpec{signer: f.cert, noExp: true}, 700024, ""},
		{"unsupported alg", fullAppID, assertionSpec{alg: "HS256", signer: f.cert}, 5002738, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.assertionGrant(tc.client, tc.spec.sign(t, e.srv, tc.client), exchangeScope)
			if tc.code == 0 {
				if res.status != http.StatusOK || claims(t, as[string](t, res.json(t)["access_token"]))["appidacr"] != "2" {
					t.Fatalf("%d %s", res.status, res.body)
				}
				return
			}
			if got := aadCode(t, res); got != tc.code || res.json(t)["error"] != "invalid_client" {
				t.Fatalf("AADSTS%d (%s), want %d", got, res.body, tc.code)
			}
			if tc.reason != "" && !strings.Contains(as[string](t, res.json(t)["error_description"]), tc.reason) {
				t.Errorf("description %q lacks %q", res.json(t)["error_description"], tc.reason)
			}
		})
	}
	for name, assertion := range map[string]string{"not a JWT": "abc", "garbage parts": "a.b.c"} {
		if got := aadCode(t, e.assertionGrant(fullAppID, assertion, graphScope)); got != 50027 {
			t.Errorf("%s: AADSTS%d, want 50027", name, got)
		}
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {fullAppID}, "client_assertion_type": {"urn:x"},
		"client_assertion": {assertionSpec{signer: f.cert}.sign(t, e.srv, fullAppID)}, "scope": {graphScope}}
	res := e.do("POST", "/contoso.onmicrosoft.com/oauth2/v2.0/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
	if aadCode(t, res) != 50027 {
		t.Errorf("wrong assertion type: %s", res.body)
	}
}

// TestAppTokenRolesAsOfTokenTime: a consent removed after issuance stays in
// the issued token and is missing from the next one (WIRE §I3, §I9).
func TestAppTokenRolesAsOfTokenTime(t *testing.T) {
	e := startAppTest(t, Options{}, nil)
	before := e.appToken(fullAppID, graphScope)
	n, err := e.srv.RemoveConsent(fullAppID, "Microsoft Graph", "Mail.ReadWrite")
	if n != 1 || err != nil {
		t.Fatalf("remove consent: %d %v", n, err)
	}
	if !reflect.DeepEqual(claims(t, before)["roles"], []any{"Mail.ReadWrite", "User.Read.All"}) {
		t.Errorf("issued token changed: %v", claims(t, before)["roles"])
	}
	after := e.appToken(fullAppID, graphScope)
	if !reflect.DeepEqual(claims(t, after)["roles"], []any{"User.Read.All"}) {
		t.Errorf("new token roles %v", claims(t, after)["roles"])
	}
	inbox := "/v1.0/users/alice@contoso.com/mailFolders/inbox"
	if res := e.do("GET", inbox, bearer(before), nil); res.status != http.StatusOK {
		t.Errorf("old token: %d %s", res.status, res.body)
	}
	if res := e.do("GET", inbox, bearer(after), nil); res.status != http.StatusForbidden {
		t.Errorf("new token: %d %s", res.status, res.body)
	}
	if err := e.srv.AddConsent(fullAppID, "graph", "Mail.ReadWrite"); err != nil {
		t.Fatal(err)
	}
	if res := e.do("GET", inbox, bearer(e.appToken(fullAppID, graphScope)), nil); res.status != http.StatusOK {
		t.Errorf("after consent again: %d", res.status)
	}
	// A disabled or deleted service principal's tokens stop working (401).
	if err := e.srv.SetServicePrincipalEnabled(fullAppID, false); err != nil {
		t.Fatal(err)
	}
	if res := e.do("GET", inbox, bearer(before), nil); res.status != http.StatusUnauthorized {
		t.Errorf("disabled service principal: %d", res.status)
	}
}
