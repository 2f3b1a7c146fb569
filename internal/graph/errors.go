package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// Error is a Graph error response: the OData error envelope of WIRE.md §C0 with the HTTP
// status, or the status alone when the body is not an envelope.
type Error struct {
	StatusCode int
	Code       string // error.code, e.g. Authorization_RequestDenied, Request_ResourceNotFound
	Message    string // error.message
	RequestID  string // innerError.request-id, or the request-id response header
	RetryAfter time.Duration
	Method     string // the call that failed, for the message
	Path       string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph")
	if e.Method != "" {
		fmt.Fprintf(&b, " %s %s", e.Method, e.Path)
	}
	fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request-id " + e.RequestID + ")")
	}
	return b.String()
}

type errorEnvelope struct {
	Error *struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError *struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// parseError builds an *Error from a failed response. It accepts any body: a non-JSON body
// (a proxy's HTML page) leaves Code empty and keeps the status.
func parseError(status int, header http.Header, body []byte) *Error {
	e := &Error{StatusCode: status}
	var env errorEnvelope
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Code, e.Message = env.Error.Code, env.Error.Message
		if env.Error.InnerError != nil {
			e.RequestID = env.Error.InnerError.RequestID
		}
	}
	if header != nil {
		if e.RequestID == "" {
			e.RequestID = header.Get("request-id")
		}
		e.RetryAfter = transport.RetryAfter(header)
	}
	if e.Message == "" && e.Code == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// ErrorCode is Graph's error.code, for log lines.
func (e *Error) ErrorCode() string { return e.Code }

// IsNotFound: 404 (Request_ResourceNotFound).
func IsNotFound(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && (e.StatusCode == http.StatusNotFound || e.Code == "Request_ResourceNotFound")
}

// IsConflict reports Graph's answer to a duplicate role assignment: 400 Request_BadRequest
// "A conflicting object with one or more of the specified property values is present in the
// directory." (WIRE.md §C0, §C5), or a plain 409.
func IsConflict(err error) bool {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return false
	}
	return e.StatusCode == http.StatusConflict ||
		(e.StatusCode == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "conflicting object"))
}

// IsForbidden: 403 Authorization_RequestDenied, the token lacks the scope or the user the role.
func IsForbidden(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && (e.StatusCode == http.StatusForbidden || e.Code == "Authorization_RequestDenied")
}

// IsMailAccessDenied: 403 ErrorAccessDenied from a mailbox call (§I12): no mail permission
// in the token and no RBAC assignment whose scope holds the mailbox (or a new grant not in
// effect yet), or an application access policy that excludes it.
func IsMailAccessDenied(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.StatusCode == http.StatusForbidden && strings.EqualFold(e.Code, "ErrorAccessDenied")
}

// IsInvalidUser: 404 ErrorInvalidUser, an unknown user or one Exchange does not resolve
// (§I12).
func IsInvalidUser(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.StatusCode == http.StatusNotFound && strings.EqualFold(e.Code, "ErrorInvalidUser")
}

// IsNoMailbox: 404 ResourceNotFound or MailboxNotEnabledForRESTAPI, a user without an
// Exchange Online mailbox (no licence, or still being provisioned); both codes are seen for
// the same user (§I12).
func IsNoMailbox(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.StatusCode == http.StatusNotFound && (strings.EqualFold(e.Code, "ResourceNotFound") || strings.EqualFold(e.Code, "MailboxNotEnabledForRESTAPI"))
}

// Status is the HTTP status of a Graph error answer, 0 for any other error. The mailbox
// import and export API's error bodies are undocumented (WIRE.md §M2.10), so its callers
// classify by status alone.
func Status(err error) int {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.StatusCode
	}
	return 0
}
