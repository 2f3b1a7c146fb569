// Package exchange calls the Exchange Online admin API (the REST endpoint behind the
// ExchangeOnlineManagement v3 module): InvokeCommand runs one cmdlet with JSON parameters
// (WIRE.md §E).
package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// TokenSource returns a bearer token for Exchange Online (scope
// https://outlook.office365.com/.default, WIRE.md §A9).
type TokenSource func(ctx context.Context) (string, error)

const (
	maxBody  = 32 << 20
	maxPages = 1000
	// clientApplication identifies this client in X-ClientApplication; any string works (§E1).
	clientApplication = "terraform-provider-o365"
)

// Client runs cmdlets for one tenant as one account. It is safe for concurrent use.
type Client struct {
	endpoint     string
	anchor       string
	hc           *http.Client
	token        TokenSource
	retry        transport.Policy
	connectionID string
}

// New returns a client for https://{baseURL}/adminapi/beta/{tenant}/InvokeCommand. tenant is
// the tenant GUID or its initial domain; anchorUPN is the signed-in account, sent as
// X-AnchorMailbox UPN:{anchorUPN} so the request is routed to the right forest (§E1).
func New(baseURL, tenant, anchorUPN string, hc *http.Client, token TokenSource, retry transport.Policy) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{
		endpoint:     strings.TrimRight(baseURL, "/") + "/adminapi/beta/" + url.PathEscape(tenant) + "/InvokeCommand",
		anchor:       anchorUPN,
		hc:           hc,
		token:        token,
		retry:        retry,
		connectionID: uuid.NewString(),
	}
}

// Endpoint is the InvokeCommand URL the client posts to.
func (c *Client) Endpoint() string { return c.endpoint }

// InvokeCommand runs cmdlet with params (PowerShell parameter names; bools for switches; nil
// values are dropped) and returns the objects of every page and the cmdlet's warnings.
// Get-* cmdlets are repeated after a lost connection; other cmdlets only when the request
// provably never reached the server.
func (c *Client) InvokeCommand(ctx context.Context, cmdlet string, params map[string]any) ([]json.RawMessage, []string, error) {
	return c.invoke(ctx, cmdlet, params, strings.HasPrefix(strings.ToLower(cmdlet), "get-"))
}

type envelope struct {
	Value     []json.RawMessage `json:"value"`
	Warnings  []string          `json:"@adminapi.warnings"`
	NextLink  string            `json:"@odata.nextLink"`
	NextLink2 string            `json:"odata.nextLink"`
}

// parseEnvelope reads a success body (WIRE.md §E2). An empty body (a 204 from Remove-…, ⚠)
// is an empty result.
func parseEnvelope(body []byte) (values []json.RawMessage, warnings []string, next string, err error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil, "", nil
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, nil, "", fmt.Errorf("exchange: response is not an InvokeCommand result: %w", err)
	}
	next = env.NextLink
	if next == "" {
		next = env.NextLink2
	}
	return env.Value, env.Warnings, next, nil
}

func (c *Client) invoke(ctx context.Context, cmdlet string, params map[string]any, safe bool) ([]json.RawMessage, []string, error) {
	p := map[string]any{}
	for k, v := range params {
		if v != nil { // §E1: omit $null values
			p[k] = v
		}
	}
	body, err := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": p}})
	if err != nil {
		return nil, nil, fmt.Errorf("exchange %s: encoding parameters: %w", cmdlet, err)
	}
	var (
		values   []json.RawMessage
		warnings []string
	)
	// Paging: while a nextLink is present, POST the same body to it (§E2).
	for u, pages := c.endpoint, 0; u != ""; pages++ {
		if pages >= maxPages {
			return nil, nil, fmt.Errorf("exchange %s: more than %d pages; giving up", cmdlet, maxPages)
		}
		var next string
		err := c.retry.Do(ctx, func(ctx context.Context) (time.Duration, bool, error) {
			data, r := c.once(ctx, u, cmdlet, body)
			if r.err != nil {
				if r.ambiguous && !safe {
					// Unknown whether the cmdlet ran: repeating it blindly could, for
					// New-*, create a second object. The caller decides (see
					// NewManagementRoleAssignment).
					return 0, false, &ambiguousError{r.err}
				}
				return r.wait, r.retry, r.err
			}
			v, w, n, err := parseEnvelope(data)
			if err != nil {
				return 0, false, fmt.Errorf("exchange %s: %w", cmdlet, err)
			}
			values, warnings, next = append(values, v...), append(warnings, w...), n
			return 0, false, nil
		})
		if err != nil {
			return nil, nil, err
		}
		if next != "" && !sameOrigin(next, c.endpoint) {
			// The token must not be sent elsewhere than where the first page came from.
			return nil, nil, fmt.Errorf("exchange %s: nextLink points to another host", cmdlet)
		}
		u = next
	}
	return values, warnings, nil
}

func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

type outcome struct {
	wait      time.Duration
	retry     bool
	ambiguous bool
	err       error
}

func (c *Client) once(ctx context.Context, u, cmdlet string, body []byte) ([]byte, outcome) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, outcome{err: fmt.Errorf("exchange: %w", err)}
	}
	tok, err := c.token(ctx)
	if err != nil {
		return nil, outcome{err: err}
	}
	h := req.Header
	h.Set("Authorization", "Bearer "+tok)
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Accept", "application/json")
	h.Set("X-AnchorMailbox", "UPN:"+c.anchor)
	h.Set("X-CmdletName", cmdlet)
	h.Set("X-ClientApplication", clientApplication)
	h.Set("X-ResponseFormat", "json")
	h.Set("X-SerializationLevel", "Partial")
	h.Set("Prefer", "odata.maxpagesize=1000")
	h.Set("connection-id", c.connectionID)
	h.Set("client-request-id", uuid.NewString())

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		transport.LogCall(ctx, c.retry.Log, "exchange", cmdlet, req.URL.Path, 0, start, "", err)
		if ctx.Err() != nil {
			return nil, outcome{err: ctx.Err()}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		err = fmt.Errorf("exchange %s: %w", cmdlet, err)
		if transport.NotSent(err) {
			return nil, outcome{retry: true, err: err}
		}
		return nil, outcome{retry: transport.IsTransientNetError(err), ambiguous: true, err: err}
	}
	data, rerr := transport.ReadBody(resp.Body, maxBody)
	reqID := resp.Header.Get("request-id")
	transport.LogCall(ctx, c.retry.Log, "exchange", cmdlet, req.URL.Path, resp.StatusCode, start, reqID, rerr)
	if rerr != nil {
		if ctx.Err() != nil {
			return nil, outcome{err: ctx.Err()}
		}
		return nil, outcome{retry: true, ambiguous: true, err: fmt.Errorf("exchange %s: reading response: %w", cmdlet, rerr)}
	}
	if resp.StatusCode >= 300 {
		e := parseError(resp.StatusCode, resp.Header, data)
		e.Cmdlet = cmdlet
		retry := transport.RetryableStatus(resp.StatusCode) || e.throttled()
		// A cmdlet exception means the cmdlet ran and failed: not ambiguous. A gateway's 5xx
		// without one may hide a cmdlet that did run.
		ambiguous := transport.AmbiguousStatus(resp.StatusCode) && e.ExceptionType == "" && !e.throttled()
		return nil, outcome{wait: e.RetryAfter, retry: retry, ambiguous: ambiguous, err: e}
	}
	return data, outcome{}
}
