package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bodies of WIRE.md §I7–§I10.
const (
	appObjectID = "0c2d1e8f-3b4a-4c5d-8e6f-7a8b9c0d1e2f"
	appClientID = "631a96bc-a705-4eda-9f99-fdaf9f54f6a2"
	appTag      = "tf-o365:6f1d2c3b-aaaa-4bbb-8ccc-123456789abc"
	bodyApp     = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#applications/$entity",
 "id":"` + appObjectID + `","appId":"` + appClientID + `","displayName":"tf-o365 migration target",
 "signInAudience":"AzureADMyOrg","tags":["` + appTag + `"],"keyCredentials":[],"passwordCredentials":[],"requiredResourceAccess":[]}`
	bodyGraphSP = `{"id":"7ea9e944-0000-4000-8000-000000000001","appId":"00000003-0000-0000-c000-000000000000","displayName":"Microsoft Graph",
 "appRoles":[{"allowedMemberTypes":["Application"],"displayName":"Read and write mail in all mailboxes","id":"e2a3a72e-5f79-4c64-b1b1-878b674786c9","isEnabled":true,"origin":"Application","value":"Mail.ReadWrite"},
             {"allowedMemberTypes":["User"],"displayName":"delegated twin","id":"11111111-0000-4000-8000-000000000000","isEnabled":true,"value":"Mail.Send"},
             {"allowedMemberTypes":["Application"],"displayName":"disabled","id":"22222222-0000-4000-8000-000000000000","isEnabled":false,"value":"User.Read.All"}]}`
	bodyConsent = `{"id":"47nZsM8O_UuNq5Jz3QValCxBBiqJea9Drc9CMK4Ru_M","deletedDateTime":null,"appRoleId":"e2a3a72e-5f79-4c64-b1b1-878b674786c9",
 "createdDateTime":"2026-09-30T10:20:00.0000000Z","principalDisplayName":"tf-o365 migration target",
 "principalId":"b0d9b9e3-0000-4000-8000-000000000002","principalType":"ServicePrincipal","resourceDisplayName":"Microsoft Graph","resourceId":"7ea9e944-0000-4000-8000-000000000001"}`
	bodyDuplicateConsent = `{"error":{"code":"Request_BadRequest","message":"Permission being assigned already exists on the object.","innerError":{"request-id":"r9"}}}`
)

// lose closes the connection without an answer: the request did its work, its answer is lost.
func lose(w http.ResponseWriter) {
	hj, _ := w.(http.Hijacker)
	conn, _, _ := hj.Hijack()
	_ = conn.Close()
}

func TestCreateApplicationSendsTagAndSingleTenant(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1.0/applications" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body["signInAudience"] != "AzureADMyOrg" || fmt.Sprint(body["tags"]) != "["+appTag+"]" || body["displayName"] != "tf-o365 migration target" {
			t.Errorf("body = %v", body)
		}
		w.WriteHeader(201)
		fmt.Fprint(w, bodyApp)
	})
	a, err := c.CreateApplication(context.Background(), NewApplication{DisplayName: "tf-o365 migration target", Tag: appTag})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != appObjectID || a.AppID != appClientID || !a.HasTag(appTag) {
		t.Fatalf("%+v", a)
	}
	if _, err := c.CreateApplication(context.Background(), NewApplication{DisplayName: "x"}); err == nil {
		t.Fatal("an application without a tag could not be found again; want an error")
	}
}

// The first POST lands but its answer is lost: the client finds the application by its tag
// and does not post a second time.
func TestCreateApplicationLostAnswerFindsByTag(t *testing.T) {
	var mu sync.Mutex
	posts, lists := 0, 0
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodPost:
			posts++
			lose(w)
		case http.MethodGet:
			lists++
			if got := r.URL.Query().Get("$filter"); got != "tags/any(t:t eq '"+appTag+"')" {
				t.Errorf("$filter = %q", got)
			}
			fmt.Fprintf(w, `{"value":[%s]}`, bodyApp)
		}
	})
	a, err := c.CreateApplication(context.Background(), NewApplication{DisplayName: "tf-o365 migration target", Tag: appTag})
	if err != nil {
		t.Fatal(err)
	}
	if posts != 1 || lists != 1 || a.ID != appObjectID {
		t.Fatalf("posts=%d lists=%d a=%+v", posts, lists, a)
	}
}

// A server that ignores the filter must not make the client adopt another application.
func TestApplicationByTagChecksTheTag(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"value":[%s]}`, strings.Replace(bodyApp, appTag, "someone-else", 1))
	})
	a, err := c.ApplicationByTag(context.Background(), appTag)
	if err != nil || a != nil {
		t.Fatalf("a=%+v err=%v", a, err)
	}
}

func TestApplicationByAppIDQuotesAndNotFound(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("$filter"); got != "appId eq 'o''brien'" {
			t.Errorf("$filter = %q", got)
		}
		fmt.Fprint(w, `{"value":[]}`)
	})
	a, err := c.ApplicationByAppID(context.Background(), "o'brien")
	if err != nil || a != nil {
		t.Fatalf("a=%+v err=%v", a, err)
	}
}

