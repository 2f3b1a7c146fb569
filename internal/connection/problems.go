package connection

import "fmt"

// Problem classifies a failure, so the provider can point at what to fix. The provider's
// per-resource tables key on it.
type Problem int

const (
	// ProblemOther is anything not classified below (network, Microsoft outage, …).
	ProblemOther Problem = iota
	// ProblemCredentials: the secret was refused (Reason says why: wrong, multi-factor
	// authentication required, expired password or secret, account or application disabled,
	// Conditional Access, a certificate not registered or unusable).
	ProblemCredentials
	// ProblemAccountGone: the account or application does not exist (any more), or the
	// application has no service principal in the tenant.
	ProblemAccountGone
	// ProblemTenant: the tenant (the address's domain, or the tenant named) is unknown in
	// this cloud.
	ProblemTenant
	// ProblemClient: the client application signing in is refused (Reason: public-client
	// flows disabled, consent missing).
	ProblemClient
	// ProblemEWS: EWS refused the principal or it has no mailbox.
	ProblemEWS
	// ProblemMissingRoles: roles are missing and the spec does not allow assigning them.
	ProblemMissingRoles
	// ProblemCannotAssign: the principal that should assign roles may not.
	ProblemCannotAssign
	// ProblemCannotRevoke: the principal that should remove an assignment may not.
	ProblemCannotRevoke
	// ProblemNotYetEffective: roles were assigned but did not take effect in time.
	ProblemNotYetEffective
	// ProblemServiceUnavailable: a service of the tenant (its sign-in, Graph, the Exchange
	// admin API or EWS) kept failing (throttled, unavailable, unreachable, broken answers);
	// nothing is known of the connection itself.
	ProblemServiceUnavailable
	// ProblemImpersonationRetired: the tenant no longer has the ApplicationImpersonation
	// role, so no user account can impersonate mailboxes any more (Exchange Online since
	// February 2025, WIRE.md §0, §K1). No role assignment can fix it.
	ProblemImpersonationRetired
	// ProblemEWSClosed: EWS refused the account by policy (HTTP 403, §K4); Error.Switch
	// says which switch closed it.
	ProblemEWSClosed
	// ProblemMissingPermissions: an application lacks application permissions or Exchange
	// application roles the migration needs (Roles is empty; the Detail lists them).
	ProblemMissingPermissions
	// ProblemUnreachable: some mailboxes an application connection verifies could not be
	// opened.
	ProblemUnreachable
	// ProblemManagementDenied: the management identity of a registration lacks a right; the
	// Detail says which (roles.Management).
	ProblemManagementDenied
	// ProblemResourceMissing: a resource API (Microsoft Graph, Exchange Online) has no
	// service principal in the tenant, so its permissions cannot be granted.
	ProblemResourceMissing
	// ProblemScopeRefused: Exchange refused the management scope's recipient filter.
	ProblemScopeRefused
)

var problemNames = [...]string{
	ProblemOther:                "other",
	ProblemCredentials:          "credentials",
	ProblemAccountGone:          "account gone",
	ProblemTenant:               "tenant",
	ProblemClient:               "client application",
	ProblemEWS:                  "EWS",
	ProblemMissingRoles:         "missing roles",
	ProblemCannotAssign:         "cannot assign",
	ProblemCannotRevoke:         "cannot revoke",
	ProblemNotYetEffective:      "not yet effective",
	ProblemServiceUnavailable:   "service unavailable",
	ProblemImpersonationRetired: "impersonation retired",
	ProblemEWSClosed:            "EWS closed",
	ProblemMissingPermissions:   "missing permissions",
	ProblemUnreachable:          "unreachable mailboxes",
	ProblemManagementDenied:     "management denied",
	ProblemResourceMissing:      "resource missing",
	ProblemScopeRefused:         "scope refused",
}

func (p Problem) String() string {
	if p >= 0 && int(p) < len(problemNames) {
		return problemNames[p]
	}
	return fmt.Sprintf("Problem(%d)", int(p))
}

// Reason is the precise cause of a sign-in failure (Microsoft's AADSTS code, WIRE.md §A8,
// §I5).
type Reason int

const (
	ReasonNone Reason = iota
	// ReasonWrongSecret: AADSTS50126, the password or app password is wrong; AADSTS7000215,
	// the client secret is.
	ReasonWrongSecret
	// ReasonMFARequired: AADSTS50076/50079, the account has multi-factor authentication.
	ReasonMFARequired
	// ReasonPasswordExpired: AADSTS50055, the password must be changed.
	ReasonPasswordExpired
	// ReasonDisabled: AADSTS50057, the account is blocked from signing in; AADSTS7000112,
	// the application is disabled.
	ReasonDisabled
	// ReasonLocked: AADSTS50053, too many failed sign-ins.
	ReasonLocked
	// ReasonConditionalAccess: AADSTS53003, a policy blocks the sign-in.
	ReasonConditionalAccess
	// ReasonPublicClientDisabled: AADSTS7000218, the client application does not allow
	// public-client flows, so it asks for a client secret.
	ReasonPublicClientDisabled
	// ReasonConsentRequired: AADSTS65001, the tenant has not consented to the client
	// application.
	ReasonConsentRequired
	// ReasonSecretExpired: AADSTS7000222, the client secret is past its end date.
	ReasonSecretExpired
	// ReasonKeyNotRegistered: AADSTS700027, the certificate is not registered on the
	// application (or the signature fails).
	ReasonKeyNotRegistered
	// ReasonAssertionTime: AADSTS700024, the assertion is outside its validity (clock skew).
	ReasonAssertionTime
	// ReasonBadCredential: the credential could not be used at all (a certificate that does
	// not parse), before any request.
	ReasonBadCredential
)

var reasonNames = [...]string{
	ReasonNone:                 "none",
	ReasonWrongSecret:          "wrong secret",
	ReasonMFARequired:          "multi-factor authentication required",
	ReasonPasswordExpired:      "password expired",
	ReasonDisabled:             "disabled",
	ReasonLocked:               "locked",
	ReasonConditionalAccess:    "conditional access",
	ReasonPublicClientDisabled: "public client flows disabled",
	ReasonConsentRequired:      "consent required",
	ReasonSecretExpired:        "secret expired",
	ReasonKeyNotRegistered:     "key not registered",
	ReasonAssertionTime:        "assertion outside its validity",
	ReasonBadCredential:        "unusable credential",
}

func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}
