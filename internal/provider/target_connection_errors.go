package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// errorFix is how o365_target_connection words one problem of the connection logic: the
// attribute to point at and the sentence that says what to change in the configuration.
// The connection's own Summary and Detail say what Microsoft refused and why.
type errorFix func(ce *connection.Error) (at path.Path, fix string)

// serviceUnavailableFix: a tenant's service that kept failing needs no change of the
// configuration.
func serviceUnavailableFix(*connection.Error) (path.Path, string) {
	return path.Empty(), "Nothing in the configuration needs to change: Microsoft's service for this tenant did not answer usefully after the retries (`max_retries`). " +
		"Check the tenant's service health in the Microsoft 365 admin center and run plan again later; the other tenants' connections were checked as usual."
}

// targetConnectionErrors is the resource's table of connection problems. A problem not in
// the table is reported without an attribute.
var targetConnectionErrors = map[connection.Problem]errorFix{
	connection.ProblemCredentials: func(ce *connection.Error) (path.Path, string) {
		at, secret := secretAttribute(ce)
		switch ce.Reason {
		case connection.ReasonMFARequired:
			if ce.Credential == connection.AppPassword {
				return at, mfaWayForward
			}
			return at, fmt.Sprintf("Create an app password for it and set `%s` instead of `%s`. ", accountAttr(ce.Account, "app_password"), secret) + mfaWayForward
		case connection.ReasonWrongSecret:
			return at, fmt.Sprintf("Check `%s`; if the password was changed outside Terraform, put the new one into the configuration.", secret)
		case connection.ReasonPasswordExpired:
			return at, fmt.Sprintf("Then put the new password into `%s`.", secret)
		}
		return at, ""
	},
	connection.ProblemAccountGone: func(ce *connection.Error) (path.Path, string) {
		return emailPath(ce.Account), ""
	},
	connection.ProblemTenant: func(ce *connection.Error) (path.Path, string) {
		return emailPath(ce.Account), fmt.Sprintf("Check `%s` and `cloud`.", accountAttr(ce.Account, "email"))
	},
	connection.ProblemClient: func(ce *connection.Error) (path.Path, string) {
		if ce.Reason == connection.ReasonPublicClientDisabled {
			return path.Empty(), "Set the provider's `client_id` to such an application, or leave it unset to use Microsoft's Exchange Online PowerShell client."
		}
		return path.Empty(), "Or set the provider's `client_id` to an application the tenant has consented to."
	},
	connection.ProblemMissingRoles: func(*connection.Error) (path.Path, string) {
		return path.Root("assign_missing_roles"), "`assign_missing_roles` is false: set `assign_missing_roles = true` to let this resource assign them."
	},
	connection.ProblemCannotAssign: func(ce *connection.Error) (path.Path, string) {
		if ce.Account == connection.ConnectionAccount {
			return path.Root("global_admin"), "Set `global_admin` to the credentials of a " + roles.GlobalAdministrator + " (used only to assign roles), or have an administrator assign them."
		}
		return path.Root("global_admin"), "Check that `global_admin` is a " + roles.GlobalAdministrator + " (or " + roles.PrivilegedRoleAdministrator + " for directory roles, " + roles.ExchangeAdministrator + " for Exchange roles)."
	},
	connection.ProblemCannotRevoke: func(*connection.Error) (path.Path, string) {
		return path.Root("global_admin"), "Set `global_admin`, or turn `revoke_managed_roles` off to leave it in place."
	},
	connection.ProblemServiceUnavailable: serviceUnavailableFix,
	connection.ProblemNotYetEffective: func(*connection.Error) (path.Path, string) {
		return path.Empty(), "Run apply again later, or raise `timeouts.create` / `timeouts.update` to wait longer."
	},
	connection.ProblemImpersonationRetired: func(*connection.Error) (path.Path, string) {
		return path.Empty(), "`o365_target_connection` needs that role, so it cannot work against this tenant. " + appWayForward
	},
	connection.ProblemEWSClosed: func(ce *connection.Error) (path.Path, string) {
		if ce.Switch == connection.SwitchEnded {
			return path.Empty(), "`o365_target_connection` works only over EWS, so it cannot work against this tenant any more. " + appWayForward
		}
		return path.Empty(), "Or leave EWS behind. " + appWayForward
	},
}

// appWayForward is what replaces the seed's connection in Exchange Online today (DESIGN.md
// §7, WIRE.md §0): an Entra application over Microsoft Graph.
const appWayForward = "The way forward is an application connection over Microsoft Graph: `o365_migration_application` registers an Entra application with the permissions a migration target needs " +
	"(limited to the migrated mailboxes with `mailbox_scope`), and `o365_target_app_connection` verifies its access to those mailboxes on every plan. " +
	"The guide \"Which target connection do I need?\" shows how to move a configuration over."

// mfaWayForward follows the app password hint: Exchange Online refuses app passwords for EWS
// since October 2022 (WIRE.md §0, §A11), so only a legacy tenant takes them.
const mfaWayForward = "Exchange Online itself no longer accepts app passwords for EWS (Basic authentication ended in 2022); there, use an application connection instead, which signs in without a user: " +
	"`o365_migration_application` with `o365_target_app_connection`."

// accountAttr names an attribute of the account: the admin's own (`app_password`) or the
// global administrator's (`global_admin.app_password`).
func accountAttr(a connection.Account, name string) string {
	if a == connection.AssignerAccount {
		return "global_admin." + name
	}
	if name == "email" {
		return "admin_email"
	}
	return name
}

// secretAttribute is the attribute holding the refused secret and its name in messages.
func secretAttribute(ce *connection.Error) (path.Path, string) {
	name := "password"
	if ce.Credential == connection.AppPassword {
		name = "app_password"
	}
	if ce.Account == connection.AssignerAccount {
		return path.Root("global_admin"), accountAttr(ce.Account, name)
	}
	return path.Root(name), name
}

func emailPath(a connection.Account) path.Path {
	if a == connection.AssignerAccount {
		return path.Root("global_admin").AtName("email")
	}
	return path.Root("admin_email")
}

// addConnectionError turns an error of the connection logic into a diagnostic on the
// attribute to fix, worded by table. With a warnPrefix (a drift check that must not block
// the plan that fixes it) it is a warning.
func addConnectionError(diags *diag.Diagnostics, table map[connection.Problem]errorFix, err error, warnPrefix string) {
	ce, ok := connection.AsError(err)
	if !ok {
		if warnPrefix != "" {
			diags.AddWarning(warnPrefix+"unexpected error", err.Error())
		} else {
			diags.AddError("Target connection failed", err.Error())
		}
		return
	}
	at, detail := path.Empty(), ce.Detail
	if f, ok := table[ce.Problem]; ok {
		var fix string
		at, fix = f(ce)
		if fix != "" {
			detail += "\n\n" + fix
		}
	}
	switch {
	case warnPrefix != "":
		diags.AddAttributeWarning(at, warnPrefix+ce.Summary, detail)
	case at.Equal(path.Empty()):
		diags.AddError(ce.Summary, detail)
	default:
		diags.AddAttributeError(at, ce.Summary, detail)
	}
}
