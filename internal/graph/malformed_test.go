package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// A success status whose body is not what Graph always sends is a failure: retried for a
// read, recovered (read back) for a create, never an empty result.

// malformed is one broken success answer.
type malformed struct {
	name    string
	status  int
	ct      string // Content-Type; "" keeps Graph's, "-" sends none
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

// brokenAnswers are the broken forms of good, an answer that carries member (what Graph
// always sends in it).
func brokenAnswers(good, member string) []malformed {
	return []malformed{
		{"empty 200", 200, "", "", "empty body"},
		{"truncated 200", 200, "", good[:len(good)-10], "truncated JSON"},
		{"HTML 200", 200, "text/html; charset=utf-8", "<html><body><h1>Proxy login</h1></body></html>", "Content-Type text/html, expected application/json"},
		{"no Content-Type", 200, "-", good, "no Content-Type"},
		{"JSON without " + member, 200, "", `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#x"}`, "no `" + member + "`"},
		{"204", 204, "", "", "HTTP 204 without the expected body"},
	}
}

// serveBroken answers bad first bad times, then good; it counts the requests.
type serveBroken struct {
	mu   sync.Mutex
	hits int
}

func (s *serveBroken) next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	return s.hits
}

func (s *serveBroken) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

func TestMalformedAnswersToReadsAreRetried(t *testing.T) {
	list := `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments","value":[` + bodyAssignment + `]}`
	reads := []struct {
		name, good, member string
		read               func(c *Client) (any, error)
		ok                 func(v any) bool
	}{
		{"ListRoleAssignments", list, "value", func(c *Client) (any, error) { return c.ListRoleAssignments(context.Background(), pid) },
			func(v any) bool { as, _ := v.([]RoleAssignment); return len(as) == 1 && as[0].Grants(userAdmin) }},
		{"GetUser", bodyUser, "id", func(c *Client) (any, error) { return c.GetUser(context.Background(), pid) },
			func(v any) bool { u, _ := v.(*User); return u != nil && u.ID == pid }},
	}
	for _, rd := range reads {
		cases := brokenAnswers(rd.good, rd.member)
		if rd.member == "value" {
			cases = append(cases, malformed{"null value", 200, "", `{"value":null}`, "no `value` array"})
		}
		for _, m := range cases {
			for _, bad := range []int{1, 100} {
				t.Run(fmt.Sprintf("%s/%s/%d bad", rd.name, m.name, bad), func(t *testing.T) {
					var s serveBroken
					c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
						if s.next() <= bad {
							m.write(w)
							return
						}
						fmt.Fprint(w, rd.good)
					})
					v, err := rd.read(c)
					if bad == 1 {
						if err != nil || !rd.ok(v) || s.count() != 2 {
							t.Fatalf("v=%+v err=%v after %d requests", v, err, s.count())
						}
						return
					}
					// MaxRetries 3: four requests, then the malformed answer is the error.
					me, ok := errors.AsType[*transport.MalformedAnswerError](err)
					if !ok || s.count() != 4 || !strings.Contains(me.Problem, m.problem) || me.Service != "graph" || me.Status != m.status {
						t.Fatalf("err=%v after %d requests", err, s.count())
					}
					if strings.Contains(err.Error(), "Proxy login") || strings.Contains(err.Error(), "Contoso Admin") || strings.Contains(err.Error(), userAdmin) {
						t.Fatalf("the error quotes the body: %v", err)
					}
				})
			}
		}
	}
}

// A malformed answer to the POST of a role assignment may hide an assignment that was made:
// the client reads back before posting again, and adopts the one it finds. When the read
// back finds none, it posts again.
func TestMalformedAnswerToCreateRoleAssignmentRecovers(t *testing.T) {
	for _, m := range brokenAnswers(bodyCreated, "id") {
		if m.status == 200 {
			m.status = 201 // Graph answers a create with 201
		}
		for _, landed := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/landed=%v", m.name, landed), func(t *testing.T) {
				var mu sync.Mutex
				posts, gets := 0, 0
				created := false
				c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					defer mu.Unlock()
					switch r.Method {
					case http.MethodPost:
						posts++
						if posts == 1 {
							created = landed
							m.write(w)
							return
						}
						created = true
						w.WriteHeader(201)
						fmt.Fprint(w, bodyCreated)
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
				if err != nil || a == nil {
					t.Fatalf("a=%+v err=%v", a, err)
				}
				switch {
				case landed && (posts != 1 || gets != 1 || a.ID != "lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1"):
					t.Fatalf("landed: posts=%d gets=%d a=%+v", posts, gets, a)
				case !landed && (posts != 2 || gets != 1 || a.ID != "BH21sHQtUEyvox7IA_Eu_mm3jqnUe4lEhvatluHIWb7-1"):
					t.Fatalf("not landed: posts=%d gets=%d a=%+v", posts, gets, a)
				}
			})
		}
	}
}

