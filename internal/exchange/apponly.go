package exchange

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The cmdlets an application connection reads (WIRE.md §J1, §J6, §K1–K3). An app-only
// session is anchored with AppAnchor; its right to call a cmdlet comes from the directory
// role or Exchange role group of its service principal, and a cmdlet outside them answers
// 401 "… is not allowed to call …" (IsNotAllowedToCall).

// IsNotAllowedToCall reports the admin API's answer to a principal whose role does not
// include the cmdlet: HTTP 401 Unauthorized "User is not allowed to call Get-Mailbox" (the
// text says "User" even for an application, §J1). A 401 for a bad token reads differently,
// so the text decides here: it is the only thing that tells the two apart.
func IsNotAllowedToCall(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.StatusCode == http.StatusUnauthorized && strings.Contains(strings.ToLower(e.Text), "not allowed to call")
}

// OrganizationConfig holds the organisation's EWS switches (§K2). A nil bool is "not
// configured" (EwsEnabled null is treated as true today, and is switched to false tenant
// by tenant from 1 Oct 2026).
type OrganizationConfig struct {
	EwsEnabled *bool
	// EwsAllowedAppIDs, when EwsEnabled is true and the list is set, are the only
	// applications (token appid) that may use EWS.
	EwsAllowedAppIDs           []string
	EwsApplicationAccessPolicy string // EnforceAllowList, EnforceBlockList or ""
	EwsAllowList, EwsBlockList []string
}

// organizationConfigSelect is what Get-OrganizationConfig is asked for (§K2 $select).
var organizationConfigSelect = []string{"EwsEnabled", "EwsAllowedAppIDs", "EwsApplicationAccessPolicy", "EwsAllowList", "EwsBlockList"}

// GetOrganizationConfig reads the organisation's EWS switches (§K2). EwsAllowedAppIDs is
// only returned with RetrieveEwsOperationAccessPolicy, so it is always asked for.
func (c *Client) GetOrganizationConfig(ctx context.Context) (*OrganizationConfig, error) {
	vs, err := c.read(ctx, command{name: "Get-OrganizationConfig", params: map[string]any{"RetrieveEwsOperationAccessPolicy": true}, selected: organizationConfigSelect})
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	m := vs[0]
	return &OrganizationConfig{
		EwsEnabled: m.boolean("EwsEnabled"), EwsAllowedAppIDs: m.strs("EwsAllowedAppIDs"),
		EwsApplicationAccessPolicy: m.str("EwsApplicationAccessPolicy"),
		EwsAllowList:               m.strs("EwsAllowList"), EwsBlockList: m.strs("EwsBlockList"),
	}, nil
}

// CASMailbox holds a mailbox's EWS switch (§K3). EwsEnabled is true by default; false
// blocks EWS for the mailbox (counted only when the organisation's switch is not false).
type CASMailbox struct {
	EwsEnabled                 *bool
	EwsApplicationAccessPolicy string
	EwsAllowList, EwsBlockList []string
}

// GetCASMailbox reads the EWS switch of one mailbox (§K3); nil when there is no such
// mailbox (ManagementObjectNotFoundException).
func (c *Client) GetCASMailbox(ctx context.Context, identity string) (*CASMailbox, error) {
	vs, err := c.read(ctx, command{name: "Get-CASMailbox", params: map[string]any{"Identity": identity},
		selected: []string{"EwsEnabled", "EwsApplicationAccessPolicy", "EwsAllowList", "EwsBlockList"}})
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	m := vs[0]
	return &CASMailbox{EwsEnabled: m.boolean("EwsEnabled"), EwsApplicationAccessPolicy: m.str("EwsApplicationAccessPolicy"),
		EwsAllowList: m.strs("EwsAllowList"), EwsBlockList: m.strs("EwsBlockList")}, nil
}

// ServicePrincipalAuthorization is one application role of a service principal as
// Test-ServicePrincipalAuthorization reports it for a mailbox (§J6). It sees only Exchange's
// RBAC for Applications: Entra consents and EWS switches are not part of it.
type ServicePrincipalAuthorization struct {
	RoleName             string // e.g. Application Mail.ReadWrite
	GrantedPermissions   string // e.g. Mail.ReadWrite
	AllowedResourceScope string // the scope's name, an administrative unit, or Organization
	ScopeType            string // CustomRecipientScope, AdministrativeUnit, Organization
	// InScope is "True", "False", or "Not Run" when no mailbox was named.
	InScope string
}

// Covers reports whether the role's scope includes the mailbox that was tested.
func (a ServicePrincipalAuthorization) Covers() bool { return strings.EqualFold(a.InScope, "true") }

// TestServicePrincipalAuthorization reports, per application role of the service principal
// identity (its name, GUID, app id or object id), whether the role covers mailbox (§J6).
// Exchange's permission cache does not delay it.
func (c *Client) TestServicePrincipalAuthorization(ctx context.Context, identity, mailbox string) ([]ServicePrincipalAuthorization, error) {
	params := map[string]any{"Identity": identity}
	if mailbox != "" {
		params["Resource"] = mailbox
	}
	vs, err := c.read(ctx, command{name: "Test-ServicePrincipalAuthorization", params: params})
	if err != nil {
		return nil, err
	}
	out := make([]ServicePrincipalAuthorization, 0, len(vs))
	for _, m := range vs {
		a := ServicePrincipalAuthorization{RoleName: m.str("RoleName"), GrantedPermissions: strings.Join(m.strs("GrantedPermissions"), ","),
			AllowedResourceScope: m.str("AllowedResourceScope"), ScopeType: m.str("ScopeType"), InScope: m.str("InScope")}
		if b := m.boolean("InScope"); b != nil {
			a.InScope = map[bool]string{true: "True", false: "False"}[*b] // the type is ⚠ (§J6): bool or string
		}
		out = append(out, a)
	}
	return out, nil
}

// ManagementRole is a management role as Get-ManagementRole lists it (§K1).
type ManagementRole struct {
	Name     string
	RoleType string
}

// GetManagementRoles lists the roles matching identity (a name, or a pattern like
// "Application*"); none when no role matches (ManagementObjectNotFoundException), which is
// what a tenant where ApplicationImpersonation was retired answers for it (§K1).
func (c *Client) GetManagementRoles(ctx context.Context, identity string) ([]ManagementRole, error) {
	vs, err := c.read(ctx, command{name: "Get-ManagementRole", params: map[string]any{"Identity": identity}})
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]ManagementRole, 0, len(vs))
	for _, m := range vs {
		out = append(out, ManagementRole{Name: m.str("Name"), RoleType: m.str("RoleType")})
	}
	return out, nil
}

// read runs a reading cmdlet (idempotent, so repeated after a lost connection) and decodes
// its objects as property bags.
func (c *Client) read(ctx context.Context, cmd command) ([]bag, error) {
	cmd.idempotent = true
	vs, _, err := c.invoke(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out := make([]bag, 0, len(vs))
	for _, v := range vs {
		m, err := decodeBag(v)
		if err != nil {
			return nil, fmt.Errorf("exchange %s: decoding an object: %w", cmd.name, err)
		}
		out = append(out, m)
	}
	return out, nil
}
