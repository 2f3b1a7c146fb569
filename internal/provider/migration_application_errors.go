package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

// migrationApplicationErrors is o365_migration_application's table of registration
// problems: the attribute to point at and what to change in the configuration. The
// connection's Summary and Detail say what Microsoft refused and which right to grant.
var migrationApplicationErrors = map[connection.Problem]errorFix{
	connection.ProblemServiceUnavailable: serviceUnavailableFix,
	connection.ProblemCredentials: func(*connection.Error) (path.Path, string) {
		return path.Empty(), "Check the provider's `management` credential (`client_secret`, `client_certificate_file` or `federated_token_file`)."
	},
	connection.ProblemTenant: func(*connection.Error) (path.Path, string) {
		return path.Empty(), "Check the provider's `management.tenant_id`."
	},
	connection.ProblemClient: func(*connection.Error) (path.Path, string) {
		return path.Empty(), "Check the provider's `management.client_id`."
	},
	connection.ProblemManagementDenied: func(*connection.Error) (path.Path, string) {
		return path.Empty(), "Then run apply again: what was already made is recorded and is not made twice."
	},
	connection.ProblemScopeRefused: func(*connection.Error) (path.Path, string) {
		return path.Root("mailbox_scope").AtName("recipient_filter"), "Write the filter in OPATH, e.g. `CustomAttribute15 -eq 'migrate'`."
	},
	connection.ProblemResourceMissing: func(*connection.Error) (path.Path, string) {
		return path.Root("protocol"), ""
	},
}

// addRegistrationError reports a registration failure, worded by the table; with a
// warnPrefix (a drift check that must not block the plan that fixes it) as a warning.
func addRegistrationError(diags *diag.Diagnostics, err error, warnPrefix string) {
	if _, ok := connection.AsError(err); !ok {
		if warnPrefix != "" {
			diags.AddWarning(warnPrefix+"unexpected error", err.Error())
		} else {
			diags.AddError("Migration application registration failed", err.Error())
		}
		return
	}
	addConnectionError(diags, migrationApplicationErrors, err, warnPrefix)
}
