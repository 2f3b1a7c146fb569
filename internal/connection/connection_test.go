package connection

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/emulator"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

const seedJSON = `{"tenant_id":"0f1e2d3c-4b5a-4697-8877-665544332211","display_name":"Fabrikam","cloud":"worldwide",
 "domains":["fabrikam.onmicrosoft.com","fabrikam.com"],"propagation_delay":"0s",
 "users":[
  {"user_principal_name":"exadmin@fabrikam.onmicrosoft.com","alias":"exadmin","password":"pw-ex","mailbox":true,"directory_roles":["Exchange Administrator"]},
  {"user_principal_name":"helpdesk@fabrikam.onmicrosoft.com","alias":"helpdesk","password":"pw-hd","mailbox":true},
  {"user_principal_name":"nomailbox@fabrikam.onmicrosoft.com","alias":"nomailbox","password":"pw-nm","directory_roles":["Exchange Administrator"]},
  {"user_principal_name":"mfa@fabrikam.onmicrosoft.com","alias":"mfa","password":"pw-mfa","app_password":"app-mfa","mfa":true,"mailbox":true},
  {"user_principal_name":"ga@fabrikam.onmicrosoft.com","alias":"ga","password":"pw-ga","mailbox":true,"directory_roles":["Global Administrator"]}
 ]}`

// fakeClock drives both the emulated tenant's clock and the connection's waits, so the
// propagation wait is tested without sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

func setup(t *testing.T, delay time.Duration) (*emulator.Server, *Env, cloud.Cloud, *fakeClock) {
	t.Helper()
	clk := &fakeClock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	s, hc, cl := startEmulated(t, parseSeed(t, seedJSON), emulator.Options{PropagationDelay: delay, Clock: clk.Now})
	return s, &Env{HTTP: hc, ClientID: "fb78d390-0c51-40cd-8e17-fdbfab77341b", MaxRetries: 2, Sleep: clk.Sleep, Now: clk.Now}, cl, clk
}

