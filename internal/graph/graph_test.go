package graph

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

const secretToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.secret-token-value"

// Bodies of WIRE.md §C.
const (
	bodyUser = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,displayName,mail,accountEnabled)/$entity",
 "id":"6b0fc15b-7c4e-4d0f-9a8e-5a1b2c3d4e5f","userPrincipalName":"admin@contoso.onmicrosoft.com",
 "displayName":"Contoso Admin","mail":"admin@contoso.com","accountEnabled":true}`
	bodyAssignment = `{"id":"lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1","principalId":"6b0fc15b-7c4e-4d0f-9a8e-5a1b2c3d4e5f",
   "resourceScope":"/","directoryScopeId":"/","roleDefinitionId":"fe930be7-5e62-47db-91af-98c3a49a38b1",
   "roleDefinition":{"id":"fe930be7-5e62-47db-91af-98c3a49a38b1","displayName":"User Administrator",
                     "templateId":"fe930be7-5e62-47db-91af-98c3a49a38b1","isBuiltIn":true}}`
	bodyCreated = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments/$entity",
 "id":"BH21sHQtUEyvox7IA_Eu_mm3jqnUe4lEhvatluHIWb7-1","roleDefinitionId":"fe930be7-5e62-47db-91af-98c3a49a38b1",
 "principalId":"6b0fc15b-7c4e-4d0f-9a8e-5a1b2c3d4e5f","directoryScopeId":"/"}`
	bodyForbidden = `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.",
  "innerError":{"date":"2026-09-30T10:17:06","request-id":"93b6f17e-c05d-4f45-ad2a-6665c708d8a0",
                "client-request-id":"e70c5c1b-8b47-68c0-3171-3d22f5e0bd54"}}}`
	bodyThrottled = `{"error":{"code":"TooManyRequests","message":"Please retry again later.",
  "innerError":{"code":"429","date":"2026-09-30T12:51:51","message":"Please retry after",
                "request-id":"94fb3b52-452a-4535-a601-69e0a90e3aa2","status":"429"}}}`
	bodyConflict = `{"error":{"code":"Request_BadRequest","message":"A conflicting object with one or more of the specified property values is present in the directory.","innerError":{"date":"2026-09-30T10:17:06","request-id":"r1"}}}`
	bodyNotFound = `{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist or one of its queried reference-property objects are not present.","innerError":{"request-id":"r2"}}}`
	bodyUnauth   = `{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure. Invalid audience.","innerError":{"request-id":"r3"}}}`
	pid          = "6b0fc15b-7c4e-4d0f-9a8e-5a1b2c3d4e5f"
	userAdmin    = "fe930be7-5e62-47db-91af-98c3a49a38b1"
)

type rec struct{ waits []time.Duration }

func (r *rec) sleep(ctx context.Context, d time.Duration) error {
	r.waits = append(r.waits, d)
	return ctx.Err()
}

// setup serves h and returns a client with a recording (non-waiting) retry policy.
func setup(t *testing.T, h http.HandlerFunc) (*Client, *rec) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+secretToken || r.Header.Get("Accept") != "application/json" {
			w.WriteHeader(401)
			fmt.Fprint(w, bodyUnauth)
			return
		}
		if _, err := uuid.Parse(r.Header.Get("client-request-id")); err != nil {
			t.Errorf("client-request-id = %q", r.Header.Get("client-request-id"))
		}
		// The media type Graph answers with; a handler may set another.
		w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	rc := &rec{}
	c := New(srv.URL, srv.Client(), func(context.Context) (string, error) { return secretToken, nil },
		transport.Policy{MaxRetries: 3, Sleep: rc.sleep, Rand: func() float64 { return 0 }})
	return c, rc
}

// isUnauthorized: 401 InvalidAuthenticationToken (the token is rejected).
func isUnauthorized(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.StatusCode == http.StatusUnauthorized
}

func TestGetUserEscapesUPNAndSelects(t *testing.T) {
	var got string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath() + "?" + r.URL.RawQuery
		fmt.Fprint(w, bodyUser)
	})
	u, err := c.GetUser(context.Background(), "ext_user#EXT#@contoso.onmicrosoft.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != pid || u.UserPrincipalName != "admin@contoso.onmicrosoft.com" || u.AccountEnabled == nil || !*u.AccountEnabled {
		t.Fatalf("user = %+v", u)
	}
	want := "/v1.0/users/ext_user%23EXT%23@contoso.onmicrosoft.com?$select=id,userPrincipalName,displayName,mail,accountEnabled"
	if got != want {
		t.Fatalf("request = %s\nwant      %s", got, want)
	}
}

