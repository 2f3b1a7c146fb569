// Package graph is a small Microsoft Graph v1.0 client: the calls the provider makes to read
// users and directory role assignments, and to assign or revoke directory roles (WIRE.md
// §C). Every call goes through the one request pipeline of internal/transport; this package
// keeps Graph's error envelope and its rules for throttling and lost answers.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// maxBody bounds what is read of any response.
const maxBody = 16 << 20

// Client calls Graph. It is safe for concurrent use.
type Client struct {
	base string // e.g. https://graph.microsoft.com/v1.0
	pipe transport.Pipeline
}

// New returns a client for the Graph host baseURL ("https://graph.microsoft.com", or the
// national cloud's or emulator's host); the v1.0 segment is added here. token returns a
// token for Graph (scope https://graph.microsoft.com/.default).
func New(baseURL string, hc *http.Client, token transport.TokenSource, retry transport.Policy) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/") + "/v1.0", pipe: transport.Pipeline{
		Service: "graph", HTTP: hc, Token: token, Policy: retry, MaxBody: maxBody,
		Header: http.Header{"Accept": {"application/json"}},
	}}
}

type User struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	Mail              string `json:"mail"`
	AccountEnabled    *bool  `json:"accountEnabled"`
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
	return get[User](ctx, c, "/users/"+escapeSegment(idOrUPN)+"?$select=id,userPrincipalName,displayName,mail,accountEnabled")
}

// MailFolder is a mail folder as GET …/mailFolders/{id} returns it with the $select of
// GetInbox (WIRE.md §I12).
type MailFolder struct {
	ID             string `json:"id"`
	DisplayName    string `json:"displayName"`
	TotalItemCount int    `json:"totalItemCount"`
}

// GetInbox reads the inbox of the mailbox idOrUPN: the probe that proves an application may
// open that mailbox through Graph (§I12). It needs Mail.Read or Mail.ReadWrite as an
// application permission, or an RBAC-for-Applications role whose scope holds the mailbox.
// Failures: IsMailAccessDenied, IsInvalidUser, IsNoMailbox.
func (c *Client) GetInbox(ctx context.Context, idOrUPN string) (*MailFolder, error) {
	return get[MailFolder](ctx, c, "/users/"+escapeSegment(idOrUPN)+"/mailFolders/inbox?$select=id,displayName,totalItemCount")
}

// get reads one object.
func get[T any](ctx context.Context, c *Client, path string) (*T, error) {
	var v T
	if err := c.call(ctx, http.MethodGet, path, &v); err != nil {
		return nil, err
	}
	return &v, nil
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
	find := func(ctx context.Context) (*RoleAssignment, error) {
		as, err := c.ListRoleAssignments(ctx, principalID)
		if err != nil {
			return nil, err
		}
		for i := range as {
			if as[i].Grants(roleDefinitionID) {
				return &as[i], nil
			}
		}
		return nil, nil
	}
	// After a lost answer, a conflict is the earlier POST that did land but that the re-read
	// ran too early to see (the directory had not replicated it): createFound reads once more
	// and returns it, so the caller records the assignment as its own instead of losing
	// track of it (it would never be revoked).
	return createFound(ctx, c, "/roleManagement/directory/roleAssignments", body, find,
		func(err error, lost bool) bool { return lost && IsConflict(err) })
}

