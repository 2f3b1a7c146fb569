package ews

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// Namespaces of EWS SOAP 1.1 (WIRE.md §D1).
const (
	nsSOAP     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsTypes    = "http://schemas.microsoft.com/exchange/services/2006/types"
	nsMessages = "http://schemas.microsoft.com/exchange/services/2006/messages"
	nsErrors   = "http://schemas.microsoft.com/exchange/services/2006/errors"
)

// ErrUnauthorized is any 401 from EWS: token missing, expired, for the wrong audience, or
// Basic credentials rejected (Exchange Online has refused Basic auth for EWS since Oct
// 2022). The body is not parsed (WIRE.md §A11, §D6).
var ErrUnauthorized = errors.New("ews: HTTP 401 Unauthorized (credentials or token rejected)")

// ErrForbidden is a 403 from EWS: a policy block (EWSEnabled=false for the organisation or
// user, allow/block lists, application access policy, EWS retirement; WIRE.md §D6).
var ErrForbidden = errors.New("ews: HTTP 403 Forbidden (EWS access blocked by policy)")

// Fault is a SOAP fault (HTTP 500): errors raised while processing the header, such as
// impersonation, version or throttling (WIRE.md §D5).
type Fault struct {
	Code       string        // e:ResponseCode, or faultcode without its prefix: ErrorImpersonateUserDenied, ErrorServerBusy, …
	Message    string        // e:Message or faultstring
	BackOff    time.Duration // MessageXml BackOffMilliseconds of ErrorServerBusy
	HTTPStatus int
}

func (f *Fault) Error() string {
	s := fmt.Sprintf("ews: SOAP fault %s: %s", f.Code, f.Message)
	if f.BackOff > 0 {
		s += fmt.Sprintf(" (back off %s)", f.BackOff)
	}
	return s
}

// ResponseError is a response message with ResponseClass="Error" (WIRE.md §D4).
type ResponseError struct {
	Code        string // ResponseCode, e.g. ErrorAccessDenied, ErrorNonExistentMailbox
	MessageText string
	BackOff     time.Duration // BackOffMilliseconds when Code is ErrorServerBusy
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("ews: %s: %s", e.Code, e.MessageText)
}

// StatusError is an HTTP failure that is neither 401, 403 nor a SOAP fault.
type StatusError struct {
	StatusCode int
	Snippet    string // start of the body, for diagnosis
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("ews: HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Snippet != "" {
		s += ": " + e.Snippet
	}
	return s
}

// ErrorCode is the EWS response code, for log lines.
func (f *Fault) ErrorCode() string { return f.Code }

// ErrorCode is the EWS response code, for log lines.
func (e *ResponseError) ErrorCode() string { return e.Code }

// code returns the EWS code carried by err, if any.
func code(err error) string {
	if f, ok := errors.AsType[*Fault](err); ok {
		return f.Code
	}
	if r, ok := errors.AsType[*ResponseError](err); ok {
		return r.Code
	}
	return ""
}

// IsImpersonationDenied: the account may not impersonate the mailbox (it lacks
// ApplicationImpersonation, or the assignment has not taken effect yet).
func IsImpersonationDenied(err error) bool {
	c := code(err)
	return c == "ErrorImpersonateUserDenied" || c == "ErrorImpersonationDenied"
}

// IsImpersonationHeaderInvalid: ErrorInvalidExchangeImpersonationHeaderData, the
// ExchangeImpersonation header is missing for an app-only token, or present for a delegated
// one (a missing X-AnchorMailbox can cause it too, §I13).
func IsImpersonationHeaderInvalid(err error) bool {
	return code(err) == "ErrorInvalidExchangeImpersonationHeaderData"
}

// IsAccessDenied: ErrorAccessDenied, for an application a mailbox outside its RBAC scope or
// no EWS right at all (§I13 ⚠: ErrorImpersonateUserDenied is seen too).
func IsAccessDenied(err error) bool { return code(err) == "ErrorAccessDenied" }

