package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

const (
	secretToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.exo-secret-token"
	tenant      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	admin       = "admin@contoso.onmicrosoft.com"
)

// Bodies of WIRE.md §E2, §E3, §E5.
const (
	objAssignment = `{"Name":"Mail Recipients-admin","Identity":"Mail Recipients-admin","Role":"Mail Recipients",
 "RoleAssignee":"admin","RoleAssigneeName":"admin","RoleAssigneeType":"User","AssignmentMethod":"Direct",
 "User":"admin","RoleAssignmentDelegationType":"Regular","Enabled":true,
 "RecipientReadScope":"Organization","ConfigReadScope":"OrganizationConfig",
 "RecipientWriteScope":"Organization","ConfigWriteScope":"OrganizationConfig",
 "CustomRecipientWriteScope":null,"CustomConfigWriteScope":null,"CustomResourceScope":null,"IsValid":true,
 "Guid@data.type":"System.Guid","Guid@odata.type":"#Guid","Guid":"3f0c5b7e-2f7a-4b3d-9d6e-0c1f2a3b4c5d",
 "WhenCreatedUTC@data.type":"System.DateTime","WhenCreatedUTC":"2026-09-30T10:00:00.0000000+00:00"}`
	objRoleGroup = `{"Name":"View-Only Configuration-Organization Management","Identity":"View-Only Configuration-Organization Management","Role":"View-Only Configuration",
 "RoleAssignee":"Organization Management","RoleAssigneeName":"Organization Management","RoleAssigneeType":"RoleGroup","AssignmentMethod":"RoleGroup",
 "RoleAssignmentDelegationType":"Regular","Enabled":true,"RecipientWriteScope":"None","ConfigWriteScope":"None"}`
	errNotFound = `{"error":{"code":"NotFound","message":"Error executing cmdlet",
  "details":[{"code":"Client","target":"",
    "message":"Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|The operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on 'AM0PR01A002DC001.EURPR01A002.PROD.OUTLOOK.COM'."}],
  "innererror":{"message":"Error executing cmdlet","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException","stacktrace":"",
    "internalexception":{"message":"The operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on '…'.",
                         "type":"Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException","stacktrace":""}}}}`
	errExists = `{"error":{"code":"BadRequest","message":"Error executing cmdlet",
  "details":[{"code":"Client","target":"","message":"Ex94914C|Microsoft.Exchange.Management.Tasks.ManagementObjectAlreadyExistsException|The role assignment 'x' already exists."}]}}`
	errInnerOnly = `{"error":{"code":"InternalServerError","message":"Error executing cmdlet",
  "innererror":{"message":"Error executing cmdlet","type":"Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
    "internalexception":{"message":"Access denied.","type":"Microsoft.Exchange.Configuration.Tasks.AccessDeniedException"}}}}`
	errPlain     = `{"error":{"code":"Unauthorized","message":"Access token is invalid."}}`
	throttleBody = "You have reached the maximum number of concurrent requests per tenant. Please wait and try again."
)

func wireEnvelope(next string, objs ...string) string {
	s := `{"@odata.context":"https://outlook.office365.com/adminapi/beta/` + tenant + `/$metadata#Collection(Exchange.GenericHashTable)",
 "adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":["WARNING: be careful"],
 "value":[` + strings.Join(objs, ",") + `]`
	if next != "" {
		s += `,"@odata.nextLink":"` + next + `"`
	}
	return s + "}"
}

type rec struct{ waits []time.Duration }

func (r *rec) sleep(ctx context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return ctx.Err()
}

type call struct {
	Cmdlet string
	Params map[string]any
	Query  string
}

func setup(t *testing.T, h func(w http.ResponseWriter, r *http.Request, c call)) (*Client, *rec) {
	t.Helper()
	return setupAs(t, UserAnchor(admin), h)
}