// The read back after a malformed answer to the POST gets a malformed answer itself: it is
// a read, so it is asked again, and the POST is still not sent twice.
func TestMalformedAnswerToRecoveryReadIsRetried(t *testing.T) {
	var mu sync.Mutex
	posts, gets := 0, 0
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodPost:
			posts++
			w.WriteHeader(201) // created, but the body is lost on the way
		case http.MethodGet:
			gets++
			if gets == 1 {
				fmt.Fprint(w, `{"@odata.context":"x"}`)
				return
			}
			fmt.Fprintf(w, `{"value":[%s]}`, bodyAssignment)
		}
	})
	a, err := c.CreateRoleAssignment(context.Background(), pid, userAdmin)
	if err != nil || posts != 1 || gets != 2 || a.ID != "lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1" {
		t.Fatalf("a=%+v err=%v posts=%d gets=%d", a, err, posts, gets)
	}
}

// addPassword's answer is the only copy of the secret: one without it is no success. The
// recovery removes the secret that may have been made and posts again.
func TestMalformedAnswerToAddPasswordRemovesAndPostsAgain(t *testing.T) {
	const secret = `{"keyId":"f0b0b335-0000-4000-8000-000000000002","displayName":"tf-o365 1","secretText":"s3cr3t~value","hint":"s3c"}`
	var mu sync.Mutex
	var calls []string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, r.Method+" "+r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
		switch {
		case strings.HasSuffix(r.URL.Path, "/addPassword") && len(calls) == 1:
			fmt.Fprint(w, `{"keyId":"f0b0b335-0000-4000-8000-000000000001","displayName":"tf-o365 1"}`)
		case strings.HasSuffix(r.URL.Path, "/addPassword"):
			fmt.Fprint(w, secret)
		case strings.HasSuffix(r.URL.Path, "/removePassword"):
			w.WriteHeader(204)
		default:
			fmt.Fprint(w, strings.Replace(bodyApp, `"passwordCredentials":[]`, `"passwordCredentials":[{"keyId":"f0b0b335-0000-4000-8000-000000000001","displayName":"tf-o365 1"}]`, 1))
		}
	})
	p, err := c.AddPassword(context.Background(), appObjectID, "tf-o365 1", time.Time{})
	if err != nil || p.SecretText != "s3cr3t~value" {
		t.Fatalf("p=%v err=%v", p, err)
	}
	if want := "[POST addPassword GET " + appObjectID + " POST removePassword POST addPassword]"; fmt.Sprint(calls) != want {
		t.Fatalf("calls = %v\nwant    %s", calls, want)
	}
}

// Where no body is expected (a DELETE, a PATCH) a 204 or an empty 200 is success, but a
// proxy's HTML page under a 200 is not: the delete may never have reached Graph.
func TestAnswersWithoutBody(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		ct     string
		body   string
		ok     bool
	}{
		{"204", 204, "", "", true},
		{"empty 200", 200, "", "", true},
		{"JSON 200", 200, "", `{"ok":true}`, true},
		{"HTML 200", 200, "text/html", "<html>Proxy</html>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s serveBroken
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
				s.next()
				malformed{status: tc.status, ct: tc.ct, body: tc.body}.write(w)
			})
			err := c.DeleteRoleAssignment(context.Background(), "id-1")
			perr := c.UpdateApplication(context.Background(), appObjectID, map[string]any{"displayName": "x"})
			if tc.ok && (err != nil || perr != nil || s.count() != 2) {
				t.Fatalf("delete: %v, patch: %v, %d requests", err, perr, s.count())
			}
			if !tc.ok && (!transport.IsMalformedAnswer(err) || !transport.IsMalformedAnswer(perr) || s.count() != 8) {
				t.Fatalf("delete: %v, patch: %v, %d requests", err, perr, s.count())
			}
		})
	}
}