// IsClosed: EWS refused the request by policy, HTTP 403 (§K4): EWS switched off for the
// organisation or the mailbox, the application not on the allowed list, or a user-agent
// rule. The body is not parsed (its form is unconfirmed); Get-OrganizationConfig and
// Get-CASMailbox say which switch closed it (§K2–K3).
func IsClosed(err error) bool { return errors.Is(err, ErrForbidden) }

// IsNoMailbox: the address has no mailbox (fault or response message, ⚠ §D5).
func IsNoMailbox(err error) bool { return code(err) == "ErrorNonExistentMailbox" }

// IsServerBusy: EWS throttling, which arrives as ErrorServerBusy rather than HTTP 429 (§D5).
func IsServerBusy(err error) bool { return code(err) == "ErrorServerBusy" }

// backOff returns the server's requested wait carried by err.
func backOff(err error) time.Duration {
	if f, ok := errors.AsType[*Fault](err); ok {
		return f.BackOff
	}
	if r, ok := errors.AsType[*ResponseError](err); ok {
		return r.BackOff
	}
	return 0
}

type messageXML struct {
	Values []struct {
		Name  string `xml:"Name,attr"`
		Value string `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/exchange/services/2006/types Value"`
}

func (m *messageXML) backOff() time.Duration {
	if m == nil {
		return 0
	}
	for _, v := range m.Values {
		if v.Name == "BackOffMilliseconds" {
			ms, err := strconv.ParseInt(strings.TrimSpace(v.Value), 10, 64)
			if err == nil && ms > 0 && ms < int64(24*time.Hour/time.Millisecond) {
				return time.Duration(ms) * time.Millisecond
			}
		}
	}
	return 0
}

type soapFault struct {
	FaultCode   string `xml:"faultcode"`
	FaultString string `xml:"faultstring"`
	Detail      struct {
		ResponseCode string      `xml:"http://schemas.microsoft.com/exchange/services/2006/errors ResponseCode"`
		Message      string      `xml:"http://schemas.microsoft.com/exchange/services/2006/errors Message"`
		MessageXML   *messageXML `xml:"http://schemas.microsoft.com/exchange/services/2006/types MessageXml"`
	} `xml:"detail"`
}

type responseMessage struct {
	ResponseClass string      `xml:"ResponseClass,attr"`
	MessageText   string      `xml:"http://schemas.microsoft.com/exchange/services/2006/messages MessageText"`
	ResponseCode  string      `xml:"http://schemas.microsoft.com/exchange/services/2006/messages ResponseCode"`
	MessageXML    *messageXML `xml:"http://schemas.microsoft.com/exchange/services/2006/messages MessageXml"`
	Folders       struct {
		Items []struct {
			XMLName  xml.Name
			FolderID *struct {
				ID        string `xml:"Id,attr"`
				ChangeKey string `xml:"ChangeKey,attr"`
			} `xml:"http://schemas.microsoft.com/exchange/services/2006/types FolderId"`
		} `xml:",any"`
	} `xml:"http://schemas.microsoft.com/exchange/services/2006/messages Folders"`
}

type responseEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    *struct {
		Fault             *soapFault `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
		GetFolderResponse *struct {
			Messages []responseMessage `xml:"http://schemas.microsoft.com/exchange/services/2006/messages ResponseMessages>GetFolderResponseMessage"`
		} `xml:"http://schemas.microsoft.com/exchange/services/2006/messages GetFolderResponse"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// ParseResponse interprets an EWS GetFolder answer: status 401/403 give ErrUnauthorized /
// ErrForbidden without reading the body; a SOAP fault gives *Fault; otherwise one folder per
// GetFolderResponseMessage, in order (WIRE.md §D3), or the first message's *ResponseError
// when a message has ResponseClass="Error" (§D4). Folder.DistinguishedID is left empty: the
// caller knows which ids it asked for.
//
// A 200 that is not a whole SOAP envelope with a GetFolderResponse whose every message
// carries its ResponseClass and ResponseCode (an empty body, one cut short, a proxy's HTML
// page) gives a *transport.MalformedAnswerError: EWS always sends them, and such an answer
// says nothing of the mailbox.
func ParseResponse(status int, body []byte) ([]Folder, error) {
	switch status {
	case http.StatusUnauthorized:
		return nil, ErrUnauthorized
	case http.StatusForbidden:
		return nil, ErrForbidden
	}
	var env responseEnvelope
	perr := xml.NewDecoder(bytes.NewReader(body)).Decode(&env)
	if perr == nil && env.Body != nil && env.Body.Fault != nil {
		return nil, faultFrom(env.Body.Fault, status)
	}
	if status != http.StatusOK {
		return nil, &StatusError{StatusCode: status, Snippet: snippet(body)}
	}
	msgs, problem := responseMessages(&env, body, perr)
	if problem == "" {
		problem = checkMessages(msgs)
	}
	if problem != "" {
		return nil, malformed(status, problem)
	}
	var folders []Folder
	for _, m := range msgs {
		if m.ResponseClass == "Error" {
			return folders, &ResponseError{Code: strings.TrimSpace(m.ResponseCode), MessageText: strings.TrimSpace(m.MessageText), BackOff: m.MessageXML.backOff()}
		}
		f, ok := m.folder()
		if !ok {
			return folders, malformed(status, fmt.Sprintf("GetFolderResponseMessage %d (%s) without a FolderId", len(folders)+1, transport.Clip(strings.TrimSpace(m.ResponseCode), 60)))
		}
		folders = append(folders, f)
	}
	return folders, nil
}

func malformed(status int, problem string) error {
	return &transport.MalformedAnswerError{Service: "ews", Op: "GetFolder", Status: status, Problem: problem}
}

// responseMessages are the GetFolderResponseMessages of a decoded 200 answer, or what is
// wrong with the answer (perr is the decoder's error).
func responseMessages(env *responseEnvelope, body []byte, perr error) ([]responseMessage, string) {
	switch {
	case perr != nil && len(bytes.TrimSpace(body)) == 0:
		return nil, "empty body"
	case perr != nil && strings.Contains(perr.Error(), "unexpected EOF"):
		return nil, "truncated XML"
	case perr != nil:
		return nil, "not a SOAP envelope"
	case env.Body == nil:
		return nil, "no SOAP Body"
	case env.Body.GetFolderResponse == nil:
		return nil, "no GetFolderResponse"
	case len(env.Body.GetFolderResponse.Messages) == 0:
		return nil, "no GetFolderResponseMessage"
	}
	return env.Body.GetFolderResponse.Messages, ""
}

// checkMessages says what is wrong with the messages: EWS always sends each one's
// ResponseClass and ResponseCode.
func checkMessages(msgs []responseMessage) string {
	for i, m := range msgs {
		if m.ResponseClass == "" || strings.TrimSpace(m.ResponseCode) == "" {
			return fmt.Sprintf("GetFolderResponseMessage %d without its ResponseClass and ResponseCode", i+1)
		}
	}
	return ""
}

// folder is the message's first FolderId.
func (m responseMessage) folder() (Folder, bool) {
	for _, it := range m.Folders.Items {
		if it.FolderID != nil && it.FolderID.ID != "" {
			return Folder{ID: it.FolderID.ID, ChangeKey: it.FolderID.ChangeKey}, true
		}
	}
	return Folder{}, false
}

func faultFrom(sf *soapFault, status int) *Fault {
	f := &Fault{Code: strings.TrimSpace(sf.Detail.ResponseCode), Message: strings.TrimSpace(sf.Detail.Message), HTTPStatus: status}
	if f.Code == "" {
		// faultcode is a QName in the types namespace, e.g. "a:ErrorServerBusy".
		c := strings.TrimSpace(sf.FaultCode)
		if i := strings.LastIndexByte(c, ':'); i >= 0 {
			c = c[i+1:]
		}
		f.Code = c
	}
	if f.Message == "" {
		f.Message = strings.TrimSpace(sf.FaultString)
	}
	f.BackOff = sf.Detail.MessageXML.backOff()
	return f
}

func snippet(b []byte) string {
	return strings.ToValidUTF8(transport.Clip(strings.TrimSpace(string(b)), 200), "?")
}
