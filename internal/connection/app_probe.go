package connection

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
)

// The mailbox probes of an application connection: one request per mailbox, the only calls
// a plan makes when everything works. A refusal is a finding (the mailbox is unreachable),
// not an error; only a failure that says nothing about the mailbox is an error.

// probeGraph opens each mailbox's inbox through Graph (WIRE.md §I12): 403 is a refusal
// (no mail permission, or an RBAC scope without the mailbox), 404 a missing mailbox.
func (c *appCheck) probeGraph(ctx context.Context) error {
	g := c.s.graph()
	for _, m := range c.spec.Mailboxes {
		_, err := g.GetInbox(ctx, m)
		switch {
		case err == nil:
		case graph.IsMailAccessDenied(err) || graph.IsForbidden(err):
			c.unreachable(m, MailboxDenied)
		case graph.IsNoMailbox(err) || graph.IsInvalidUser(err):
			c.unreachable(m, MailboxMissing)
		default:
			return c.s.failed("Cannot open mailbox "+m+" through Microsoft Graph", err.Error(), err)
		}
	}
	return nil
}

// probeEWS opens each mailbox's inbox over EWS as the application, impersonating the
// mailbox (ExchangeImpersonation and X-AnchorMailbox are mandatory app-only, §I13). A bare
// 403 is EWS closed by policy (§K4): the switches are then read, if the application may.
func (c *appCheck) probeEWS(ctx context.Context) error {
	cl := c.s.ews()
	var closed []string
	for _, m := range c.spec.Mailboxes {
		_, err := cl.GetFolder(ctx, m, "inbox")
		switch {
		case err == nil:
		case ews.IsClosed(err):
			c.unreachable(m, MailboxEWSClosed)
			closed = append(closed, m)
		case ews.IsNoMailbox(err):
			c.unreachable(m, MailboxMissing)
		case ews.IsImpersonationDenied(err) || ews.IsAccessDenied(err):
			c.unreachable(m, MailboxDenied)
		case errors.Is(err, ews.ErrUnauthorized):
			return c.s.fail(ProblemEWS, "Exchange Web Services refused application "+c.spec.Principal.Name,
				"EWS answered 401 Unauthorized to the application's token. Exchange Online rejects an app-only token for EWS when the application is unknown to it or the token's audience is not Exchange Online.", err)
		default:
			return c.s.failed("Cannot open mailbox "+m+" over EWS", err.Error(), err)
		}
	}
	c.st.EWSStatus = EWSEnabled
	if len(closed) > 0 {
		c.diagnoseEWS(ctx, closed[0])
	}
	return nil
}