// createFound POSTs body to path to create one object that find reads back. After an
// ambiguous failure find tells whether the first POST landed, so a retry never makes a
// second object; an error that existing reports (given whether an answer was lost) means
// the object exists, and find's object is returned in its place.
func createFound[T any](ctx context.Context, c *Client, path string, body any, find func(context.Context) (*T, error),
	existing func(err error, lost bool) bool) (*T, error) {
	var (
		created T
		found   *T
		lost    bool
	)
	wasLost := func(ctx context.Context) (bool, error) {
		lost = true
		a, err := find(ctx)
		found = a
		return a != nil, err
	}
	err := c.send(ctx, http.MethodPost, path, body, &created, wasLost)
	if err != nil && existing(err, lost) {
		if a, ferr := find(ctx); ferr == nil && a != nil {
			return a, nil
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
	return c.remove(ctx, "/roleManagement/directory/roleAssignments/"+escapeSegment(id))
}

// list follows @odata.nextLink verbatim until it is absent (WIRE.md §C0), handing each
// element of value to each.
func (c *Client) list(ctx context.Context, path string, each func(json.RawMessage) error) error {
	return c.pipe.Pages("GET "+strings.SplitN(path, "?", 2)[0], c.url(path), 1000, func(u string) (string, error) {
		var page listPage
		if err := c.call(ctx, http.MethodGet, u, &page); err != nil {
			return "", err
		}
		for _, v := range page.Value {
			if err := each(v); err != nil {
				return "", fmt.Errorf("graph: decoding %s: %w", strings.SplitN(path, "?", 2)[0], err)
			}
		}
		return page.NextLink, nil
	})
}

// The malformed methods name what Graph always sends in an object's answer and the answer
// lacks; checkAnswer calls them on the object a call decodes. An object without its id
// cannot be what the call asked for or created.
func (u *User) malformed() string           { return need("id", u.ID) }
func (f *MailFolder) malformed() string     { return need("id", f.ID) }
func (a *RoleAssignment) malformed() string { return need("id", a.ID) }

// need says that member is missing when its value is empty.
func need(member, value string) string {
	if value == "" {
		return "no `" + member + "`"
	}
	return ""
}

// listPage is one page of a collection. Graph always sends its value array, empty when there
// is nothing: a page without one is a broken answer, not an empty collection.
type listPage struct {
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
}

func (p *listPage) malformed() string {
	if p.Value == nil {
		return "no `value` array"
	}
	return ""
}

// url resolves a path relative to /v1.0; an absolute URL (a nextLink) is kept verbatim.
func (c *Client) url(path string) string {
	if strings.HasPrefix(path, "https://") || strings.HasPrefix(path, "http://") {
		return path
	}
	return c.base + path
}

// call runs an idempotent request (GET, DELETE), decoding a JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, out any) error {
	return c.send(ctx, method, path, nil, out, nil)
}

// remove runs a DELETE whose 404 means the object is already gone, which is what the
// caller wants.
func (c *Client) remove(ctx context.Context, path string) error {
	err := c.call(ctx, http.MethodDelete, path, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// getOptional runs a GET of one object; (nil, nil) when there is none (404).
func getOptional[T any](ctx context.Context, c *Client, path string) (*T, error) {
	var v T
	err := c.call(ctx, http.MethodGet, path, &v)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// send runs one request through the pipeline. A POST is not idempotent: it is repeated
// after an ambiguous failure only when recover can tell what the first attempt did.
func (c *Client) send(ctx context.Context, method, path string, body, out any, recoverLost func(context.Context) (bool, error)) error {
	req := transport.Request{Method: method, URL: c.url(path), Idempotent: method != http.MethodPost, Recover: recoverLost}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		req.Body, req.Header = b, http.Header{"Content-Type": {"application/json"}}
	}
	p := req.URL
	if u, err := url.Parse(req.URL); err == nil {
		p = u.Path
	}
	req.Op = method + " " + p
	return c.pipe.Do(ctx, req, func(r *transport.Response) transport.Outcome {
		if r.Status >= 300 {
			e := parseError(r.Status, r.Header, r.Body)
			e.Method, e.Path = method, p
			return transport.Failed(e, r.Status, e.RetryAfter)
		}
		if problem := checkAnswer(r, out); problem != "" {
			return transport.Malformed(ctx, &transport.MalformedAnswerError{Service: "graph", Op: req.Op, Status: r.Status, Problem: problem})
		}
		return transport.Outcome{}
	})
}

// checkAnswer decodes a success answer into out and says what is wrong with it, "" when
// nothing. Where a body is expected (out set) it must be a JSON object of out's form, with
// what out's malformed method requires; a 204 or an empty body is fine only where none is
// (a DELETE, a PATCH), and a body sent anyway must still be JSON, not a proxy's page.
func checkAnswer(r *transport.Response, out any) string {
	if out == nil {
		if r.Status == http.StatusNoContent || len(bytes.TrimSpace(r.Body)) == 0 {
			return ""
		}
		return transport.CheckJSON(r)
	}
	if r.Status == http.StatusNoContent {
		return "HTTP 204 without the expected body"
	}
	// Decoding starts from the zero value: an earlier attempt's broken answer must leave
	// nothing behind (a nextLink, an id).
	reflect.ValueOf(out).Elem().SetZero()
	if problem := transport.DecodeJSON(r, out); problem != "" {
		return problem
	}
	if m, ok := out.(interface{ malformed() string }); ok {
		return m.malformed()
	}
	return ""
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
