package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Client ids of the app-only fixtures (appSeed).
const (
	fullAppID       = "5951643e-5013-442f-963c-1ee875bbe74a" // Graph mail + EWS full access + Exchange admin
	scopedAppID     = "6a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d" // RBAC for Applications, scoped to "migrate"
	expiredAppID    = "7b2e3d4c-5f60-4b7c-9d8e-0f1a2b3c4d5e" // expired secret and certificate
	disabledAppID   = "8c3f4e5d-6071-4c8d-ae9f-102b3c4d5e6f" // service principal disabled
	noSPAppID       = "9d405f6e-7182-4d9e-bfa0-213c4d5e6f70" // no service principal
	managementAppID = "ae516071-8293-4eaf-80b1-324d5e6f7081" // Graph management identity (§I8)
	readerAppID     = "bf627182-93a4-4fb0-91c2-435e6f708192" // Exchange.ManageAsApp + Global Reader
	bareAppID       = "c0738293-a4b5-40c1-a2d3-546f70819203" // a secret and nothing else
	appSecret       = "Qx7~fullAppSecretValue.0123456789abcdef"
)

// appFixtures holds the certificates of the app-only fixtures.
type appFixtures struct {
	cert, otherCert, expiredCert *TestCertificate
}

var (
	fixtureOnce sync.Once
	fixtures    appFixtures
)

// testCertificates generates the RSA certificates once per test binary.
func testCertificates(t *testing.T) appFixtures {
	t.Helper()
	fixtureOnce.Do(func() {
		var err error
		must := func(c *TestCertificate, e error) *TestCertificate {
			if e != nil {
				err = e
			}
			return c
		}
		fixtures = appFixtures{
			cert:        must(NewTestCertificate("tf-o365 migration target", time.Now().AddDate(1, 0, 0))),
			otherCert:   must(NewTestCertificate("not registered", time.Now().AddDate(1, 0, 0))),
			expiredCert: must(NewTestCertificate("expired", time.Now().Add(-24*time.Hour))),
		}
		if err != nil {
			panic(err)
		}
	})
	return fixtures
}

// appSeed is the test tenant plus the app-only fixtures: a management scope
// holding alice (CustomAttribute15 = migrate), and the applications above.
func appSeed(t *testing.T) *Seed {
	t.Helper()
	seed, err := ParseSeed([]byte(testSeedJSON))
	if err != nil {
		t.Fatal(err)
	}
	f := testCertificates(t)
	past := time.Now().Add(-48 * time.Hour)
	yesterday := time.Now().Add(-24 * time.Hour)
	for i := range seed.Users {
		switch seed.Users[i].UserPrincipalName {
		case "alice@contoso.com":
			seed.Users[i].CustomAttributes = map[string]string{"15": "migrate"}
			seed.Users[i].Department = "Sales"
		case "admin@contoso.onmicrosoft.com":
			seed.Users[i].Department = "IT"
		}
	}
	seed.ManagementScopes = []SeedManagementScope{{Name: "tf-o365 target mailboxes", RecipientFilter: "CustomAttribute15 -eq 'migrate'"}}
	seed.Applications = []SeedApplication{
		{DisplayName: "tf-o365 migration target", AppID: fullAppID,
			Secrets:             []SeedSecret{{DisplayName: "main", Value: appSecret, KeyID: "11111111-2222-3333-4444-555555555555"}},
			Certificates:        []SeedCertificate{{PEM: string(f.cert.CertPEM)}},
			GraphPermissions:    []string{"Mail.ReadWrite", "User.Read.All"},
			ExchangePermissions: []string{"full_access_as_app", "Exchange.ManageAsApp"},
			DirectoryRoles:      []string{"Exchange Administrator"}},
		{DisplayName: "tf-o365 scoped", AppID: scopedAppID,
			Secrets:             []SeedSecret{{Value: appSecret}},
			ExchangePermissions: []string{"Exchange.ManageAsApp"},
			DirectoryRoles:      []string{"Exchange Administrator"},
			ExchangeRoles: []SeedAppExchangeRole{
				{Role: "Application Mail.ReadWrite", Scope: "tf-o365 target mailboxes"},
				{Role: "Application EWS.AccessAsApp", Scope: "tf-o365 target mailboxes"}}},
		{DisplayName: "tf-o365 expired", AppID: expiredAppID,
			Secrets:          []SeedSecret{{Value: appSecret, Start: &past, End: &yesterday}},
			Certificates:     []SeedCertificate{{PEM: string(f.expiredCert.CertPEM)}},
			GraphPermissions: []string{"Mail.ReadWrite"}},
		{DisplayName: "tf-o365 disabled", AppID: disabledAppID, Disabled: true, Secrets: []SeedSecret{{Value: appSecret}}},
		{DisplayName: "tf-o365 no service principal", AppID: noSPAppID, NoServicePrincipal: true, Secrets: []SeedSecret{{Value: appSecret}}},
		{DisplayName: "tf-o365 management", AppID: managementAppID, Secrets: []SeedSecret{{Value: appSecret}},
			GraphPermissions:    []string{"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Application.Read.All", "RoleManagement.ReadWrite.Directory"},
			ExchangePermissions: []string{"Exchange.ManageAsApp"},
			DirectoryRoles:      []string{"Privileged Role Administrator", "Exchange Administrator"}},
		{DisplayName: "tf-o365 reader", AppID: readerAppID, Secrets: []SeedSecret{{Value: appSecret}},
			ExchangePermissions: []string{"Exchange.ManageAsApp"}, DirectoryRoles: []string{"Global Reader"}},
		{DisplayName: "tf-o365 bare", AppID: bareAppID, Secrets: []SeedSecret{{Value: appSecret}}},
	}
	if err := seed.Validate(); err != nil {
		t.Fatal(err)
	}
	return seed
}

