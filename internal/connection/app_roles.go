package connection

import (
	"context"
	"strings"
	"sync"

	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// The Exchange application roles of an application connection (RBAC for Applications,
// WIRE.md §J6), read only when the application may read them.

// readExchangeRoles reads the service principal's Exchange application roles with
// Test-ServicePrincipalAuthorization (WIRE.md §J6), naming the first unreachable mailbox so
// the answer also says whether a role's scope covers it. Only when the token allows it.
func (c *appCheck) readExchangeRoles(ctx context.Context) {
	if c.exoTok == nil {
		if err := c.exchangeToken(ctx); err != nil {
			c.st.ExchangeRolesUnread = "no Exchange Online token: " + err.Error()
			return
		}
	}
	if !c.mayManage() {
		c.st.ExchangeRolesUnread = "the application does not hold " + roles.ManageAsApp().String() + ", so its Exchange application roles (RBAC for Applications) cannot be read"
		return
	}
	resource := ""
	for _, u := range c.st.Unreachable {
		if u.Problem == MailboxDenied {
			resource = u.Mailbox
			break
		}
	}
	rows, err := c.servicePrincipalAuthorization(ctx, resource)
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
	if resource == "" || len(rows) == 0 {
		return
	}
	for i := range c.st.Unreachable {
		if c.st.Unreachable[i].Mailbox == strings.ToLower(resource) {
			c.st.Unreachable[i].Problem = MailboxOutOfScope
			if c.coversMailbox(rows) {
				c.st.Unreachable[i].Problem = MailboxNotYetEffective
			}
		}
	}
}

// servicePrincipalAuthorization is Test-ServicePrincipalAuthorization's answer for the
// application, about resource (a mailbox, or "" for none). The answer without a mailbox is
// the same for every connection of the application, so the process asks it once
// (appRolesCache).
func (c *appCheck) servicePrincipalAuthorization(ctx context.Context, resource string) ([]exchange.ServicePrincipalAuthorization, error) {
	key := c.s.cloud.Endpoints.Exchange + "|" + c.st.TenantID + "|" + strings.ToLower(c.spec.Principal.Name)
	if rows, cached := c.s.env.appRoles.get(key); cached && resource == "" {
		return rows, nil
	}
	rows, err := c.s.exchange().TestServicePrincipalAuthorization(ctx, c.spec.Principal.Name, resource)
	if exchange.IsNotFound(err) {
		// Exchange knows no service principal for the application (New-ServicePrincipal
		// never ran, §J2): it holds no Exchange application role.
		rows, err = nil, nil
	}
	if err == nil && resource == "" {
		c.s.env.appRoles.put(key, rows)
	}
	return rows, err
}

// coversMailbox reports whether a role in scope of the tested mailbox grants the protocol's
// mailbox access (a role for contacts alone does not open the inbox).
func (c *appCheck) coversMailbox(rows []exchange.ServicePrincipalAuthorization) bool {
	need := roles.MailboxNeed(c.spec.Protocol)
	for _, r := range rows {
		if r.Covers() && need.CoveredBy(r.RoleName) {
			return true
		}
	}
	return false
}

// appRolesCache keeps the Exchange application roles of each application as
// Test-ServicePrincipalAuthorization answered without naming a mailbox: the same for every connection of the
// application, so a plan of many connections reads them once per provider process (a
// process lives for one command, so a change is seen by the next plan).
type appRolesCache struct {
	mu sync.Mutex
	m  map[string][]exchange.ServicePrincipalAuthorization
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
