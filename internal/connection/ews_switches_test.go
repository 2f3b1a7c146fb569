package connection

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The EWS decision in WIRE.md §K3's order: the end of EWS, the organisation's switch, the
// mailbox's switch, the allow list, and "never set" last.
func TestDecideFollowsTheOrderOfK3(t *testing.T) {
	const client = "fb78d390-0c51-40cd-8e17-fdbfab77341b"
	before, after := EWSEndDate.Add(-time.Nanosecond), EWSEndDate
	on, off := true, false
	excluding := []string{"11111111-2222-3333-4444-555555555555"}
	including := []string{"11111111-2222-3333-4444-555555555555", " FB78D390-0C51-40CD-8E17-FDBFAB77341B "}
	org := func(v *bool, allowed []string) EWSSwitches {
		return EWSSwitches{Today: before, ClientID: client, OrgRead: true, Org: v, AllowedAppIDs: allowed}
	}
	withMailbox := func(in EWSSwitches, v *bool) EWSSwitches {
		in.MailboxRead, in.Mailbox = true, v
		return in
	}
	for _, tc := range []struct {
		name    string
		in      EWSSwitches
		want    EWSSwitch
		decided bool
	}{
		{"ended, nothing read", EWSSwitches{Today: after, ClientID: client}, SwitchEnded, true},
		{"ended beats every switch", withMailbox(EWSSwitches{Today: after, OrgRead: true, Org: &off, AllowedAppIDs: excluding, ClientID: client}, &off), SwitchEnded, true},
		{"the day before the end, nothing read", EWSSwitches{Today: before, ClientID: client}, SwitchNone, false},
		{"organization off decides before the mailbox is read", org(&off, excluding), SwitchOrganization, true},
		{"organization off beats the mailbox", withMailbox(org(&off, nil), &off), SwitchOrganization, true},
		{"organization on, mailbox not read yet", org(&on, excluding), SwitchNone, false},
		{"organization unset, mailbox not read yet", org(nil, nil), SwitchNone, false},
		{"mailbox off before the allow list", withMailbox(org(&on, excluding), &off), SwitchMailbox, true},
		{"mailbox off, organization unset", withMailbox(org(nil, nil), &off), SwitchMailbox, true},
		{"allow list excludes the client", withMailbox(org(&on, excluding), &on), SwitchAllowList, true},
		{"allow list excludes the client, mailbox unset", withMailbox(org(&on, excluding), nil), SwitchAllowList, true},
		{"allow list includes the client (case and spaces aside)", withMailbox(org(&on, including), nil), SwitchNone, true},
		{"no allow list", withMailbox(org(&on, nil), nil), SwitchNone, true},
		{"allow list ineffective while the organization is unset", withMailbox(org(nil, excluding), &on), SwitchOrganizationUnset, true},
		{"organization unset, mailbox unset", withMailbox(org(nil, nil), nil), SwitchOrganizationUnset, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, decided := tc.in.Decide(); got != tc.want || decided != tc.decided {
				t.Fatalf("Decide() = %v, %v; want %v, %v", got, decided, tc.want, tc.decided)
			}
		})
	}
}

// Reading more never changes a decision already made: what the organisation decides stands
// whatever the mailbox says, so the mailbox is read only when the organisation does not
// decide.
func TestDecideIsFinalOnceDecided(t *testing.T) {
	const client = "fb78d390-0c51-40cd-8e17-fdbfab77341b"
	on, off := true, false
	values := []*bool{nil, &on, &off}
	for _, today := range []time.Time{EWSEndDate.AddDate(0, -6, 0), EWSEndDate} {
		for _, o := range values {
			for _, allowed := range [][]string{nil, {"other"}, {"other", client}} {
				early := EWSSwitches{Today: today, ClientID: client, OrgRead: true, Org: o, AllowedAppIDs: allowed}
				sw, decided := early.Decide()
				for _, m := range values {
					full := early
					full.MailboxRead, full.Mailbox = true, m
					got, ok := full.Decide()
					if !ok {
						t.Fatalf("undecided with every switch read: %+v", full)
					}
					if decided && got != sw {
						t.Fatalf("%+v: decided %v before the mailbox was read, %v after", full, sw, got)
					}
				}
			}
		}
	}
}

