package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
)

// AuthError is a failed token request as the identity platform reports it (WIRE.md §A8):
// the AADSTS codes are what callers match on, never the text, which Microsoft documents as
// subject to change.
type AuthError struct {
	StatusCode    int
	Code          int   // first of error_codes, e.g. 50076
	Codes         []int // error_codes
	ErrorName     string
	SubError      string // suberror: basic_action, message_only, consent_required, …
	Description   string // error_description without its Trace ID / Correlation ID / Timestamp lines
	CorrelationID string
	TraceID       string

	err error // the azidentity error, kept for errors.As
}

func (e *AuthError) Error() string {
	var b strings.Builder
	b.WriteString("sign-in failed")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.StatusCode)
		if e.ErrorName != "" {
			b.WriteString(" " + e.ErrorName)
		}
		if e.SubError != "" {
			b.WriteString("/" + e.SubError)
		}
		b.WriteString(")")
	}
	b.WriteString(": ")
	d := e.Description
	if e.Code != 0 && !strings.HasPrefix(d, "AADSTS") {
		fmt.Fprintf(&b, "AADSTS%d: ", e.Code)
	}
	if d == "" {
		d = "no description"
	}
	b.WriteString(d)
	if e.CorrelationID != "" {
		b.WriteString(" (correlation ID " + e.CorrelationID + ")")
	}
	return b.String()
}

func (e *AuthError) Unwrap() error { return e.err }

// Has reports whether code is among the error codes.
func (e *AuthError) Has(code int) bool {
	if e == nil {
		return false
	}
	if e.Code == code {
		return true
	}
	for _, c := range e.Codes {
		if c == code {
			return true
		}
	}
	return false
}

// Predicates on the AADSTS codes of WIRE.md §A8. They accept any error (nil-safe) and
// also an *AuthError directly.
func IsMFARequired(err error) bool        { return has(err, 50076, 50079) }
func IsInvalidCredentials(err error) bool { return has(err, 50126) }
func IsUserNotFound(err error) bool       { return has(err, 50034) }
func IsDisabled(err error) bool           { return has(err, 50057) }
func IsLocked(err error) bool             { return has(err, 50053) }
func IsTenantNotFound(err error) bool     { return has(err, 90002) }
func IsConditionalAccess(err error) bool  { return has(err, 53003) }

// IsPasswordExpired: AADSTS50055.
func IsPasswordExpired(err error) bool { return has(err, 50055) }

// IsPublicClientDisabled: the client application does not allow public-client flows
// (AADSTS7000218), so it asks for a client secret.
func IsPublicClientDisabled(err error) bool { return has(err, 7000218) }

// IsConsentRequired: AADSTS65001.
func IsConsentRequired(err error) bool { return has(err, 65001) }

// Predicates on the AADSTS codes of an application's sign-in (client credentials, WIRE.md
// §I5). Missing consent is not among them: the token comes without roles and the resource
// refuses the call.

// IsInvalidClientSecret: AADSTS7000215, the secret is unknown, deleted, or its ID was sent
// instead of its value.
func IsInvalidClientSecret(err error) bool { return has(err, 7000215) }

// IsClientSecretExpired: AADSTS7000222, the secret is past its end date.
func IsClientSecretExpired(err error) bool { return has(err, 7000222) }

// IsApplicationNotFound: AADSTS700016, no application with this client id in the tenant
// (wrong tenant, deleted, or just created and not replicated yet).
func IsApplicationNotFound(err error) bool { return has(err, 700016) }

// IsInvalidClientAssertion: AADSTS700027, the assertion is signed with a key the
// application does not have, or its signature fails.
func IsInvalidClientAssertion(err error) bool { return has(err, 700027) }

// IsAssertionOutsideValidity: AADSTS700024, the assertion is outside its nbf..exp window
// (clock skew, a stale federated token).
func IsAssertionOutsideValidity(err error) bool { return has(err, 700024) }

// IsApplicationDisabled: AADSTS7000112, the application's service principal is disabled.
func IsApplicationDisabled(err error) bool { return has(err, 7000112) }

// IsInvalidScope: AADSTS1002012, a named scope instead of `<resource>/.default`.
func IsInvalidScope(err error) bool { return has(err, 1002012) }