func TestListRoleAssignmentsFollowsNextLink(t *testing.T) {
	var host string
	var queries []string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.Query().Get("$filter")+"|"+r.URL.Query().Get("$expand")+"|"+r.URL.Query().Get("$skiptoken"))
		if r.URL.Query().Get("$skiptoken") == "" {
			fmt.Fprintf(w, `{"value":[%s],"@odata.nextLink":"https://%s/v1.0/roleManagement/directory/roleAssignments?$filter=principalId+eq+'%s'&$expand=roleDefinition&$skiptoken=abc"}`, bodyAssignment, host, pid)
			return
		}
		fmt.Fprintf(w, `{"value":[%s]}`, strings.Replace(bodyAssignment, `"directoryScopeId":"/"`, `"directoryScopeId":"/administrativeUnits/x"`, 1))
	})
	host = strings.TrimPrefix(c.base, "https://")
	host = strings.TrimSuffix(host, "/v1.0")
	as, err := c.ListRoleAssignments(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].RoleDefinition == nil || as[0].RoleDefinition.DisplayName != "User Administrator" {
		t.Fatalf("assignments = %+v", as)
	}
	if !as[0].Grants(userAdmin) || as[1].Grants(userAdmin) {
		t.Error("Grants: tenant-wide assignment must count, AU-scoped must not")
	}
	want := "principalId eq '" + pid + "'|roleDefinition|"
	if len(queries) != 2 || queries[0] != want || queries[1] != want+"abc" {
		t.Fatalf("queries = %q", queries)
	}
}