// Every result of the decision has its words: the application connection's status and the
// command that reopens EWS, and never an unfilled placeholder.
func TestEWSWordsOfEverySwitch(t *testing.T) {
	for sw, want := range map[EWSSwitch]struct{ status, command string }{
		SwitchEnded:             {EWSDisabled, "no setting reopens it"},
		SwitchOrganization:      {EWSDisabledForOrganization, "Set-OrganizationConfig -EwsEnabled $true"},
		SwitchOrganizationUnset: {EWSDisabledForOrganization, "Set-OrganizationConfig -EwsEnabled $true"},
		SwitchMailbox:           {EWSDisabledForMailbox, "Set-CASMailbox -Identity 'u@contoso.com' -EwsEnabled $true"},
		SwitchAllowList:         {EWSAppNotAllowed, `-EwsAllowedAppIDs "a,b,client"`},
		SwitchUnknown:           {EWSDisabled, "Nothing was read, so which one is not known"},
		SwitchNone:              {EWSDisabled, "Set-OrganizationConfig -EwsEnabled $true"},
	} {
		c := EWSClosure{Switch: sw, Mailbox: "u@contoso.com", Client: "client", Allowed: []string{"a", "b"}, Why: "Nothing was read"}
		if c.Status() != want.status || !strings.Contains(c.Detail(), want.command) || !strings.Contains(c.Detail(), roles.EWSEnd) {
			t.Errorf("switch %v: status %q, detail %q", sw, c.Status(), c.Detail())
		}
		if text := c.Summary() + c.Detail(); strings.ContainsAny(text, "{}") {
			t.Errorf("switch %v: placeholder left in %q", sw, text)
		}
	}
}

// The application connection names the switches in §K3's order too: a mailbox closed by its
// own switch, in an organisation whose allow list also excludes the application, is the
// mailbox's (which the allow list alone would not reopen); after EWS's end date nothing is
// read and the status says EWS has ended.
func TestCheckApp_ewsSwitchOrder(t *testing.T) {
	s, _, cl := setupApps(t)
	on, off := true, false
	s.SetOrganizationEWSEnabled(&on)
	s.SetEWSAllowedAppIDs([]string{appOpen})
	if err := s.SetMailboxEWSEnabled(mbxA, &off); err != nil {
		t.Fatal(err)
	}
	st, err := setupAppsEnv(t, s).CheckApp(context.Background(), appSpec(cl, appEWS, roles.ProtocolEWS, mbxA))
	if err != nil {
		t.Fatal(err)
	}
	if st.EWSStatus != EWSDisabledForMailbox || !strings.Contains(st.EWSDetail, "Set-CASMailbox -Identity '"+mbxA+"' -EwsEnabled $true") {
		t.Fatalf("mailbox and allow list closed: %+v", st)
	}

	late := setupAppsEnv(t, s)
	late.Now = func() time.Time { return EWSEndDate.Add(time.Hour) }
	s.ResetCounters()
	st, err = late.CheckApp(context.Background(), appSpec(cl, appEWS, roles.ProtocolEWS, mbxA))
	if err != nil {
		t.Fatal(err)
	}
	if st.EWSStatus != EWSDisabled || !strings.Contains(st.EWSDetail, "switched off for good on "+roles.EWSEnd) {
		t.Fatalf("after the end date: %+v", st)
	}
	c := s.Counters()
	if n := c.ByRoute["exo.Get-OrganizationConfig"] + c.ByRoute["exo.Get-CASMailbox"]; n != 0 {
		t.Fatalf("the switches were read %d times after the end", n)
	}
}
