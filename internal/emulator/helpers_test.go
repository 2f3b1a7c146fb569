package emulator

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// testSeedJSON is the tenant most tests run against.
const testSeedJSON = `{
 "tenant_id":"72f988bf-86f1-41af-91ab-2d7cd011db47","display_name":"Contoso","cloud":"worldwide",
 "domains":["contoso.onmicrosoft.com","contoso.com"],"legacy_basic_auth":true,"propagation_delay":"0s",
 "users":[
  {"user_principal_name":"admin@contoso.onmicrosoft.com","display_name":"Contoso Admin","alias":"admin",
   "password":"admin-pw","mailbox":true},
  {"user_principal_name":"mfa@contoso.onmicrosoft.com","display_name":"MFA Admin","password":"mfa-pw",
   "app_password":"mfa-app-pw","mfa":true,"mailbox":true,"exchange_roles":["View-Only Configuration"]},
  {"user_principal_name":"unregistered@contoso.onmicrosoft.com","password":"unreg-pw","mfa":true,"mfa_registered":false},
  {"user_principal_name":"ga@contoso.onmicrosoft.com","display_name":"Global Admin","password":"ga-pw",
   "app_password":"ga-app-pw","mfa":true,"mailbox":true,"exchange_role_groups":["Organization Management"],
   "directory_roles":["Global Administrator"]},
  {"user_principal_name":"exadmin@contoso.onmicrosoft.com","password":"exadmin-pw","mailbox":true,
   "directory_roles":["Exchange Administrator"]},
  {"user_principal_name":"migration@contoso.onmicrosoft.com","password":"migration-pw","app_password":"migration-app-pw",
   "mailbox":true,"exchange_roles":["ApplicationImpersonation","View-Only Configuration","View-Only Recipients",
   "Mail Recipients","Mail Recipient Creation"],"directory_roles":["User Administrator"]},
  {"user_principal_name":"disabled@contoso.com","password":"disabled-pw","disabled":true},
  {"user_principal_name":"locked@contoso.com","password":"locked-pw","locked":true},
  {"user_principal_name":"blocked@contoso.com","password":"blocked-pw","ca_blocked":true},
  {"user_principal_name":"alice@contoso.com","display_name":"Alice Wilson","password":"alice-pw","mailbox":true},
  {"user_principal_name":"nomailbox@contoso.com","password":"nomailbox-pw"}
 ]}`

const (
	graphScope    = "https://graph.microsoft.com/.default"
	exchangeScope = "https://outlook.office365.com/.default"
)

// fakeClock is the Clock seam for time-dependent tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type testEnv struct {
	t      *testing.T
	srv    *Server
	client *http.Client
}

func startTest(t *testing.T, opts Options) *testEnv {
	t.Helper()
	seed, err := ParseSeed([]byte(testSeedJSON))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(seed, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &testEnv{t: t, srv: srv, client: trustingClient(t, srv, false)}
}

func trustingClient(t *testing.T, srv *Server, noKeepAlive bool) *http.Client {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.CAPEM()) {
		t.Fatal("CA PEM not usable")
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: noKeepAlive}}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (e *testEnv) do(method, path string, headers map[string]string, body []byte) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL()+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, data}
}

// passwordGrant posts a password grant to the token endpoint.
func (e *testEnv) passwordGrant(tenant, user, password, scope string) response {
	form := url.Values{"grant_type": {"password"}, "client_id": {"14d82eec-204b-4c2f-b7e8-296a70dab67e"},
		"client_info": {"1"}, "username": {user}, "password": {password}, "scope": {scope + " openid offline_access profile"}}
	return e.do("POST", "/"+tenant+"/oauth2/v2.0/token",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
}

// token returns an access token for user and scope, failing the test otherwise.
func (e *testEnv) token(user, password, scope string) string {
	e.t.Helper()
	res := e.passwordGrant("contoso.onmicrosoft.com", user, password, scope)
	if res.status != http.StatusOK {
		e.t.Fatalf("token for %s: %d %s", user, res.status, res.body)
	}
	return as[string](e.t, res.json(e.t)["access_token"])
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
}

// invoke runs a cmdlet through the Exchange admin API.
func (e *testEnv) invoke(token, cmdlet string, params map[string]any) response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": params}})
	return e.do("POST", "/adminapi/beta/contoso.onmicrosoft.com/InvokeCommand", bearer(token), body)
}

