package connection

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
)

// The diagnosis of a tenant where the seed's model cannot work (DESIGN.md §7.4, WIRE.md §K):
// ApplicationImpersonation retired, or EWS closed by one of its switches. Every step starts
// from an answer the connection's own checks already got (EWS denied impersonation, or
// answered 403), so a healthy tenant's drift check makes no request for it (BENCHMARKS.md:
// three per connection).

const (
	// ProblemImpersonationRetired: the tenant no longer has the ApplicationImpersonation
	// role, so no user account can impersonate mailboxes any more (Exchange Online since
	// February 2025, WIRE.md §0, §K1). No role assignment can fix it.
	ProblemImpersonationRetired Problem = 200 + iota
	// ProblemEWSClosed: EWS refused the account by policy (HTTP 403, §K4); Switch says
	// which switch closed it.
	ProblemEWSClosed
)

// EWSSwitch is what closed EWS for an account, in the order Exchange decides (WIRE.md §K3).
type EWSSwitch int

const (
	// SwitchUnknown: EWS answered 403, but the switches read open, or could not be read.
	SwitchUnknown EWSSwitch = iota
	// SwitchEnded: EWS in Exchange Online has ended (1 April 2027); no switch reopens it.
	SwitchEnded
	// SwitchOrganization: the organisation's EwsEnabled is False (Set-OrganizationConfig).
	SwitchOrganization
	// SwitchOrganizationUnset: the organisation's EwsEnabled was never set, which Exchange
	// Online's phased disablement (from 1 October 2026) turns into "off".
	SwitchOrganizationUnset
	// SwitchMailbox: the mailbox's EwsEnabled is False (Set-CASMailbox).
	SwitchMailbox
	// SwitchAllowList: the organisation allows EWS only for the applications in
	// EwsAllowedAppIDs, and the client application signing in is not among them.
	SwitchAllowList
)

// EWSEndDate is the day EWS in Exchange Online is switched off for good, with no exceptions
// (MC1227454, WIRE.md §0).
var EWSEndDate = time.Date(2027, time.April, 1, 0, 0, 0, 0, time.UTC)

// applicationImpersonation is the retired role's wire name (the catalogue's first entry).
const applicationImpersonation = "ApplicationImpersonation"

const ewsEndSentence = "EWS in Exchange Online is switched off tenant by tenant from 1 October 2026 and for good on 1 April 2027, so reopening it only lasts until then."

// retiredIfDenied is the diagnosis after EWS denied the account impersonation while it does
// not hold ApplicationImpersonation: either the role is merely missing (it can be assigned),
// or the tenant has retired it. Get-ManagementRole answers not-found for a retired role
// (§K1); one request, made only on this path. An error reading it is no diagnosis: the
// caller goes on as before.
func (s *session) retiredIfDenied(ctx context.Context) error {
	if rs, err := s.exchange().GetManagementRoles(ctx, applicationImpersonation); err == nil && len(rs) == 0 {
		return impersonationRetired(s)
	}
	return nil
}

func impersonationRetired(s *session) *Error {
	return s.fail(ProblemImpersonationRetired, "ApplicationImpersonation no longer exists in this tenant",
		"Exchange Online retired the ApplicationImpersonation role: new assignments were blocked from September 2024 and the role was removed from February 2025. "+
			"The tenant answers that the role does not exist, so "+s.who.Name+" cannot be given the right to open other mailboxes through EWS impersonation, and no role assignment can change that. "+
			"Mailbox access now goes through an Entra application instead: Microsoft Graph application permissions, scoped to the migrated mailboxes with Exchange RBAC for Applications.", nil)
}

