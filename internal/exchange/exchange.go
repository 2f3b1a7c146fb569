// Package exchange calls the Exchange Online admin API (the REST endpoint behind the
// ExchangeOnlineManagement v3 module): InvokeCommand runs one cmdlet with JSON parameters
// (WIRE.md §E). Every call goes through the one request pipeline of internal/transport; this
// package keeps the admin API's envelope, its error parser and its cmdlet semantics (a
// cmdlet exception means the cmdlet ran; Get-* cmdlets may be repeated, others not).
package exchange

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

const (
	maxBody  = 32 << 20
	maxPages = 1000
	// clientApplication identifies this client in X-ClientApplication; any string works (§E1).
	clientApplication = "terraform-provider-o365"
	// systemMailbox is the mailbox an app-only session is anchored to (§E1, §J1).
	systemMailbox = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"
)

// UserAnchor is the X-AnchorMailbox of a delegated session: the signed-in account (§E1).
func UserAnchor(upn string) string { return "UPN:" + upn }

// AppAnchor is the X-AnchorMailbox of an app-only session: the organisation's system
// mailbox at its initial domain (§J1).
func AppAnchor(initialDomain string) string { return "APP:" + systemMailbox + "@" + initialDomain }

// Client runs cmdlets for one tenant as one principal: one session, so one connection-id
// for all its cmdlets (§E1). It is safe for concurrent use.
type Client struct {
	endpoint string
	pipe     transport.Pipeline
}

// New returns a client for https://{baseURL}/adminapi/beta/{tenant}/InvokeCommand. tenant is
// the tenant GUID or its initial domain; anchor is sent as X-AnchorMailbox so the request is
// routed to the right forest (UserAnchor or AppAnchor); connectionID names the session (a
// new one when empty). token returns a token for Exchange Online (scope
// https://outlook.office365.com/.default, WIRE.md §A9).
func New(baseURL, tenant, anchor, connectionID string, hc *http.Client, token transport.TokenSource, retry transport.Policy) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	if connectionID == "" {
		connectionID = uuid.NewString()
	}
	return &Client{
		endpoint: strings.TrimRight(baseURL, "/") + "/adminapi/beta/" + url.PathEscape(tenant) + "/InvokeCommand",
		pipe: transport.Pipeline{
			Service: "exchange", HTTP: hc, Token: token, Policy: retry, MaxBody: maxBody,
			Header: http.Header{
				"Content-Type":         {"application/json; charset=utf-8"},
				"Accept":               {"application/json"},
				"X-AnchorMailbox":      {anchor},
				"X-ClientApplication":  {clientApplication},
				"X-ResponseFormat":     {"json"},
				"X-SerializationLevel": {"Partial"},
				"Prefer":               {"odata.maxpagesize=1000"},
				"connection-id":        {connectionID},
			},
		},
	}
}

// InvokeCommand runs cmdlet with params (PowerShell parameter names; bools for switches; nil
// values are dropped) and returns the objects of every page and the cmdlet's warnings.
// Get-* cmdlets are repeated after a lost connection; other cmdlets only when the request
// provably never reached the server.
func (c *Client) InvokeCommand(ctx context.Context, cmdlet string, params map[string]any) ([]json.RawMessage, []string, error) {
	return c.invoke(ctx, command{name: cmdlet, params: params, idempotent: isRead(cmdlet)})
}

// command is one cmdlet run.
type command struct {
	name   string
	params map[string]any
	// selected properties ($select, §K2): the only ones the answer carries.
	selected []string
	// idempotent: a read, which may be repeated after an ambiguous failure.
	idempotent bool
	// recoverLost, for a write, tells after an ambiguous failure whether the lost attempt
	// did run (transport.Request.Recover).
	recoverLost func(context.Context) (bool, error)
}

func isRead(cmdlet string) bool { return strings.HasPrefix(strings.ToLower(cmdlet), "get-") }

type envelope struct {
	Value     []json.RawMessage `json:"value"`
	Warnings  []string          `json:"@adminapi.warnings"`
	NextLink  string            `json:"@odata.nextLink"`
	NextLink2 string            `json:"odata.nextLink"`
}

