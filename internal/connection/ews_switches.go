package connection

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The EWS switches (WIRE.md §K2–K3): when EWS answers 403 Forbidden (§K4, whose body is
// never parsed), both connections read the switches and name the one that closed EWS, with
// the command that reopens it. The decision and its words are here, once; the admin-account
// connection reports the result as an error (ProblemEWSClosed), the application connection
// as its ews_status.

// EWSSwitch is what closed EWS for a mailbox.
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
	// SwitchNone: every switch allows EWS (the decision's "open").
	SwitchNone
)

func (sw EWSSwitch) String() string {
	switch sw {
	case SwitchUnknown:
		return "unknown"
	case SwitchEnded:
		return "ended"
	case SwitchOrganization:
		return "organization"
	case SwitchOrganizationUnset:
		return "organization unset"
	case SwitchMailbox:
		return "mailbox"
	case SwitchAllowList:
		return "allow list"
	case SwitchNone:
		return "none"
	}
	return fmt.Sprintf("EWSSwitch(%d)", int(sw))
}

// EWSEndDate is the day EWS in Exchange Online is switched off for good, with no exceptions
// (MC1227454, WIRE.md §0).
var EWSEndDate = time.Date(2027, time.April, 1, 0, 0, 0, 0, time.UTC)

// EWSSwitches are the inputs of the EWS decision, as far as they were read.
type EWSSwitches struct {
	// Today is the provider's clock.
	Today time.Time
	// OrgRead: Get-OrganizationConfig answered. Org is its EwsEnabled (nil: never set),
	// AllowedAppIDs its EwsAllowedAppIDs (empty: no allow list).
	OrgRead       bool
	Org           *bool
	AllowedAppIDs []string
	// MailboxRead: Get-CASMailbox answered. Mailbox is its EwsEnabled (nil: never set, or no
	// such mailbox).
	MailboxRead bool
	Mailbox     *bool
	// ClientID is the client application signing in (the token's appid).
	ClientID string
}

// Decide is the EWS decision of WIRE.md §K3, in its order: (a) the end of EWS, (b) the
// organisation's EwsEnabled False, (c) the mailbox's EwsEnabled False, (d) the allow list
// when the organisation's EwsEnabled is True, and last the organisation's EwsEnabled never
// set. §K3 places (b)'s "never set" before the mailbox, but only from the tenant's
// disablement date, which the provider cannot read: it is named only when no switch that
// is certain explains the 403. The user-agent lists (§K3 (e)) are not read.
//
// It returns the first switch that closes EWS, or SwitchNone when every switch allows it.
// decided is false when the next switch in the order has not been read: the caller reads it
// and decides again, so a switch that decides early saves the reads after it.
func (in EWSSwitches) Decide() (sw EWSSwitch, decided bool) {
	switch {
	case !in.Today.Before(EWSEndDate):
		return SwitchEnded, true
	case !in.OrgRead:
		return SwitchNone, false
	case in.Org != nil && !*in.Org:
		return SwitchOrganization, true
	case !in.MailboxRead:
		return SwitchNone, false
	case in.Mailbox != nil && !*in.Mailbox:
		return SwitchMailbox, true
	case in.Org != nil && *in.Org && len(in.AllowedAppIDs) > 0 && !containsFold(in.AllowedAppIDs, in.ClientID):
		return SwitchAllowList, true
	case in.Org == nil:
		return SwitchOrganizationUnset, true
	}
	return SwitchNone, true
}

// EWS status values of an application connection (DESIGN.md §7.3).
const (
	EWSEnabled                 = "enabled"
	EWSDisabledForOrganization = "disabled_for_organization"
	EWSDisabledForMailbox      = "disabled_for_mailbox"
	EWSAppNotAllowed           = "app_not_allowed"
	// EWSDisabled: EWS refuses and which switch closed it is not known (or none can reopen
	// it: EWS has ended).
	EWSDisabled = "disabled"
)

// ewsWord is how one result of the decision reads: the application connection's status,
// the admin connection's summary, and the detail with the command that reopens EWS. In the
// texts, {mailbox} is the mailbox EWS refused, {client} the client application, {allowed}
// the allow list, {allowed+client} the allow list with the client added, {why} what was
// not known (SwitchUnknown) and {end} the sentence on EWS's end.
type ewsWord struct {
	status, summary, detail string
}

var ewsWords = map[EWSSwitch]ewsWord{
	SwitchEnded: {EWSDisabled, "EWS in Exchange Online has ended",
		"EWS answered 403 Forbidden for {mailbox}: EWS in Exchange Online was switched off for good on " + roles.EWSEnd + ", and no setting reopens it."},
	SwitchOrganization: {EWSDisabledForOrganization, "EWS is turned off for the organization",
		"EWS is turned off for the whole organization (Get-OrganizationConfig: EwsEnabled = False), which also overrides every mailbox's own switch. " +
			"An Exchange administrator reopens it with:\n\n  Set-OrganizationConfig -EwsEnabled $true\n\n{end}"},
	SwitchMailbox: {EWSDisabledForMailbox, "EWS is turned off for the mailbox {mailbox}",
		"EWS is turned off for the mailbox {mailbox} (Get-CASMailbox: EwsEnabled = False); the organization allows it. " +
			"An Exchange administrator reopens it with:\n\n  Set-CASMailbox -Identity '{mailbox}' -EwsEnabled $true\n\n{end}"},
	SwitchAllowList: {EWSAppNotAllowed, "EWS allow list excludes the client application",
		"The organization allows EWS only for the applications in EwsAllowedAppIDs ({allowed}), and the client application {client} is not among them. " +
			"An Exchange administrator adds it with:\n\n  Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs \"{allowed+client}\"\n\n{end}"},
	SwitchOrganizationUnset: {EWSDisabledForOrganization, "EWS is off for the organization (never enabled)",
		"The organization never set EwsEnabled (Get-OrganizationConfig: EwsEnabled is not configured), and Exchange Online's phased disablement, " +
			"from 1 October 2026, treats that as off. An Exchange administrator reopens it with:\n\n  Set-OrganizationConfig -EwsEnabled $true\n\n" +
			"(and, once an allow list is set, -EwsAllowedAppIDs must include {client}). {end}"},
	SwitchUnknown: {EWSDisabled, "Exchange Web Services refused {mailbox}",
		"EWS answered 403 Forbidden for {mailbox}, so a switch closed it: the organization's EwsEnabled, its EwsAllowedAppIDs, or the mailbox's EwsEnabled. " +
			"{why}, so which one is not known. An Exchange administrator can check with Get-OrganizationConfig | fl Ews* and Get-CASMailbox -Identity '{mailbox}' | fl Ews*, " +
			"and open it with Set-OrganizationConfig -EwsEnabled $true (and -EwsAllowedAppIDs including '{client}' when an allow list is set) " +
			"or Set-CASMailbox -Identity '{mailbox}' -EwsEnabled $true. {end}"},
}

