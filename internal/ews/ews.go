// Package ews speaks Exchange Web Services SOAP 1.1: the GetFolder call the provider uses to
// prove it can open the admin's own mailbox and, through ExchangeImpersonation, another
// user's (WIRE.md §D).
package ews

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// TokenSource returns a bearer token for Exchange Online (aud https://outlook.office365.com).
type TokenSource func(ctx context.Context) (string, error)

// RequestServerVersion sent with every request (WIRE.md §D2).
const RequestServerVersion = "Exchange2013_SP1"

const maxBody = 8 << 20

// Auth puts credentials on a request. See BearerAuth and BasicAuth.
type Auth interface {
	apply(ctx context.Context, req *http.Request) error
}

type bearerAuth struct{ token TokenSource }

func (a bearerAuth) apply(ctx context.Context, req *http.Request) error {
	t, err := a.token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t)
	return nil
}

// BearerAuth authenticates with an OAuth token (the only way Exchange Online accepts today).
func BearerAuth(token TokenSource) Auth { return bearerAuth{token} }

type basicAuth struct{ header string }

func (a basicAuth) apply(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", a.header)
	return nil
}

// String keeps the credentials out of any %v of the value.
func (a basicAuth) String() string { return "BasicAuth(redacted)" }

// BasicAuth is HTTP Basic with a username and (app) password: legacy, for on-premises or
// hosted Exchange. Exchange Online answers 401 to it since Oct 2022 (WIRE.md §A11).
func BasicAuth(username, password string) Auth {
	return basicAuth{"Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))}
}

// Client calls one EWS endpoint. It is safe for concurrent use.
type Client struct {
	url   string
	hc    *http.Client
	auth  Auth
	retry transport.Policy
}

// New returns a client for the EWS URL, e.g. https://outlook.office365.com/EWS/Exchange.asmx.
func New(url string, hc *http.Client, auth Auth, retry transport.Policy) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{url: url, hc: hc, auth: auth, retry: retry}
}

// Folder is one folder GetFolder returned. DistinguishedID is the id that was asked for
// (msgfolderroot, inbox, …).
type Folder struct {
	DistinguishedID, ID, ChangeKey string
}

// GetFolder reads distinguished folders (default msgfolderroot) of the caller's own mailbox
// (impersonate == "") or, through ExchangeImpersonation, of the mailbox with SMTP address
// impersonate. It is a read, so transient failures are retried, and ErrorServerBusy waits
// the BackOffMilliseconds the server asks for (WIRE.md §D5), unless that is past ctx's
// deadline, in which case the fault is returned.
func (c *Client) GetFolder(ctx context.Context, impersonate string, folders ...string) ([]Folder, error) {
	if len(folders) == 0 {
		folders = []string{"msgfolderroot"}
	}
	body := BuildGetFolder(impersonate, folders...)
	var out []Folder
	err := c.retry.Do(ctx, func(ctx context.Context) (time.Duration, bool, error) {
		fs, wait, retry, err := c.once(ctx, impersonate, body)
		if err == nil {
			if len(fs) != len(folders) {
				return 0, false, fmt.Errorf("ews: asked for %d folders, got %d", len(folders), len(fs))
			}
			for i := range fs {
				fs[i].DistinguishedID = folders[i]
			}
			out = fs
		}
		return wait, retry, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) once(ctx context.Context, impersonate string, body []byte) ([]Folder, time.Duration, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, false, fmt.Errorf("ews: %w", err)
	}
	if err := c.auth.apply(ctx, req); err != nil {
		return nil, 0, false, err
	}
	h := req.Header
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("Accept", "text/xml")
	h.Set("client-request-id", uuid.NewString())
	h.Set("return-client-request-id", "true")
	if impersonate != "" {
		// Routes the request to the impersonated mailbox's server (§D1).
		h.Set("X-AnchorMailbox", impersonate)
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		transport.LogCall(ctx, c.retry.Log, "ews", "GetFolder", req.URL.Path, 0, start, "", err)
		if ctx.Err() != nil {
			return nil, 0, false, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		err = fmt.Errorf("ews GetFolder: %w", err)
		return nil, 0, transport.IsTransientNetError(err), err
	}
	data, rerr := transport.ReadBody(resp.Body, maxBody)
	reqID := resp.Header.Get("request-id")
	if rerr != nil {
		transport.LogCall(ctx, c.retry.Log, "ews", "GetFolder", req.URL.Path, resp.StatusCode, start, reqID, rerr)
		if ctx.Err() != nil {
			return nil, 0, false, ctx.Err()
		}
		return nil, 0, true, fmt.Errorf("ews GetFolder: reading response: %w", rerr)
	}
	fs, err := ParseResponse(resp.StatusCode, data)
	transport.LogCall(ctx, c.retry.Log, "ews", "GetFolder", req.URL.Path, resp.StatusCode, start, reqID, logErr(err))
	switch {
	case err == nil:
		return fs, 0, false, nil
	case IsServerBusy(err):
		return nil, backOff(err), true, err
	case errors.Is(err, ErrUnauthorized):
		// x-ms-diagnostics carries Exchange's reason code (§A11); it holds no secret.
		if d := resp.Header.Get("x-ms-diagnostics"); d != "" {
			err = fmt.Errorf("%w; x-ms-diagnostics: %s", err, clip(d, 300))
		}
		return nil, 0, false, err
	}
	var se *StatusError
	if errors.As(err, &se) {
		d, _ := transport.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return nil, d, transport.RetryableStatus(se.StatusCode), err
	}
	return nil, 0, false, err
}

func logErr(err error) error {
	if code(err) != "" {
		return errors.New(code(err))
	}
	return err
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// BuildGetFolder returns the SOAP envelope of a GetFolder request with BaseShape IdOnly
// (WIRE.md §D2). With impersonate set, the header carries ExchangeImpersonation with
// ConnectingSID/PrimarySmtpAddress.
func BuildGetFolder(impersonate string, folders ...string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<soap:Envelope xmlns:soap="` + nsSOAP + `" xmlns:t="` + nsTypes + `" xmlns:m="` + nsMessages + `">`)
	b.WriteString(`<soap:Header><t:RequestServerVersion Version="` + RequestServerVersion + `"/>`)
	if impersonate != "" {
		b.WriteString(`<t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>`)
		escape(&b, impersonate)
		b.WriteString(`</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>`)
	}
	b.WriteString(`</soap:Header><soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds>`)
	for _, f := range folders {
		b.WriteString(`<t:DistinguishedFolderId Id="`)
		escape(&b, f)
		b.WriteString(`"/>`)
	}
	b.WriteString(`</m:FolderIds></m:GetFolder></soap:Body></soap:Envelope>`)
	return []byte(b.String())
}

func escape(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(s))
}
