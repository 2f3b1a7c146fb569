package identity

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestTenantID(t *testing.T) {
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch r.URL.Path {
		case "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":"https://%s/%s/v2.0","token_endpoint":"x","authorization_endpoint":"y"}`, r.Host, tid)
		default:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant 'fabrikam.com' not found.","error_codes":[90002]}`)
		}
	}))
	defer srv.Close()
	p := New(Options{AuthorityHost: srv.URL, HTTPClient: srv.Client()})

	for i := 0; i < 2; i++ {
		got, err := p.TenantID(context.Background(), "contoso.onmicrosoft.com")
		if err != nil || got != tid {
			t.Fatalf("TenantID = %q, %v; want %s", got, err, tid)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d requests; the answer is shared, want 1", n)
	}
	_, err := p.TenantID(context.Background(), "fabrikam.com")
	if !IsTenantNotFound(err) {
		t.Fatalf("unknown tenant: %v", err)
	}
}
