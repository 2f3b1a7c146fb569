package emuctl

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
)

func startEmulator(t *testing.T) (*emulator.Server, string) {
	t.Helper()
	seed, err := emulator.LoadSeed(filepath.Join("..", "..", "..", "examples", "demo", "tenant.json"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := emulator.Start(seed, emulator.Options{CAFile: filepath.Join(dir, "ca.pem")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, dir
}

func TestWaitThenControl(t *testing.T) {
	srv, dir := startEmulator(t)
	infoFile := filepath.Join(dir, "emulator.json")

	// Not there yet: Wait keeps polling until the file appears.
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = WriteInfo(infoFile, Info{URL: srv.URL(), CAFile: srv.CAFile(), ControlToken: srv.ControlToken(), TenantID: srv.TenantID(), PID: os.Getpid()})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Wait(ctx, infoFile, os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(infoFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("info file mode: %v %v (it holds the control token)", st.Mode(), err)
	}

	// A control call changes the tenant: the role is gone from the tenant's state.
	holds := func() bool {
		b, err := c.Do(ctx, http.MethodGet, "/_emulator/state", "")
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Users []struct {
				UPN         string `json:"user_principal_name"`
				Assignments []struct {
					Role string `json:"role"`
				} `json:"exchange_assignments"`
			} `json:"users"`
		}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		for _, u := range st.Users {
			for _, a := range u.Assignments {
				if u.UPN == "mfa.admin@contoso.onmicrosoft.com" && a.Role == "View-Only Configuration" {
					return true
				}
			}
		}
		return false
	}
	if !holds() {
		t.Fatal("the seed gives mfa.admin View-Only Configuration; the state does not show it")
	}
	if _, err := c.Do(ctx, http.MethodDelete, "/_emulator/users/mfa.admin@contoso.onmicrosoft.com/exchange-roles/View-Only%20Configuration", ""); err != nil {
		t.Fatal(err)
	}
	if holds() {
		t.Fatal("the role is still assigned after the control call")
	}
	var se *StatusError

	// Outside 2xx: a *StatusError with the status and the body.
	_, err = c.Do(ctx, http.MethodDelete, "/_emulator/users/nobody@contoso.onmicrosoft.com", "")
	if !errors.As(err, &se) || !strings.HasPrefix(se.Status, "404") || !strings.Contains(se.Body, "nobody") {
		t.Fatalf("want a 404 StatusError naming the user, got %v", err)
	}

	// A wrong token is refused.
	bad, err := New(Info{URL: srv.URL(), CAFile: srv.CAFile(), ControlToken: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Do(ctx, http.MethodGet, "/_emulator/counters", ""); !errors.As(err, &se) || !strings.HasPrefix(se.Status, "403") {
		t.Fatalf("want 403 with a wrong control token, got %v", err)
	}
}

func TestWaitFailsFastWhenTheProcessIsGone(t *testing.T) {
	// A child that has exited but is not reaped yet (a zombie, as a shell's background job
	// is until waited for) counts as gone.
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Skip("no `true` command:", err)
	}
	defer func() { _ = cmd.Wait() }()
	time.Sleep(100 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Wait(ctx, filepath.Join(t.TempDir(), "never.json"), cmd.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") {
		t.Fatalf("want the exited error, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Wait took %v: it should notice the exit at once", time.Since(start))
	}
}

func TestWaitIgnoresAStaleInfoFile(t *testing.T) {
	srv, dir := startEmulator(t)
	infoFile := filepath.Join(dir, "emulator.json")
	info := Info{URL: srv.URL(), CAFile: srv.CAFile(), ControlToken: srv.ControlToken()}
	_ = srv.Close() // the file outlives its server
	if err := WriteInfo(infoFile, info); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, infoFile, 0); err == nil || !strings.Contains(err.Error(), "not ready in time") {
		t.Fatalf("want a timeout for a server that does not answer, got %v", err)
	}
}

func TestReadInfoRejectsIncomplete(t *testing.T) {
	p := filepath.Join(t.TempDir(), "info.json")
	if err := os.WriteFile(p, []byte(`{"url":"https://127.0.0.1:1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadInfo(p); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("want an error naming ca_file, got %v", err)
	}
}

func TestTenantPath(t *testing.T) {
	for _, tc := range []struct{ tenant, path, want string }{
		{"", "/_emulator/state", "/_emulator/state"},
		{"northwind.onmicrosoft.com", "/_emulator/state", "/_emulator/tenants/northwind.onmicrosoft.com/state"},
		{"northwind.onmicrosoft.com", "/_emulator/users/a@b.com/exchange-roles/Mail%20Recipients",
			"/_emulator/tenants/northwind.onmicrosoft.com/users/a@b.com/exchange-roles/Mail%20Recipients"},
		{"northwind.onmicrosoft.com", "/_emulator/tenants", "/_emulator/tenants"},
		{"northwind.onmicrosoft.com", "/_emulator/tenants/x.com/state", "/_emulator/tenants/x.com/state"},
	} {
		if got := TenantPath(tc.tenant, tc.path); got != tc.want {
			t.Errorf("TenantPath(%q, %q) = %q, want %q", tc.tenant, tc.path, got, tc.want)
		}
	}
}

// TestForTenant: a client for one tenant of an emulator serving two changes
// that tenant; the plain client stays on the first.
func TestForTenant(t *testing.T) {
	var seeds []*emulator.Seed
	for _, f := range []string{"examples/demo/tenant.json", "internal/emulator/testdata/northwind.json"} {
		seed, err := emulator.LoadSeed(filepath.Join("..", "..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, seed)
	}
	cl, err := emulator.StartTenants(seeds, emulator.Options{CAFile: filepath.Join(t.TempDir(), "ca.pem")})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c, err := New(Info{URL: cl.URL(), CAFile: cl.CAFile(), ControlToken: cl.ControlToken()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tenantOf := func(c *Client) string {
		b, err := c.Do(ctx, http.MethodGet, "/_emulator/state", "")
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Tenant struct{ ID string } `json:"tenant"`
		}
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		return st.Tenant.ID
	}
	nw := c.ForTenant("northwindtraders.com")
	if got := tenantOf(nw); got != "5a1e9c3d-7b2f-4d8e-b6a4-1c0d9e8f7a6b" {
		t.Errorf("ForTenant's state is tenant %s", got)
	}
	if got := tenantOf(c); got != "7d3b5e8a-2c41-4f6e-9a0b-6c1d2e3f4a5b" {
		t.Errorf("the plain client's state is tenant %s", got)
	}
	if _, err := nw.Do(ctx, http.MethodPost, "/_emulator/faults", `{"route":"token","status":503}`); err != nil {
		t.Fatal(err)
	}
	// The fault is Northwind's: its token endpoint answers 503, Contoso's does not.
	for tenant, want := range map[string]int{"northwindtraders.com": http.StatusServiceUnavailable, "contoso.com": http.StatusBadRequest} {
		res, err := c.hc.PostForm(cl.URL()+"/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"password"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s's token endpoint: %d, want %d", tenant, res.StatusCode, want)
		}
	}
	var se *StatusError
	if _, err := c.ForTenant("nowhere.example").Do(ctx, http.MethodGet, "/_emulator/state", ""); !errors.As(err, &se) || !strings.HasPrefix(se.Status, "404") {
		t.Errorf("unknown tenant: %v", err)
	}
}
