package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

// The resource words the connection's problems: each points at the attribute to fix and
// says, in Terraform's terms, what to change.
func TestTargetConnectionErrorTable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    connection.Error
		path   string
		detail []string
	}{
		{"mfa with password", connection.Error{Problem: connection.ProblemCredentials, Reason: connection.ReasonMFARequired, Account: connection.ConnectionAccount, Credential: connection.Password},
			"password", []string{"`app_password` instead of `password`"}},
		{"mfa with the assigner's password", connection.Error{Problem: connection.ProblemCredentials, Reason: connection.ReasonMFARequired, Account: connection.AssignerAccount, Credential: connection.Password},
			"global_admin", []string{"`global_admin.app_password` instead of `global_admin.password`"}},
		{"wrong app password", connection.Error{Problem: connection.ProblemCredentials, Reason: connection.ReasonWrongSecret, Account: connection.ConnectionAccount, Credential: connection.AppPassword},
			"app_password", []string{"Check `app_password`"}},
		{"password expired", connection.Error{Problem: connection.ProblemCredentials, Reason: connection.ReasonPasswordExpired, Account: connection.ConnectionAccount, Credential: connection.Password},
			"password", []string{"new password into `password`"}},
		{"unknown tenant", connection.Error{Problem: connection.ProblemTenant, Account: connection.ConnectionAccount},
			"admin_email", []string{"`admin_email` and `cloud`"}},
		{"assigner gone", connection.Error{Problem: connection.ProblemAccountGone, Account: connection.AssignerAccount},
			"global_admin.email", nil},
		{"public client flows disabled", connection.Error{Problem: connection.ProblemClient, Reason: connection.ReasonPublicClientDisabled},
			"", []string{"provider's `client_id`"}},
		{"consent required", connection.Error{Problem: connection.ProblemClient, Reason: connection.ReasonConsentRequired},
			"", []string{"provider's `client_id`", "consented"}},
		{"assignment off", connection.Error{Problem: connection.ProblemMissingRoles},
			"assign_missing_roles", []string{"`assign_missing_roles = true`"}},
		{"admin may not assign", connection.Error{Problem: connection.ProblemCannotAssign, Account: connection.ConnectionAccount},
			"global_admin", []string{"Set `global_admin`"}},
		{"assigner may not assign", connection.Error{Problem: connection.ProblemCannotAssign, Account: connection.AssignerAccount},
			"global_admin", []string{"Check that `global_admin` is a Global Administrator"}},
		{"may not revoke", connection.Error{Problem: connection.ProblemCannotRevoke, Account: connection.AssignerAccount},
			"global_admin", []string{"`revoke_managed_roles` off"}},
		{"not effective", connection.Error{Problem: connection.ProblemNotYetEffective},
			"", []string{"`timeouts.create`"}},
		{"mfa with the app password", connection.Error{Problem: connection.ProblemCredentials, Reason: connection.ReasonMFARequired, Account: connection.ConnectionAccount, Credential: connection.AppPassword},
			"app_password", []string{"`o365_migration_application` with `o365_target_app_connection`"}},
		{"role retired", connection.Error{Problem: connection.ProblemImpersonationRetired},
			"", []string{"`o365_target_connection` needs that role", "`o365_migration_application`", "`o365_target_app_connection`", "`mailbox_scope`", "Which target connection do I need?"}},
		{"ews closed by a switch", connection.Error{Problem: connection.ProblemEWSClosed, Switch: connection.SwitchMailbox},
			"", []string{"Or leave EWS behind.", "`o365_target_app_connection`"}},
		{"ews ended", connection.Error{Problem: connection.ProblemEWSClosed, Switch: connection.SwitchEnded},
			"", []string{"works only over EWS", "`o365_migration_application`"}},
		{"other", connection.Error{Problem: connection.ProblemOther}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.err
			e.Summary, e.Detail = "Summary of "+tc.name, "What Microsoft said."
			var diags diag.Diagnostics
			addConnectionError(&diags, targetConnectionErrors, &e, "")
			if len(diags) != 1 || diags[0].Severity() != diag.SeverityError {
				t.Fatalf("diags = %v", diags)
			}
			d := diags[0]
			if got := diagPath(d); got != tc.path {
				t.Errorf("path = %q, want %q", got, tc.path)
			}
			if d.Summary() != e.Summary || !strings.HasPrefix(d.Detail(), e.Detail) {
				t.Errorf("summary %q detail %q", d.Summary(), d.Detail())
			}
			for _, w := range tc.detail {
				if !strings.Contains(d.Detail(), w) {
					t.Errorf("detail %q lacks %q", d.Detail(), w)
				}
			}
			var warn diag.Diagnostics
			addConnectionError(&warn, targetConnectionErrors, &e, "Drift check: ")
			if len(warn) != 1 || warn[0].Severity() != diag.SeverityWarning || !strings.HasPrefix(warn[0].Summary(), "Drift check: ") {
				t.Errorf("as a warning: %v", warn)
			}
		})
	}
}