// ewsClosed is the diagnosis after EWS answered 403 (§K4, whose body is never parsed): it
// reads the switches of §K2–K3 with the account's own admin session (two requests, only on
// this path) and names the one that closed EWS, with the command that reopens it.
func (s *session) ewsClosed(ctx context.Context, cause error) error {
	if !s.env.now().Before(EWSEndDate) {
		return ewsClosedError(s, SwitchEnded, "EWS answered 403 Forbidden: EWS in Exchange Online was switched off for good on 1 April 2027, and no setting reopens it.", cause)
	}
	x := s.exchange()
	org, err := x.GetOrganizationConfig(ctx)
	if err != nil || org == nil {
		return ewsClosedError(s, SwitchUnknown, unknownSwitch(s, "reading the organization's switches (Get-OrganizationConfig) failed: "+errText(err)), cause)
	}
	if org.EwsEnabled != nil && !*org.EwsEnabled {
		return ewsClosedError(s, SwitchOrganization,
			"EWS is turned off for the whole organization (Get-OrganizationConfig: EwsEnabled = False), which also overrides every mailbox's own switch. An Exchange administrator reopens it with:\n\n"+
				"  Set-OrganizationConfig -EwsEnabled $true\n\n"+ewsEndSentence, cause)
	}
	upn := s.who.Name
	cas, err := x.GetCASMailbox(ctx, upn)
	if err != nil {
		return ewsClosedError(s, SwitchUnknown, unknownSwitch(s, "the organization's EwsEnabled is "+switchValue(org.EwsEnabled)+", but reading the mailbox's switch (Get-CASMailbox) failed: "+errText(err)), cause)
	}
	if cas != nil && cas.EwsEnabled != nil && !*cas.EwsEnabled {
		return ewsClosedError(s, SwitchMailbox, fmt.Sprintf(
			"EWS is turned off for the mailbox %[1]s (Get-CASMailbox: EwsEnabled = False); the organization allows it. An Exchange administrator reopens it with:\n\n"+
				"  Set-CASMailbox -Identity '%[1]s' -EwsEnabled $true\n\n%[2]s", upn, ewsEndSentence), cause)
	}
	client := s.src.Subject().ClientID
	if org.EwsEnabled != nil && *org.EwsEnabled && len(org.EwsAllowedAppIDs) > 0 && !containsFold(org.EwsAllowedAppIDs, client) {
		list := strings.Join(append(append([]string(nil), org.EwsAllowedAppIDs...), client), ",")
		return ewsClosedError(s, SwitchAllowList, fmt.Sprintf(
			"The organization allows EWS only for the applications in EwsAllowedAppIDs (%[1]s), and the client application %[2]s that %[3]s signs in with is not among them. An Exchange administrator adds it with:\n\n"+
				"  Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs \"%[4]s\"\n\n%[5]s",
			strings.Join(org.EwsAllowedAppIDs, ","), client, upn, list, ewsEndSentence), cause)
	}
	if org.EwsEnabled == nil {
		return ewsClosedError(s, SwitchOrganizationUnset,
			"The organization never set EwsEnabled (Get-OrganizationConfig: EwsEnabled is empty), and Exchange Online's phased disablement, from 1 October 2026, treats that as off. An Exchange administrator reopens it with:\n\n"+
				"  Set-OrganizationConfig -EwsEnabled $true\n\n"+
				"(and, once an allow list is set, -EwsAllowedAppIDs must include "+client+"). "+ewsEndSentence, cause)
	}
	return ewsClosedError(s, SwitchUnknown, unknownSwitch(s, "the organization's and the mailbox's switches allow EWS (the user-agent allow and block lists were not read)"), cause)
}

func ewsClosedError(s *session, sw EWSSwitch, detail string, cause error) *Error {
	summary := map[EWSSwitch]string{
		SwitchEnded:             "EWS in Exchange Online has ended",
		SwitchOrganization:      "EWS is turned off for the organization",
		SwitchOrganizationUnset: "EWS is off for the organization (never enabled)",
		SwitchMailbox:           "EWS is turned off for the mailbox " + s.who.Name,
		SwitchAllowList:         "EWS allow list excludes the client application",
	}[sw]
	if summary == "" {
		summary = "Exchange Web Services refused " + s.who.Name
	}
	e := s.fail(ProblemEWSClosed, summary, detail, cause)
	e.Switch = sw
	return e
}

func unknownSwitch(s *session, why string) string {
	upn := s.who.Name
	return fmt.Sprintf("EWS answered 403 Forbidden for %[1]s: a switch closed it, but %[2]s. An Exchange administrator can look with "+
		"Get-OrganizationConfig | fl Ews* and Get-CASMailbox -Identity '%[1]s' | fl Ews*, and reopen it with Set-OrganizationConfig -EwsEnabled $true "+
		"(adding %[3]s to -EwsAllowedAppIDs when an allow list is set) or Set-CASMailbox -Identity '%[1]s' -EwsEnabled $true. %[4]s",
		upn, why, s.src.Subject().ClientID, ewsEndSentence)
}

// ewsRefused is the error of a failed EWS call of the account: a 403 is diagnosed, anything
// else explained as before.
func (s *session) ewsRefused(ctx context.Context, err error) error {
	if ews.IsClosed(err) {
		return s.ewsClosed(ctx, err)
	}
	return ewsError(s, err)
}

func switchValue(b *bool) string {
	switch {
	case b == nil:
		return "not set"
	case *b:
		return "True"
	}
	return "False"
}

func errText(err error) string {
	if err == nil {
		return "no answer"
	}
	if exchange.IsAccessDenied(err) || exchange.IsNotAllowedToCall(err) {
		return "the account may not read it"
	}
	return err.Error()
}

func containsFold(ss []string, v string) bool {
	for _, s := range ss {
		if strings.EqualFold(strings.TrimSpace(s), v) {
			return true
		}
	}
	return false
}

// Diagnose is the plan-time check of a connection that does not exist yet (DESIGN.md §7.4):
// sign in, and try EWS impersonation of the account's own mailbox once. It changes nothing.
// It returns nil when apply can go ahead (impersonation works, or is only denied because
// the role is not assigned yet), the sign-in error, or the diagnosis: role retired, EWS
// closed (and which switch). Two requests when the account already holds its roles.
func (e *Env) Diagnose(ctx context.Context, spec Spec) error {
	conn, err := e.session(spec.Cloud, spec.Principal, ConnectionAccount)
	if err != nil {
		return err
	}
	if _, err := conn.signIn(ctx); err != nil {
		return err
	}
	_, err = conn.ews().GetFolder(ctx, conn.who.Name)
	switch {
	case err == nil:
		return nil
	case ews.IsImpersonationDenied(err):
		return conn.retiredIfDenied(ctx)
	}
	return conn.ewsRefused(ctx, err)
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}
