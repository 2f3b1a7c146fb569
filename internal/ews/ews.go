// Package ews speaks Exchange Web Services SOAP 1.1: the GetFolder call the provider uses to
// prove it can open the admin's own mailbox and, through ExchangeImpersonation, another
// user's (WIRE.md §D).
package ews

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// RequestServerVersion sent with every request (WIRE.md §D2).
const RequestServerVersion = "Exchange2013_SP1"

const maxBody = 8 << 20

// Client calls one EWS endpoint. It is safe for concurrent use.
type Client struct {
	url  string
	pipe transport.Pipeline
	// appOnly: the token is an application's, so every request must impersonate a mailbox.
	appOnly bool
}

// ErrImpersonationRequired is the refusal, before any request, of a GetFolder without a
// mailbox to impersonate on an app-only client: EWS requires ExchangeImpersonation with an
// app-only token (WIRE.md §I13) and would answer ErrorInvalidExchangeImpersonationHeaderData.
var ErrImpersonationRequired = errors.New("ews: an application's token must impersonate a mailbox (ExchangeImpersonation is mandatory, WIRE.md §I13)")

// NewAppOnly returns a client for an application's app-only token (client credentials for
// https://outlook.office365.com/.default, §I13): every GetFolder impersonates the mailbox
// it names, with the X-AnchorMailbox EWS requires alongside.
func NewAppOnly(url string, hc *http.Client, token transport.TokenSource, retry transport.Policy) *Client {
	c := New(url, hc, token, retry)
	c.appOnly = true
	return c
}

// New returns a client for the EWS URL, e.g. https://outlook.office365.com/EWS/Exchange.asmx.
// token returns an OAuth token for Exchange Online (aud https://outlook.office365.com), the
// only credential Exchange Online accepts for EWS (WIRE.md §A11).
func New(url string, hc *http.Client, token transport.TokenSource, retry transport.Policy) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{url: url, pipe: transport.Pipeline{
		Service: "ews", HTTP: hc, Token: token, Policy: retry, MaxBody: maxBody,
		Header: http.Header{
			"Content-Type":             {"text/xml; charset=utf-8"},
			"Accept":                   {"text/xml"},
			"return-client-request-id": {"true"},
		},
	}}
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
	if c.appOnly && impersonate == "" {
		return nil, ErrImpersonationRequired
	}
	req := transport.Request{Method: http.MethodPost, URL: c.url, Op: "GetFolder", Body: BuildGetFolder(impersonate, folders...), Idempotent: true}
	if impersonate != "" {
		// Routes the request to the impersonated mailbox's server (§D1).
		req.Header = http.Header{"X-AnchorMailbox": {impersonate}}
	}
	var out []Folder
	err := c.pipe.Do(ctx, req, func(r *transport.Response) transport.Outcome {
		if r.Status == http.StatusOK {
			// A 200 is a SOAP envelope in EWS's media type, whole (WIRE.md §D3).
			if problem := transport.CheckXML(r, transport.MediaXML, transport.MediaSOAPXML); problem != "" {
				return transport.Malformed(ctx, &transport.MalformedAnswerError{Service: "ews", Op: req.Op, Status: r.Status, Problem: problem})
			}
		}
		fs, err := ParseResponse(r.Status, r.Body)
		if err == nil && len(fs) != len(folders) {
			// EWS answers one message per folder asked for.
			err = &transport.MalformedAnswerError{Service: "ews", Op: req.Op, Status: r.Status,
				Problem: fmt.Sprintf("%d GetFolderResponseMessages for %d folders", len(fs), len(folders))}
		}
		if me, ok := errors.AsType[*transport.MalformedAnswerError](err); ok {
			return transport.Malformed(ctx, me)
		}
		if err != nil {
			return classify(r, err)
		}
		for i := range fs {
			fs[i].DistinguishedID = folders[i]
		}
		out = fs
		return transport.Outcome{}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// classify is EWS's rule for retrying: throttling arrives as ErrorServerBusy with the wait
// in BackOffMilliseconds (§D5), HTTP failures other than 401/403 as plain statuses.
func classify(r *transport.Response, err error) transport.Outcome {
	switch {
	case IsServerBusy(err):
		return transport.Outcome{Err: err, Retry: true, Wait: backOff(err)}
	case errors.Is(err, ErrUnauthorized):
		// x-ms-diagnostics carries Exchange's reason code (§A11); it holds no secret.
		if d := r.Header.Get("x-ms-diagnostics"); d != "" {
			err = fmt.Errorf("%w; x-ms-diagnostics: %s", err, transport.Clip(d, 300))
		}
		return transport.Outcome{Err: err}
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		return transport.Failed(err, se.StatusCode, transport.RetryAfter(r.Header))
	}
	return transport.Outcome{Err: err}
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
