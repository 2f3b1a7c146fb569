package identity

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// bodies are token endpoint error bodies in the shape of WIRE.md §A8 (with the "\r\n"
// separators of real responses).
var bodies = map[string]string{
	"50126":   `{"error":"invalid_grant","error_description":"AADSTS50126: Error validating credentials due to invalid username or password.\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2026-09-30 10:15:02Z","error_codes":[50126],"timestamp":"2026-09-30 10:15:02Z","trace_id":"0000aaaa-11bb-cccc-dd22-eeeeee333333","correlation_id":"aaaa0000-bb11-2222-33cc-444444dddddd","error_uri":"https://login.microsoftonline.com/error?code=50126"}`,
	"50076":   `{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'. Trace ID: 1 Correlation ID: 2 Timestamp: 2026-09-30 10:15:02Z","error_codes":[50076],"suberror":"basic_action","claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"x\"]}}}","correlation_id":"2"}`,
	"50079":   `{"error":"invalid_grant","error_description":"AADSTS50079: Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access 'x'.","error_codes":[50079],"suberror":"basic_action"}`,
	"50034":   `{"error":"invalid_grant","error_description":"AADSTS50034: The user account {EUII Hidden} does not exist in the 'contoso.onmicrosoft.com' directory. To sign into this application, the account must be added to the directory.","error_codes":[50034]}`,
	"50053":   `{"error":"invalid_grant","error_description":"AADSTS50053: The account is locked, you've tried to sign in too many times with an incorrect user ID or password.","error_codes":[50053]}`,
	"50057":   `{"error":"invalid_grant","error_description":"AADSTS50057: The user account is disabled.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2026-09-30 10:15:02Z","error_codes":[50057],"correlation_id":"c"}`,
	"90002":   `{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant 'nowhere.example' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.","error_codes":[90002]}`,
	"53003":   `{"error":"invalid_grant","error_description":"AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.","error_codes":[53003],"suberror":"message_only"}`,
	"65001":   `{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented to use the application with ID 'x' named 'y'.","error_codes":[65001],"suberror":"consent_required"}`,
	"7000218": `{"error":"invalid_client","error_description":"AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.","error_codes":[7000218]}`,
	"700016":  `{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.","error_codes":[700016]}`,
	"9001023": `{"error":"invalid_request","error_description":"AADSTS9001023: The grant type isn't supported over the /common or /consumers endpoints.","error_codes":[9001023]}`,
	"50055":   `{"error":"invalid_grant","error_description":"AADSTS50055: The password is expired.","error_codes":[50055]}`,
}

// azError wraps body the way azidentity does: an AuthenticationFailedError whose
// RawResponse is the token endpoint's answer.
func azError(status int, body string) error {
	resp := &http.Response{StatusCode: status, Status: fmt.Sprint(status), Header: http.Header{}, Body: io.NopCloser(bytes.NewBufferString(body))}
	return fmt.Errorf("wrapped: %w", &azidentity.AuthenticationFailedError{RawResponse: resp})
}

func TestAsAuthErrorOnEachDocumentedBody(t *testing.T) {
	for _, tc := range []struct {
		code      string
		status    int
		want      int
		errorName string
		sub       string
		pred      func(error) bool
	}{
		{"50126", 400, 50126, "invalid_grant", "", IsInvalidCredentials},
		{"50076", 400, 50076, "invalid_grant", "basic_action", IsMFARequired},
		{"50079", 400, 50079, "invalid_grant", "basic_action", IsMFARequired},
		{"50034", 400, 50034, "invalid_grant", "", IsUserNotFound},
		{"50053", 400, 50053, "invalid_grant", "", IsLocked},
		{"50057", 400, 50057, "invalid_grant", "", IsDisabled},
		{"90002", 400, 90002, "invalid_tenant", "", IsTenantNotFound},
		{"53003", 400, 53003, "invalid_grant", "message_only", IsConditionalAccess},
		{"65001", 400, 65001, "invalid_grant", "consent_required", IsConsentRequired},
		{"7000218", 401, 7000218, "invalid_client", "", IsPublicClientDisabled},
		{"700016", 400, 700016, "unauthorized_client", "", nil},
		{"9001023", 400, 9001023, "invalid_request", "", nil},
		{"50055", 400, 50055, "invalid_grant", "", IsPasswordExpired},
	} {
		t.Run(tc.code, func(t *testing.T) {
			err := azError(tc.status, bodies[tc.code])
			ae, ok := AsAuthError(err)
			if !ok {
				t.Fatal("not recognised")
			}
			if ae.Code != tc.want || ae.StatusCode != tc.status || ae.ErrorName != tc.errorName || ae.SubError != tc.sub {
				t.Fatalf("got %+v", ae)
			}
			if tc.pred != nil && !tc.pred(err) {
				t.Error("predicate false")
			}
			if IsMFARequired(err) != (tc.want == 50076 || tc.want == 50079) {
				t.Error("IsMFARequired wrong")
			}
			msg := ae.Error()
			if !strings.Contains(msg, "AADSTS"+tc.code) || strings.Contains(msg, "Trace ID") || strings.Contains(msg, "\r") {
				t.Errorf("Error() = %q", msg)
			}
			if !errors.Is(ae, err) && ae.Unwrap() == nil {
				t.Error("AuthError should keep the original error")
			}
			// The body stays readable for azidentity's own message.
			if !strings.Contains(errors.Unwrap(err).Error(), "AADSTS"+tc.code) {
				t.Error("azidentity error lost its body")
			}
		})
	}
}

func TestAsAuthErrorNegative(t *testing.T) {
	for name, err := range map[string]error{
		"nil":       nil,
		"plain":     errors.New("dial tcp: connection refused"),
		"no body":   &azidentity.AuthenticationFailedError{},
		"html body": azError(502, "<html>bad gateway</html>"),
		"json junk": azError(500, `{"foo":1}`),
	} {
		if ae, ok := AsAuthError(err); ok {
			t.Errorf("%s: recognised as %+v", name, ae)
		}
	}
}

func TestParseAuthErrorLeniency(t *testing.T) {
	// error_codes as strings, or missing with the code only in the description.
	ae, ok := parseAuthError(400, []byte(`{"error":"invalid_grant","error_codes":["50126"]}`))
	if !ok || ae.Code != 50126 {
		t.Fatalf("string codes: %+v", ae)
	}
	ae, ok = parseAuthError(400, []byte(`{"error":"invalid_grant","error_description":"AADSTS50076: MFA"}`))
	if !ok || ae.Code != 50076 || !IsMFARequired(ae) {
		t.Fatalf("description code: %+v", ae)
	}
}

func FuzzParseAuthError(f *testing.F) {
	for _, b := range bodies {
		f.Add(400, []byte(b))
	}
	f.Add(500, []byte(`{"error_codes":[1e99,"x",null]}`))
	f.Add(400, []byte(`{"error_description":"AADSTS99999999999999"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		ae, ok := parseAuthError(status, body)
		if ok {
			_ = ae.Error()
			if len(ae.Codes) > 0 && ae.Code != ae.Codes[0] {
				t.Fatal("Code is not the first error code")
			}
		}
	})
}

func BenchmarkParseAuthError(b *testing.B) {
	body := []byte(bodies["50076"])
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseAuthError(400, body); !ok {
			b.Fatal("not parsed")
		}
	}
}