func TestListMemberOfDirectoryRoles(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/memberOf") {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"value":[
 {"@odata.type":"#microsoft.graph.group","id":"g1","displayName":"Sales"},
 {"@odata.type":"#microsoft.graph.directoryRole","id":"d1","displayName":"Global Administrator","roleTemplateId":"62e90394-69f5-4237-9190-012177145e10"},
 {"@odata.type":"#microsoft.graph.administrativeUnit","id":"a1"}]}`)
	})
	rs, err := c.ListMemberOfDirectoryRoles(context.Background(), "admin@contoso.onmicrosoft.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].RoleTemplateID != "62e90394-69f5-4237-9190-012177145e10" {
		t.Fatalf("roles = %+v", rs)
	}
}

func TestCreateRoleAssignment(t *testing.T) {
	var body map[string]any
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("method %s, content type %q", r.Method, r.Header.Get("Content-Type"))
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.WriteHeader(201)
		fmt.Fprint(w, bodyCreated)
	})
	a, err := c.CreateRoleAssignment(context.Background(), pid, userAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "BH21sHQtUEyvox7IA_Eu_mm3jqnUe4lEhvatluHIWb7-1" {
		t.Fatalf("assignment = %+v", a)
	}
	if body["directoryScopeId"] != "/" || body["principalId"] != pid || body["roleDefinitionId"] != userAdmin || body["@odata.type"] != "#microsoft.graph.unifiedRoleAssignment" {
		t.Fatalf("body = %v", body)
	}
}

func TestCreateRoleAssignmentConflict(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		fmt.Fprint(w, bodyConflict)
	})
	a, err := c.CreateRoleAssignment(context.Background(), pid, userAdmin)
	if a != nil || !IsConflict(err) {
		t.Fatalf("a=%v err=%v", a, err)
	}
}

// A POST whose connection drops after the server created the assignment must not create a
// second one: the client re-reads before posting again.
func TestCreateRoleAssignmentLostResponseRereads(t *testing.T) {
	var mu sync.Mutex
	posts, gets := 0, 0
	created := false
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodPost:
			posts++
			created = true
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close() // answer lost
		case http.MethodGet:
			gets++
			if created {
				fmt.Fprintf(w, `{"value":[%s]}`, bodyAssignment)
			} else {
				fmt.Fprint(w, `{"value":[]}`)
			}
		}
	})
	a, err := c.CreateRoleAssignment(context.Background(), pid, userAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if posts != 1 || gets != 1 || a.ID != "lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1" {
		t.Fatalf("posts=%d gets=%d a=%+v", posts, gets, a)
	}
}

// The lost POST did create the assignment, but the re-read before the retry does not show
// it yet (replication lag) and the retried POST meets it as a conflict: the client must
// return that assignment, not a conflict the caller would read as "someone else's".
func TestCreateRoleAssignmentLostResponseThenConflictAdopts(t *testing.T) {
	var mu sync.Mutex
	posts, gets := 0, 0
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodPost:
			posts++
			if posts == 1 {
				hj, _ := w.(http.Hijacker)
				conn, _, _ := hj.Hijack()
				conn.Close() // created, answer lost
				return
			}
			w.WriteHeader(400)
			fmt.Fprint(w, bodyConflict)
		case http.MethodGet:
			gets++
			if gets == 1 {
				fmt.Fprint(w, `{"value":[]}`) // not replicated yet
				return
			}
			fmt.Fprintf(w, `{"value":[%s]}`, bodyAssignment)
		}
	})
	a, err := c.CreateRoleAssignment(context.Background(), pid, userAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if posts != 2 || gets != 2 || a.ID != "lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1" {
		t.Fatalf("posts=%d gets=%d a=%+v", posts, gets, a)
	}
}

func TestDeleteRoleAssignment(t *testing.T) {
	for _, tc := range []struct {
		status  int
		body    string
		wantErr func(error) bool
	}{
		{204, "", nil},
		{404, bodyNotFound, nil},
		{403, bodyForbidden, IsForbidden},
		{401, bodyUnauth, isUnauthorized},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodDelete || r.URL.Path != "/v1.0/roleManagement/directory/roleAssignments/id-1" {
					t.Errorf("%s %s", r.Method, r.URL.Path)
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			err := c.DeleteRoleAssignment(context.Background(), "id-1")
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !tc.wantErr(err) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestThrottlingHonoursRetryAfter(t *testing.T) {
	n := 0
	c, rc := setup(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		if n <= 2 {
			w.Header().Set("Retry-After", "2.128")
			w.WriteHeader(429)
			fmt.Fprint(w, bodyThrottled)
			return
		}
		fmt.Fprint(w, bodyUser)
	})
	if _, err := c.GetUser(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rc.waits) != "[2.128s 2.128s]" {
		t.Fatalf("waits = %v", rc.waits)
	}
}

func TestErrorsCarryCodesAndNoToken(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		code   string
		pred   func(error) bool
	}{
		{403, bodyForbidden, "Authorization_RequestDenied", IsForbidden},
		{404, bodyNotFound, "Request_ResourceNotFound", IsNotFound},
		{401, bodyUnauth, "InvalidAuthenticationToken", isUnauthorized},
		{400, bodyConflict, "Request_BadRequest", IsConflict},
		{429, bodyThrottled, "TooManyRequests", nil},
		{502, "<html>Bad gateway</html>", "", nil},
	} {
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("request-id", "hdr-request-id")
			w.WriteHeader(tc.status)
			fmt.Fprint(w, tc.body)
		})
		_, err := c.GetUser(context.Background(), "x")
		e, ok := errors.AsType[*Error](err)
		if !ok || e.StatusCode != tc.status || e.Code != tc.code || e.RequestID == "" {
			t.Fatalf("%d: err = %#v", tc.status, err)
		}
		if tc.pred != nil && !tc.pred(err) {
			t.Errorf("%d: predicate false", tc.status)
		}
		if strings.Contains(err.Error(), secretToken) || strings.Contains(err.Error(), "Bearer") {
			t.Errorf("error leaks token: %v", err)
		}
	}
}

func TestLogLinesHaveNoToken(t *testing.T) {
	var lines []string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("request-id", "rid-1")
		fmt.Fprint(w, bodyUser)
	})
	c.pipe.Policy.Log = func(_ context.Context, msg string, f map[string]any) { lines = append(lines, fmt.Sprint(msg, f)) }
	if _, err := c.GetUser(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "rid-1") || !strings.Contains(lines[0], "status:200") || !strings.Contains(lines[0], "attempt:1") {
		t.Fatalf("lines = %q", lines)
	}
	if strings.Contains(lines[0], secretToken) {
		t.Fatal("token logged")
	}
}

func TestCancellationStopsOutstandingCall(t *testing.T) {
	release := make(chan struct{})
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetUser(ctx, "x")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
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

// A call whose deadline passed never reports success, whatever answer still arrives: here
// an empty 200 just after the deadline, for a read (the list a drift check makes) and for a
// write.
func TestCancellationAnswerAfterDeadline(t *testing.T) {
	for _, call := range []struct {
		name string
		do   func(ctx context.Context, c *Client) error
	}{
		{"ListRoleAssignments", func(ctx context.Context, c *Client) error { _, err := c.ListRoleAssignments(ctx, pid); return err }},
		{"GetUser", func(ctx context.Context, c *Client) error { _, err := c.GetUser(ctx, pid); return err }},
		{"CreateRoleAssignment", func(ctx context.Context, c *Client) error {
			_, err := c.CreateRoleAssignment(ctx, pid, userAdmin)
			return err
		}},
	} {
		t.Run(call.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				<-ctx.Done()
				time.Sleep(10 * time.Millisecond)
				w.Header().Set("Content-Length", "0")
			})
			c.pipe.HTTP = &http.Client{Transport: afterDeadline{c.pipe.HTTP.Transport}}
			err := call.do(ctx, c)
			if err == nil || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func FuzzParseError(f *testing.F) {
	for _, b := range []string{bodyForbidden, bodyThrottled, bodyConflict, bodyNotFound, bodyUnauth, "", "<html/>", `{"error":null}`, `{"error":{"innerError":5}}`} {
		f.Add(400, []byte(b), "2.128")
	}
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := parseError(status, h, body)
		if e == nil || e.StatusCode != status || e.RetryAfter < 0 {
			t.Fatalf("parseError = %+v", e)
		}
		_ = e.Error()
		_ = IsConflict(e) || IsNotFound(e) || IsForbidden(e)
	})
}

func BenchmarkParseError(b *testing.B) {
	body := []byte(bodyForbidden)
	h := http.Header{"Retry-After": {"2.128"}}
	b.ReportAllocs()
	for b.Loop() {
		if e := parseError(403, h, body); e.Code == "" {
			b.Fatal("not parsed")
		}
	}
}

func TestListRefusesForeignNextLink(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"value":[],"@odata.nextLink":"https://evil.example/v1.0/users?$skiptoken=x"}`)
	})
	if _, err := c.ListRoleAssignments(context.Background(), pid); err == nil {
		t.Fatal("followed a nextLink to another host")
	}
}

