package connection

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
)

type okSource struct{}

func (okSource) Token(context.Context, string) (identity.Token, error) {
	return identity.Token{Value: "tok"}, nil
}
func (okSource) Subject() identity.Subject { return identity.Subject{} }

// One session is one admin API session: every cmdlet it runs carries the same connection-id
// (WIRE.md §E1), also when the tenant in the URL changes from the domain to the id after
// sign-in.
func TestSessionKeepsOneConnectionID(t *testing.T) {
	var mu sync.Mutex
	ids := map[string]bool{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids[r.Header.Get("connection-id")] = true
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json") // an answer without it is not the admin API's
		fmt.Fprint(w, `{"value":[]}`)
	}))
	defer srv.Close()
	ww, _ := cloud.Lookup(cloud.Worldwide)
	cl := ww.WithEndpoints(cloud.Endpoints{Exchange: srv.URL})
	env := &Env{HTTP: srv.Client()}
	s, err := env.session(cl, User("admin@contoso.onmicrosoft.com", PasswordCredential("x")), ConnectionAccount)
	if err != nil {
		t.Fatal(err)
	}
	s.src = okSource{}
	for i := 0; i < 3; i++ {
		if i == 2 {
			s.exoToken = &identity.Token{TenantID: "0f1e2d3c-4b5a-4697-8877-665544332211"}
		}
		if _, err := s.exchange().GetManagementRoleAssignments(context.Background(), "admin@contoso.onmicrosoft.com"); err != nil {
			t.Fatal(err)
		}
	}
	if len(ids) != 1 || ids[""] {
		t.Fatalf("connection-ids = %v, want one", ids)
	}
}
