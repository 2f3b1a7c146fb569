package ews

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

const secretToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.ews-secret-token"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validateSOAP checks envelopes against Microsoft's EWS schemas (WIRE.md §D7).
func validateSOAP(t *testing.T, files ...string) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint not installed")
	}
	// Microsoft's EWS schemas and the validator live in the repository (third_party/).
	tool, err := filepath.Abs(filepath.Join("..", "..", "third_party", "ews-schema", "validate-soap"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tool); err != nil {
		t.Fatalf("validate-soap missing: %v", err)
	}
	out, err := exec.Command(tool, files...).CombinedOutput()
	if err != nil {
		t.Fatalf("schema validation failed: %v\n%s", err, out)
	}
}

func TestRequestsValidateAgainstEWSSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var files []string
	for i, tc := range []struct {
		impersonate string
		folders     []string
	}{
		{"", []string{"msgfolderroot"}},
		{"user1@contoso.onmicrosoft.com", []string{"msgfolderroot", "inbox"}},
		{`o'brien&<x>@contoso.com`, []string{"inbox"}},
	} {
		p := filepath.Join(dir, fmt.Sprintf("req%d.xml", i))
		if err := os.WriteFile(p, BuildGetFolder(tc.impersonate, tc.folders...), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	validateSOAP(t, files...)
}

func TestCannedResponsesValidateAgainstEWSSchema(t *testing.T) {
	t.Parallel()
	m, _ := filepath.Glob("testdata/*.xml")
	if len(m) == 0 {
		t.Fatal("no fixtures")
	}
	validateSOAP(t, m...)
}

func TestBuildGetFolder(t *testing.T) {
	own := string(BuildGetFolder("", "msgfolderroot"))
	if strings.Contains(own, "ExchangeImpersonation") || !strings.Contains(own, `<t:RequestServerVersion Version="Exchange2013_SP1"/>`) ||
		!strings.Contains(own, `<t:BaseShape>IdOnly</t:BaseShape>`) || !strings.Contains(own, `<t:DistinguishedFolderId Id="msgfolderroot"/>`) {
		t.Fatalf("own mailbox request:\n%s", own)
	}
	imp := string(BuildGetFolder("a&b@contoso.com", "inbox"))
	if !strings.Contains(imp, "<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>a&amp;b@contoso.com</t:PrimarySmtpAddress>") {
		t.Fatalf("impersonation request:\n%s", imp)
	}
	var v struct{}
	if err := xml.Unmarshal([]byte(imp), &v); err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
}

func TestParseResponse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		file    string
		body    string
		folders int
		check   func(error) bool
		code    string
		backoff time.Duration
	}{
		{name: "success two folders", status: 200, file: "getfolder_success.xml", folders: 2},
		{name: "access denied message", status: 200, file: "getfolder_access_denied.xml", code: "ErrorAccessDenied"},
		{name: "no mailbox message", status: 200, file: "getfolder_no_mailbox.xml", check: IsNoMailbox, code: "ErrorNonExistentMailbox"},
		{name: "impersonation denied fault", status: 500, file: "fault_impersonate_denied.xml", check: IsImpersonationDenied, code: "ErrorImpersonateUserDenied"},
		{name: "server busy fault", status: 500, file: "fault_server_busy.xml", check: IsServerBusy, code: "ErrorServerBusy", backoff: 297749 * time.Millisecond},
		{name: "no mailbox fault", status: 500, file: "fault_no_mailbox.xml", check: IsNoMailbox, code: "ErrorNonExistentMailbox"},
		{name: "401 body ignored", status: 401, body: "<html>whatever</html>", check: func(err error) bool { return errors.Is(err, ErrUnauthorized) }},
		{name: "403", status: 403, file: "getfolder_success.xml", check: func(err error) bool { return errors.Is(err, ErrForbidden) }},
		{name: "503 html", status: 503, body: "<html>Service Unavailable</html>", check: func(err error) bool { var s *StatusError; return errors.As(err, &s) && s.StatusCode == 503 }},
		{name: "200 garbage", status: 200, body: "not xml", check: transport.IsMalformedAnswer},
		{name: "200 other body", status: 200, body: `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>`, check: transport.IsMalformedAnswer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			if tc.file != "" {
				body = fixture(t, tc.file)
			}
			fs, err := ParseResponse(tc.status, body)
			if tc.folders > 0 {
				if err != nil || len(fs) != tc.folders || fs[0].ID == "" || fs[0].ChangeKey != "AQAAABYAAAD8kNx1m9HqR6o1w8Vz7DbwAAAAAAEM" || fs[1].ChangeKey == fs[0].ChangeKey {
					t.Fatalf("folders=%+v err=%v", fs, err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.check != nil && !tc.check(err) {
				t.Fatalf("check false for %v", err)
			}
			if tc.code != "" && code(err) != tc.code {
				t.Fatalf("code = %q (%v)", code(err), err)
			}
			if backOff(err) != tc.backoff {
				t.Fatalf("backoff = %s", backOff(err))
			}
			var f *Fault
			if errors.As(err, &f) && (f.HTTPStatus != 500 || f.Message == "") {
				t.Fatalf("fault = %+v", f)
			}
		})
	}
}

type rec struct{ waits []time.Duration }

func (r *rec) sleep(ctx context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return ctx.Err()
}

type seen struct {
	auth, anchor, contentType, body string
}

func setup(t *testing.T, h func(w http.ResponseWriter, r *http.Request, s seen)) (*Client, *rec) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/EWS/Exchange.asmx" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		h(w, r, seen{r.Header.Get("Authorization"), r.Header.Get("X-AnchorMailbox"), r.Header.Get("Content-Type"), string(b)})
	}))
	t.Cleanup(srv.Close)
	rc := &rec{}
	token := func(context.Context) (string, error) { return secretToken, nil }
	return New(srv.URL+"/EWS/Exchange.asmx", srv.Client(), token, transport.Policy{MaxRetries: 3, Sleep: rc.sleep}), rc
}