// parseEnvelope reads a success answer (WIRE.md §E2) and says what is wrong with it ("" when
// nothing). A 200 is a JSON object with a value array of objects (empty when there are
// none); the admin API always sends it. An empty body is a result only with status 204,
// which Remove-… may answer (⚠); for a query (Get-…, Test-…) it is never one, since it would
// read as "nothing there".
func parseEnvelope(r *transport.Response, query bool) (values []json.RawMessage, warnings []string, next, problem string) {
	if r.Status == http.StatusNoContent {
		if query {
			return nil, nil, "", "HTTP 204 without the expected result"
		}
		return nil, nil, "", ""
	}
	var env envelope
	if problem := transport.DecodeJSON(r, &env); problem != "" {
		return nil, nil, "", problem
	}
	if env.Value == nil {
		return nil, nil, "", "no `value` array"
	}
	for i, v := range env.Value {
		if len(v) == 0 || v[0] != '{' {
			return nil, nil, "", fmt.Sprintf("`value` element %d is no object", i)
		}
	}
	next = env.NextLink
	if next == "" {
		next = env.NextLink2
	}
	return env.Value, env.Warnings, next, ""
}

// isQuery reports a cmdlet that reads: its empty answer would be taken for "none".
func isQuery(cmdlet string) bool {
	c := strings.ToLower(cmdlet)
	return strings.HasPrefix(c, "get-") || strings.HasPrefix(c, "test-")
}

// invoke runs a command, following nextLinks: while one is present, POST the same body to
// it (§E2). A non-idempotent cmdlet without recoverLost whose outcome is unknown fails with
// a *transport.AmbiguousError: repeating it blindly could, for New-*, create a second object.
func (c *Client) invoke(ctx context.Context, cmd command) ([]json.RawMessage, []string, error) {
	p := map[string]any{}
	for k, v := range cmd.params {
		if v != nil { // §E1: omit $null values
			p[k] = v
		}
	}
	body, err := json.Marshal(map[string]any{"CmdletInput": map[string]any{"CmdletName": cmd.name, "Parameters": p}})
	if err != nil {
		return nil, nil, fmt.Errorf("exchange %s: encoding parameters: %w", cmd.name, err)
	}
	first := c.endpoint
	if len(cmd.selected) > 0 {
		first += "?$select=" + strings.Join(cmd.selected, ",")
	}
	var (
		values   []json.RawMessage
		warnings []string
	)
	err = c.pipe.Pages(cmd.name, first, maxPages, func(u string) (string, error) {
		var next string
		req := transport.Request{
			Method: http.MethodPost, URL: u, Op: cmd.name, Body: body,
			Header:     http.Header{"X-CmdletName": {cmd.name}},
			Idempotent: cmd.idempotent, Recover: cmd.recoverLost,
		}
		err := c.pipe.Do(ctx, req, func(r *transport.Response) transport.Outcome {
			if r.Status >= 300 {
				return failure(cmd.name, r)
			}
			v, w, n, problem := parseEnvelope(r, isQuery(cmd.name))
			if problem != "" {
				return transport.Malformed(ctx, &transport.MalformedAnswerError{Service: "exchange", Op: cmd.name, Status: r.Status, Problem: problem})
			}
			values, warnings, next = append(values, v...), append(warnings, w...), n
			return transport.Outcome{}
		})
		return next, err
	})
	if err != nil {
		return nil, nil, err
	}
	return values, warnings, nil
}

// failure classifies a failed InvokeCommand: 429 and the plain-text concurrency limit are
// throttling (retried, §E5); a cmdlet exception means the cmdlet ran and failed, so it is
// not ambiguous, while a gateway's 5xx without one may hide a cmdlet that did run.
func failure(cmdlet string, r *transport.Response) transport.Outcome {
	e := parseError(r.Status, r.Header, r.Body)
	e.Cmdlet = cmdlet
	o := transport.Failed(e, r.Status, e.RetryAfter)
	o.Retry = o.Retry || e.throttled()
	o.Ambiguous = o.Ambiguous && e.ExceptionType == "" && !e.throttled()
	return o
}
