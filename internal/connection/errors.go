package connection

import (
	"errors"

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
	return &Error{Problem: p, Account: s.account, Who: s.who.Name, Credential: s.who.Credential.Kind(), Summary: summary, Detail: detail, Err: err}
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

// localCredentialError is a credential refused before any request (identity checks it when
// the source is made: a certificate that does not parse, no RSA key).
func localCredentialError(p Principal, err error) error {
	return &Error{Problem: ProblemCredentials, Reason: ReasonBadCredential, Account: ConnectionAccount, Who: p.Name, Credential: p.Credential.Kind(),
		Summary: "Unusable credential for application " + p.Name, Detail: err.Error(), Err: err}
}