// IsResourceNotInTenant: AADSTS500011, the resource's service principal is missing in the
// tenant (e.g. Exchange Online in a tenant without Exchange).
func IsResourceNotInTenant(err error) bool { return has(err, 500011) }

func has(err error, codes ...int) bool {
	ae, ok := AsAuthError(err)
	if !ok {
		return false
	}
	for _, c := range codes {
		if ae.Has(c) {
			return true
		}
	}
	return false
}

// AsAuthError finds the token endpoint's error in err: an *AuthError in the chain, or the
// body of the response kept by azidentity's AuthenticationFailedError (or MSAL's CallErr).
// It reports false when err carries no identity-platform error body.
func AsAuthError(err error) (*AuthError, bool) {
	if err == nil {
		return nil, false
	}
	var ae *AuthError
	if errors.As(err, &ae) {
		return ae, true
	}
	resp := rawResponse(err)
	if resp == nil {
		return nil, false
	}
	// runtime.Payload reads the body once and keeps it readable for azidentity's own Error().
	body, _ := runtime.Payload(resp) // an unreadable body parses as no error body
	ae, ok := parseAuthError(resp.StatusCode, body)
	if !ok {
		return nil, false
	}
	ae.err = err
	return ae, true
}

// rawResponse is the token endpoint's answer kept in err by azidentity or MSAL, if any.
func rawResponse(err error) *http.Response {
	var afe *azidentity.AuthenticationFailedError
	var ce msalerrors.CallErr
	switch {
	case errors.As(err, &afe) && afe.RawResponse != nil:
		return afe.RawResponse
	case errors.As(err, &ce) && ce.Resp != nil:
		return ce.Resp
	}
	return nil
}

// flexInts accepts error_codes as numbers or numeric strings.
type flexInts []int

func (f *flexInts) UnmarshalJSON(b []byte) error {
	// A malformed field is tolerated (no codes) rather than lose the rest of the error.
	var raw []json.RawMessage
	_ = json.Unmarshal(b, &raw)
	for _, r := range raw {
		var n int
		if json.Unmarshal(r, &n) == nil {
			*f = append(*f, n)
			continue
		}
		var s string
		if json.Unmarshal(r, &s) == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				*f = append(*f, n)
			}
		}
	}
	return nil
}

type errorBody struct {
	Error         string   `json:"error"`
	SubError      string   `json:"suberror"`
	Description   string   `json:"error_description"`
	Codes         flexInts `json:"error_codes"`
	CorrelationID string   `json:"correlation_id"`
	TraceID       string   `json:"trace_id"`
}

// parseAuthError reads the OAuth error body of WIRE.md §A8. When error_codes is absent, the
// code is taken from a leading "AADSTS<n>:" of the description.
func parseAuthError(status int, body []byte) (*AuthError, bool) {
	var b errorBody
	if !isErrorBody(body, &b) {
		return nil, false
	}
	e := &AuthError{
		StatusCode: status, Codes: []int(b.Codes), ErrorName: b.Error, SubError: b.SubError,
		Description: cleanDescription(b.Description), CorrelationID: b.CorrelationID, TraceID: b.TraceID,
	}
	if len(e.Codes) > 0 {
		e.Code = e.Codes[0]
	} else if n, ok := aadstsCode(b.Description); ok {
		e.Code, e.Codes = n, []int{n}
	}
	return e, true
}

// isErrorBody decodes body into b and reports whether it is an OAuth error body at all.
func isErrorBody(body []byte, b *errorBody) bool {
	return json.Unmarshal(body, b) == nil && (b.Error != "" || len(b.Codes) > 0 || b.Description != "")
}

// cleanDescription drops the Trace ID / Correlation ID / Timestamp tail (separated by
// "\r\n" in real responses, by spaces in some captures): those are separate fields.
func cleanDescription(d string) string {
	d = strings.ReplaceAll(d, "\r\n", " ")
	d = strings.ReplaceAll(d, "\n", " ")
	if i := strings.Index(d, " Trace ID:"); i >= 0 {
		d = d[:i]
	}
	return strings.TrimSpace(d)
}

func aadstsCode(d string) (int, bool) {
	if !strings.HasPrefix(d, "AADSTS") {
		return 0, false
	}
	d = d[len("AADSTS"):]
	i := 0
	for i < len(d) && i < 9 && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(d[:i])
	return n, err == nil
}
