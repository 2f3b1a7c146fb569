package provider

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// stringCheck adapts a plain check into a plan-time string validator.
type stringCheck struct {
	desc    string
	summary string
	check   func(string) error
}

func (v stringCheck) Description(context.Context) string         { return v.desc }
func (v stringCheck) MarkdownDescription(context.Context) string { return v.desc }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, v.summary, req.Path.String()+": "+err.Error()+".")
	}
}

func httpsURL() validator.String {
	return stringCheck{desc: "must be an https URL", summary: "Invalid endpoint URL", check: cloud.ValidateEndpointURL}
}

func pemFile() validator.String {
	return stringCheck{desc: "must name a readable PEM file of CA certificates", summary: "Unusable CA certificate file",
		check: func(s string) error { _, err := readCAFile(s); return err }}
}

func guid() validator.String {
	return stringCheck{desc: "must be a GUID", summary: "Invalid client ID", check: func(s string) error {
		if !guidPattern.MatchString(s) {
			return fmt.Errorf("must be an application (client) ID, a GUID like %s; got %q", DefaultClientID, s)
		}
		return nil
	}}
}

// recipientFilter checks the syntax of a management scope's OPATH filter at plan time, so a
// filter Exchange would refuse fails before the application is created (a blank one is
// nonBlank's).
func recipientFilter() validator.String {
	return stringCheck{desc: "must be an OPATH recipient filter, e.g. Department -eq 'Sales'", summary: "Invalid recipient filter",
		check: func(s string) error {
			if strings.TrimSpace(s) == "" {
				return nil
			}
			return connection.CheckRecipientFilter(s)
		}}
}

func nonBlank() validator.String {
	return stringCheck{desc: "must not be empty", summary: "Empty value", check: func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("must not be empty or blank")
		}
		return nil
	}}
}

func emailAddress() validator.String {
	return stringCheck{desc: "must be an email address (user principal name)", summary: "Invalid address", check: checkEmail}
}

func checkEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return fmt.Errorf("%q is not an account address; write the user principal name, like admin@contoso.onmicrosoft.com", s)
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return fmt.Errorf("%q is not an account address; write the user principal name, like admin@contoso.onmicrosoft.com", s)
	}
	return nil
}
