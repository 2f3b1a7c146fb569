package identity

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testdata/app-cert.pem and app-cert.p12 hold a test-only RSA key and its self-signed
// certificate (valid until 2125), made with:
//
//	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 36500 -subj "/CN=tf-o365 test application"
//	cat cert.pem key.pem > app-cert.pem
//	openssl pkcs12 -export -in cert.pem -inkey key.pem -out app-cert.p12 -passout pass:test-p12-password \
//	  -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1
const (
	appID        = "5951643e-5013-442f-963c-1ee875bbe74a"
	appSecret    = "Qx8~app-secret-value-0123456789abcdefgh"
	p12Password  = "test-p12-password"
	federatedJWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL3Rva2VuLmFjdGlvbnMuZ2l0aHVidXNlcmNvbnRlbnQuY29tIn0.federated-signature"
)

// fakeSTS serves what azidentity's confidential clients ask of the identity platform: the
// tenant's OpenID configuration (§A4) and the client-credentials grant (§I1) with a secret
// (form body or HTTP Basic), a certificate assertion (§I2, verified) or a federated token,
// answering §I3 tokens and §I5 errors.
type fakeSTS struct {
	srv  *httptest.Server
	cert *x509.Certificate // the application's registered key credential

	mu     sync.Mutex
	grants map[string]int // by credential kind: secret, assertion, federated
	openid int
	scopes []string
	forms  []url.Values
}

func newFakeSTS(t *testing.T) *fakeSTS {
	t.Helper()
	certs, _, err := parseCertificates(readFixture(t, "app-cert.pem"), "")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSTS{cert: certs[0], grants: map[string]int{}}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fakeSTS) fail(w http.ResponseWriter, status int, code int, name, desc string) {
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q,"error_description":"AADSTS%d: %s\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2026-12-01 10:00:00Z","error_codes":[%d],"correlation_id":"c"}`, name, code, desc, code)
}

func (f *fakeSTS) serve(w http.ResponseWriter, r *http.Request) {
	host := "https://" + r.Host
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/v2.0/.well-known/openid-configuration"):
		f.mu.Lock()
		f.openid++
		f.mu.Unlock()
		fmt.Fprintf(w, `{"token_endpoint":"%[1]s/%[2]s/oauth2/v2.0/token","issuer":"%[1]s/%[2]s/v2.0","authorization_endpoint":"%[1]s/%[2]s/oauth2/v2.0/authorize","jwks_uri":"%[1]s/%[2]s/discovery/v2.0/keys"}`, host, tid)
	case r.URL.Path == "/"+tid+"/oauth2/v2.0/token":
		_ = r.ParseForm()
		form := r.PostForm
		f.mu.Lock()
		f.forms = append(f.forms, form)
		f.mu.Unlock()
		if form.Get("grant_type") != "client_credentials" {
			f.fail(w, 400, 9002313, "invalid_request", "unexpected grant")
			return
		}
		clientID, secret, basic := r.BasicAuth()
		if !basic {
			clientID, secret = form.Get("client_id"), form.Get("client_secret")
		}
		if clientID != appID {
			f.fail(w, 400, 700016, "unauthorized_client", "Application with identifier '"+clientID+"' was not found in the directory '"+tid+"'.")
			return
		}
		kind := "secret"
		switch a := form.Get("client_assertion"); {
		case a == federatedJWT:
			kind = "federated"
		case a != "":
			kind = "assertion"
			if err := f.verifyAssertion(a, host+"/"+tid+"/oauth2/v2.0/token"); err != nil {
				f.fail(w, 401, 700027, "invalid_client", "Client assertion contains an invalid signature. [Reason - "+err.Error()+"]")
				return
			}
		case secret != appSecret:
			f.fail(w, 401, 7000215, "invalid_client", "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+appID+"'.")
			return
		}
		var resource string
		for _, s := range strings.Fields(form.Get("scope")) {
			if strings.HasSuffix(s, "/.default") {
				resource = strings.TrimSuffix(s, "/.default")
			} else if s != "openid" && s != "profile" && s != "offline_access" {
				f.fail(w, 400, 1002012, "invalid_scope", "The provided value for scope "+s+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
				return
			}
		}
		f.mu.Lock()
		f.grants[kind]++
		f.scopes = append(f.scopes, resource)
		f.mu.Unlock()
		now := time.Now().Unix()
		at := b64(map[string]any{"typ": "JWT", "alg": "none"}) + "." + b64(map[string]any{"aud": resource, "iss": "https://sts.windows.net/" + tid + "/",
			"appid": appID, "idtyp": "app", "oid": oid, "tid": tid, "roles": []string{"Mail.ReadWrite", "User.Read.All"}, "ver": "1.0", "exp": now + 3600}) + ".sig"
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":%q}`, at)
	default:
		http.NotFound(w, r)
	}
}

