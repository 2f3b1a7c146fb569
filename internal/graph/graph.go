// Package graph is a small Microsoft Graph v1.0 client: the calls the provider makes to read
// users, the organization and directory role assignments, and to assign or revoke directory
// roles (WIRE.md §C).
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// TokenSource returns a bearer token for Graph (scope https://graph.microsoft.com/.default).
type TokenSource func(ctx context.Context) (string, error)

// maxBody bounds what is read of any response.
const maxBody = 16 << 20

// Client calls Graph. It is safe for concurrent use.
type Client struct {
	base  string // e.g. https://graph.microsoft.com/v1.0
	hc    *http.Client
	token TokenSource
	retry transport.Policy
}

// New returns a client for the Graph host baseURL ("https://graph.microsoft.com", or the
// national cloud's or emulator's host); the v1.0 segment is added here.
func New(baseURL string, hc *http.Client, token TokenSource, retry transport.Policy) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/") + "/v1.0", hc: hc, token: token, retry: retry}
}

type User struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	Mail              string `json:"mail"`
	AccountEnabled    *bool  `json:"accountEnabled"`
}

type Domain struct {
	Name         string `json:"name"`
	IsInitial    bool   `json:"isInitial"`
	IsDefault    bool   `json:"isDefault"`
	Type         string `json:"type"`
	Capabilities string `json:"capabilities"`
}

type Organization struct {
	ID              string   `json:"id"`
	DisplayName     string   `json:"displayName"`
	VerifiedDomains []Domain `json:"verifiedDomains"`
}

// InitialDomain returns the *.onmicrosoft.com domain (isInitial, WIRE.md §C2), or "".
func (o *Organization) InitialDomain() string {
	for _, d := range o.VerifiedDomains {
		if d.IsInitial {
			return d.Name
		}
	}
	return ""
}