// setupAs serves h to a client anchored at anchor, checking the headers of §E1.
func setupAs(t *testing.T, anchor string, h func(w http.ResponseWriter, r *http.Request, c call)) (*Client, *rec) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/adminapi/beta/"+tenant+"/InvokeCommand" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		hd := r.Header
		if hd.Get("Authorization") != "Bearer "+secretToken {
			w.WriteHeader(401)
			fmt.Fprint(w, errPlain)
			return
		}
		if hd.Get("X-AnchorMailbox") != anchor || hd.Get("X-ResponseFormat") != "json" || hd.Get("Prefer") != "odata.maxpagesize=1000" ||
			!strings.HasPrefix(hd.Get("Content-Type"), "application/json") || hd.Get("X-ClientApplication") == "" {
			t.Errorf("headers = %v", hd)
		}
		if _, err := uuid.Parse(hd.Get("client-request-id")); err != nil {
			t.Errorf("client-request-id = %q", hd.Get("client-request-id"))
		}
		var in struct {
			CmdletInput struct {
				CmdletName string
				Parameters map[string]any
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("body: %v", err)
		}
		if hd.Get("X-CmdletName") != in.CmdletInput.CmdletName {
			t.Errorf("X-CmdletName %q vs body %q", hd.Get("X-CmdletName"), in.CmdletInput.CmdletName)
		}
		// The admin API's media type (WIRE.md §E2); a handler may set another.
		w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
		h(w, r, call{in.CmdletInput.CmdletName, in.CmdletInput.Parameters, r.URL.RawQuery})
	}))
	t.Cleanup(srv.Close)
	rc := &rec{}
	c := New(srv.URL, tenant, anchor, "", srv.Client(), func(context.Context) (string, error) { return secretToken, nil },
		transport.Policy{MaxRetries: 3, Sleep: rc.sleep, Rand: func() float64 { return 0 }})
	return c, rc
}

// isUnauthorized: 401, the token is missing, expired or for the wrong audience.
func isUnauthorized(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.StatusCode == http.StatusUnauthorized
}

func TestInvokeCommandPagesWithSameBody(t *testing.T) {
	var calls []call
	var base string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		calls = append(calls, cl)
		if !strings.Contains(cl.Query, "skiptoken") {
			fmt.Fprint(w, wireEnvelope(base+"?$skiptoken=p2", objAssignment))
			return
		}
		fmt.Fprint(w, wireEnvelope("", objRoleGroup))
	})
	base = c.endpoint
	vs, warnings, err := c.InvokeCommand(context.Background(), "Get-ManagementRoleAssignment", map[string]any{"RoleAssignee": admin, "Role": nil})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || len(warnings) != 2 || warnings[0] != "WARNING: be careful" {
		t.Fatalf("values %d warnings %v", len(vs), warnings)
	}
	if len(calls) != 2 || fmt.Sprint(calls[0].Params) != fmt.Sprint(calls[1].Params) || fmt.Sprint(calls[0].Params) != "map[RoleAssignee:"+admin+"]" {
		t.Fatalf("calls = %+v", calls)
	}
}

func TestInvokeCommandRefusesForeignNextLink(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		fmt.Fprint(w, wireEnvelope("https://evil.example/steal", objAssignment))
	})
	if _, _, err := c.InvokeCommand(context.Background(), "Get-ManagementRoleAssignment", nil); err == nil {
		t.Fatal("followed a nextLink to another host")
	}
}

func TestGetManagementRoleAssignments(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		if cl.Cmdlet != "Get-ManagementRoleAssignment" || cl.Params["RoleAssignee"] != admin {
			t.Errorf("call = %+v", cl)
		}
		fmt.Fprint(w, wireEnvelope("", objAssignment, objRoleGroup))
	})
	as, err := c.GetManagementRoleAssignments(context.Background(), admin)
	if err != nil {
		t.Fatal(err)
	}
	a := as[0]
	if a.Name != "Mail Recipients-admin" || a.Role != "Mail Recipients" || a.DelegationType != "Regular" || !a.Enabled ||
		a.Guid != "3f0c5b7e-2f7a-4b3d-9d6e-0c1f2a3b4c5d" || !a.WhenCreatedUTC.Equal(time.Date(2026, 9, 30, 10, 0, 0, 0, time.UTC)) || a.AssignmentMethod != "Direct" {
		t.Fatalf("assignment = %+v", a)
	}
	if !a.Effective() || !as[1].Effective() || as[1].RoleAssigneeType != "RoleGroup" {
		t.Fatalf("effective: %v %v", a.Effective(), as[1].Effective())
	}
}

