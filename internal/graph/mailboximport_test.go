package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Bodies of WIRE.md §M2.
const (
	bodyExchangeSettings = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users('megan%40contoso.com')/settings/exchange/$entity",
 "primaryMailboxId":"MBX:e0643f21@a7809c93"}`
	bodyFolders = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#admin/exchange/mailboxes/MBX:e0643f21@a7809c93/folders(id)",
 "value":[{"id":"EDSVrdi3lRAAACgfQBAAA="}],
 "@odata.nextLink":"https://graph.microsoft.com/v1.0/admin/exchange/mailboxes/MBX:e0643f21@a7809c93/folders?%24top=1&%24select=id&%24skip=1"}`
	importAuthToken   = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjFTeXQ1b-live-upload-credential"
	bodyImportSession = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.mailboxItemImportSession",
 "importUrl":"https://outlook.office365.com/api/gv1.0/Mailboxes('MBX:e0643f21@a7809c93')/importItem?authtoken=` + importAuthToken + `",
 "expirationDateTime":"2024-10-17T19:00:48.1052906Z"}`
	bodyAccessDenied = `{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again.","innerError":{"request-id":"r9"}}}`
	bodyMailboxGone  = `{"error":{"code":"ErrorMailboxNotFound","message":"The mailbox could not be found.","innerError":{"request-id":"r10"}}}`
)

func TestGetPrimaryMailboxID(t *testing.T) {
	var got string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Method + " " + r.URL.EscapedPath() + "?" + r.URL.RawQuery
		fmt.Fprint(w, bodyExchangeSettings)
	})
	id, err := c.GetPrimaryMailboxID(context.Background(), "megan@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if id != "MBX:e0643f21@a7809c93" {
		t.Fatalf("id = %q", id)
	}
	// "This method doesn't support the OData query parameters" (§M2.1): none is sent.
	if want := "GET /v1.0/users/megan@contoso.com/settings/exchange?"; got != want {
		t.Fatalf("request = %s\nwant      %s", got, want)
	}
}

func TestProbeMailboxFoldersAsksForOneID(t *testing.T) {
	var got []string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		fmt.Fprint(w, bodyFolders)
	})
	if err := c.ProbeMailboxFolders(context.Background(), "MBX:e0643f21@a7809c93"); err != nil {
		t.Fatal(err)
	}
	// One page only: the nextLink is not followed.
	if want := []string{"GET /v1.0/admin/exchange/mailboxes/MBX:e0643f21@a7809c93/folders?$top=1&$select=id"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests = %q\nwant       %q", got, want)
	}
}

func TestCreateImportSessionKeepsOnlyTheExpiry(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusCreated} {
		var got string
		var body []byte
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
			got = r.Method + " " + r.URL.EscapedPath() + " " + r.Header.Get("Content-Type")
			body, _ = io.ReadAll(r.Body)
			w.WriteHeader(status)
			fmt.Fprint(w, bodyImportSession)
		})
		var lines []string
		c.pipe.Policy.Log = func(_ context.Context, msg string, f map[string]any) { lines = append(lines, fmt.Sprint(msg, f)) }
		s, err := c.CreateImportSession(context.Background(), "MBX:e0643f21@a7809c93")
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		// "Don't supply a request body for this method" (§M2.5).
		if want := "POST /v1.0/admin/exchange/mailboxes/MBX:e0643f21@a7809c93/createImportSession "; got != want || len(body) != 0 {
			t.Fatalf("%d: request = %q with body %q, want %q without body", status, got, body, want)
		}
		if want := time.Date(2024, 10, 17, 19, 0, 48, 105290600, time.UTC); !s.ExpiresAt.Equal(want) {
			t.Fatalf("%d: expires %v, want %v", status, s.ExpiresAt, want)
		}
		// Nothing of the session shows the upload URL, however it is printed or encoded.
		j, _ := json.Marshal(s)
		for _, shown := range []string{fmt.Sprintf("%v %+v %#v %s", s, s, s, s), string(j), strings.Join(lines, "\n")} {
			if strings.Contains(shown, "authtoken") || strings.Contains(shown, importAuthToken) || strings.Contains(shown, "importItem") {
				t.Fatalf("%d: the upload URL shows: %s", status, shown)
			}
		}
		if len(lines) != 1 || !strings.Contains(lines[0], fmt.Sprintf("status:%d", status)) {
			t.Fatalf("%d: log lines = %q", status, lines)
		}
	}
}