const ewsEndSentence = "EWS in Exchange Online is switched off tenant by tenant from 1 October 2026 and for good on " + roles.EWSEnd +
	", so reopening it only lasts until then."

// EWSClosure is what closed EWS for one mailbox: the decision's result and what its words
// need.
type EWSClosure struct {
	Switch  EWSSwitch
	Mailbox string
	// Client is the client application signing in; Allowed the organisation's allow list.
	Client  string
	Allowed []string
	// Why says, for SwitchUnknown, what could not be read or that every switch read allows
	// EWS: a sentence without its full stop.
	Why string
}

func (c EWSClosure) word() ewsWord {
	w, ok := ewsWords[c.Switch]
	if !ok {
		w = ewsWords[SwitchUnknown]
	}
	return w
}

func (c EWSClosure) fill(text string) string {
	allowed := strings.Join(c.Allowed, ",")
	withClient := strings.Join(append(append([]string(nil), c.Allowed...), c.Client), ",")
	return strings.NewReplacer("{mailbox}", c.Mailbox, "{client}", c.Client, "{allowed+client}", withClient, "{allowed}", allowed,
		"{why}", c.Why, "{end}", ewsEndSentence).Replace(text)
}

// Status is the application connection's ews_status.
func (c EWSClosure) Status() string { return c.word().status }

// Summary is one line naming the switch.
func (c EWSClosure) Summary() string { return c.fill(c.word().summary) }

// Detail says what closed EWS and the command that reopens it.
func (c EWSClosure) Detail() string { return c.fill(c.word().detail) }

// closedEWS is the diagnosis after EWS answered 403 for mailbox: it reads the switches with
// the session's admin API as far as the decision needs them (none once EWS has ended, then
// the organisation's, then the mailbox's: two requests at most, only on this path) and
// returns what closed EWS. cannotRead, when set, says why the session may not read them:
// only the end date decides then.
func (s *session) closedEWS(ctx context.Context, mailbox, cannotRead string) EWSClosure {
	c := EWSClosure{Switch: SwitchUnknown, Mailbox: mailbox, Client: s.src.Subject().ClientID}
	in := EWSSwitches{Today: s.env.now(), ClientID: c.Client}
	decided := func() bool {
		sw, ok := in.Decide()
		switch {
		case ok && sw == SwitchNone:
			c.Why = "The organization's and the mailbox's switches allow EWS (EwsEnabled = " + switchText(in.Org) + "; the user-agent allow and block lists were not read)"
		case ok:
			c.Switch = sw
		}
		return ok
	}
	if decided() {
		return c
	}
	if cannotRead != "" {
		c.Why = cannotRead
		return c
	}
	x := s.exchange()
	org, err := x.GetOrganizationConfig(ctx)
	if err != nil || org == nil {
		c.Why = "Reading the organization's switches (Get-OrganizationConfig) failed (" + exchangeRefusal(err) + ")"
		return c
	}
	in.OrgRead, in.Org, in.AllowedAppIDs = true, org.EwsEnabled, org.EwsAllowedAppIDs
	c.Allowed = org.EwsAllowedAppIDs
	if decided() {
		return c
	}
	cas, err := x.GetCASMailbox(ctx, mailbox)
	if err != nil {
		c.Why = "The organization's EwsEnabled is " + switchText(org.EwsEnabled) + ", but reading the mailbox's switch (Get-CASMailbox) failed (" + exchangeRefusal(err) + ")"
		return c
	}
	in.MailboxRead = true
	if cas != nil {
		in.Mailbox = cas.EwsEnabled
	}
	decided()
	return c
}

// switchText is a switch's value as Get-OrganizationConfig shows it.
func switchText(b *bool) string {
	switch {
	case b == nil:
		return "not set"
	case *b:
		return "True"
	}
	return "False"
}

// exchangeRefusal says, briefly, why the admin API did not answer a read of the switches.
func exchangeRefusal(err error) string {
	switch {
	case err == nil:
		return "no answer"
	case exchange.IsNotAllowedToCall(err):
		return "the caller's Exchange role does not include the cmdlet"
	case exchange.IsAccessDenied(err):
		return "access denied"
	}
	if xe, ok := errors.AsType[*exchange.Error](err); ok && xe.StatusCode == http.StatusUnauthorized {
		return "HTTP 401: the application's service principal holds no directory role that Exchange Online accepts for app-only administration (e.g. " +
			roles.ExchangeAdministrator + " or " + roles.GlobalReader + ")"
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
