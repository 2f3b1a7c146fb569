package connection

import (
	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
)

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

// localCredentialError is a credential refused before any request (identity checks it when
// the source is made: a certificate that does not parse, no RSA key).
func localCredentialError(p Principal, err error) error {
	return &Error{Problem: ProblemCredentials, Reason: ReasonBadCredential, Account: ConnectionAccount, Who: p.Name, Credential: p.Credential.Kind,
		Summary: "Unusable credential for application " + p.Name, Detail: err.Error(), Err: err}
}
