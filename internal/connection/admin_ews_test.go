package connection

import (
	"context"
	"strings"
	"testing"
	"time"
)

// On a tenant that retired ApplicationImpersonation, Ensure stops before assigning anything
// (WIRE.md §K1), and Check and Diagnose say the same.
func TestRetiredRoleAssignsNothing(t *testing.T) {
	s, env, cl, _ := setup(t, 0)
	s.SetImpersonationRetired(true)
	spec := Spec{Cloud: cl, Principal: User("exadmin@fabrikam.onmicrosoft.com", PasswordCredential("pw-ex")), AssignMissing: true}
	for name, run := range map[string]func() error{
		"ensure": func() error { _, err := env.Ensure(context.Background(), spec); return err },
		"check": func() error {
			st, err := env.Check(context.Background(), spec)
			if err != nil {
				return err
			}
			return st.EWSProblem
		},
		"diagnose": func() error { return env.Diagnose(context.Background(), spec) },
	} {
		ce, ok := AsError(run())
		if !ok || ce.Problem != ProblemImpersonationRetired || !strings.Contains(ce.Detail, "February 2025") {
			t.Errorf("%s: %+v", name, ce)
		}
	}
	if n := s.Counters().ByRoute["exo.New-ManagementRoleAssignment"]; n != 0 || len(directRoles(s, spec.Principal.Name)) != 0 {
		t.Fatalf("%d assignment requests, roles %v", n, directRoles(s, spec.Principal.Name))
	}
	// In the seed's world the same account only lacks the role: nothing to diagnose.
	s.SetImpersonationRetired(false)
	if err := env.Diagnose(context.Background(), spec); err != nil {
		t.Fatalf("seed world: %v", err)
	}
}

// Each switch of WIRE.md §K3 is named, and after the end date no switch is read at all.
func TestEWSClosedNamesTheSwitch(t *testing.T) {
	s, env, cl, clk := setup(t, 0)
	upn := "exadmin@fabrikam.onmicrosoft.com"
	spec := Spec{Cloud: cl, Principal: User(upn, PasswordCredential("pw-ex"))}
	off, on := false, true
	reset := func() {
		s.SetOrganizationEWSEnabled(nil)
		s.SetEWSAllowedAppIDs(nil)
		_ = s.SetMailboxEWSEnabled(upn, nil)
		s.SetEWSDisablementDate(clk.Now().AddDate(1, 0, 0))
	}
	for _, tc := range []struct {
		name  string
		close func()
		want  EWSSwitch
		cmd   string
	}{
		{"organization", func() { s.SetOrganizationEWSEnabled(&off) }, SwitchOrganization, "Set-OrganizationConfig -EwsEnabled $true"},
		{"mailbox", func() { _ = s.SetMailboxEWSEnabled(upn, &off) }, SwitchMailbox, "Set-CASMailbox -Identity '" + upn + "' -EwsEnabled $true"},
		{"allow list", func() {
			s.SetOrganizationEWSEnabled(&on)
			s.SetEWSAllowedAppIDs([]string{"11111111-2222-3333-4444-555555555555"})
		}, SwitchAllowList,
			`-EwsAllowedAppIDs "11111111-2222-3333-4444-555555555555,` + env.ClientID + `"`},
		{"never configured", func() { s.SetEWSDisablementDate(clk.Now().AddDate(0, -1, 0)) }, SwitchOrganizationUnset, "Set-OrganizationConfig -EwsEnabled $true"},
	} {
		reset()
		tc.close()
		for name, err := range map[string]error{"diagnose": env.Diagnose(context.Background(), spec), "ensure": func() error { _, err := env.Ensure(context.Background(), spec); return err }()} {
			ce, ok := AsError(err)
			if !ok || ce.Problem != ProblemEWSClosed || ce.Switch != tc.want || !strings.Contains(ce.Detail, tc.cmd) || !strings.Contains(ce.Detail, "1 April 2027") {
				t.Errorf("%s, %s: %+v", tc.name, name, ce)
			}
		}
	}
	reset()
	s.SetOrganizationEWSEnabled(&off)
	// The provider's clock past the end (the tenant's own clock still before it).
	late := &Env{HTTP: env.HTTP, ClientID: env.ClientID, MaxRetries: 2, Now: func() time.Time { return EWSEndDate.Add(time.Hour) }}
	s.ResetCounters()
	ce, ok := AsError(late.Diagnose(context.Background(), spec))
	if !ok || ce.Switch != SwitchEnded {
		t.Fatalf("after the end date: %+v", ce)
	}
	if n := s.Counters().ByRoute["exo.Get-OrganizationConfig"]; n != 0 {
		t.Fatalf("the switches were read %d times after the end", n)
	}
}