func TestGetApplicationNotFoundIsNil(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		fmt.Fprint(w, bodyNotFound)
	})
	a, err := c.GetApplication(context.Background(), appObjectID)
	if err != nil || a != nil {
		t.Fatalf("a=%+v err=%v", a, err)
	}
}

func TestSetKeyCredentialsPatchesTheWholeList(t *testing.T) {
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch || r.URL.Path != "/v1.0/applications/"+appObjectID {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		b, _ := io.ReadAll(r.Body)
		want := `{"keyCredentials":[{"type":"AsymmetricX509Cert","usage":"Verify","key":"TUlJRA==","displayName":"CN=tf-o365","endDateTime":"2027-01-01T00:00:00Z"}]}`
		if string(b) != want {
			t.Errorf("body = %s\nwant   %s", b, want)
		}
		w.WriteHeader(204)
	})
	err := c.SetKeyCredentials(context.Background(), appObjectID, []KeyCredential{{Type: "AsymmetricX509Cert", Usage: "Verify", Key: "TUlJRA==", DisplayName: "CN=tf-o365", EndDateTime: &end}})
	if err != nil {
		t.Fatal(err)
	}
}

// A lost addPassword answer leaves a secret whose value nobody knows: the client removes it
// (found by its unique display name) before adding the one it returns.
func TestAddPasswordLostAnswerRemovesTheOrphan(t *testing.T) {
	var mu sync.Mutex
	var secrets []string // key ids present
	var removed []string
	adds := 0
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/addPassword"):
			adds++
			var body struct {
				PasswordCredential struct {
					DisplayName string `json:"displayName"`
					EndDateTime string `json:"endDateTime"`
				} `json:"passwordCredential"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			if body.PasswordCredential.DisplayName != "tf-o365 run-1" || body.PasswordCredential.EndDateTime != "2027-03-30T00:00:00Z" {
				t.Errorf("body = %+v", body)
			}
			key := fmt.Sprintf("f0b0b335-0000-4000-8000-00000000000%d", adds)
			secrets = append(secrets, key)
			if adds == 1 {
				lose(w)
				return
			}
			fmt.Fprintf(w, `{"customKeyIdentifier":null,"displayName":"tf-o365 run-1","endDateTime":"2027-03-30T00:00:00Z","hint":"[6g","keyId":%q,"secretText":"[6gyXA5S20@MN+WRXAJ]I-TO7g1:h2P8","startDateTime":"2026-09-30T00:00:00Z"}`, key)
		case strings.HasSuffix(r.URL.Path, "/removePassword"):
			var body struct {
				KeyID string `json:"keyId"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			removed = append(removed, body.KeyID)
			secrets = secrets[1:]
			w.WriteHeader(204)
		case r.Method == http.MethodGet:
			var pcs []string
			for _, k := range secrets {
				pcs = append(pcs, fmt.Sprintf(`{"keyId":%q,"displayName":"tf-o365 run-1","hint":"[6g"}`, k))
			}
			fmt.Fprintf(w, `{"id":%q,"appId":%q,"passwordCredentials":[%s]}`, appObjectID, appClientID, strings.Join(pcs, ","))
		}
	})
	p, err := c.AddPassword(context.Background(), appObjectID, "tf-o365 run-1", time.Date(2027, 3, 30, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if adds != 2 || len(removed) != 1 || removed[0] != "f0b0b335-0000-4000-8000-000000000001" {
		t.Fatalf("adds=%d removed=%v", adds, removed)
	}
	if p.KeyID != "f0b0b335-0000-4000-8000-000000000002" || p.SecretText == "" || len(secrets) != 1 {
		t.Fatalf("p=%v secrets=%v", p, secrets)
	}
	if strings.Contains(fmt.Sprint(p), p.SecretText) {
		t.Fatal("PasswordCredential prints its secret")
	}
}

func TestRemovePasswordUnknownKeyIsDone(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		fmt.Fprint(w, bodyNotFound)
	})
	if err := c.RemovePassword(context.Background(), appObjectID, "f0b0b335-0000-4000-8000-000000000001"); err != nil {
		t.Fatal(err)
	}
}

func TestServicePrincipalByAppIDAndRoleByValue(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("$filter") != "appId eq '00000003-0000-0000-c000-000000000000'" || !strings.Contains(q.Get("$select"), "appRoles") {
			t.Errorf("query = %v", q)
		}
		fmt.Fprintf(w, `{"value":[%s]}`, bodyGraphSP)
	})
	sp, err := c.ServicePrincipalByAppID(context.Background(), "00000003-0000-0000-c000-000000000000")
	if err != nil || sp == nil {
		t.Fatalf("sp=%v err=%v", sp, err)
	}
	if r, ok := sp.RoleByValue("Mail.ReadWrite"); !ok || r.ID != "e2a3a72e-5f79-4c64-b1b1-878b674786c9" {
		t.Fatalf("Mail.ReadWrite = %+v %v", r, ok)
	}
	if _, ok := sp.RoleByValue("Mail.Send"); ok {
		t.Fatal("a delegated-only role is no application permission")
	}
	if _, ok := sp.RoleByValue("User.Read.All"); ok {
		t.Fatal("a disabled role cannot be granted")
	}
	if _, ok := sp.RoleByValue("mail.readwrite"); ok {
		t.Fatal("values are case-sensitive")
	}
}

