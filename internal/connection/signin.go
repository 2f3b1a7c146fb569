package connection

import (
	"errors"
	"fmt"

	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

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

var userSignInFailures = []signInFailure{
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

// appSignInFailures is how the identity platform's answers to an application read (§I5):
// %[1]s is the application (client id), %[2]s the code, %[3]s the client id, %[4]s the tenant.
var appSignInFailures = []signInFailure{
	{identity.IsInvalidClientSecret, ProblemCredentials, ReasonWrongSecret, "Wrong client secret for application %[1]s",
		"Microsoft refused the client secret (%[2]s): it is unknown, was deleted or rotated, or the secret's ID was given instead of its value. " +
			"Create a new secret under Certificates & secrets of the app registration and use its Value."},
	{identity.IsClientSecretExpired, ProblemCredentials, ReasonSecretExpired, "Client secret of application %[1]s has expired",
		"The client secret is past its end date (%[2]s). Create a new secret for the app registration (https://aka.ms/NewClientSecret), or use a certificate credential."},
	{identity.IsInvalidClientAssertion, ProblemCredentials, ReasonKeyNotRegistered, "Certificate not accepted for application %[1]s",
		"Microsoft did not accept the certificate's signature (%[2]s): the certificate is not registered on the app registration, or it expired there. " +
			"Upload its public part under Certificates & secrets."},
	{identity.IsAssertionOutsideValidity, ProblemCredentials, ReasonAssertionTime, "Certificate sign-in outside its validity for application %[1]s",
		"The client assertion is outside its valid time range (%[2]s): check this machine's clock."},
	{identity.IsApplicationDisabled, ProblemCredentials, ReasonDisabled, "Application %[1]s is disabled",
		"The application's service principal is disabled in tenant %[4]s (%[2]s). Enable it under Enterprise applications → Properties → Enabled for users to sign in."},
	{identity.IsApplicationNotFound, ProblemAccountGone, ReasonNone, "Application %[1]s not found in tenant %[4]s",
		"No application with this client ID exists in the tenant (%[2]s): wrong tenant, the application was deleted, or it was created moments ago. " +
			"Check the client ID (Application (client) ID of the app registration) and the tenant."},
	{isNoServicePrincipal, ProblemAccountGone, ReasonNone, "Application %[1]s has no service principal in tenant %[4]s",
		"The application exists but has no service principal (enterprise application) in the tenant (%[2]s). Create it (New-MgServicePrincipal -AppId %[3]s) and grant its permissions."},
	{identity.IsTenantNotFound, ProblemTenant, ReasonNone, "Unknown tenant %[4]s",
		"No tenant in this cloud has this ID or verified domain (%[2]s). Office 365 clouds are separate and their credentials never cross."},
	{identity.IsResourceNotInTenant, ProblemOther, ReasonNone, "A service is not provisioned in tenant %[4]s",
		"The tenant has no service principal for the resource the token was asked for (%[2]s), e.g. Exchange Online in a tenant without Exchange."},
}

// isNoServicePrincipal: AADSTS7000229, the client application has no service principal.
func isNoServicePrincipal(err error) bool {
	ae, ok := identity.AsAuthError(err)
	return ok && ae.Has(7000229)
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
		if s.who.Credential.Kind() == AppPassword {
			e.Detail = "Microsoft asks for multi-factor authentication even with the app password (" + code + "). Check that the app password is current, or create a new one at https://mysignins.microsoft.com/security-info."
		}
		return e
	}
	for _, f := range s.kind().signInFailures {
		if f.is(ae) {
			args := []any{who, code, s.src.Subject().ClientID, s.who.tenant()}
			e.Problem, e.Reason = f.problem, f.reason
			e.Summary, e.Detail = fmt.Sprintf(f.summary, args...), fmt.Sprintf(f.detail, args...)
			break
		}
	}
	return e
}