func parseSeed(t *testing.T, text string) *emulator.Seed {
	t.Helper()
	seed, err := emulator.ParseSeed([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

// startEmulated starts the emulated tenant of seed and returns it with an HTTP client that
// trusts it and the worldwide cloud with its endpoints.
func startEmulated(t *testing.T, seed *emulator.Seed, o emulator.Options) (*emulator.Server, *http.Client, cloud.Cloud) {
	t.Helper()
	s, err := emulator.Start(seed, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	hc, err := transport.NewHTTPClient(s.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	ww, _ := cloud.Lookup(cloud.Worldwide)
	return s, hc, ww.WithEndpoints(cloud.Endpoints{Login: s.URL(), Graph: s.URL(), Exchange: s.URL()})
}

func directRoles(s *emulator.Server, upn string) []string {
	var out []string
	for _, u := range s.Snapshot().Users {
		if strings.EqualFold(u.UserPrincipalName, upn) {
			for _, a := range u.ExchangeAssignments {
				if a.AssignmentMethod == "" || a.AssignmentMethod == "Direct" {
					out = append(out, a.Role)
				}
			}
		}
	}
	return out
}

var defaultRequired = roles.Names(roles.Required(roles.Toggles{}))

func TestEnsureAssignsMissingRolesThenCheckIsClean(t *testing.T) {
	s, env, cl, _ := setup(t, 0)
	spec := Spec{Cloud: cl, Principal: User("exadmin@fabrikam.onmicrosoft.com", PasswordCredential("pw-ex")), AssignMissing: true}
	res, err := env.Ensure(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Managed) != 5 || len(res.Assigned) != 5 || res.AssignedBy != ConnectionAccount || len(res.Status.Missing) != 0 || !res.Status.Impersonation {
		t.Fatalf("result %+v status %+v", res, res.Status)
	}
	if res.Status.TenantID != s.TenantID() {
		t.Fatalf("tenant %q, want %q", res.Status.TenantID, s.TenantID())
	}
	if got := roles.Names(rolesFromNames(directRoles(s, spec.Principal.Name))); strings.Join(got, ",") != strings.Join(defaultRequired, ",") {
		t.Fatalf("tenant holds %v", got)
	}
	// A second Ensure assigns nothing and keeps the record.
	spec.Managed = res.Managed
	s.ResetCounters()
	res2, err := env.Ensure(context.Background(), spec)
	if err != nil || len(res2.Assigned) != 0 || len(res2.Managed) != 5 {
		t.Fatalf("second ensure: %v %+v", err, res2)
	}
	if n := s.Counters().ByRoute["exo.New-ManagementRoleAssignment"]; n != 0 {
		t.Fatalf("%d assignments on a converged connection", n)
	}
	st, err := env.Check(context.Background(), spec)
	if err != nil || len(st.Missing) != 0 || !st.Impersonation || st.EWSProblem != nil {
		t.Fatalf("check: %v %+v", err, st)
	}
}

func rolesFromNames(names []string) []roles.Role {
	var out []roles.Role
	for _, n := range names {
		if r, ok := roles.Lookup(n); ok {
			out = append(out, r)
		}
	}
	return out
}

func TestCheckReportsRoleRemovedOutOfBand(t *testing.T) {
	s, env, cl, _ := setup(t, 0)
	spec := Spec{Cloud: cl, Principal: User("exadmin@fabrikam.onmicrosoft.com", PasswordCredential("pw-ex")), AssignMissing: true}
	res, err := env.Ensure(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveExchangeRoleAssignment(spec.Principal.Name, "ApplicationImpersonation"); err != nil {
		t.Fatal(err)
	}
	st, err := env.Check(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(st.Missing, ",") != "ApplicationImpersonation" || st.Impersonation {
		t.Fatalf("missing %v impersonation %v", st.Missing, st.Impersonation)
	}
	// Repair: the removed assignment leaves the record, the new one takes its place.
	spec.Managed = res.Managed
	res2, err := env.Ensure(context.Background(), spec)
	if err != nil || len(res2.Managed) != 5 || strings.Join(res2.Assigned, ",") != "ApplicationImpersonation" {
		t.Fatalf("repair: %v %+v", err, res2)
	}
}

func TestEnsureErrors(t *testing.T) {
	_, env, cl, _ := setup(t, 0)
	user := func(upn, pw string) Principal { return User(upn, PasswordCredential(pw)) }
	// The facts an error carries for the provider to word: the problem, its precise reason,
	// which principal and credential, the roles concerned. The texts are Microsoft-side
	// only; the provider adds the attribute to change (internal/provider's error table).
	tests := []struct {
		name    string
		spec    Spec
		problem Problem
		reason  Reason
		roles   int
		detail  []string
	}{
		{"may not assign", Spec{Principal: user("helpdesk@fabrikam.onmicrosoft.com", "pw-hd"), AssignMissing: true},
			ProblemCannotAssign, ReasonNone, 5, []string{"ApplicationImpersonation"}},
		{"assignment off", Spec{Principal: user("exadmin@fabrikam.onmicrosoft.com", "pw-ex")},
			ProblemMissingRoles, ReasonNone, 5, []string{"New-ManagementRoleAssignment -Role 'Mail Recipients' -User 'exadmin@fabrikam.onmicrosoft.com'"}},
		{"mfa with password", Spec{Principal: user("mfa@fabrikam.onmicrosoft.com", "pw-mfa"), AssignMissing: true},
			ProblemCredentials, ReasonMFARequired, 0, []string{"AADSTS50076", "app password"}},
		{"wrong password", Spec{Principal: user("exadmin@fabrikam.onmicrosoft.com", "nope"), AssignMissing: true},
			ProblemCredentials, ReasonWrongSecret, 0, []string{"AADSTS50126"}},
		{"unknown user", Spec{Principal: user("ghost@fabrikam.onmicrosoft.com", "ghost-secret-1"), AssignMissing: true},
			ProblemAccountGone, ReasonNone, 0, []string{"AADSTS50034"}},
		{"unknown tenant", Spec{Principal: user("a@contoso.onmicrosoft.com", "tenant-secret-2"), AssignMissing: true},
			ProblemTenant, ReasonNone, 0, []string{"AADSTS90002"}},
		{"no mailbox", Spec{Principal: user("nomailbox@fabrikam.onmicrosoft.com", "pw-nm"), AssignMissing: true},
			ProblemEWS, ReasonNone, 0, []string{"no Exchange Online mailbox"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Cloud = cl
			res, err := env.Ensure(context.Background(), tt.spec)
			ce, ok := AsError(err)
			if !ok || ce.Problem != tt.problem || ce.Reason != tt.reason || len(ce.Roles) != tt.roles {
				t.Fatalf("got %v (%T), want problem %d reason %d", err, err, tt.problem, tt.reason)
			}
			if ce.Account != ConnectionAccount || ce.Who != tt.spec.Principal.Name || ce.Credential != Password {
				t.Errorf("error is about %d %q %d", ce.Account, ce.Who, ce.Credential)
			}
			for _, d := range tt.detail {
				if !strings.Contains(ce.Detail, d) {
					t.Errorf("detail %q lacks %q", ce.Detail, d)
				}
			}
			if strings.Contains(ce.Error(), tt.spec.Principal.Credential.password) {
				t.Errorf("error shows the secret: %v", ce)
			}
			for _, word := range terraformWords {
				if strings.Contains(ce.Error(), word) {
					t.Errorf("error speaks Terraform (%q): %v", word, ce)
				}
			}
			if res != nil && len(res.Managed) != 0 {
				t.Errorf("half-done: %+v", res.Managed)
			}
		})
	}
}

// terraformWords must never appear in the connection's messages: attribute names, blocks
// and commands belong to the provider.
var terraformWords = []string{"`", "admin_email", "app_password", "global_admin", "assign_missing_roles", "revoke_managed_roles", "timeouts", "apply", "Terraform"}

func TestGlobalAdminAssignsAndRevokeRemovesOnlyManaged(t *testing.T) {
	s, env, cl, _ := setup(t, 0)
	if _, err := s.AddExchangeRoleAssignment("helpdesk@fabrikam.onmicrosoft.com", "View-Only Recipients"); err != nil {
		t.Fatal(err)
	}
	ga := User("ga@fabrikam.onmicrosoft.com", PasswordCredential("pw-ga"))
	spec := Spec{Cloud: cl, Principal: User("helpdesk@fabrikam.onmicrosoft.com", PasswordCredential("pw-hd")), Assigner: &ga,
		AssignMissing: true, RevokeManaged: true, Toggles: roles.Toggles{UserManagement: true}}
	s.ResetCounters()
	res, err := env.Ensure(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if res.AssignedBy != AssignerAccount || len(res.Managed) != 5 { // 4 Exchange + User Administrator
		t.Fatalf("%+v", res)
	}
	if n := s.Counters().ByRouteUser["ews.GetFolder"]["ga@fabrikam.onmicrosoft.com"]; n != 0 {
		t.Fatalf("global admin used for EWS %d times", n)
	}
	// Toggle off: only the directory role this connection created goes.
	spec.Managed, spec.Toggles = res.Managed, roles.Toggles{}
	res2, err := env.Ensure(context.Background(), spec)
	if err != nil || strings.Join(res2.Revoked, ",") != "User Administrator" || len(res2.Managed) != 4 {
		t.Fatalf("toggle off: %v %+v", err, res2)
	}
	spec.Managed = res2.Managed
	left, err := env.Revoke(context.Background(), spec)
	if err != nil || len(left) != 0 {
		t.Fatalf("revoke: %v %v", err, left)
	}
	if got := directRoles(s, "helpdesk@fabrikam.onmicrosoft.com"); strings.Join(got, ",") != "View-Only Recipients" {
		t.Fatalf("after revoke the tenant holds %v, want only the pre-existing View-Only Recipients", got)
	}
}

func TestEnsureWaitsForPropagationWithinDeadline(t *testing.T) {
	s, env, cl, clk := setup(t, 90*time.Second)
	spec := Spec{Cloud: cl, Principal: User("exadmin@fabrikam.onmicrosoft.com", PasswordCredential("pw-ex")), AssignMissing: true}
	start := clk.Now()
	res, err := env.Ensure(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if waited := clk.Now().Sub(start); waited < 90*time.Second || waited > 3*time.Minute {
		t.Fatalf("waited %v on the tenant's clock, want about the 90 s propagation delay", waited)
	}
	if !res.Status.Impersonation || s.Counters().ByRoute["ews.GetFolder"] < 3 {
		t.Fatalf("impersonation %v after %d EWS calls", res.Status.Impersonation, s.Counters().ByRoute["ews.GetFolder"])
	}

	// With a deadline shorter than the delay: a clear error, and the assignments are reported.
	s2, env2, cl2, _ := setup(t, time.Hour)
	_ = s2
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	env2.Sleep = func(ctx context.Context, d time.Duration) error { <-ctx.Done(); return ctx.Err() }
	res, err = env2.Ensure(ctx, Spec{Cloud: cl2, Principal: spec.Principal, AssignMissing: true})
	ce, ok := AsError(err)
	if !ok || ce.Problem != ProblemNotYetEffective || len(res.Managed) != 5 {
		t.Fatalf("got %v, managed %d", err, len(res.Managed))
	}
}

func TestManagedName(t *testing.T) {
	long := "a.very.long.administrator.name.for.testing@some-long-tenant-name.onmicrosoft.com"
	for _, r := range roles.All() {
		for _, upn := range []string{"admin@contoso.onmicrosoft.com", long} {
			n := ManagedName(r.Name, upn)
			if len(n) > 64 || !strings.HasPrefix(n, "tf-o365 ") {
				t.Errorf("ManagedName(%q, %q) = %q (%d chars)", r.Name, upn, n, len(n))
			}
			if n != ManagedName(r.Name, strings.ToUpper(upn)) {
				t.Errorf("name depends on case: %q", n)
			}
		}
	}
	if ManagedName("Mail Recipients", long) == ManagedName("Mail Recipients", "x"+long) {
		t.Error("different accounts share a name")
	}
}