func TestCreateServicePrincipalConflictReturnsExisting(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(409)
			fmt.Fprint(w, `{"error":{"code":"Request_MultipleObjectsWithSameKeyValue","message":"Another object with the same value for property servicePrincipalNames already exists."}}`)
			return
		}
		fmt.Fprintf(w, `{"value":[{"id":"b0d9b9e3-0000-4000-8000-000000000002","appId":%q}]}`, appClientID)
	})
	sp, err := c.CreateServicePrincipal(context.Background(), appClientID)
	if err != nil || sp.ID != "b0d9b9e3-0000-4000-8000-000000000002" {
		t.Fatalf("sp=%+v err=%v", sp, err)
	}
}

// The consent list holds every principal's consents: only the asked principal's are kept.
func TestListAppRoleAssignedToFiltersByPrincipal(t *testing.T) {
	other := strings.Replace(bodyConsent, "b0d9b9e3-0000-4000-8000-000000000002", "ffffffff-0000-4000-8000-000000000009", 1)
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("$filter") != "" {
			t.Error("the collection is filtered client-side (WIRE §I9)")
		}
		fmt.Fprintf(w, `{"value":[%s,%s]}`, other, bodyConsent)
	})
	as, err := c.ListAppRoleAssignedTo(context.Background(), "7ea9e944-0000-4000-8000-000000000001", "B0D9B9E3-0000-4000-8000-000000000002")
	if err != nil || len(as) != 1 || as[0].ID != "47nZsM8O_UuNq5Jz3QValCxBBiqJea9Drc9CMK4Ru_M" {
		t.Fatalf("as=%+v err=%v", as, err)
	}
}

func TestCreateAppRoleAssignmentLostAnswerAndDuplicate(t *testing.T) {
	for _, lostFirst := range []bool{true, false} {
		var mu sync.Mutex
		posts := 0
		landed := false
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			switch r.Method {
			case http.MethodPost:
				posts++
				if landed {
					w.WriteHeader(400)
					fmt.Fprint(w, bodyDuplicateConsent)
					return
				}
				landed = true
				if lostFirst {
					lose(w)
					return
				}
				w.WriteHeader(400) // a consent an administrator made by hand
				fmt.Fprint(w, bodyDuplicateConsent)
			case http.MethodGet:
				if landed {
					fmt.Fprintf(w, `{"value":[%s]}`, bodyConsent)
				} else {
					fmt.Fprint(w, `{"value":[]}`)
				}
			}
		})
		a, err := c.CreateAppRoleAssignment(context.Background(), "7ea9e944-0000-4000-8000-000000000001", "b0d9b9e3-0000-4000-8000-000000000002", "e2a3a72e-5f79-4c64-b1b1-878b674786c9")
		if err != nil {
			t.Fatalf("lost=%v: %v", lostFirst, err)
		}
		if posts != 1 || a.ID != "47nZsM8O_UuNq5Jz3QValCxBBiqJea9Drc9CMK4Ru_M" {
			t.Fatalf("lost=%v: posts=%d a=%+v", lostFirst, posts, a)
		}
	}
}

func TestDeletesOfGoneObjectsSucceed(t *testing.T) {
	var paths []string
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodDelete {
			t.Errorf("method %s", r.Method)
		}
		paths = append(paths, r.URL.Path)
		w.WriteHeader(404)
		fmt.Fprint(w, bodyNotFound)
	})
	ctx := context.Background()
	for _, err := range []error{
		c.DeleteApplication(ctx, appObjectID),
		c.DeleteServicePrincipal(ctx, "b0d9b9e3-0000-4000-8000-000000000002"),
		c.DeleteAppRoleAssignment(ctx, "7ea9e944-0000-4000-8000-000000000001", "47nZsM8O_UuNq5Jz3QValCxBBiqJea9Drc9CMK4Ru_M"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := "/v1.0/applications/" + appObjectID + " /v1.0/servicePrincipals/b0d9b9e3-0000-4000-8000-000000000002 /v1.0/servicePrincipals/7ea9e944-0000-4000-8000-000000000001/appRoleAssignedTo/47nZsM8O_UuNq5Jz3QValCxBBiqJea9Drc9CMK4Ru_M"
	if strings.Join(paths, " ") != want {
		t.Fatalf("paths = %v", paths)
	}
}

func TestDeleteApplicationForbiddenIsAnError(t *testing.T) {
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(403)
		fmt.Fprint(w, bodyForbidden)
	})
	if err := c.DeleteApplication(context.Background(), appObjectID); !IsForbidden(err) {
		t.Fatalf("err = %v", err)
	}
}