// startAppTest starts the app seed, after change (when not nil) edits it.
func startAppTest(t *testing.T, opts Options, change func(*Seed)) *testEnv {
	t.Helper()
	seed := appSeed(t)
	if change != nil {
		change(seed)
	}
	srv, err := Start(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &testEnv{t: t, srv: srv, client: trustingClient(t, srv, false)}
}

// secretGrant posts a client credentials grant with a secret in the body.
func (e *testEnv) secretGrant(tenant, clientID, secret, scope string) response {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_secret": {secret}, "scope": {scope + " openid offline_access profile"}}
	return e.do("POST", "/"+tenant+"/oauth2/v2.0/token",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
}

// assertionGrant posts a client credentials grant with a client assertion.
func (e *testEnv) assertionGrant(clientID, assertion, scope string) response {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_info": {"1"},
		"client_assertion_type": {assertionType}, "client_assertion": {assertion}, "scope": {scope + " openid offline_access profile"}}
	return e.do("POST", "/contoso.onmicrosoft.com/oauth2/v2.0/token",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
}

// appToken returns an app-only access token, failing the test otherwise.
func (e *testEnv) appToken(clientID, scope string) string {
	e.t.Helper()
	res := e.secretGrant("contoso.onmicrosoft.com", clientID, appSecret, scope)
	if res.status != http.StatusOK {
		e.t.Fatalf("app token for %s: %d %s", clientID, res.status, res.body)
	}
	return as[string](e.t, res.json(e.t)["access_token"])
}

// assertionSpec describes a client assertion to sign (WIRE §I2).
type assertionSpec struct {
	alg           string // RS256, PS256 (default PS256)
	thumbprint    string // "x5t" or "x5t#S256" (default x5t#S256)
	encoding      *base64.Encoding
	headerCert    *TestCertificate // whose thumbprint the header names (default signer)
	signer        *TestCertificate
	aud, iss, sub string
	nbf, exp      time.Time
	noExp         bool
}

// sign builds the JWT; zero fields take MSAL Go's values for clientID.
func (a assertionSpec) sign(t *testing.T, srv *Server, clientID string) string {
	t.Helper()
	if a.alg == "" {
		a.alg = "PS256"
	}
	if a.thumbprint == "" {
		a.thumbprint = "x5t#S256"
	}
	if a.encoding == nil {
		a.encoding = base64.StdEncoding
	}
	if a.headerCert == nil {
		a.headerCert = a.signer
	}
	if a.aud == "" {
		a.aud = srv.URL() + "/" + srv.TenantID() + "/oauth2/v2.0/token"
	}
	if a.iss == "" {
		a.iss = clientID
	}
	if a.sub == "" {
		a.sub = a.iss
	}
	now := time.Now()
	if a.nbf.IsZero() {
		a.nbf = now
	}
	if a.exp.IsZero() {
		a.exp = now.Add(10 * time.Minute)
	}
	var thumb []byte
	if a.thumbprint == "x5t" {
		s := sha1.Sum(a.headerCert.Certificate.Raw)
		thumb = s[:]
	} else {
		s := sha256.Sum256(a.headerCert.Certificate.Raw)
		thumb = s[:]
	}
	header, _ := json.Marshal(map[string]string{"alg": a.alg, "typ": "JWT", a.thumbprint: a.encoding.EncodeToString(thumb)})
	claims := map[string]any{"aud": a.aud, "iss": a.iss, "sub": a.sub, "jti": "6f0c5b7e-2f7a-4b3d-9d6e-0c1f2a3b4c5d", "nbf": a.nbf.Unix()}
	if !a.noExp {
		claims["exp"] = a.exp.Unix()
	}
	payload, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signing))
	var sig []byte
	var err error
	switch a.alg {
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, a.signer.Key, crypto.SHA256, digest[:])
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, a.signer.Key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default:
		sig = []byte("not a signature")
	}
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// aadCode returns the single AADSTS code of a token-endpoint error body.
func aadCode(t *testing.T, res response) int {
	t.Helper()
	var body struct {
		ErrorCodes []int `json:"error_codes"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil || len(body.ErrorCodes) != 1 {
		t.Fatalf("not an AADSTS error body (%v): %d %s", err, res.status, res.body)
	}
	return body.ErrorCodes[0]
}

// spID is the object id of the application's service principal.
func spID(t *testing.T, srv *Server, appID string) string {
	t.Helper()
	for _, sp := range srv.Snapshot().ServicePrincipals {
		if sp.AppID == appID {
			return sp.ID
		}
	}
	t.Fatalf("no service principal for %s", appID)
	return ""
}

// appAnchor is the X-AnchorMailbox of app-only admin API calls (WIRE §J1).
const appAnchor = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com"

// invokeApp runs a cmdlet app-only, with the system mailbox anchor.
func (e *testEnv) invokeApp(token, cmdlet string, params map[string]any) response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": params}})
	h := bearer(token)
	h["X-AnchorMailbox"] = appAnchor
	return e.do("POST", "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", h, body)
}