func TestGetFolderOwnMailbox(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.auth != "Bearer "+secretToken || s.anchor != "" || s.contentType != "text/xml; charset=utf-8" || strings.Contains(s.body, "ExchangeImpersonation") {
			t.Errorf("request = %+v", s)
		}
		w.Write(fixture(t, "getfolder_success.xml"))
	})
	fs, err := c.GetFolder(context.Background(), "", "msgfolderroot", "inbox")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].DistinguishedID != "msgfolderroot" || fs[1].DistinguishedID != "inbox" {
		t.Fatalf("folders = %+v", fs)
	}
}

func TestGetFolderImpersonation(t *testing.T) {
	const user = "user1@contoso.onmicrosoft.com"
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.anchor != user || !strings.Contains(s.body, "<t:PrimarySmtpAddress>"+user+"</t:PrimarySmtpAddress>") {
			t.Errorf("request = %+v", s)
		}
		w.WriteHeader(500)
		w.Write(fixture(t, "fault_impersonate_denied.xml"))
	})
	_, err := c.GetFolder(context.Background(), user)
	if !IsImpersonationDenied(err) {
		t.Fatalf("err = %v", err)
	}
}

// A 401 is never parsed (§A11, §D6), but Exchange's reason code in x-ms-diagnostics is
// kept; the token never shows.
func TestGetFolderUnauthorizedKeepsDiagnostics(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, s seen) {
		if s.auth != "Bearer "+secretToken {
			t.Errorf("auth = %q", s.auth)
		}
		w.Header().Set("WWW-Authenticate", `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", error="invalid_token"`)
		w.Header().Set("x-ms-diagnostics", `2000008;reason="The token has expired";error_category="invalid_grant"`)
		w.WriteHeader(401)
	})
	_, err := c.GetFolder(context.Background(), "")
	if !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), secretToken) || !strings.Contains(err.Error(), "2000008") {
		t.Fatalf("err = %v", err)
	}
}

func TestServerBusyHonoursBackOff(t *testing.T) {
	var mu sync.Mutex
	n := 0
	c, rc := setup(t, func(w http.ResponseWriter, r *http.Request, s seen) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			w.WriteHeader(500)
			w.Write(fixture(t, "fault_server_busy.xml"))
			return
		}
		w.Write(fixture(t, "getfolder_success.xml"))
	})
	if _, err := c.GetFolder(context.Background(), "", "msgfolderroot", "inbox"); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rc.waits) != "[4m57.749s]" {
		t.Fatalf("waits = %v", rc.waits)
	}
}

func TestServerBusyBeyondDeadlineReturnsFault(t *testing.T) {
	c, rc := setup(t, func(w http.ResponseWriter, r *http.Request, s seen) {
		w.WriteHeader(500)
		w.Write(fixture(t, "fault_server_busy.xml"))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.GetFolder(ctx, "")
	if !IsServerBusy(err) || !errors.Is(err, transport.ErrWaitExceedsDeadline) || len(rc.waits) != 0 {
		t.Fatalf("err = %v waits = %v", err, rc.waits)
	}
	var f *Fault
	if !errors.As(err, &f) || f.BackOff != 297749*time.Millisecond {
		t.Fatalf("fault = %+v", f)
	}
}

func TestHTTPFailures(t *testing.T) {
	for _, tc := range []struct {
		status int
		is     func(error) bool
		tries  int
	}{
		{401, func(err error) bool { return errors.Is(err, ErrUnauthorized) }, 1},
		{403, func(err error) bool { return errors.Is(err, ErrForbidden) }, 1},
		{503, func(err error) bool { var s *StatusError; return errors.As(err, &s) }, 4},
		{404, func(err error) bool { var s *StatusError; return errors.As(err, &s) }, 1},
	} {
		n := 0
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, s seen) {
			n++
			w.WriteHeader(tc.status)
		})
		_, err := c.GetFolder(context.Background(), "")
		if !tc.is(err) || n != tc.tries {
			t.Errorf("%d: err = %v, tries %d", tc.status, err, n)
		}
		if err != nil && strings.Contains(err.Error(), secretToken) {
			t.Errorf("%d: token in error", tc.status)
		}
	}
}

