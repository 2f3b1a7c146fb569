package connection

import (
	"context"
	"errors"
	"net/http"

	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
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

// probeGraphImport proves, per mailbox, that the application may import into it through
// Graph's mailbox import and export API, changing nothing (WIRE.md §M5.2): the mailbox id
// (settings/exchange), one folder's id, and an import session, whose upload URL the client
// discards unused. Three requests per mailbox. Its error bodies are undocumented (§M2.10), so
// only the status tells: 403 is a refusal of the step's permission (or of an RBAC scope
// without the mailbox), 404 a user or mailbox that does not exist.
func (c *appCheck) probeGraphImport(ctx context.Context) error {
	g := c.s.graph()
	for _, m := range c.spec.Mailboxes {
		need, err := importProbe(ctx, g, m)
		switch graph.Status(err) {
		case 0:
			if err != nil {
				return c.s.failed("Cannot verify mailbox "+m+" through Microsoft Graph's mailbox import API", err.Error(), err)
			}
		case http.StatusForbidden:
			c.refused(m, need)
		case http.StatusNotFound:
			c.unreachable(m, MailboxMissing)
		default:
			return c.s.failed("Cannot verify mailbox "+m+" through Microsoft Graph's mailbox import API", err.Error(), err)
		}
	}
	return nil
}

// importProbe runs the three steps for mailbox and returns the error of the first that
// fails, with the need that step exercises.
func importProbe(ctx context.Context, g *graph.Client, mailbox string) (roles.Need, error) {
	id, err := g.GetPrimaryMailboxID(ctx, mailbox)
	if err != nil {
		return roles.ResolveUsersNeed(), err
	}
	if err := g.ProbeMailboxFolders(ctx, id); err != nil {
		return roles.ImportFoldersNeed(), err
	}
	_, err = g.CreateImportSession(ctx, id)
	return roles.MailboxNeed(roles.ProtocolGraphImport), err
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

// diagnoseEWS finds which switch closed EWS for mailbox (ews_switches.go). The application
// reads the switches only when it holds Exchange.ManageAsApp (it is never given more rights
// just to verify); otherwise, or when the admin API refuses, the status is "disabled" and
// the detail says what could not be read.
func (c *appCheck) diagnoseEWS(ctx context.Context, mailbox string) {
	cannotRead := ""
	if !c.mayManage() {
		cannotRead = "The application does not hold " + roles.ManageAsApp().Value + ", so it may not read these switches (it is never given admin rights just to verify)"
	}
	closure := c.s.closedEWS(ctx, mailbox, cannotRead)
	c.st.EWSStatus, c.st.EWSDetail = closure.Status(), closure.Detail()
}