// EWS documents are checked with third_party/ews-schema/validate-soap. It runs
// one xmllint per element, so the documents are collected during the tests,
// deduplicated by shape, and validated together in TestMain.
var soapDocs = struct {
	sync.Mutex
	dir    string
	shapes map[string]bool
	files  []string
}{shapes: map[string]bool{}}

// Values that vary between documents of the same shape.
var soapVariable = regexp.MustCompile(`(Id|ChangeKey)="[^"]{20,}"|>[^<>]*@[^<>]*<`)

// validateSOAP queues an EWS envelope for schema validation.
func validateSOAP(t *testing.T, label string, xmlText []byte) {
	t.Helper()
	soapDocs.Lock()
	defer soapDocs.Unlock()
	shape := soapVariable.ReplaceAllString(string(xmlText), "_")
	if soapDocs.shapes[shape] {
		return
	}
	soapDocs.shapes[shape] = true
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name()+"_"+label, "_")
	file := filepath.Join(soapDocs.dir, fmt.Sprintf("%03d_%s.xml", len(soapDocs.files), name))
	if err := os.WriteFile(file, xmlText, 0o644); err != nil {
		t.Fatal(err)
	}
	soapDocs.files = append(soapDocs.files, file)
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "emulator-soap-*")
	if err != nil {
		panic(err)
	}
	soapDocs.dir = dir
	code := m.Run()
	if code == 0 {
		code = validateCollectedSOAP()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// validateCollectedSOAP runs validate-soap on every collected document, in
// two halves in parallel. It fails only when xmllint is present.
func validateCollectedSOAP() int {
	if _, err := exec.LookPath("xmllint"); err != nil {
		fmt.Println("SKIP EWS schema validation: xmllint not installed (apt-get install libxml2-utils)")
		return 0
	}
	script := findValidateSOAP()
	if script == "" {
		fmt.Println("FAIL EWS schema validation: third_party/ews-schema/validate-soap not found")
		return 1
	}
	files := soapDocs.files
	halves := [][]string{files[:len(files)/2], files[len(files)/2:]}
	outputs := make([][]byte, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, half := range halves {
		if len(half) == 0 {
			continue
		}
		wg.Go(func() { outputs[i], errs[i] = exec.Command(script, half...).CombinedOutput() })
	}
	wg.Wait()
	for i := range halves {
		if errs[i] != nil {
			fmt.Printf("FAIL EWS schema validation: %v\n%s", errs[i], outputs[i])
			return 1
		}
	}
	fmt.Printf("EWS schema validation: %d documents valid\n", len(files))
	return 0
}

func findValidateSOAP() string {
	dir, _ := os.Getwd()
	for d := dir; filepath.Dir(d) != d; d = filepath.Dir(d) {
		candidate := filepath.Join(d, "third_party", "ews-schema", "validate-soap")
		if _, err := os.Stat(candidate); err == nil {
			return candidate
		}
	}
	return ""
}

// jsonPath walks a decoded JSON value: keys for objects, ints for arrays.
// as is v as a T (a decoded JSON value), failing the test when it is not one.
func as[T any](t testing.TB, v any) T {
	t.Helper()
	x, ok := v.(T)
	if !ok {
		t.Fatalf("%v (%T) is not a %T", v, v, x)
	}
	return x
}

func jsonPath(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("key %q missing in %v", k, m)
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: not an array of that length: %v", k, v)
			}
			v = a[k]
		}
	}
	return v
}