func TestEffective(t *testing.T) {
	base := RoleAssignment{Enabled: true, DelegationType: "Regular", RecipientWriteScope: "Organization", ConfigWriteScope: "OrganizationConfig"}
	for _, tc := range []struct {
		name string
		mod  func(*RoleAssignment)
		want bool
	}{
		{"regular org-wide", func(*RoleAssignment) {}, true},
		{"disabled", func(a *RoleAssignment) { a.Enabled = false }, false},
		{"delegating", func(a *RoleAssignment) { a.DelegationType = "Delegating" }, false},
		{"delegating org-wide", func(a *RoleAssignment) { a.DelegationType = "DelegatingOrgWide" }, false},
		{"no delegation type", func(a *RoleAssignment) { a.DelegationType = "" }, true},
		{"custom recipient scope", func(a *RoleAssignment) {
			a.RecipientWriteScope, a.CustomRecipientWriteScope = "CustomRecipientScope", "Sales"
		}, false},
		{"self scope", func(a *RoleAssignment) { a.RecipientWriteScope = "Self" }, false},
		{"impersonation has no config scope", func(a *RoleAssignment) { a.ConfigWriteScope = "None" }, true},
		{"custom config scope", func(a *RoleAssignment) { a.ConfigWriteScope = "CustomConfigScope" }, false},
	} {
		a := base
		tc.mod(&a)
		if a.Effective() != tc.want {
			t.Errorf("%s: Effective = %v", tc.name, !tc.want)
		}
	}
}

func TestNewManagementRoleAssignment(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		if cl.Cmdlet != "New-ManagementRoleAssignment" || cl.Params["Role"] != "Mail Recipients" || cl.Params["User"] != admin || cl.Params["Name"] != "tf-o365 Mail Recipients admin" {
			t.Errorf("call = %+v", cl)
		}
		fmt.Fprint(w, wireEnvelope("", strings.ReplaceAll(objAssignment, "Mail Recipients-admin", "tf-o365 Mail Recipients admin")))
	})
	a, err := c.NewManagementRoleAssignment(context.Background(), "Mail Recipients", admin, "tf-o365 Mail Recipients admin")
	if err != nil {
		t.Fatal(err)
	}
	if a.Identity != "tf-o365 Mail Recipients admin" {
		t.Fatalf("a = %+v", a)
	}
}

func TestNewManagementRoleAssignmentAlreadyExists(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		w.WriteHeader(400)
		fmt.Fprint(w, errExists)
	})
	_, err := c.NewManagementRoleAssignment(context.Background(), "Mail Recipients", admin, "n")
	if !IsAlreadyExists(err) || IsNotFound(err) {
		t.Fatalf("err = %v", err)
	}
}

// A lost answer to New-… must not create a second assignment: the name is looked up first.
func TestNewManagementRoleAssignmentLostAnswerRereads(t *testing.T) {
	var mu sync.Mutex
	var cmdlets []string
	created := false
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		mu.Lock()
		defer mu.Unlock()
		cmdlets = append(cmdlets, cl.Cmdlet)
		switch cl.Cmdlet {
		case "New-ManagementRoleAssignment":
			created = true
			w.WriteHeader(504) // the gateway gave up; the cmdlet ran
			fmt.Fprint(w, "<html>Gateway Timeout</html>")
		case "Get-ManagementRoleAssignment":
			if cl.Params["Identity"] != "n" {
				t.Errorf("lookup params = %v", cl.Params)
			}
			if !created {
				w.WriteHeader(404)
				fmt.Fprint(w, errNotFound)
				return
			}
			fmt.Fprint(w, wireEnvelope("", strings.ReplaceAll(objAssignment, "Mail Recipients-admin", "n")))
		}
	})
	a, err := c.NewManagementRoleAssignment(context.Background(), "Mail Recipients", admin, "n")
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "n" || fmt.Sprint(cmdlets) != "[New-ManagementRoleAssignment Get-ManagementRoleAssignment]" {
		t.Fatalf("a=%+v cmdlets=%v", a, cmdlets)
	}
}

