package exchange

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// Error is a failed InvokeCommand. The HTTP status and error.code vary for the same cmdlet
// error (NotFound, BadRequest, InternalServerError are all seen), so the predicates key on
// the exception type (WIRE.md §E5).
type Error struct {
	StatusCode    int
	Code          string // error.code
	ErrorID       string // first part of details[].message, e.g. Ex6F9304
	ExceptionType string // e.g. Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException
	Text          string // the human-readable part
	Cmdlet        string
	RequestID     string
	RetryAfter    time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("exchange")
	if e.Cmdlet != "" {
		b.WriteString(" " + e.Cmdlet)
	}
	fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	if t := e.shortType(); t != "" {
		b.WriteString(" " + t)
	} else if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Text != "" {
		b.WriteString(": " + e.Text)
	}
	if e.RequestID != "" {
		b.WriteString(" (request-id " + e.RequestID + ")")
	}
	return b.String()
}

// shortType is the exception's class name without its namespace.
func (e *Error) shortType() string {
	t := e.ExceptionType
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		t = t[i+1:]
	}
	return t
}

type errorEnvelope struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"details"`
		InnerError *struct {
			Message           string `json:"message"`
			Type              string `json:"type"`
			InternalException *struct {
				Message string `json:"message"`
				Type    string `json:"type"`
			} `json:"internalexception"`
		} `json:"innererror"`
	} `json:"error"`
}

// throttleText starts the plain-text body seen when a tenant has too many concurrent
// requests (WIRE.md §E5, from ExoHelper); it is retried like a 429.
const throttleText = "You have reached the maximum number of concurrent requests per tenant"

// parseError reads a failed response in the order clients use (WIRE.md §E5): the first
// details[].message of the form "<ErrorId>|<ExceptionType>|<text>", then
// innererror.internalexception, then error.message. Non-JSON bodies (throttling text, proxy
// pages) become Text, trimmed.
func parseError(status int, header http.Header, body []byte) *Error {
	e := &Error{StatusCode: status}
	if header != nil {
		e.RequestID = header.Get("request-id")
		e.RetryAfter = transport.RetryAfter(header)
	}
	var env errorEnvelope
	if json.Unmarshal(body, &env) != nil || env.Error == nil {
		e.Text = transport.Clip(strings.TrimSpace(string(body)), 500)
		if e.Text == "" {
			e.Text = http.StatusText(status)
		}
		return e
	}
	x := env.Error
	e.Code = x.Code
	for _, d := range x.Details {
		parts := strings.SplitN(d.Message, "|", 3)
		if len(parts) == 3 {
			e.ErrorID, e.ExceptionType, e.Text = strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])
			return e
		}
	}
	if x.InnerError != nil && x.InnerError.InternalException != nil && x.InnerError.InternalException.Message != "" {
		e.ExceptionType, e.Text = x.InnerError.InternalException.Type, x.InnerError.InternalException.Message
		return e
	}
	for _, d := range x.Details {
		if d.Message != "" {
			e.Text = d.Message
			return e
		}
	}
	e.Text = x.Message
	if x.InnerError != nil && e.ExceptionType == "" {
		e.ExceptionType = x.InnerError.Type
	}
	return e
}

func (e *Error) throttled() bool {
	return e.StatusCode == http.StatusTooManyRequests || strings.HasPrefix(e.Text, throttleText)
}

// ErrorCode names the failure in log lines: the exception's class, else error.code.
func (e *Error) ErrorCode() string {
	if t := e.shortType(); t != "" {
		return t
	}
	return e.Code
}

func hasType(e *Error, names ...string) bool {
	t := e.shortType()
	for _, n := range names {
		if strings.EqualFold(t, n) {
			return true
		}
	}
	return false
}

// IsNotFound: ManagementObjectNotFoundException, whatever the status. A bare 404 without an
// exception type is not "not found": it may be a wrong tenant or URL, which must not read as
// "already removed".
func IsNotFound(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && hasType(e, "ManagementObjectNotFoundException")
}

// IsAlreadyExists: ManagementObjectAlreadyExistsException (WIRE.md §E5 ⚠ name).
func IsAlreadyExists(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && hasType(e, "ManagementObjectAlreadyExistsException", "ADObjectAlreadyExistsException")
}

// IsAccessDenied: 403, or an exception saying the caller lacks the RBAC right.
func IsAccessDenied(err error) bool {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return false
	}
	if e.StatusCode == http.StatusForbidden {
		return true
	}
	t := strings.ToLower(e.shortType())
	return strings.Contains(t, "accessdenied") || strings.Contains(t, "permissiondenied") ||
		t == "operationrequiresgroupmanagerexception" || t == "unauthorizedaccessexception"
}
