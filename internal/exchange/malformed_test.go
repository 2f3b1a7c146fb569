package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// A success status whose body is not the admin API's envelope is a failure: retried for a
// read, recovered (looked up) or reported ambiguous for a write, never an empty result.

// malformed is one broken success answer.
type malformed struct {
	name    string
	status  int
	ct      string // Content-Type; "" keeps the admin API's, "-" sends none
	body    string
	problem string // what the error must say was wrong
}

// write sends it, with a Content-Length that matches what is sent, so the HTTP layer sees a
// complete answer.
func (m malformed) write(w http.ResponseWriter) {
	switch m.ct {
	case "":
	case "-":
		w.Header()["Content-Type"] = nil // nil, not absent: the server would sniff one
	default:
		w.Header().Set("Content-Type", m.ct)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(m.body)))
	w.WriteHeader(m.status)
	fmt.Fprint(w, m.body)
}

// brokenAnswers are the broken forms of good, a result envelope.
func brokenAnswers(good string) []malformed {
	return []malformed{
		{"empty 200", 200, "", "", "empty body"},
		{"truncated 200", 200, "", good[:len(good)-10], "truncated JSON"},
		{"HTML 200", 200, "text/html; charset=utf-8", "<html><body><h1>Proxy login</h1></body></html>", "Content-Type text/html, expected application/json"},
		{"no Content-Type", 200, "-", good, "no Content-Type"},
		{"JSON without value", 200, "", `{"@odata.context":"https://outlook.office365.com/adminapi/beta/x/$metadata#Collection(Exchange.GenericHashTable)","@adminapi.warnings":[]}`, "no `value` array"},
		{"null value", 200, "", `{"value":null}`, "no `value` array"},
		{"value of strings", 200, "", `{"value":["Mail Recipients-admin"]}`, "`value` element 0 is no object"},
		{"value an object", 200, "", `{"value":{"Name":"x"}}`, "`value` is a JSON object"},
		{"204", 204, "", "", "HTTP 204 without the expected result"},
	}
}

// counter counts the requests a test server answers.
type counter struct {
	mu   sync.Mutex
	hits int
}

func (c *counter) next() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hits++
	return c.hits
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

func TestMalformedAnswersToReadsAreRetried(t *testing.T) {
	reads := []struct {
		name string
		good string
		read func(c *Client) (int, error)
	}{
		{"Get-ManagementRoleAssignment", wireEnvelope("", objAssignment, objRoleGroup), func(c *Client) (int, error) {
			as, err := c.GetManagementRoleAssignments(context.Background(), admin)
			return len(as), err
		}},
		{"Test-ServicePrincipalAuthorization", wireEnvelope("", objAuthInScope, objAuthOutScope), func(c *Client) (int, error) {
			as, err := c.TestServicePrincipalAuthorization(context.Background(), "app", "user1@contoso.onmicrosoft.com")
			return len(as), err
		}},
	}
	for _, rd := range reads {
		for _, m := range brokenAnswers(rd.good) {
			for _, bad := range []int{1, 100} {
				t.Run(fmt.Sprintf("%s/%s/%d bad", rd.name, m.name, bad), func(t *testing.T) {
					var n counter
					c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
						if cl.Cmdlet != rd.name {
							t.Errorf("cmdlet %s", cl.Cmdlet)
						}
						if n.next() <= bad {
							m.write(w)
							return
						}
						fmt.Fprint(w, rd.good)
					})
					got, err := rd.read(c)
					if bad == 1 {
						if err != nil || got != 2 || n.count() != 2 {
							t.Fatalf("%d objects, err=%v after %d requests", got, err, n.count())
						}
						return
					}
					// MaxRetries 3: four requests, then the malformed answer is the error.
					me, ok := errors.AsType[*transport.MalformedAnswerError](err)
					if !ok || n.count() != 4 || !strings.HasPrefix(me.Problem, m.problem) || me.Service != "exchange" || me.Op != rd.name || me.Status != m.status {
						t.Fatalf("err=%v after %d requests", err, n.count())
					}
					if strings.Contains(err.Error(), "Proxy login") || strings.Contains(err.Error(), "Mail Recipients") {
						t.Fatalf("the error quotes the body: %v", err)
					}
				})
			}
		}
	}
}

// A malformed answer to New-ManagementRoleAssignment may hide an assignment that was made:
// the client looks the name up before running the cmdlet again, and adopts what it finds;
// when nothing is found it runs the cmdlet again.
func TestMalformedAnswerToNewManagementRoleAssignmentRecovers(t *testing.T) {
	created := wireEnvelope("", strings.ReplaceAll(objAssignment, "Mail Recipients-admin", "n"))
	for _, m := range brokenAnswers(created) {
		if m.status == 204 {
			continue // New-… may answer without the object: read back, tested elsewhere
		}
		for _, landed := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/landed=%v", m.name, landed), func(t *testing.T) {
				var mu sync.Mutex
				var cmdlets []string
				exists := false
				news := 0
				c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
					mu.Lock()
					defer mu.Unlock()
					cmdlets = append(cmdlets, cl.Cmdlet)
					switch cl.Cmdlet {
					case "New-ManagementRoleAssignment":
						news++
						if news == 1 {
							exists = landed
							m.write(w)
							return
						}
						exists = true
						fmt.Fprint(w, created)
					case "Get-ManagementRoleAssignment":
						if !exists {
							w.WriteHeader(404)
							fmt.Fprint(w, errNotFound)
							return
						}
						fmt.Fprint(w, created)
					}
				})
				a, err := c.NewManagementRoleAssignment(context.Background(), "Mail Recipients", admin, "n")
				if err != nil || a == nil || a.Name != "n" {
					t.Fatalf("a=%+v err=%v", a, err)
				}
				want := "[New-ManagementRoleAssignment Get-ManagementRoleAssignment]"
				if !landed {
					want = "[New-ManagementRoleAssignment Get-ManagementRoleAssignment New-ManagementRoleAssignment]"
				}
				if fmt.Sprint(cmdlets) != want {
					t.Fatalf("cmdlets = %v, want %s", cmdlets, want)
				}
			})
		}
	}
}

// A write without a way to look up what it did is not run twice: the malformed answer is
// reported as ambiguous.
func TestMalformedAnswerToWriteWithoutRecoveryIsAmbiguous(t *testing.T) {
	for _, m := range brokenAnswers(wireEnvelope("", objAssignment)) {
		if m.status == 204 {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			var n counter
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, cl call) {
				n.next()
				m.write(w)
			})
			_, err := c.NewManagementRoleAssignment(context.Background(), "Mail Recipients", admin, "")
			if _, ok := errors.AsType[*transport.AmbiguousError](err); !ok || !transport.IsMalformedAnswer(err) || n.count() != 1 {
				t.Fatalf("err=%v after %d requests", err, n.count())
			}
		})
	}
}
