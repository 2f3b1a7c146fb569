package connection

import (
	"errors"
	"fmt"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// Error is a failure of a connection step: who it concerns, which credential, what the
// problem is and what fixes it on Microsoft's side. It holds no words of Terraform's: the
// provider adds the attribute to change from Problem, Reason, Account and Credential.
type Error struct {
	Problem Problem
	Reason  Reason
	// Account is the principal of the Spec the step ran as; Who is its name (a UPN or a
	// client id) and Credential the kind of secret it signed in with.
	Account    Account
	Who        string
	Credential CredentialKind
	// Code is Microsoft's AADSTS code when the identity platform refused the sign-in.
	Code int
	// Roles are the roles concerned: missing, or not assignable by the assigner.
	Roles []roles.Role
	// Assignment is the assignment a failed removal concerns.
	Assignment *Managed
	Summary    string
	Detail     string
	Err        error

	// Switch is what closed EWS, for ProblemEWSClosed.
	Switch EWSSwitch
}

func (e *Error) Error() string { return e.Summary + ": " + e.Detail }
func (e *Error) Unwrap() error { return e.Err }

// AsError finds the connection Error in err's chain.
func AsError(err error) (*Error, bool) { return errors.AsType[*Error](err) }

// fail is an Error about the principal of s. An unclassified failure whose cause is a
// tenant's service that kept failing is ProblemServiceUnavailable.
func (s *session) fail(p Problem, summary, detail string, err error) *Error {
	if p == ProblemOther && transport.IsUnavailable(err) {
		p = ProblemServiceUnavailable
	}
	return &Error{Problem: p, Account: s.account, Who: s.who.Name, Credential: s.who.Credential.Kind, Summary: summary, Detail: detail, Err: err}
}

// Unavailable reports whether err is a tenant's service that kept failing: the drift check
// then knows nothing new and keeps what it knew.
func Unavailable(err error) bool {
	if ce, ok := AsError(err); ok {
		return ce.Problem == ProblemServiceUnavailable
	}
	return transport.IsUnavailable(err)
}

// failed is an unclassified failure of the principal of s.
func (s *session) failed(summary, detail string, err error) *Error {
	return s.fail(ProblemOther, summary, detail, err)
}

// signInFailure is how one AADSTS code of the identity platform (WIRE.md §A8) reads: the
// problem and reason it is, and the summary and detail that say what changes it on
// Microsoft's side. %[1]s in the texts is the principal, %[2]s the code (AADSTSnnn), %[3]s
// the client application, %[4]s the tenant.
type signInFailure struct {
	is      func(error) bool
	problem Problem
	reason  Reason
	summary string
	detail  string
}

var signInFailures = []signInFailure{
	{identity.IsInvalidCredentials, ProblemCredentials, ReasonWrongSecret, "Wrong password for %[1]s",
		"Microsoft refused the credentials (%[2]s)."},
	{identity.IsPasswordExpired, ProblemCredentials, ReasonPasswordExpired, "Password expired for %[1]s",
		"The account's password has expired (%[2]s). Sign in once interactively (https://portal.office.com) to choose a new one."},
	{identity.IsDisabled, ProblemCredentials, ReasonDisabled, "Account %[1]s is disabled",
		"The account is blocked from signing in (%[2]s). Enable it in the Microsoft 365 admin center, or use another admin account."},
	{identity.IsLocked, ProblemCredentials, ReasonLocked, "Account %[1]s is locked",
		"Too many failed sign-ins locked the account (%[2]s). Wait for the lockout to end or unlock it, then run again."},
	{identity.IsConditionalAccess, ProblemCredentials, ReasonConditionalAccess, "Conditional Access blocked %[1]s",
		"A Conditional Access policy does not allow this sign-in (%[2]s). Ask the tenant's administrator to exclude the account or the application."},
	{identity.IsUserNotFound, ProblemAccountGone, ReasonNone, "Account %[1]s does not exist",
		"The tenant has no such user (%[2]s). Check the address; use the account's *.onmicrosoft.com address if its domain was changed."},
	{identity.IsTenantNotFound, ProblemTenant, ReasonNone, "Unknown tenant for %[1]s",
		"No tenant in this cloud has the domain of this address (%[2]s). Office 365 worldwide and Germany credentials never cross."},
	{identity.IsPublicClientDisabled, ProblemClient, ReasonPublicClientDisabled, "The client application does not allow signing in with a password",
		"Microsoft asks the client application %[3]s for a client secret (%[2]s): it is not registered as a public client. " +
			"Use an application whose registration allows public client flows (Authentication → Allow public client flows = Yes)."},
	{identity.IsConsentRequired, ProblemClient, ReasonConsentRequired, "The tenant has not consented to the client application",
		"The client application %[3]s needs an administrator's consent in this tenant before %[1]s can sign in with it (%[2]s). " +
			"A Global Administrator can grant it once at https://login.microsoftonline.com/%[4]s/adminconsent?client_id=%[3]s."},
}

// signInError turns a sign-in failure into an Error that says what went wrong and what
// changes it on Microsoft's side.
func signInError(s *session, err error) error {
	who := s.who.Name
	if ue, ok := errors.AsType[*transport.UnavailableError](err); ok {
		return s.fail(ProblemServiceUnavailable, "Cannot sign in "+who+": the sign-in service of tenant "+ue.Tenant+" is unavailable",
			ue.Error()+". Nothing is known of the account itself; the next plan or apply asks again.", err)
	}
	ae, ok := identity.AsAuthError(err)
	if !ok {
		return s.failed("Cannot sign in "+who, "Signing in failed before Microsoft answered: "+err.Error(), err)
	}
	e := s.fail(ProblemOther, "Cannot sign in "+who, ae.Error(), err)
	e.Code = ae.Code
	code := fmt.Sprintf("AADSTS%d", ae.Code)
	if identity.IsMFARequired(ae) {
		e.Problem, e.Reason = ProblemCredentials, ReasonMFARequired
		e.Summary = "Multi-factor authentication is required for " + who
		e.Detail = "The account has multi-factor authentication, so its normal password cannot be used here (" + code + "); an app password can."
		if s.who.Credential.Kind == AppPassword {
			e.Detail = "Microsoft asks for multi-factor authentication even with the app password (" + code + "). Check that the app password is current, or create a new one at https://mysignins.microsoft.com/security-info."
		}
		return e
	}
	table := signInFailures
	if s.who.Kind == identity.Application {
		table = appSignInFailures
	}
	for _, f := range table {
		if f.is(ae) {
			args := []any{who, code, s.src.Subject().ClientID, s.who.tenant()}
			e.Problem, e.Reason = f.problem, f.reason
			e.Summary, e.Detail = fmt.Sprintf(f.summary, args...), fmt.Sprintf(f.detail, args...)
			break
		}
	}
	return e
}

// ewsError explains a failed EWS check.
func ewsError(s *session, err error) error {
	e := s.fail(ProblemEWS, "Exchange Web Services refused "+s.who.Name, "", err)
	switch {
	case errors.Is(err, ews.ErrUnauthorized):
		e.Detail = "EWS answered 401 Unauthorized: the token or credentials were rejected. Microsoft turned off Basic authentication for EWS in Exchange Online in 2022."
	case errors.Is(err, ews.ErrForbidden):
		e.Detail = "EWS answered 403 Forbidden: a policy closed EWS for this organization or account (its EwsEnabled switches, the EwsAllowedAppIDs allow list, or the end of EWS in Exchange Online)."
	case ews.IsNoMailbox(err):
		e.Detail = "The account has no Exchange Online mailbox. Assign it an Exchange Online licence, or use an admin account that has a mailbox."
	default:
		e.Problem = ProblemOther
		e.Detail = err.Error()
	}
	return e
}

func missingRolesError(s *session, missing []roles.Role) error {
	upn := s.who.Name
	var b strings.Builder
	b.WriteString("The account lacks these roles. An administrator can assign them with:\n")
	for _, r := range missing {
		fmt.Fprintf(&b, "\n  %s (%s):\n    %s\n", r.Name, r.Purpose, r.GrantCommand(upn))
	}
	e := s.fail(ProblemMissingRoles, fmt.Sprintf("%d required role(s) missing for %s", len(missing), upn), b.String(), nil)
	e.Roles = missing
	return e
}

func cannotAssignError(assigner *session, missing []roles.Role, err error) error {
	e := assigner.fail(ProblemCannotAssign, "Cannot assign missing roles",
		fmt.Sprintf("%s may not assign the roles %s (%v).", assigner.who.Name, strings.Join(roles.Names(missing), ", "), err), err)
	e.Roles = missing
	return e
}

func cannotRevokeError(assigner *session, m Managed, err error) error {
	e := assigner.fail(ProblemCannotRevoke, "Cannot remove role "+m.Role,
		fmt.Sprintf("%s may not remove the assignment %q (%v).", assigner.who.Name, m.ID, err), err)
	e.Assignment = &m
	return e
}

func notYetEffective(s *session, res *Result, cause error) error {
	what := "The account holds " + roles.Impersonation().Name
	if len(res.Assigned) > 0 {
		what = "Assigned " + strings.Join(res.Assigned, ", ") + "; these assignments are recorded"
	}
	return s.fail(ProblemNotYetEffective, "Roles not effective yet for "+s.who.Name,
		what+", but EWS impersonation still fails: Exchange Online can take a while (up to an hour) before a new role assignment takes effect.", cause)
}