type RoleDefinition struct {
	ID          string `json:"id"`
	TemplateID  string `json:"templateId"`
	DisplayName string `json:"displayName"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
}

type RoleAssignment struct {
	ID               string          `json:"id"`
	PrincipalID      string          `json:"principalId"`
	RoleDefinitionID string          `json:"roleDefinitionId"`
	DirectoryScopeID string          `json:"directoryScopeId"`
	RoleDefinition   *RoleDefinition `json:"roleDefinition,omitempty"`
}

// Grants reports whether the assignment is of the role roleID (its id or template id; for
// built-in roles they are equal, WIRE.md §C3) over the whole tenant (directory scope "/",
// §C4: an administrative-unit scope is not "has the role").
func (a RoleAssignment) Grants(roleID string) bool {
	if a.DirectoryScopeID != "" && a.DirectoryScopeID != "/" {
		return false
	}
	if strings.EqualFold(a.RoleDefinitionID, roleID) {
		return true
	}
	d := a.RoleDefinition
	return d != nil && (strings.EqualFold(d.ID, roleID) || strings.EqualFold(d.TemplateID, roleID))
}

// DirectoryRole is an activated directory role the user is a member of
// (a memberOf entry of @odata.type #microsoft.graph.directoryRole).
type DirectoryRole struct {
	ID             string `json:"id"`
	DisplayName    string `json:"displayName"`
	RoleTemplateID string `json:"roleTemplateId"`
}

// GetUser reads a user by object id or UPN (WIRE.md §C1). accountEnabled only comes back
// when $select-ed.
func (c *Client) GetUser(ctx context.Context, idOrUPN string) (*User, error) {
	var u User
	p := "/users/" + escapeSegment(idOrUPN) + "?$select=id,userPrincipalName,displayName,mail,accountEnabled"
	if err := c.call(ctx, http.MethodGet, p, nil, true, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetOrganization reads the tenant's id and verified domains (WIRE.md §C2).
func (c *Client) GetOrganization(ctx context.Context) (*Organization, error) {
	var page struct {
		Value []Organization `json:"value"`
	}
	if err := c.call(ctx, http.MethodGet, "/organization?$select=id,displayName,verifiedDomains", nil, true, &page); err != nil {
		return nil, err
	}
	if len(page.Value) == 0 {
		return nil, errors.New("graph: /organization returned no organization")
	}
	return &page.Value[0], nil
}

// ListMemberOfDirectoryRoles lists the activated directory roles a user is a direct member
// of. memberOf also returns groups and administrative units; only directoryRole entries are
// kept.
func (c *Client) ListMemberOfDirectoryRoles(ctx context.Context, idOrUPN string) ([]DirectoryRole, error) {
	var out []DirectoryRole
	err := c.list(ctx, "/users/"+escapeSegment(idOrUPN)+"/memberOf", func(raw json.RawMessage) error {
		var o struct {
			Type string `json:"@odata.type"`
			DirectoryRole
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			return err
		}
		if strings.EqualFold(o.Type, "#microsoft.graph.directoryRole") {
			out = append(out, o.DirectoryRole)
		}
		return nil
	})
	return out, err
}

// ListRoleAssignments lists the active, direct directory role assignments of a principal
// with their role definitions (WIRE.md §C4).
func (c *Client) ListRoleAssignments(ctx context.Context, principalID string) ([]RoleAssignment, error) {
	q := url.Values{}
	q.Set("$filter", "principalId eq '"+strings.ReplaceAll(principalID, "'", "''")+"'")
	q.Set("$expand", "roleDefinition")
	var out []RoleAssignment
	err := c.list(ctx, "/roleManagement/directory/roleAssignments?"+encodeQuery(q), func(raw json.RawMessage) error {
		var a RoleAssignment
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// CreateRoleAssignment assigns a directory role tenant-wide (directoryScopeId "/", WIRE.md
// §C5). A POST is not idempotent, so after an ambiguous failure (connection lost after
// sending, 5xx) it reads the principal's assignments before posting again, and returns the
// assignment if the first POST did land. A duplicate answers 400 "A conflicting object…":
// the result is then (nil, err) with IsConflict(err), unless an earlier attempt's answer was
// lost: then the conflict is that attempt's assignment, and it is returned.
func (c *Client) CreateRoleAssignment(ctx context.Context, principalID, roleDefinitionID string) (*RoleAssignment, error) {
	body := map[string]string{
		"@odata.type":      "#microsoft.graph.unifiedRoleAssignment",
		"roleDefinitionId": roleDefinitionID,
		"principalId":      principalID,
		"directoryScopeId": "/",
	}
	const path = "/roleManagement/directory/roleAssignments"
	var (
		created   RoleAssignment
		found     *RoleAssignment
		ambiguous bool
	)
	err := c.retry.Do(ctx, func(ctx context.Context) (time.Duration, bool, error) {
		if ambiguous {
			as, err := c.ListRoleAssignments(ctx, principalID)
			if err != nil {
				return 0, false, err
			}
			for i := range as {
				if as[i].Grants(roleDefinitionID) {
					found = &as[i]
					return 0, false, nil
				}
			}
		}
		r := c.once(ctx, http.MethodPost, path, body, &created)
		if r.err != nil && r.ambiguous {
			ambiguous = true
		}
		return r.wait, r.retry, r.err
	})
	if err != nil && ambiguous && IsConflict(err) {
		// The earlier POST whose answer was lost did land, but the re-read ran before the
		// directory replicated it, so the retried POST met it as a conflict. Read once more
		// and return it, so the caller records the assignment as its own instead of losing
		// track of it (it would never be revoked).
		if as, lerr := c.ListRoleAssignments(ctx, principalID); lerr == nil {
			for i := range as {
				if as[i].Grants(roleDefinitionID) {
					return &as[i], nil
				}
			}
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

// DeleteRoleAssignment revokes an assignment (204). An unknown id (404) means it is already
// gone, which is what the caller wants (WIRE.md §C6).
func (c *Client) DeleteRoleAssignment(ctx context.Context, id string) error {
	err := c.call(ctx, http.MethodDelete, "/roleManagement/directory/roleAssignments/"+escapeSegment(id), nil, true, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// list follows @odata.nextLink verbatim until it is absent (WIRE.md §C0), handing each
// element of value to each.
func (c *Client) list(ctx context.Context, path string, each func(json.RawMessage) error) error {
	for pages := 0; path != ""; pages++ {
		if pages > 1000 {
			return errors.New("graph: more than 1000 pages; giving up")
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		if err := c.call(ctx, http.MethodGet, path, nil, true, &page); err != nil {
			return err
		}
		for _, v := range page.Value {
			if err := each(v); err != nil {
				return fmt.Errorf("graph: decoding %s: %w", strings.SplitN(path, "?", 2)[0], err)
			}
		}
		if page.NextLink != "" && !sameOrigin(page.NextLink, c.base) {
			// The bearer token goes wherever the link points: only follow Graph's own host.
			return fmt.Errorf("graph: nextLink points to another host")
		}
		path = page.NextLink
	}
	return nil
}

func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

// call runs one request under the retry policy. safe says whether the request may be
// repeated after an ambiguous failure (GET, DELETE and other idempotent requests).
func (c *Client) call(ctx context.Context, method, path string, body any, safe bool, out any) error {
	return c.retry.Do(ctx, func(ctx context.Context) (time.Duration, bool, error) {
		r := c.once(ctx, method, path, body, out)
		if r.ambiguous && !safe {
			return 0, false, r.err
		}
		return r.wait, r.retry, r.err
	})
}

type outcome struct {
	wait      time.Duration
	retry     bool // transient: worth another attempt
	ambiguous bool // a write may have been applied although it failed
	err       error
}

// once sends a single request. path is relative to /v1.0, or an absolute nextLink.
func (c *Client) once(ctx context.Context, method, path string, body any, out any) outcome {
	u := path
	if !strings.HasPrefix(path, "https://") && !strings.HasPrefix(path, "http://") {
		u = c.base + path
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return outcome{err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return outcome{err: fmt.Errorf("graph: %w", err)}
	}
	tok, err := c.token(ctx)
	if err != nil {
		return outcome{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", uuid.NewString())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	logPath := req.URL.Path
	resp, err := c.hc.Do(req)
	if err != nil {
		transport.LogCall(ctx, c.retry.Log, "graph", method, logPath, 0, start, "", err)
		if ctx.Err() != nil {
			return outcome{err: ctx.Err()}
		}
		err = fmt.Errorf("graph %s %s: %w", method, logPath, stripURL(err))
		if transport.NotSent(err) {
			return outcome{retry: true, err: err}
		}
		return outcome{retry: transport.IsTransientNetError(err), ambiguous: true, err: err}
	}
	data, rerr := transport.ReadBody(resp.Body, maxBody)
	reqID := resp.Header.Get("request-id")
	transport.LogCall(ctx, c.retry.Log, "graph", method, logPath, resp.StatusCode, start, reqID, rerr)
	if rerr != nil {
		if ctx.Err() != nil {
			return outcome{err: ctx.Err()}
		}
		return outcome{retry: true, ambiguous: true, err: fmt.Errorf("graph %s %s: reading response: %w", method, logPath, rerr)}
	}
	if resp.StatusCode >= 300 {
		e := parseError(resp.StatusCode, resp.Header, data)
		e.Method, e.Path = method, logPath
		return outcome{wait: e.RetryAfter, retry: transport.RetryableStatus(resp.StatusCode), ambiguous: transport.AmbiguousStatus(resp.StatusCode), err: e}
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return outcome{err: fmt.Errorf("graph %s %s: decoding response: %w", method, logPath, err)}
		}
	}
	return outcome{}
}

// stripURL drops the URL from a *url.Error: it can be long (nextLink skip tokens) and says
// nothing the method and path don't.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// escapeSegment escapes one path segment: UPNs may contain '#' (#EXT# guests) or start with
// '$' and must be URL-encoded (WIRE.md §C1).
func escapeSegment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "$", "%24")
}

// encodeQuery keeps OData's '$' prefixes readable; url.Values.Encode would write %24filter,
// which Graph accepts too, but the readable form is what the documentation shows.
func encodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "%24", "$")
}
