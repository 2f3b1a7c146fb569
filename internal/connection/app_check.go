package connection

import (
	"context"
	"sort"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// One check of an application connection: the tokens, the probes (app_probe.go), the
// Exchange application roles (app_roles.go), and the permissions granted and missing.

// appCheck is one run of CheckApp.
type appCheck struct {
	s    *session
	spec AppSpec
	st   *AppStatus

	exoTok *identity.Token
	held   roles.Held
	// exoRolesRead: Exchange application roles were read (Test-ServicePrincipalAuthorization).
	exoRolesRead bool
	scopes       map[string][]string // role → scopes, from Test-ServicePrincipalAuthorization
}

func (c *appCheck) opts() roles.AppOptions {
	return roles.AppOptions{Protocol: c.spec.Protocol, Scoped: len(c.held.ExchangeRoles) > 0}
}

func (c *appCheck) run(ctx context.Context) error {
	s := c.s
	// Graph first: directory permissions (User.Read.All) are Graph's on both protocols.
	gt, err := s.src.Token(ctx, s.cloud.GraphScope())
	if err != nil {
		return signInError(s, err)
	}
	c.st.TenantID = gt.TenantID
	c.held = roles.Held{AppRoles: map[string][]string{roles.MicrosoftGraph.AppID: gt.Roles}}
	ews := c.spec.Protocol == roles.ProtocolEWS
	if ews || !c.entraCovers() {
		// EWS, and the admin API that reads Exchange application roles, take an Exchange
		// Online token; a Graph application whose consents cover everything never needs one.
		if err := c.exchangeToken(ctx); err != nil {
			return err
		}
	}
	switch c.spec.Protocol {
	case roles.ProtocolEWS:
		err = c.probeEWS(ctx)
	case roles.ProtocolGraphImport:
		err = c.probeGraphImport(ctx)
	default:
		err = c.probeGraph(ctx)
	}
	if err != nil {
		return err
	}
	if !c.entraCovers() || len(c.st.Unreachable) > 0 {
		c.readExchangeRoles(ctx)
	}
	c.permissions()
	c.explainUnreachable()
	return nil
}

func (c *appCheck) exchangeToken(ctx context.Context) error {
	if c.exoTok != nil {
		return nil
	}
	t, err := c.s.signIn(ctx)
	if err != nil {
		return err
	}
	c.exoTok = &t
	c.held.AppRoles[roles.ExchangeOnline.AppID] = t.Roles
	return nil
}

// entraCovers reports whether the consented application permissions alone cover every need.
func (c *appCheck) entraCovers() bool {
	for _, n := range roles.ApplicationNeeds(roles.AppOptions{Protocol: c.spec.Protocol}) {
		if !containsFold(c.held.AppRoles[n.Entra.API.AppID], n.Entra.Value) {
			return false
		}
	}
	return true
}

// mayManage reports whether the Exchange token carries Exchange.ManageAsApp, without which
// the admin API refuses the application (WIRE.md §J1): the provider then never calls it.
func (c *appCheck) mayManage() bool {
	return c.exoTok != nil && containsFold(c.exoTok.Roles, roles.ManageAsApp().Value)
}

// permissions computes granted and missing from what was read (WIRE.md §I4, §J6).
func (c *appCheck) permissions() {
	o := c.opts()
	granted, missing := roles.Missing(o, c.held)
	c.st.Granted = granted
	if c.exoRolesRead && c.scope() != "" {
		c.st.ScopeBypassed = scopeBypasses(c.held, c.spec.Principal.Name)
	}
	// An application granted its mailbox data by Exchange application roles it may not read
	// shows no such permission in its token; when every mailbox opened, that is what it
	// evidently holds: unconfirmed, never reported as missing.
	mailbox := roles.MailboxNeed(c.spec.Protocol).Entra
	mailOK := len(c.st.Unreachable) == 0 && !c.exoRolesRead && !containsFold(c.held.AppRoles[mailbox.API.AppID], mailbox.Value)
	scope := c.scope()
	for _, m := range missing {
		n, _ := roles.LookupGrant(m)
		if mailOK && n.Exchange != nil {
			c.st.Unconfirmed = append(c.st.Unconfirmed, n.Exchange.String())
			continue
		}
		c.st.Missing = append(c.st.Missing, m)
		g := roles.Grant{Kind: roles.ApplicationPermission, Permission: n.Entra, Purpose: n.Purpose}
		if o.Scoped && n.Exchange != nil {
			g = roles.Grant{Kind: roles.ExchangeApplicationRole, Role: n.Exchange, Purpose: n.Purpose}
			c.st.MissingFixes[m] = g.GrantCommand(c.spec.Principal.Name, scope)
			continue
		}
		c.st.MissingFixes[m] = g.GrantCommand(c.spec.Principal.Name, "")
	}
}

// scope is the management scope the application's Exchange roles use (the first by role
// name, "" when they are organization-wide), for the command that grants a missing role.
func (c *appCheck) scope() string {
	names := make([]string, 0, len(c.scopes))
	for r := range c.scopes {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		for _, s := range c.scopes[r] {
			if s != "" && !strings.EqualFold(s, "Organization") {
				return s
			}
		}
	}
	return ""
}

func (c *appCheck) unreachable(mailbox string, p MailboxProblem) {
	c.st.Unreachable = append(c.st.Unreachable, Unreachable{Mailbox: strings.ToLower(mailbox), Problem: p})
}

// refused records a mailbox denied by the call that needs n.
func (c *appCheck) refused(mailbox string, n roles.Need) {
	c.st.Unreachable = append(c.st.Unreachable, Unreachable{Mailbox: strings.ToLower(mailbox), Problem: MailboxDenied, refused: &n})
}