// ImportURL reads itself and shows itself nowhere.
func TestImportURLIsRedacted(t *testing.T) {
	var a importSessionAnswer
	if err := json.Unmarshal([]byte(bodyImportSession), &a); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.ImportURL.url, importAuthToken) {
		t.Fatalf("the URL was not read: %q", a.ImportURL.url)
	}
	j, _ := json.Marshal(a)
	txt, _ := a.ImportURL.MarshalText()
	for _, shown := range []string{
		a.ImportURL.String(), a.ImportURL.GoString(), fmt.Sprint(a.ImportURL), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", a, a, a, a.ImportURL, a.ImportURL, a.ImportURL),
		fmt.Sprintf("%v", &a.ImportURL), string(j), string(txt),
	} {
		if strings.Contains(shown, importAuthToken) || strings.Contains(shown, "outlook.office365.com") {
			t.Fatalf("shown: %s", shown)
		}
		if !strings.Contains(shown, redactedImportURL) {
			t.Fatalf("%q does not say it is redacted", shown)
		}
	}
}

// A session's answer without its URL or expiry is not a session; a lost answer is asked
// again (a second session changes nothing either).
func TestCreateImportSessionBrokenAndLostAnswers(t *testing.T) {
	var n atomic.Int32
	answers := []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { fmt.Fprint(w, `{"expirationDateTime":"2024-10-17T19:00:48Z"}`) },
		func(w http.ResponseWriter) {
			fmt.Fprint(w, `{"importUrl":"https://outlook.office365.com/x?authtoken=`+importAuthToken+`"}`)
		},
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) },
		func(w http.ResponseWriter) { fmt.Fprint(w, bodyImportSession) },
	}
	c, rc := setup(t, func(w http.ResponseWriter, r *http.Request) {
		answers[n.Add(1)-1](w)
	})
	c.pipe.Policy.MaxRetries = 5
	s, err := c.CreateImportSession(context.Background(), "MBX:e0643f21@a7809c93")
	if err != nil || s.ExpiresAt.IsZero() {
		t.Fatalf("session %+v, err %v", s, err)
	}
	if n.Load() != 4 || len(rc.waits) != 3 {
		t.Fatalf("%d requests, %d waits", n.Load(), len(rc.waits))
	}
}

// Failures are told apart by status alone (§M2.10), are not retried, and carry no token.
func TestMailboxImportFailuresByStatus(t *testing.T) {
	calls := map[string]func(*Client) error{
		"settings": func(c *Client) error {
			_, err := c.GetPrimaryMailboxID(context.Background(), "megan@contoso.com")
			return err
		},
		"folders": func(c *Client) error { return c.ProbeMailboxFolders(context.Background(), "MBX:e0643f21@a7809c93") },
		"session": func(c *Client) error {
			_, err := c.CreateImportSession(context.Background(), "MBX:e0643f21@a7809c93")
			return err
		},
	}
	for name, call := range calls {
		for _, tc := range []struct {
			status int
			body   string
		}{
			{403, bodyAccessDenied}, {403, `{"error":{"code":"SomethingNew","message":"wording nobody documented"}}`}, {403, "<html>denied</html>"},
			{404, bodyMailboxGone}, {404, bodyNotFound}, {404, ""},
		} {
			n := 0
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				n++
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			err := call(c)
			if Status(err) != tc.status || n != 1 {
				t.Errorf("%s %d %q: Status(%v) = %d after %d calls", name, tc.status, tc.body, err, Status(err), n)
			}
			if err != nil && strings.Contains(err.Error(), secretToken) {
				t.Errorf("%s: error leaks the token: %v", name, err)
			}
		}
	}
	if Status(fmt.Errorf("not graph")) != 0 {
		t.Error("Status of a non-Graph error")
	}
}
