package exchange

// RBAC for Applications (WIRE.md §J): the Exchange pointer to an Entra service principal,
// management scopes, and application role assignments limited to a scope. The New-*
// cmdlets are not idempotent: each carries a Recover that reads back what a lost answer may
// have done, so a retry never makes a second object.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ServicePrincipal is Exchange's pointer to an Entra service principal (§J2). ObjectID is
// the Entra service principal's object id, AppID its client id.
type ServicePrincipal struct {
	Identity    string `json:"Identity"`
	Name        string `json:"Name"`
	DisplayName string `json:"DisplayName"`
	AppID       string `json:"AppId"`
	ObjectID    string `json:"ObjectId"`
}

// NewServicePrincipal creates the pointer of the Entra service principal objectID of
// application appID (§J2: ObjectId, not the deprecated ServiceId). A lost answer is
// recovered by reading the pointer of appID; a pointer that exists already is returned.
func (c *Client) NewServicePrincipal(ctx context.Context, appID, objectID, displayName string) (*ServicePrincipal, error) {
	var found *ServicePrincipal
	params := map[string]any{"AppId": appID, "ObjectId": objectID}
	if displayName != "" {
		params["DisplayName"] = displayName
	}
	cmd := command{name: "New-ServicePrincipal", params: params, recoverLost: func(ctx context.Context) (bool, error) {
		sp, err := c.GetServicePrincipal(ctx, appID)
		found = sp
		return sp != nil, err
	}}
	vs, _, err := c.invoke(ctx, cmd)
	if IsAlreadyExists(err) {
		// ⚠ the exception type of a second pointer is unconfirmed (§J2); read what exists.
		if sp, gerr := c.GetServicePrincipal(ctx, appID); gerr == nil && sp != nil {
			return sp, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if found != nil {
		return found, nil
	}
	if sp, err := servicePrincipalOf(vs, appID); err != nil || sp != nil {
		return sp, err
	}
	return c.GetServicePrincipal(ctx, appID)
}

// GetServicePrincipal reads the pointer of an application (its client id); nil when there
// is none. Microsoft warns that an unknown Identity returns every pointer (§J2), so the
// answer is filtered by AppId here and a non-empty result is never trusted on its own.
func (c *Client) GetServicePrincipal(ctx context.Context, appID string) (*ServicePrincipal, error) {
	vs, _, err := c.invoke(ctx, command{name: "Get-ServicePrincipal", params: map[string]any{"Identity": appID}, idempotent: true})
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return servicePrincipalOf(vs, appID)
}

// RemoveServicePrincipal removes a pointer by identity (its ObjectId or AppId); one that
// is already gone is what the caller wants.
func (c *Client) RemoveServicePrincipal(ctx context.Context, identity string) error {
	_, _, err := c.invoke(ctx, command{name: "Remove-ServicePrincipal", params: map[string]any{"Identity": identity, "Confirm": false}, idempotent: true})
	if IsNotFound(err) {
		return nil
	}
	return err
}

func decodeServicePrincipals(vs []json.RawMessage) ([]ServicePrincipal, error) {
	out := make([]ServicePrincipal, 0, len(vs))
	for _, v := range vs {
		var sp ServicePrincipal
		if err := json.Unmarshal(v, &sp); err != nil {
			return nil, fmt.Errorf("exchange: decoding a service principal: %w", err)
		}
		out = append(out, sp)
	}
	return out, nil
}

// ManagementScope is a recipient scope (§J3). RecipientFilter is the stored OPATH filter.
type ManagementScope struct {
	Name                 string `json:"Name"`
	Identity             string `json:"Identity"`
	RecipientFilter      string `json:"RecipientFilter"`
	ScopeRestrictionType string `json:"ScopeRestrictionType"`
}

// NewManagementScope creates a recipient scope named name (at most 64 characters) with an
// OPATH filter (§J3). A lost answer is recovered by looking the name up. An existing scope
// of that name gives IsAlreadyExists.
func (c *Client) NewManagementScope(ctx context.Context, name, recipientFilter string) (*ManagementScope, error) {
	return newNamed(ctx, c, "New-ManagementScope", map[string]any{"Name": name, "RecipientRestrictionFilter": recipientFilter},
		func(ctx context.Context) (*ManagementScope, error) { return c.GetManagementScope(ctx, name) }, "a management scope")
}

// GetManagementScope reads a scope by name; nil when there is none.
func (c *Client) GetManagementScope(ctx context.Context, name string) (*ManagementScope, error) {
	return getNamed(ctx, c, "Get-ManagementScope", name, func(sc *ManagementScope) string { return sc.Name }, "a management scope")
}

// SetManagementScopeFilter changes a scope's recipient filter (Set-ManagementScope, §J3).
// Setting a value is the same however often it is done.
func (c *Client) SetManagementScopeFilter(ctx context.Context, name, recipientFilter string) error {
	_, _, err := c.invoke(ctx, command{name: "Set-ManagementScope", idempotent: true,
		params: map[string]any{"Identity": name, "RecipientRestrictionFilter": recipientFilter}})
	return err
}

// RemoveManagementScope removes a scope; one already gone is fine. A scope still used by
// an assignment is refused by Exchange (§J3 ⚠): remove the assignments first.
func (c *Client) RemoveManagementScope(ctx context.Context, name string) error {
	_, _, err := c.invoke(ctx, command{name: "Remove-ManagementScope", params: map[string]any{"Identity": name, "Confirm": false}, idempotent: true})
	if IsNotFound(err) {
		return nil
	}
	return err
}

// AppRoleAssignment is an application role assignment of a service principal (§J5): the
// bag of §E3 with RoleAssigneeType ServicePrincipal and the scope it is limited to.
type AppRoleAssignment struct {
	RoleAssignment
	// CustomResourceScope is the management scope ("" organization-wide).
	CustomResourceScope string
}

// UnmarshalJSON reads the §E3 bag and the scope.
func (a *AppRoleAssignment) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &a.RoleAssignment); err != nil {
		return err
	}
	var s struct {
		CustomResourceScope *string `json:"CustomResourceScope"`
	}
	if json.Unmarshal(b, &s) == nil && s.CustomResourceScope != nil {
		a.CustomResourceScope = *s.CustomResourceScope
	}
	return nil
}