func TestRemoveManagementRoleAssignment(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		ok     bool
	}{
		{200, `{"value":[]}`, true},
		{204, ``, true},
		{404, errNotFound, true},
		{500, errInnerOnly, false},
		{404, `<html>no such tenant</html>`, false},
		{200, ``, false}, // only a 204 has no body
	} {
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
			if cl.Cmdlet != "Remove-ManagementRoleAssignment" || cl.Params["Identity"] != "x" || cl.Params["Confirm"] != false {
				t.Errorf("call = %+v", cl)
			}
			w.WriteHeader(tc.status)
			fmt.Fprint(w, tc.body)
		})
		err := c.RemoveManagementRoleAssignment(context.Background(), "x")
		if (err == nil) != tc.ok {
			t.Errorf("%d %s: err = %v", tc.status, tc.body[:min(20, len(tc.body))], err)
		}
	}
}

func TestThrottlingRetried(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header string
		body   string
		wait   string
	}{
		{"429 Retry-After", 429, "5", `{"error":{"code":"TooManyRequests","message":"throttled"}}`, "[5s 5s]"},
		{"plain-text concurrency limit", 500, "", throttleBody, "[0s 0s]"},
		{"503", 503, "1.5", "", "[1.5s 1.5s]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			c, rc := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
				n++
				if n <= 2 {
					if tc.header != "" {
						w.Header().Set("Retry-After", tc.header)
					}
					w.WriteHeader(tc.status)
					fmt.Fprint(w, tc.body)
					return
				}
				fmt.Fprint(w, wireEnvelope("", objAssignment))
			})
			if _, err := c.GetManagementRoleAssignments(context.Background(), admin); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(rc.waits) != tc.wait {
				t.Fatalf("waits = %v", rc.waits)
			}
		})
	}
}

func TestErrorParsing(t *testing.T) {
	for _, tc := range []struct {
		name                string
		status              int
		body                string
		errID, typ, text    string
		notFound, exists    bool
		denied, unauthorize bool
	}{
		{name: "details split", status: 404, body: errNotFound, errID: "Ex6F9304", typ: "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
			text: "The operation couldn't be performed because object 'nobody@contoso.com' couldn't be found on 'AM0PR01A002DC001.EURPR01A002.PROD.OUTLOOK.COM'.", notFound: true},
		{name: "already exists", status: 400, body: errExists, errID: "Ex94914C", typ: "Microsoft.Exchange.Management.Tasks.ManagementObjectAlreadyExistsException", text: "The role assignment 'x' already exists.", exists: true},
		{name: "internalexception fallback", status: 500, body: errInnerOnly, typ: "Microsoft.Exchange.Configuration.Tasks.AccessDeniedException", text: "Access denied.", denied: true},
		{name: "message fallback", status: 401, body: errPlain, text: "Access token is invalid.", unauthorize: true},
		{name: "403", status: 403, body: "", text: "Forbidden", denied: true},
		{name: "plain throttling text", status: 429, body: throttleBody, text: throttleBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := parseError(tc.status, nil, []byte(tc.body))
			if e.ErrorID != tc.errID || e.ExceptionType != tc.typ || e.Text != tc.text {
				t.Fatalf("got %+v", e)
			}
			if IsNotFound(e) != tc.notFound || IsAlreadyExists(e) != tc.exists || IsAccessDenied(e) != tc.denied || isUnauthorized(e) != tc.unauthorize {
				t.Fatalf("predicates wrong for %v", e)
			}
			if tc.typ != "" && !strings.Contains(e.Error(), tc.typ[strings.LastIndex(tc.typ, ".")+1:]) {
				t.Errorf("Error() = %s", e.Error())
			}
		})
	}
}

func TestErrorHasNoToken(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		w.WriteHeader(403)
	})
	_, err := c.GetManagementRoleAssignments(context.Background(), admin)
	if !IsAccessDenied(err) || strings.Contains(err.Error(), secretToken) {
		t.Fatalf("err = %v", err)
	}
}

