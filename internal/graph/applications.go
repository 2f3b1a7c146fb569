package graph

// App registrations (WIRE.md §I7–§I11): applications, their secrets and certificates,
// service principals and app-role assignments (admin consent). Every write that Graph does
// not make idempotent (a POST) carries a Recover that reads back what a lost answer may
// have done, so a retry never doubles it.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Application is a Graph application object (§I7): ID is its object id (the path of
// /applications/{id}), AppID its client id.
type Application struct {
	ID                     string                   `json:"id"`
	AppID                  string                   `json:"appId"`
	DisplayName            string                   `json:"displayName"`
	SignInAudience         string                   `json:"signInAudience"`
	Tags                   []string                 `json:"tags"`
	KeyCredentials         []KeyCredential          `json:"keyCredentials"`
	PasswordCredentials    []PasswordCredential     `json:"passwordCredentials"`
	RequiredResourceAccess []RequiredResourceAccess `json:"requiredResourceAccess"`
}

// HasTag reports whether the application carries tag (case-insensitive, as Graph's filter).
func (a Application) HasTag(tag string) bool {
	for _, t := range a.Tags {
		if strings.EqualFold(t, tag) {
			return true
		}
	}
	return false
}

// RequiredResourceAccess is what an application asks for of one resource API; it grants
// nothing (consent is separate, §I9).
type RequiredResourceAccess struct {
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is one app role ("Role") or delegated scope ("Scope") asked for.
type ResourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// KeyCredential is a certificate registered on an application (§I10). Key is the base64
// DER of the public certificate; Graph returns it only when $select-ed.
type KeyCredential struct {
	KeyID               string     `json:"keyId,omitempty"`
	Type                string     `json:"type"`
	Usage               string     `json:"usage"`
	Key                 string     `json:"key,omitempty"`
	DisplayName         string     `json:"displayName,omitempty"`
	CustomKeyIdentifier string     `json:"customKeyIdentifier,omitempty"`
	StartDateTime       *time.Time `json:"startDateTime,omitempty"`
	EndDateTime         *time.Time `json:"endDateTime,omitempty"`
}

// PasswordCredential is a client secret (§I10). SecretText is set only in addPassword's
// answer; it is the secret itself and never leaves the caller except into sensitive state.
type PasswordCredential struct {
	KeyID         string    `json:"keyId"`
	DisplayName   string    `json:"displayName"`
	Hint          string    `json:"hint"`
	SecretText    string    `json:"secretText"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
}

// String never prints the secret.
func (p PasswordCredential) String() string {
	return "PasswordCredential(" + p.KeyID + ", " + p.DisplayName + ", redacted)"
}

// ServicePrincipal is a Graph service principal (§I7): ID is its object id, the principal
// of consents and of Exchange's New-ServicePrincipal -ObjectId.
type ServicePrincipal struct {
	ID             string    `json:"id"`
	AppID          string    `json:"appId"`
	DisplayName    string    `json:"displayName"`
	AccountEnabled *bool     `json:"accountEnabled"`
	AppRoles       []AppRole `json:"appRoles"`
}

// AppRole is one role a resource API offers (§I7); Value is what tokens carry.
type AppRole struct {
	ID                 string   `json:"id"`
	Value              string   `json:"value"`
	DisplayName        string   `json:"displayName"`
	IsEnabled          bool     `json:"isEnabled"`
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
}

// RoleByValue finds the enabled application role of the given value (case-sensitive as
// Entra's values are; a differently cased twin would be another role).
func (sp ServicePrincipal) RoleByValue(value string) (AppRole, bool) {
	for _, r := range sp.AppRoles {
		if r.Value == value && r.IsEnabled {
			for _, t := range r.AllowedMemberTypes {
				if t == "Application" {
					return r, true
				}
			}
		}
	}
	return AppRole{}, false
}

// AppRoleAssignment is a consent: principal PrincipalID holds app role AppRoleID of the
// resource ResourceID (§I9).
type AppRoleAssignment struct {
	ID                  string `json:"id"`
	AppRoleID           string `json:"appRoleId"`
	PrincipalID         string `json:"principalId"`
	PrincipalType       string `json:"principalType"`
	ResourceID          string `json:"resourceId"`
	ResourceDisplayName string `json:"resourceDisplayName"`
}

// NewApplication is what CreateApplication registers. Tag is the identifier the caller
// finds the application again by (a tag no other application carries): a create whose
// answer was lost is recovered by it, never made twice.
type NewApplication struct {
	DisplayName            string
	Tag                    string
	RequiredResourceAccess []RequiredResourceAccess
}

// CreateApplication registers a single-tenant application (POST /applications, §I7). After
// an ambiguous failure it looks for the application by its tag before posting again, and
// returns that one if the first POST did land.
func (c *Client) CreateApplication(ctx context.Context, n NewApplication) (*Application, error) {
	if n.Tag == "" {
		return nil, errors.New("graph: an application needs a tag to be found again")
	}
	body := map[string]any{
		"displayName":    n.DisplayName,
		"signInAudience": "AzureADMyOrg",
		"tags":           []string{n.Tag},
	}
	if len(n.RequiredResourceAccess) > 0 {
		body["requiredResourceAccess"] = n.RequiredResourceAccess
	}
	var created, found *Application
	created = &Application{}
	wasLost := func(ctx context.Context) (bool, error) {
		a, err := c.ApplicationByTag(ctx, n.Tag)
		found = a
		return a != nil, err
	}
	if err := c.send(ctx, http.MethodPost, "/applications", body, created, wasLost); err != nil {
		return nil, err
	}
	if found != nil {
		return found, nil
	}
	return created, nil
}

// applicationSelect is what the client reads of an application; keyCredentials' key is
// returned only when selected.
const applicationSelect = "id,appId,displayName,signInAudience,tags,keyCredentials,passwordCredentials,requiredResourceAccess"

// GetApplication reads an application by object id; (nil, nil) when there is none (404).
func (c *Client) GetApplication(ctx context.Context, id string) (*Application, error) {
	return getOptional[Application](ctx, c, "/applications/"+escapeSegment(id)+"?$select="+applicationSelect)
}

// ListApplications lists the applications matching an OData filter, e.g.
// "appId eq '…'" or "tags/any(t:t eq '…')" (§I7).
func (c *Client) ListApplications(ctx context.Context, filter string) ([]Application, error) {
	q := url.Values{}
	if filter != "" {
		q.Set("$filter", filter)
	}
	q.Set("$select", applicationSelect)
	var out []Application
	err := c.list(ctx, "/applications?"+encodeQuery(q), func(raw json.RawMessage) error {
		var a Application
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// ApplicationByAppID finds the application of a client id; (nil, nil) when there is none.
func (c *Client) ApplicationByAppID(ctx context.Context, appID string) (*Application, error) {
	as, err := c.ListApplications(ctx, "appId eq "+quote(appID))
	if err != nil {
		return nil, err
	}
	for i := range as {
		if strings.EqualFold(as[i].AppID, appID) {
			return &as[i], nil
		}
	}
	return nil, nil
}

// ApplicationByTag finds the application carrying tag; (nil, nil) when there is none. The
// answer is checked client-side, so a server ignoring the filter cannot mislead it.
func (c *Client) ApplicationByTag(ctx context.Context, tag string) (*Application, error) {
	as, err := c.ListApplications(ctx, "tags/any(t:t eq "+quote(tag)+")")
	if err != nil {
		return nil, err
	}
	for i := range as {
		if as[i].HasTag(tag) {
			return &as[i], nil
		}
	}
	return nil, nil
}

// UpdateApplication changes an application's properties (PATCH, 204). A PATCH sets values,
// so repeating it is harmless.
func (c *Client) UpdateApplication(ctx context.Context, id string, props map[string]any) error {
	return c.send(ctx, http.MethodPatch, "/applications/"+escapeSegment(id), props, nil, nil)
}

// SetKeyCredentials replaces the application's certificates with keys (§I10: the list
// replaces the stored one, so a caller keeping others sends them too).
func (c *Client) SetKeyCredentials(ctx context.Context, id string, keys []KeyCredential) error {
	if keys == nil {
		keys = []KeyCredential{}
	}
	return c.UpdateApplication(ctx, id, map[string]any{"keyCredentials": keys})
}

// DeleteApplication deletes an application (204; its service principal goes with it,
// §I11). One that is already gone is what the caller wants.
func (c *Client) DeleteApplication(ctx context.Context, id string) error {
	return c.remove(ctx, "/applications/"+escapeSegment(id))
}

// AddPassword adds a client secret named displayName (unique per call: the caller makes
// it so) valid until end (§I10); the answer's SecretText is the only copy of the secret.
// If that answer is lost, the secret exists but nobody knows it: before posting again the
// client looks for a secret of that name and removes it, so no orphan secret is left.
func (c *Client) AddPassword(ctx context.Context, appObjectID, displayName string, end time.Time) (*PasswordCredential, error) {
	pc := map[string]any{"displayName": displayName}
	if !end.IsZero() {
		pc["endDateTime"] = end.UTC().Format(time.RFC3339)
	}
	lostSecret := func(ctx context.Context) (bool, error) {
		a, err := c.GetApplication(ctx, appObjectID)
		if err != nil || a == nil {
			return false, err
		}
		for _, p := range a.PasswordCredentials {
			if p.DisplayName == displayName {
				if err := c.RemovePassword(ctx, appObjectID, p.KeyID); err != nil {
					return false, err
				}
			}
		}
		return false, nil // post again: the secret's value is needed
	}
	var out PasswordCredential
	p := "/applications/" + escapeSegment(appObjectID) + "/addPassword"
	if err := c.send(ctx, http.MethodPost, p, map[string]any{"passwordCredential": pc}, &out, lostSecret); err != nil {
		return nil, err
	}
	return &out, nil
}

// RemovePassword removes a client secret (204). An unknown key id means it is already gone.
// Removing is the same whichever attempt lands, so a retry after a lost answer is safe: it
// is told so by a Recover that always sends again.
func (c *Client) RemovePassword(ctx context.Context, appObjectID, keyID string) error {
	p := "/applications/" + escapeSegment(appObjectID) + "/removePassword"
	err := c.send(ctx, http.MethodPost, p, map[string]string{"keyId": keyID}, nil, func(context.Context) (bool, error) { return false, nil })
	if IsNotFound(err) {
		return nil
	}
	return err
}

// CreateServicePrincipal creates the application's service principal in the tenant
// (POST /servicePrincipals, §I7). A lost answer is recovered by reading the service
// principal of appID; one that exists already (409) is returned as it is.
func (c *Client) CreateServicePrincipal(ctx context.Context, appID string) (*ServicePrincipal, error) {
	var found *ServicePrincipal
	wasLost := func(ctx context.Context) (bool, error) {
		sp, err := c.ServicePrincipalByAppID(ctx, appID)
		found = sp
		return sp != nil, err
	}
	var created ServicePrincipal
	err := c.send(ctx, http.MethodPost, "/servicePrincipals", map[string]string{"appId": appID}, &created, wasLost)
	if err != nil && IsConflict(err) {
		if sp, ferr := c.ServicePrincipalByAppID(ctx, appID); ferr == nil && sp != nil {
			return sp, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if found != nil {
		return found, nil
	}
	return &created, nil
}

// ServicePrincipalByAppID finds the service principal of a client id, with its appRoles
// (the resource APIs' roles are resolved from them, §I8); (nil, nil) when there is none: a
// resource that is not provisioned in the tenant, or an application without one.
func (c *Client) ServicePrincipalByAppID(ctx context.Context, appID string) (*ServicePrincipal, error) {
	q := url.Values{}
	q.Set("$filter", "appId eq "+quote(appID))
	q.Set("$select", "id,appId,displayName,accountEnabled,appRoles")
	var out *ServicePrincipal
	err := c.list(ctx, "/servicePrincipals?"+encodeQuery(q), func(raw json.RawMessage) error {
		var sp ServicePrincipal
		if err := json.Unmarshal(raw, &sp); err != nil {
			return err
		}
		if out == nil && strings.EqualFold(sp.AppID, appID) {
			out = &sp
		}
		return nil
	})
	return out, err
}

// GetServicePrincipal reads a service principal by object id; (nil, nil) when there is none.
func (c *Client) GetServicePrincipal(ctx context.Context, id string) (*ServicePrincipal, error) {
	return getOptional[ServicePrincipal](ctx, c, "/servicePrincipals/"+escapeSegment(id)+"?$select=id,appId,displayName,accountEnabled,appRoles")
}

// DeleteServicePrincipal removes a service principal (204); one already gone is fine.
func (c *Client) DeleteServicePrincipal(ctx context.Context, id string) error {
	return c.remove(ctx, "/servicePrincipals/"+escapeSegment(id))
}

// ListAppRoleAssignedTo lists the consents on the resource service principal resourceID
// held by principalID. The collection holds every principal's; Graph pages it and the
// client filters by principal (§I9).
func (c *Client) ListAppRoleAssignedTo(ctx context.Context, resourceID, principalID string) ([]AppRoleAssignment, error) {
	var out []AppRoleAssignment
	err := c.list(ctx, "/servicePrincipals/"+escapeSegment(resourceID)+"/appRoleAssignedTo", func(raw json.RawMessage) error {
		var a AppRoleAssignment
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		if strings.EqualFold(a.PrincipalID, principalID) {
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// CreateAppRoleAssignment consents: gives principalID the app role appRoleID of the
// resource resourceID (§I9). After an ambiguous failure it reads the resource's consents
// before posting again; a duplicate ("Permission being assigned already exists") is the
// consent that exists, returned as such.
func (c *Client) CreateAppRoleAssignment(ctx context.Context, resourceID, principalID, appRoleID string) (*AppRoleAssignment, error) {
	find := func(ctx context.Context) (*AppRoleAssignment, error) {
		as, err := c.ListAppRoleAssignedTo(ctx, resourceID, principalID)
		if err != nil {
			return nil, err
		}
		for i := range as {
			if strings.EqualFold(as[i].AppRoleID, appRoleID) {
				return &as[i], nil
			}
		}
		return nil, nil
	}
	body := map[string]string{"principalId": principalID, "resourceId": resourceID, "appRoleId": appRoleID}
	return createFound(ctx, c, "/servicePrincipals/"+escapeSegment(resourceID)+"/appRoleAssignedTo", body, find,
		func(err error, _ bool) bool { return IsAlreadyAssigned(err) })
}

// DeleteAppRoleAssignment revokes a consent (204); one already gone is fine.
func (c *Client) DeleteAppRoleAssignment(ctx context.Context, resourceID, id string) error {
	return c.remove(ctx, "/servicePrincipals/"+escapeSegment(resourceID)+"/appRoleAssignedTo/"+escapeSegment(id))
}

// IsAlreadyAssigned reports Graph's answer to a consent that exists: 400 "Permission being
// assigned already exists on the object." (§I9 ⚠ wording), or a conflict.
func IsAlreadyAssigned(err error) bool {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return false
	}
	return IsConflict(err) || (e.StatusCode == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "already exists"))
}

func (a *Application) malformed() string       { return need("id", a.ID) }
func (sp *ServicePrincipal) malformed() string { return need("id", sp.ID) }
func (a *AppRoleAssignment) malformed() string { return need("id", a.ID) }

// malformed: addPassword's answer is the only copy of the secret, so one without it is no
// answer at all.
func (p *PasswordCredential) malformed() string {
	if m := need("keyId", p.KeyID); m != "" {
		return m
	}
	return need("secretText", p.SecretText)
}

// quote is an OData string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