// verifyAssertion checks a client assertion as §I2 says Entra does: the key found by
// thumbprint (either header, either base64 alphabet), the signature (PS256 or RS256), and
// aud, iss = sub = client id, and the time window.
func (f *fakeSTS) verifyAssertion(a, aud string) error {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	var hdr map[string]string
	var claims struct {
		Aud, Iss, Sub string
		Nbf, Exp      int64
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil {
		return fmt.Errorf("undecodable")
	}
	s256 := sha256.Sum256(f.cert.Raw)
	thumb := strings.TrimRight(strings.NewReplacer("-", "+", "_", "/").Replace(hdr["x5t#S256"]), "=")
	if thumb != strings.TrimRight(base64.StdEncoding.EncodeToString(s256[:]), "=") {
		return fmt.Errorf("The key was not found")
	}
	pub, ok := f.cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("not an RSA certificate")
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	var err error
	switch hdr["alg"] {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
	default:
		err = fmt.Errorf("alg %q", hdr["alg"])
	}
	now := time.Now().Unix()
	switch {
	case err != nil:
		return err
	case claims.Aud != aud || claims.Iss != appID || claims.Sub != appID:
		return fmt.Errorf("claims %+v", claims)
	case claims.Nbf > now+60 || claims.Exp < now:
		return fmt.Errorf("outside its time window")
	}
	return nil
}

func (f *fakeSTS) provider(log func(string)) *Provider {
	o := Options{AuthorityHost: f.srv.URL, HTTPClient: f.srv.Client(), MaxRetries: 1}
	if log != nil {
		o.Log = func(_ context.Context, msg string, fields map[string]any) { log(fmt.Sprint(msg, fields)) }
	}
	return New(o)
}

// Each credential kind gets a token per audience through azidentity; a second token for the
// same audience costs no request; one credential (one MSAL cache) per credential.
func TestApplicationCredentials(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(federatedJWT+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		cred  AppCredential
		grant string
	}{
		{"client secret", ClientSecret(appSecret), "secret"},
		{"PEM certificate", mustParse(t, readFixture(t, "app-cert.pem"), ""), "assertion"},
		{"PKCS#12 certificate", mustParse(t, readFixture(t, "app-cert.p12"), p12Password), "assertion"},
		{"federated token file", FederatedTokenFile(tokenFile), "federated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeSTS(t)
			var lines []string
			p := f.provider(func(l string) { lines = append(lines, l) })
			src, err := p.Application("contoso.onmicrosoft.com", appID, tc.cred)
			if err != nil {
				t.Fatal(err)
			}
			if s := src.Subject(); s.Kind != Application || s.Name != appID || s.ClientID != appID || s.Tenant != "contoso.onmicrosoft.com" {
				t.Fatalf("subject = %+v", s)
			}
			ctx := context.Background()
			for i := 0; i < 2; i++ {
				for _, scope := range []string{graphScope, exchangeScope} {
					tok, err := src.Token(ctx, scope)
					if err != nil {
						t.Fatal(err)
					}
					if tok.AppID != appID || tok.TenantID != tid || strings.Join(tok.Roles, ",") != "Mail.ReadWrite,User.Read.All" {
						t.Fatalf("token = %+v", tok)
					}
				}
			}
			// The same credential through another Source value shares the cache.
			again, _ := p.Application("contoso.onmicrosoft.com", appID, tc.cred)
			if _, err := again.Token(ctx, graphScope); err != nil {
				t.Fatal(err)
			}
			if f.grants[tc.grant] != 2 || len(f.grants) != 1 || strings.Join(f.scopes, " ") != "https://graph.microsoft.com https://outlook.office365.com" {
				t.Fatalf("grants %v for scopes %v, want one %s grant per audience", f.grants, f.scopes, tc.grant)
			}
			if len(p.creds) != 1 {
				t.Fatalf("%d credentials cached, want 1", len(p.creds))
			}
			for _, l := range append(lines, fmt.Sprintf("%v %+v %#v", tc.cred, tc.cred, tc.cred)) {
				for _, secret := range []string{appSecret, p12Password, federatedJWT, "PRIVATE KEY"} {
					if strings.Contains(l, secret) {
						t.Fatalf("%q shows a secret", l)
					}
				}
			}
		})
	}
}

// Secrets never reach an error; the §I5 codes are classified.
func TestApplicationSignInErrors(t *testing.T) {
	f := newFakeSTS(t)
	p := f.provider(nil)
	ctx := context.Background()
	other, otherKey := selfSigned(t, "other application", time.Now().Add(time.Hour))
	for _, tc := range []struct {
		name     string
		clientID string
		cred     AppCredential
		scope    string
		is       func(error) bool
	}{
		{"wrong secret", appID, ClientSecret("Wrong~secret-value-0123456789"), graphScope, IsInvalidClientSecret},
		{"unknown application", "00000000-0000-0000-0000-00000000dead", ClientSecret(appSecret), graphScope, IsApplicationNotFound},
		{"unregistered certificate", appID, mustParse(t, append(other, otherKey...), ""), graphScope, IsInvalidClientAssertion},
		{"named scope", appID, ClientSecret(appSecret), "https://graph.microsoft.com/Mail.Read", IsInvalidScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := p.Application("contoso.onmicrosoft.com", tc.clientID, tc.cred)
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.Token(ctx, tc.scope)
			if !tc.is(err) {
				t.Fatalf("err = %v", err)
			}
			for _, secret := range append(tc.cred.secrets(), appSecret, "PRIVATE KEY") {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Fatalf("error shows a secret: %v", err)
				}
			}
			if strings.Contains(err.Error(), "Trace ID") || !strings.Contains(err.Error(), "AADSTS") {
				t.Errorf("message: %v", err)
			}
		})
	}
}