func TestCancellation(t *testing.T) {
	release := make(chan struct{})
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, s seen) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.GetFolder(ctx, ""); err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("err=%v after %s", err, time.Since(start))
	}
}

// afterDeadline is a round tripper that lets the server's answer through even when it
// comes after the call's deadline: the race in which a cancelled call gets the 200 with
// an empty body a test server sends when its request ends, made certain.
type afterDeadline struct{ inner http.RoundTripper }

func (a afterDeadline) RoundTrip(r *http.Request) (*http.Response, error) {
	return a.inner.RoundTrip(r.WithContext(context.WithoutCancel(r.Context())))
}

// A GetFolder whose deadline passed never reports success (or an EWS error) whatever answer
// still arrives: here an empty 200 just after the deadline.
func TestCancellationAnswerAfterDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, s seen) {
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond)
		w.Header().Set("Content-Length", "0")
	})
	c.pipe.HTTP = &http.Client{Transport: afterDeadline{c.pipe.HTTP.Transport}}
	if _, err := c.GetFolder(ctx, ""); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, name := range []string{"getfolder_success.xml", "getfolder_access_denied.xml", "getfolder_no_mailbox.xml", "fault_impersonate_denied.xml", "fault_server_busy.xml", "fault_no_mailbox.xml"} {
		f.Add(200, fixture(f, name))
		f.Add(500, fixture(f, name))
	}
	f.Add(200, []byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		fs, err := ParseResponse(status, body)
		if err != nil {
			_ = err.Error()
			_ = IsServerBusy(err) || IsNoMailbox(err) || IsImpersonationDenied(err)
			_ = backOff(err)
		}
		for _, f := range fs {
			if f.ID == "" {
				t.Fatal("folder without id")
			}
		}
	})
}

func BenchmarkParseResponse(b *testing.B) {
	body := fixture(b, "getfolder_success.xml")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if fs, err := ParseResponse(200, body); err != nil || len(fs) != 2 {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseResponseFault(b *testing.B) {
	body := fixture(b, "fault_server_busy.xml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseResponse(500, body); !IsServerBusy(err) {
			b.Fatal(err)
		}
	}
}

// setupAppOnly is setup for an application's token.
func setupAppOnly(t *testing.T, h func(w http.ResponseWriter, r *http.Request, s seen)) *Client {
	t.Helper()
	c, _ := setup(t, h)
	ac := NewAppOnly(c.url, c.pipe.HTTP, c.pipe.Token, c.pipe.Policy)
	return ac
}

// With an app-only token every request impersonates the mailbox it names, with
// X-AnchorMailbox (§I13); a request without a mailbox is refused before it is sent.
func TestAppOnlyGetFolder(t *testing.T) {
	const user = "user1@contoso.onmicrosoft.com"
	n := 0
	c := setupAppOnly(t, func(w http.ResponseWriter, r *http.Request, s seen) {
		n++
		if s.anchor != user || !strings.Contains(s.body, "<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>"+user+"</t:PrimarySmtpAddress>") {
			t.Errorf("request = %+v", s)
		}
		w.Write(fixture(t, "getfolder_success.xml"))
	})
	if fs, err := c.GetFolder(context.Background(), user, "msgfolderroot", "inbox"); err != nil || len(fs) != 2 {
		t.Fatalf("folders = %+v, %v", fs, err)
	}
	if _, err := c.GetFolder(context.Background(), ""); !errors.Is(err, ErrImpersonationRequired) || n != 1 {
		t.Fatalf("err = %v after %d requests", err, n)
	}
}

// The app-only failures of §I13 and §K4: each classified, none retried, a 403 never parsed.
func TestAppOnlyFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		file   string
		body   string
		is     func(error) bool
	}{
		{"no impersonation header", 500, "fault_impersonation_header_required.xml", "", IsImpersonationHeaderInvalid},
		{"outside the RBAC scope", 500, "fault_access_denied.xml", "", IsAccessDenied},
		{"impersonation denied", 500, "fault_impersonate_denied.xml", "", IsImpersonationDenied},
		{"EWS closed", 403, "", `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>a:ErrorServerBusy</faultcode></s:Fault></s:Body></s:Envelope>`, IsClosed},
		{"EWS closed, HTML", 403, "", "<html>Forbidden</html>", IsClosed},
		{"no mailbox", 500, "fault_no_mailbox.xml", "", IsNoMailbox},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			c := setupAppOnly(t, func(w http.ResponseWriter, r *http.Request, s seen) {
				n++
				w.WriteHeader(tc.status)
				if tc.file != "" {
					w.Write(fixture(t, tc.file))
				} else {
					fmt.Fprint(w, tc.body)
				}
			})
			_, err := c.GetFolder(context.Background(), "user1@contoso.onmicrosoft.com")
			if !tc.is(err) || n != 1 || IsServerBusy(err) {
				t.Fatalf("err = %v after %d requests", err, n)
			}
		})
	}
}