func TestCancellation(t *testing.T) {
	release := make(chan struct{})
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.GetManagementRoleAssignments(ctx, admin); err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
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

// A cmdlet whose deadline passed never reports success, whatever answer still arrives: here
// an empty 200 just after the deadline, for a read (what a drift check runs) and a write.
func TestCancellationAnswerAfterDeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(ctx context.Context, c *Client) error
	}{
		{"Get-ManagementRoleAssignment", func(ctx context.Context, c *Client) error {
			_, err := c.GetManagementRoleAssignments(ctx, admin)
			return err
		}},
		{"New-ManagementRoleAssignment", func(ctx context.Context, c *Client) error {
			_, err := c.NewManagementRoleAssignment(ctx, "Mail Recipients", admin, "n")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
				<-ctx.Done()
				time.Sleep(10 * time.Millisecond)
				w.Header().Set("Content-Length", "0")
			})
			c.pipe.HTTP = &http.Client{Transport: afterDeadline{c.pipe.HTTP.Transport}}
			if err := tc.do(ctx, c); err == nil || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func FuzzParseError(f *testing.F) {
	for _, b := range []string{errNotFound, errExists, errInnerOnly, errPlain, throttleBody, "", `{"error":{"details":[{"message":"a|b"}]}}`, `{"error":{"details":[{"message":"||"}]}}`} {
		f.Add(400, []byte(b))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseError(status, nil, body)
		_ = e.Error()
		_ = IsNotFound(e) || IsAlreadyExists(e) || IsAccessDenied(e) || isUnauthorized(e) || e.throttled()
	})
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(wireEnvelope("https://x/y", objAssignment, objRoleGroup)))
	f.Add([]byte(`{"value":[1,"x",null],"@adminapi.warnings":null}`))
	f.Add([]byte(``))
	f.Add([]byte(`{"value":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &transport.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
		vs, _, _, problem := parseEnvelope(r, true)
		if problem != "" {
			if vs != nil {
				t.Fatalf("values with problem %q", problem)
			}
			return
		}
		if vs == nil {
			t.Fatal("a result without its value array")
		}
		for _, v := range vs {
			var a RoleAssignment
			if json.Unmarshal(v, &a) == nil {
				_ = a.Effective()
			}
		}
	})
}

func BenchmarkParseError(b *testing.B) {
	body := []byte(errNotFound)
	b.ReportAllocs()
	for b.Loop() {
		if e := parseError(404, nil, body); e.ExceptionType == "" {
			b.Fatal("not parsed")
		}
	}
}

func BenchmarkParseEnvelope(b *testing.B) {
	r := &transport.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(wireEnvelope("", objAssignment, objRoleGroup, objAssignment))}
	b.ReportAllocs()
	for b.Loop() {
		vs, _, _, problem := parseEnvelope(r, true)
		if problem != "" {
			b.Fatal(problem)
		}
		if _, err := decodeAssignments(vs); err != nil {
			b.Fatal(err)
		}
	}
}

// One client is one session: every cmdlet carries the same connection-id (WIRE.md §E1),
// and each request its own client-request-id.
func TestConnectionIDConstantPerSession(t *testing.T) {
	var mu sync.Mutex
	conn, reqs := map[string]bool{}, map[string]bool{}
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
		mu.Lock()
		conn[r.Header.Get("connection-id")] = true
		reqs[r.Header.Get("client-request-id")] = true
		mu.Unlock()
		fmt.Fprint(w, wireEnvelope("", objAssignment))
	})
	for i := 0; i < 3; i++ {
		if _, err := c.GetManagementRoleAssignments(context.Background(), admin); err != nil {
			t.Fatal(err)
		}
	}
	if len(conn) != 1 || len(reqs) != 3 {
		t.Fatalf("connection-ids %v, client-request-ids %d", conn, len(reqs))
	}
	for id := range conn {
		if _, err := uuid.Parse(id); err != nil {
			t.Fatalf("connection-id %q", id)
		}
	}
}