// The predicates of §I5, on the documented bodies.
func TestApplicationErrorPredicates(t *testing.T) {
	for code, is := range map[int]func(error) bool{
		7000215: IsInvalidClientSecret, 7000222: IsClientSecretExpired, 700016: IsApplicationNotFound,
		700027: IsInvalidClientAssertion, 700024: IsAssertionOutsideValidity, 7000112: IsApplicationDisabled,
		1002012: IsInvalidScope, 500011: IsResourceNotInTenant,
	} {
		err := azError(401, fmt.Sprintf(`{"error":"invalid_client","error_description":"AADSTS%d: text.","error_codes":[%d]}`, code, code))
		if !is(err) || is(azError(401, bodies["50126"])) {
			t.Errorf("AADSTS%d: predicate wrong", code)
		}
	}
}

// Bad credentials are refused before any request, saying what is wrong and nothing secret:
// by Application, or when the certificate is read.
func TestApplicationCredentialChecks(t *testing.T) {
	p := New(Options{AuthorityHost: "https://login.microsoftonline.com/"})
	ecCert, ecKey := ecSelfSigned(t)
	expired, expiredKey := selfSigned(t, "expired", time.Now().Add(-time.Hour))
	parseErr := func(data []byte, password string) error { _, err := ParseClientCertificate(data, password); return err }
	appErr := func(tenant string, c AppCredential) error { _, err := p.Application(tenant, appID, c); return err }
	publicOnly, err := ParsePublicCertificate(expired)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"no credential", appErr("contoso.onmicrosoft.com", nil), "no credential"},
		{"empty secret", appErr("contoso.onmicrosoft.com", ClientSecret("")), "no credential"},
		{"certificate without its key", appErr("contoso.onmicrosoft.com", publicOnly), "no private key"},
		{"common tenant", appErr("organizations", ClientSecret(appSecret)), "specific tenant"},
		{"not a certificate", parseErr([]byte("not a certificate"), ""), "client certificate"},
		{"EC key", parseErr(append(ecCert, ecKey...), ""), "not an RSA key"},
		{"wrong PKCS#12 password", parseErr(readFixture(t, "app-cert.p12"), "wrong-password"), "client certificate"},
	} {
		err := tc.err
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), appSecret) || strings.Contains(err.Error(), "wrong-password") || strings.Contains(err.Error(), "PRIVATE")) {
			t.Errorf("%s: error shows a secret: %v", tc.name, err)
		}
	}
	c, err := ParseClientCertificate(append(expired, expiredKey...), "")
	if err != nil || !c.NotAfter.Before(time.Now()) || len(c.Thumbprint) != 40 || len(c.ThumbprintSHA256) != 64 || c.Subject != "CN=expired" {
		t.Fatalf("ParseClientCertificate = %+v, %v", c, err)
	}
	if c.Thumbprint != publicOnly.Thumbprint || c.KeyIdentifier() == "" {
		t.Fatalf("the certificate with and without its key: %s, %s", c.Thumbprint, publicOnly.Thumbprint)
	}
	pem12, err := ParseClientCertificate(readFixture(t, "app-cert.p12"), p12Password)
	pemPEM, err2 := ParseClientCertificate(readFixture(t, "app-cert.pem"), "")
	if err != nil || err2 != nil || pem12.ThumbprintSHA256 != pemPEM.ThumbprintSHA256 || pem12.NotAfter.Year() < 2100 {
		t.Fatalf("PKCS#12 %+v %v, PEM %+v %v", pem12, err, pemPEM, err2)
	}
	if _, err := ParsePublicCertificate(append(expiredKey, expired...)); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("a public certificate with its key: %v", err)
	}
}

func mustParse(t *testing.T, data []byte, password string) *Certificate {
	t.Helper()
	c, err := ParseClientCertificate(data, password)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A federated token file is read at every token request (CI systems rotate it) and its
// content never shows in an error.
func TestFederatedTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if _, err := readTokenFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readTokenFile(path); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty file: %v", err)
	}
	if err := os.WriteFile(path, []byte(" "+federatedJWT+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := readTokenFile(path); err != nil || tok != federatedJWT {
		t.Fatalf("token = %q, %v", tok, err)
	}
}

func selfSigned(t *testing.T, cn string, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn}, NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

func ecSelfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "ec"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}
