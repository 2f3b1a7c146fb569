package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

// appConnectionErrors is o365_target_app_connection's table of connection problems: the
// attribute to point at and what to change in the configuration. The credential attribute
// is the one the configuration uses (a write-only one included).
func appConnectionErrors(m targetAppConnectionModel) map[connection.Problem]errorFix {
	cred := credentialAttribute(m)
	return map[connection.Problem]errorFix{
		connection.ProblemCredentials: func(ce *connection.Error) (path.Path, string) {
			switch ce.Reason {
			case connection.ReasonWrongSecret:
				return path.Root(cred), fmt.Sprintf("Put the secret's current value into `%s`.", cred)
			case connection.ReasonSecretExpired:
				return path.Root(cred), fmt.Sprintf("Then put the new secret's value into `%s`; the apply verifies the connection with it. "+
					"When `%s` refers to an o365_migration_application's `client_secret`, the plan that renews that secret updates this connection too.", cred, cred)
			case connection.ReasonKeyNotRegistered, connection.ReasonBadCredential:
				return path.Root(cred), fmt.Sprintf("Or configure in `%s` the certificate that is registered.", cred)
			case connection.ReasonDisabled:
				return path.Root("client_id"), ""
			}
			return path.Root(cred), ""
		},
		connection.ProblemAccountGone: func(*connection.Error) (path.Path, string) {
			return path.Root("client_id"), "Check `client_id` and `tenant`."
		},
		connection.ProblemTenant: func(*connection.Error) (path.Path, string) {
			return path.Root("tenant"), "Check `tenant` and `cloud`."
		},
		connection.ProblemMissingPermissions: func(*connection.Error) (path.Path, string) {
			return path.Root("client_id"), "Then run apply again; a new consent reaches only new tokens, so it shows at the next run of the provider."
		},
		connection.ProblemUnreachable: func(*connection.Error) (path.Path, string) {
			return path.Root("verify_mailboxes"), "Or remove from `verify_mailboxes` the mailboxes the migration does not write to."
		},
		connection.ProblemServiceUnavailable: serviceUnavailableFix,
		connection.ProblemEWS: func(*connection.Error) (path.Path, string) {
			return path.Root("protocol"), "Or use `protocol = \"graph\"`, which EWS switches do not affect."
		},
	}
}

// credentialAttribute names the configured credential attribute.
func credentialAttribute(m targetAppConnectionModel) string {
	for _, a := range appCredentials {
		if !a.field(&m).IsNull() {
			return a.name
		}
	}
	return "client_secret"
}

// addDrift reports, as plan warnings on the attribute each concerns, what a check of
// application clientID found not working, each with its fix. A problem of the application
// (a permission missing, EWS closed) is the same for all its connections: it is given once
// per provider process, not once per connection.
func (r *targetAppConnectionResource) addDrift(diags *diag.Diagnostics, clientID string, st *connection.AppStatus) {
	app := strings.ToLower(st.TenantID + "/" + clientID)
	// A permission the plan of its o365_migration_application grants again (that resource's
	// update shows it) is not also a warning: it would still be printed after the apply that
	// granted it.
	if len(st.Missing) > 0 && (r.data == nil || !r.data.regrants.covers(app, st.Missing)) {
		detail := connection.MissingPermissionsText(st) + "\nEvery connection of this application needs it; this warning is given once."
		if len(st.Unreachable) > 0 {
			detail += " Until it is granted, the mailboxes that need it are unreachable: each connection lists them in `unreachable_mailboxes`."
		}
		r.data.warnOnce(diags, app+"|missing|"+strings.Join(st.Missing, ","), path.Root("missing_permissions"),
			fmt.Sprintf("Application %s lacks %s: %s", clientID, connection.MissingSummary(st), strings.Join(st.Missing, ", ")), detail)
	}
	// Mailboxes refused only for want of a missing permission say nothing that warning does
	// not (the grant is their fix): one warning per application, not one per connection.
	explained := len(st.Missing) > 0 && st.UnreachableForMissing()
	if len(st.Unreachable) > 0 && !explained {
		mailboxes := strings.Join(st.UnreachableMailboxes(), ", ")
		r.data.warnOnce(diags, app+"|unreachable|"+mailboxes, path.Root("unreachable_mailboxes"),
			fmt.Sprintf("%s unreachable: %s", connection.Count(len(st.Unreachable), "mailbox", "mailboxes"), mailboxes),
			connection.UnreachableText(st))
	}
	if len(st.Pending) > 0 {
		mailboxes := strings.Join(st.Pending, ", ")
		r.data.warnOnce(diags, app+"|pending|"+mailboxes, path.Root("pending_mailboxes"), "Exchange RBAC not effective yet for "+mailboxes, connection.PendingText(st))
	}
	if len(st.ScopeBypassed) > 0 {
		summary := scopeBypassedSummary(st.ScopeBypassed)
		r.data.warnOnce(diags, app+"|bypass|"+summary, path.Root("granted_permissions"), summary, connection.ScopeBypassText(st.ScopeBypassed)+"\nEvery connection of this application is concerned; this warning is given once.")
	}
	if st.EWSStatus != "" && st.EWSStatus != connection.EWSEnabled {
		r.data.warnOnce(diags, app+"|ews|"+st.EWSStatus+"|"+st.EWSDetail, path.Root("ews_status"), "EWS closed: ews_status = "+st.EWSStatus, st.EWSDetail)
	}
}

// scopeBypassedSummary is the title of the warning about consents that defeat a mailbox
// scope.
func scopeBypassedSummary(b []connection.ScopeBypass) string {
	perms := make([]string, 0, len(b))
	for _, x := range b {
		perms = append(perms, x.Permission)
	}
	return "Mailbox scope bypassed: " + strings.Join(perms, ", ") + " consented tenant-wide"
}

// warnScopeBypassed warns, on at, about consents that defeat the application's mailbox
// scope; nothing when there are none.
func warnScopeBypassed(diags *diag.Diagnostics, at path.Path, b []connection.ScopeBypass) {
	if len(b) > 0 {
		diags.AddAttributeWarning(at, scopeBypassedSummary(b), connection.ScopeBypassText(b))
	}
}