// diagnoseEWS finds which switch closed EWS for mailbox (WIRE.md §K2–K3, the order of the
// decision in §K3): the organisation's EwsEnabled, its EwsAllowedAppIDs against this
// application, then the mailbox's EwsEnabled. It reads them only when the application holds
// Exchange.ManageAsApp (never asking for more rights just to verify); otherwise, or when
// the admin API refuses, the status is "disabled" and the detail says what could not be read.
func (c *appCheck) diagnoseEWS(ctx context.Context, mailbox string) {
	app := c.spec.Principal.Name
	unknown := func(why string) {
		c.st.EWSStatus = EWSDisabled
		c.st.EWSDetail = fmt.Sprintf("EWS answered 403 Forbidden for %s, so a switch closed it: the organization's EwsEnabled, its EwsAllowedAppIDs, or the mailbox's EwsEnabled. "+
			"%s, so which one is not known. An Exchange administrator can check with Get-OrganizationConfig | fl Ews* and Get-CASMailbox -Identity '%s' | fl Ews*, "+
			"and open it with Set-OrganizationConfig -EwsEnabled $true (and -EwsAllowedAppIDs including '%s' when an allow list is set) or Set-CASMailbox -Identity '%s' -EwsEnabled $true. %s",
			mailbox, why, mailbox, app, mailbox, ewsEndNote)
	}
	if !c.mayManage() {
		unknown("The application does not hold Exchange.ManageAsApp, so it may not read these switches (it is never given admin rights just to verify)")
		return
	}
	x := c.s.exchange()
	org, err := x.GetOrganizationConfig(ctx)
	if err != nil || org == nil {
		unknown("Reading the organization's switches failed (" + exchangeRefusal(err) + ")")
		return
	}
	switch {
	case org.EwsEnabled != nil && !*org.EwsEnabled:
		c.st.EWSStatus = EWSDisabledForOrganization
		c.st.EWSDetail = "EWS is disabled for the whole organization (Get-OrganizationConfig: EwsEnabled = False). An Exchange administrator can open it with: Set-OrganizationConfig -EwsEnabled $true. " + ewsEndNote
		return
	case org.EwsEnabled != nil && *org.EwsEnabled && len(org.EwsAllowedAppIDs) > 0 && !hasValue(org.EwsAllowedAppIDs, app):
		c.st.EWSStatus = EWSAppNotAllowed
		list := append(append([]string{}, org.EwsAllowedAppIDs...), app)
		c.st.EWSDetail = fmt.Sprintf("The organization allows EWS only for the applications in EwsAllowedAppIDs, and %s is not among them. An Exchange administrator can add it with: "+
			"Set-OrganizationConfig -EwsEnabled $true -EwsAllowedAppIDs \"%s\". %s", app, strings.Join(list, ","), ewsEndNote)
		return
	}
	cas, err := x.GetCASMailbox(ctx, mailbox)
	if err != nil {
		unknown("The organization's EwsEnabled is " + orgValue(org.EwsEnabled) + ", but reading the mailbox's switch failed (" + exchangeRefusal(err) + ")")
		return
	}
	if cas != nil && cas.EwsEnabled != nil && !*cas.EwsEnabled {
		c.st.EWSStatus = EWSDisabledForMailbox
		c.st.EWSDetail = fmt.Sprintf("EWS is disabled for the mailbox %s (Get-CASMailbox: EwsEnabled = False). An Exchange administrator can open it with: Set-CASMailbox -Identity '%s' -EwsEnabled $true. %s",
			mailbox, mailbox, ewsEndNote)
		return
	}
	if org.EwsEnabled == nil {
		// Not configured counts as false once Microsoft's phased disablement reached the
		// tenant (from 1 Oct 2026, §K2).
		c.st.EWSStatus = EWSDisabledForOrganization
		c.st.EWSDetail = "EWS is not configured for the organization (EwsEnabled is not set), which Exchange Online treats as disabled since its phased switch-off (from 1 October 2026). " +
			"An Exchange administrator can open it with: Set-OrganizationConfig -EwsEnabled $true. " + ewsEndNote
		return
	}
	unknown("The organization's and the mailbox's switches allow EWS (EwsEnabled = " + orgValue(org.EwsEnabled) + "; the user-agent lists are not read)")
}

const ewsEndNote = "EWS ends in Exchange Online on 1 April 2027; Microsoft Graph (protocol \"graph\") is the lasting path."

func orgValue(b *bool) string {
	if b == nil {
		return "not set"
	}
	if *b {
		return "True"
	}
	return "False"
}

// exchangeRefusal says, briefly, why the admin API did not answer.
func exchangeRefusal(err error) string {
	switch {
	case err == nil:
		return "no answer"
	case exchange.IsNotAllowedToCall(err):
		return "the application's Exchange role does not include the cmdlet"
	case exchange.IsAccessDenied(err):
		return "access denied"
	}
	var xe *exchange.Error
	if errors.As(err, &xe) && xe.StatusCode == 401 {
		return "HTTP 401: the application's service principal holds no directory role that Exchange Online accepts for app-only administration (e.g. Exchange Administrator or Global Reader)"
	}
	return err.Error()
}