// Bodies of WIRE.md §I12.
const (
	bodyInbox = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users('user1%40contoso.com')/mailFolders(id,displayName,totalItemCount)/$entity",
 "id":"AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OAAuAAAAAAAiQ8W967B7TKBjgx9rVEURAQAiIsqMbYjsT5e-T7KzowPTAAAAAAEMAAA=",
 "displayName":"Inbox","totalItemCount":71}`
	bodyMailDenied    = `{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again.","innerError":{"date":"2026-12-01T10:00:00","request-id":"r4","client-request-id":"c4"}}}`
	bodyODataDisabled = `{"error":{"code":"ErrorAccessDenied","message":"Access to OData is disabled.","innerError":{"request-id":"r5"}}}`
	bodyInvalidUser   = `{"error":{"code":"ErrorInvalidUser","message":"The requested user 'nobody@contoso.com' is invalid.","innerError":{"request-id":"r6"}}}`
	bodyNoREST        = `{"error":{"code":"MailboxNotEnabledForRESTAPI","message":"REST API is not yet supported for this mailbox.","innerError":{"request-id":"r7"}}}`
	bodyNoResource    = `{"error":{"code":"ResourceNotFound","message":"Resource could not be discovered.","innerError":{"request-id":"r8"}}}`
)

func TestGetInbox(t *testing.T) {
	var got string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath() + "?" + r.URL.RawQuery
		fmt.Fprint(w, bodyInbox)
	})
	f, err := c.GetInbox(context.Background(), "user1@contoso.onmicrosoft.com")
	if err != nil {
		t.Fatal(err)
	}
	if f.DisplayName != "Inbox" || f.TotalItemCount != 71 || !strings.HasPrefix(f.ID, "AAMkAG") {
		t.Fatalf("inbox = %+v", f)
	}
	if want := "/v1.0/users/user1@contoso.onmicrosoft.com/mailFolders/inbox?$select=id,displayName,totalItemCount"; got != want {
		t.Fatalf("request = %s\nwant      %s", got, want)
	}
}

// Each failure of the probe is told apart by status and code, never by text (§I12), and
// none is retried.
func TestGetInboxFailures(t *testing.T) {
	for _, tc := range []struct {
		status           int
		body             string
		denied, inv, nmb bool
	}{
		{403, bodyMailDenied, true, false, false},
		{403, bodyODataDisabled, true, false, false},
		{404, bodyInvalidUser, false, true, false},
		{404, bodyNoREST, false, false, true},
		{404, bodyNoResource, false, false, true},
		{403, bodyForbidden, false, false, false},
	} {
		n := 0
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
			n++
			w.WriteHeader(tc.status)
			fmt.Fprint(w, tc.body)
		})
		_, err := c.GetInbox(context.Background(), "user1@contoso.onmicrosoft.com")
		if err == nil || IsMailAccessDenied(err) != tc.denied || IsInvalidUser(err) != tc.inv || IsNoMailbox(err) != tc.nmb || n != 1 {
			t.Errorf("%d %s: err = %v after %d calls", tc.status, tc.body[:40], err, n)
		}
	}
}