// NewAppRoleAssignment assigns the application role role to the service principal
// spObjectID (§J5: -App takes the pointer's ObjectId), limited to the management scope
// (organization-wide when ""), under name (at most 64 characters). A lost answer is
// recovered by looking the name up; an assignment of that name gives IsAlreadyExists.
func (c *Client) NewAppRoleAssignment(ctx context.Context, role, spObjectID, scope, name string) (*AppRoleAssignment, error) {
	params := map[string]any{"Role": role, "App": spObjectID, "Name": name}
	if scope != "" {
		params["CustomResourceScope"] = scope
	}
	return newNamed(ctx, c, "New-ManagementRoleAssignment", params,
		func(ctx context.Context) (*AppRoleAssignment, error) { return c.getAppRoleAssignment(ctx, name) }, "a role assignment")
}

func (c *Client) getAppRoleAssignment(ctx context.Context, name string) (*AppRoleAssignment, error) {
	return getNamed(ctx, c, "Get-ManagementRoleAssignment", name, func(a *AppRoleAssignment) string { return a.Name }, "a role assignment")
}

// newNamed runs a New-* cmdlet (params) whose object is found again by its name through
// get: a lost answer is recovered by get, so a retry never makes a second object, and an
// answer without the object is read back with get. what names the object in a decoding error.
func newNamed[T any](ctx context.Context, c *Client, cmdlet string, params map[string]any, get func(context.Context) (*T, error), what string) (*T, error) {
	var found *T
	cmd := command{name: cmdlet, params: params, recoverLost: func(ctx context.Context) (bool, error) {
		v, err := get(ctx)
		found = v
		return v != nil, err
	}}
	vs, _, err := c.invoke(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if found != nil {
		return found, nil
	}
	if len(vs) == 0 {
		return get(ctx)
	}
	var v T
	if err := json.Unmarshal(vs[0], &v); err != nil {
		return nil, fmt.Errorf("exchange: decoding %s: %w", what, err)
	}
	return &v, nil
}

// getNamed reads an object by name with a Get-* cmdlet (-Identity name) and returns the one
// whose nameOf matches name (case-insensitively); nil when there is none.
func getNamed[T any](ctx context.Context, c *Client, cmdlet, name string, nameOf func(*T) string, what string) (*T, error) {
	vs, _, err := c.invoke(ctx, command{name: cmdlet, params: map[string]any{"Identity": name}, idempotent: true})
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, fmt.Errorf("exchange: decoding %s: %w", what, err)
		}
		if strings.EqualFold(nameOf(&x), name) {
			return &x, nil
		}
	}
	return nil, nil
}

// GetAppRoleAssignments lists the role assignments of the service principal spObjectID
// (Get-ManagementRoleAssignment -RoleAssignee, §J5). -RoleAssigneeType has no
// ServicePrincipal value, so the answer is filtered here by assignee type and id.
func (c *Client) GetAppRoleAssignments(ctx context.Context, spObjectID string) ([]AppRoleAssignment, error) {
	vs, _, err := c.invoke(ctx, command{name: "Get-ManagementRoleAssignment", params: map[string]any{"RoleAssignee": spObjectID}, idempotent: true})
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []AppRoleAssignment
	for _, v := range vs {
		var a AppRoleAssignment
		if err := json.Unmarshal(v, &a); err != nil {
			return nil, fmt.Errorf("exchange: decoding a role assignment: %w", err)
		}
		if strings.EqualFold(a.RoleAssigneeType, "ServicePrincipal") && strings.EqualFold(a.RoleAssignee, spObjectID) {
			out = append(out, a)
		}
	}
	return out, nil
}

// IsInvalidParameter: the cmdlet refused a parameter's value (ParameterBindingException,
// e.g. a recipient filter outside OPATH, §J3; DataValidationException, e.g. a name longer
// than 64 characters).
func IsInvalidParameter(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && hasType(e, "ParameterBindingException", "DataValidationException")
}

// servicePrincipalOf decodes a cmdlet's pointers and returns the one of application appID
// (its client id); nil when there is none among them.
func servicePrincipalOf(vs []json.RawMessage, appID string) (*ServicePrincipal, error) {
	sps, err := decodeServicePrincipals(vs)
	if err != nil {
		return nil, err
	}
	for i := range sps {
		if strings.EqualFold(sps[i].AppID, appID) {
			return &sps[i], nil
		}
	}
	return nil, nil
}
