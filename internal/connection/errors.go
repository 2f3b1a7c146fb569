package connection

import (
	"errors"
	"fmt"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// Problem classifies a failure so the provider can point at the attribute to fix.
type Problem int

const (
	// ProblemOther is anything not classified below (network, Microsoft outage, …).
	ProblemOther Problem = iota
	// ProblemCredentials: the secret was refused (wrong password, MFA needs an app password,
	// disabled, locked, blocked by Conditional Access).
	ProblemCredentials
	// ProblemAccountGone: the account does not exist (any more).
	ProblemAccountGone
	// ProblemTenant: the tenant (the address's domain) is unknown in this cloud.
	ProblemTenant
	// ProblemEWS: EWS refused the account or it has no mailbox.
	ProblemEWS
	// ProblemMissingRoles: roles are missing and assign_missing_roles is false.
	ProblemMissingRoles
	// ProblemCannotAssign: the account that should assign roles may not.
	ProblemCannotAssign
	// ProblemNotYetEffective: roles were assigned but did not take effect within the timeout.
	ProblemNotYetEffective
)

// Error is a failure of a connection step, with a summary and a detail a user can act on.
type Error struct {
	Problem Problem
	// Account is the account the step ran as ("admin" or "global_admin").
	Account string
	// AppPassword says the refused secret was an app password.
	AppPassword bool
	Summary     string
	Detail      string
	Err         error
}

func (e *Error) Error() string { return e.Summary + ": " + e.Detail }
func (e *Error) Unwrap() error { return e.Err }

// AsError finds the connection Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// authError turns a sign-in failure into an Error that says what to change.
func authError(account string, cred Credential, err error) error {
	username, usedAppPassword := cred.Username, cred.AppPassword
	ae, ok := identity.AsAuthError(err)
	if !ok {
		return &Error{Problem: ProblemOther, Account: account, Summary: "Cannot sign in " + username,
			Detail: "Signing in failed before Microsoft answered: " + err.Error(), Err: err}
	}
	secretAttr := "password"
	if usedAppPassword {
		secretAttr = "app_password"
	}
	if account == "global_admin" {
		secretAttr = "global_admin." + secretAttr
	}
	e := &Error{Problem: ProblemCredentials, Account: account, AppPassword: usedAppPassword, Err: err}
	switch {
	case identity.IsMFARequired(ae):
		e.Summary = "Multi-factor authentication is required for " + username
		if usedAppPassword {
			e.Detail = fmt.Sprintf("Microsoft asks for multi-factor authentication even with the app password (AADSTS%d). Check that the app password is current, or create a new one at https://mysignins.microsoft.com/security-info.", ae.Code)
		} else {
			hint := "app_password"
			if account == "global_admin" {
				hint = "global_admin.app_password"
			}
			e.Detail = fmt.Sprintf("The account has multi-factor authentication, so its normal password cannot be used here (AADSTS%d). Create an app password for it and set `%s` instead of `%s`.", ae.Code, hint, secretAttr)
		}
	case identity.IsInvalidCredentials(ae):
		e.Summary = "Wrong password for " + username
		e.Detail = fmt.Sprintf("Microsoft refused the credentials (AADSTS%d). Check `%s`; if the password was changed outside Terraform, put the new one into the configuration.", ae.Code, secretAttr)
	case identity.IsDisabled(ae):
		e.Summary = "Account " + username + " is disabled"
		e.Detail = fmt.Sprintf("The account is blocked from signing in (AADSTS%d). Enable it in the Microsoft 365 admin center, or use another admin account.", ae.Code)
	case identity.IsLocked(ae):
		e.Summary = "Account " + username + " is locked"
		e.Detail = fmt.Sprintf("Too many failed sign-ins locked the account (AADSTS%d). Wait for the lockout to end or unlock it, then run again.", ae.Code)
	case identity.IsUserNotFound(ae):
		e.Problem = ProblemAccountGone
		e.Summary = "Account " + username + " does not exist"
		e.Detail = fmt.Sprintf("The tenant has no such user (AADSTS%d). Check the address; use the account's *.onmicrosoft.com address if its domain was changed.", ae.Code)
	case identity.IsTenantNotFound(ae):
		e.Problem = ProblemTenant
		e.Summary = "Unknown tenant for " + username
		e.Detail = fmt.Sprintf("No tenant in this cloud has the domain of this address (AADSTS%d). Check the address and the `cloud` (Office 365 worldwide and Germany credentials never cross).", ae.Code)
	case identity.IsConditionalAccess(ae):
		e.Summary = "Conditional Access blocked " + username
		e.Detail = fmt.Sprintf("A Conditional Access policy does not allow this sign-in (AADSTS%d). Ask the tenant's administrator to exclude the account or the application.", ae.Code)
	default:
		e.Problem = ProblemOther
		e.Summary = "Cannot sign in " + username
		e.Detail = ae.Error()
	}
	return e
}

// ewsError explains a failed EWS check.
func ewsError(username string, err error) error {
	e := &Error{Problem: ProblemEWS, Account: "admin", Err: err, Summary: "Exchange Web Services refused " + username}
	switch {
	case errors.Is(err, ews.ErrUnauthorized):
		e.Detail = "EWS answered 401 Unauthorized: the token or credentials were rejected. Microsoft turned off Basic authentication for EWS in Exchange Online in 2022."
	case errors.Is(err, ews.ErrForbidden):
		e.Detail = "EWS answered 403 Forbidden: EWS is disabled for this organization or account (EWSEnabled=false, allow/block lists, or EWS retirement). Enable EWS for the account with Set-CASMailbox -EwsEnabled $true."
	case ews.IsNoMailbox(err):
		e.Detail = "The account has no Exchange Online mailbox. Assign it an Exchange Online licence, or use an admin account that has a mailbox."
	default:
		e.Problem = ProblemOther
		e.Detail = err.Error()
	}
	return e
}

func missingRolesError(upn string, missing []roles.Role) error {
	var b strings.Builder
	b.WriteString("The admin account lacks these roles and `assign_missing_roles` is false. An administrator can assign them with:\n")
	for _, r := range missing {
		fmt.Fprintf(&b, "\n  %s (%s):\n    %s\n", r.Name, r.Purpose, r.GrantCommand(upn))
	}
	b.WriteString("\nOr set `assign_missing_roles = true` to let this resource assign them.")
	return &Error{Problem: ProblemMissingRoles, Account: "admin", Summary: fmt.Sprintf("%d required role(s) missing for %s", len(missing), upn), Detail: b.String()}
}

func cannotAssignError(account, assigner string, missing []roles.Role, err error) error {
	names := roles.Names(missing)
	detail := fmt.Sprintf("%s may not assign the roles %s (%v). ", assigner, strings.Join(names, ", "), err)
	if account == "admin" {
		detail += "Set `global_admin` to the credentials of a Global Administrator (used only to assign roles), or have an administrator assign them."
	} else {
		detail += "Check that `global_admin` is a Global Administrator (or Privileged Role Administrator for directory roles, Exchange Administrator for Exchange roles)."
	}
	return &Error{Problem: ProblemCannotAssign, Account: account, Summary: "Cannot assign missing roles", Detail: detail, Err: err}
}
