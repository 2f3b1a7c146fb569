package connection

import (
	"context"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The Exchange application roles of an application connection (RBAC for Applications,
// WIRE.md §J6), read only when the application may read them.

// readExchangeRoles reads the service principal's Exchange application roles with
// Test-ServicePrincipalAuthorization (WIRE.md §J6), naming each unreachable mailbox so the
// answer also says whether a role's scope covers it. The application reads them itself when
// its token allows it, else the spec's Reader does (read only).
func (c *appCheck) readExchangeRoles(ctx context.Context) {
	if c.exoTok == nil {
		if err := c.exchangeToken(ctx); err != nil {
			c.st.ExchangeRolesUnread = "no Exchange Online token: " + err.Error()
			return
		}
	}
	reader := c.s
	if !c.mayManage() {
		reader = c.roleReader(ctx)
		if reader == nil {
			c.st.ExchangeRolesUnread = "the application does not hold " + roles.ManageAsApp().String() + ", so its Exchange application roles (RBAC for Applications) cannot be read"
			return
		}
	}
	var denied []string
	for _, u := range c.st.Unreachable {
		if u.Problem == MailboxDenied {
			denied = append(denied, u.Mailbox)
		}
	}
	first := ""
	if len(denied) > 0 {
		first = denied[0]
	}
	rows, err := c.servicePrincipalAuthorization(ctx, reader, first)
	if err != nil {
		c.st.ExchangeRolesUnread = "Test-ServicePrincipalAuthorization failed: " + err.Error()
		return
	}
	c.exoRolesRead = true
	c.scopes = map[string][]string{}
	for _, r := range rows {
		c.held.ExchangeRoles = append(c.held.ExchangeRoles, r.RoleName)
		c.scopes[r.RoleName] = append(c.scopes[r.RoleName], r.AllowedResourceScope)
	}
	for i, mailbox := range denied {
		if i > 0 {
			if rows, err = c.servicePrincipalAuthorization(ctx, reader, mailbox); err != nil {
				return
			}
		}
		c.classify(mailbox, rows)
	}
}

// classify says why the denied mailbox did not open, from Test-ServicePrincipalAuthorization's
// answer about it: a role that grants mailbox access and covers it is not effective yet; one
// whose scope leaves it out is out of scope; no such role at all leaves it denied (the
// missing role says what to assign).
func (c *appCheck) classify(mailbox string, rows []exchange.ServicePrincipalAuthorization) {
	for i := range c.st.Unreachable {
		u := &c.st.Unreachable[i]
		if u.Mailbox != strings.ToLower(mailbox) || u.Problem != MailboxDenied {
			continue
		}
		// The need whose call was refused: a directory read has no Exchange role to wait for.
		need := u.need(c.spec.Protocol)
		for _, r := range rows {
			if !need.CoveredBy(r.RoleName) {
				continue
			}
			if r.Covers() {
				u.Problem = MailboxNotYetEffective
				break
			}
			u.Problem = MailboxOutOfScope
		}
	}
}

// roleReader is the spec's Reader signed in to the admin API, when it may read the
// application's roles: it holds Exchange.ManageAsApp and signs in to the application's own
// tenant. nil otherwise.
func (c *appCheck) roleReader(ctx context.Context) *session {
	if c.spec.Reader == nil {
		return nil
	}
	s, err := c.s.env.session(c.spec.Cloud, *c.spec.Reader, ManagementAccount)
	if err != nil {
		return nil
	}
	t, err := s.src.Token(ctx, s.cloud.ExchangeScope())
	if err != nil || !strings.EqualFold(t.TenantID, c.st.TenantID) || !containsFold(t.Roles, roles.ManageAsApp().Value) {
		return nil
	}
	return s
}

// servicePrincipalAuthorization is Test-ServicePrincipalAuthorization's answer for the
// application, asked by reader, about resource (a mailbox, or "" for none). The answer
// without a mailbox is the same for every connection of the application, so the process
// asks it once (appRolesCache): concurrent connections wait for the one question in flight.
func (c *appCheck) servicePrincipalAuthorization(ctx context.Context, reader *session, resource string) ([]exchange.ServicePrincipalAuthorization, error) {
	if resource != "" {
		return c.askServicePrincipalAuthorization(ctx, reader, resource)
	}
	key := c.s.cloud.Endpoints.Exchange + "|" + c.st.TenantID + "|" + strings.ToLower(c.spec.Principal.Name)
	return c.s.env.appRoles.do(ctx, key, func() ([]exchange.ServicePrincipalAuthorization, error) {
		return c.askServicePrincipalAuthorization(ctx, reader, "")
	})
}

func (c *appCheck) askServicePrincipalAuthorization(ctx context.Context, reader *session, resource string) ([]exchange.ServicePrincipalAuthorization, error) {
	rows, err := reader.exchange().TestServicePrincipalAuthorization(ctx, c.spec.Principal.Name, resource)
	if exchange.IsNotFound(err) {
		// Exchange knows no service principal for the application (New-ServicePrincipal
		// never ran, §J2): it holds no Exchange application role.
		rows, err = nil, nil
	}
	return rows, err
}

// appRolesCache keeps the Exchange application roles of each application as
// Test-ServicePrincipalAuthorization answered without naming a mailbox: the same for every
// connection of the application, so a plan of many connections reads them once per provider
// process (a process lives for one command, so a change is seen by the next plan). A failed
// read is not kept: the next caller asks again.
type appRolesCache struct {
	mu     sync.Mutex
	m      map[string][]exchange.ServicePrincipalAuthorization
	flight singleflight.Group
}

// do returns the rows kept under key, or asks (once for all concurrent callers of key) and
// keeps a successful answer. A caller whose context ends stops waiting; the question goes on
// for the others.
func (c *appRolesCache) do(ctx context.Context, key string, ask func() ([]exchange.ServicePrincipalAuthorization, error)) ([]exchange.ServicePrincipalAuthorization, error) {
	if rows, ok := c.get(key); ok {
		return rows, nil
	}
	ch := c.flight.DoChan(key, func() (any, error) {
		if rows, ok := c.get(key); ok {
			return rows, nil
		}
		rows, err := ask()
		if err == nil {
			c.put(key, rows)
		}
		return rows, err
	})
	select {
	case r := <-ch:
		rows, _ := r.Val.([]exchange.ServicePrincipalAuthorization)
		return rows, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *appRolesCache) get(key string) ([]exchange.ServicePrincipalAuthorization, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, ok := c.m[key]
	return rows, ok
}

func (c *appRolesCache) put(key string, rows []exchange.ServicePrincipalAuthorization) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]exchange.ServicePrincipalAuthorization{}
	}
	c.m[key] = rows
}
