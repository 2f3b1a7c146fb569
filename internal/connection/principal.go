package connection

import (
	"context"
	"fmt"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
)

// Principal is who signs in: a user (an Exchange Online admin account) today, an Entra
// application next (DESIGN.md §7). What differs between the two is the kind strategy below.
type Principal struct {
	Kind identity.Kind
	// Name is the user principal name, or the application's client id.
	Name string
	// Tenant is where the principal signs in: a verified domain or the tenant id. Empty for
	// a user means the UPN's domain (the password grant is not allowed on /common, WIRE.md
	// §A2).
	Tenant     string
	Credential Credential
}

// User is the principal of an account signing in with a password or an app password.
func User(upn string, c Credential) Principal {
	return Principal{Kind: identity.User, Name: upn, Credential: c}
}

// tenant is the tenant the principal signs in to.
func (p Principal) tenant() string {
	if p.Tenant != "" {
		return p.Tenant
	}
	if i := strings.LastIndexByte(p.Name, '@'); i >= 0 {
		return strings.ToLower(p.Name[i+1:])
	}
	return ""
}

// CredentialKind says which secret a principal signs in with, so that an error can say which
// one was refused.
type CredentialKind int

const (
	// Password is a user's password.
	Password CredentialKind = iota + 1
	// AppPassword is a user's app password, for an account with multi-factor authentication.
	AppPassword
	// ClientSecret is an application's client secret (WIRE.md §I1).
	ClientSecret
	// ClientCertificate is an application's certificate with its private key (§I2).
	ClientCertificate
	// FederatedToken is a workload identity's federated token file (DESIGN.md §7.1).
	FederatedToken
)

// Credential is a principal's secret. It never prints its value.
type Credential struct {
	Kind CredentialKind
	// Secret is the password, app password or client secret; the certificate (PEM, or
	// PKCS#12 bytes); or the path of the federated token file.
	Secret string
	// CertificatePassword protects a PKCS#12 certificate.
	CertificatePassword string
}

func (c Credential) String() string   { return fmt.Sprintf("Credential(kind %d, redacted)", c.Kind) }
func (c Credential) GoString() string { return c.String() }

// Account says which principal of a Spec a step ran as.
type Account int

const (
	// ConnectionAccount is the principal the connection verifies and the migration uses.
	ConnectionAccount Account = iota + 1
	// AssignerAccount is the principal that assigns the roles the connection's principal
	// cannot assign itself (and revokes them); it is never used for mailbox access.
	AssignerAccount
)

// kind is what differs between the principals a connection signs in as: how its Exchange
// admin API session is anchored, how its access is verified, how its roles are read,
// assigned and revoked, and which assignments are the ones this provider made. ensure.go
// runs the one pipeline over it (authenticate → verify → read → adopt/prune → revoke →
// assign → wait); today's logic is the user kind (user.go). An application kind plugs in
// here, with its own session from identity (a client-credentials Source).
type kind interface {
	// anchor is the X-AnchorMailbox of the principal's admin API session (WIRE.md §E1, §J1).
	anchor(s *session) string
	// verify proves, before anything is assigned, that the principal's mailbox access can
	// work. effective is false when it can, but a right it needs is not effective (yet);
	// other failures are *Error.
	verify(ctx context.Context, s *session) (effective bool, err error)
	// probe is verify's one-call form, for drift checks and the wait for new rights.
	probe(ctx context.Context, s *session) (effective bool, err error)
	// readHeld reads what the principal holds. principalID is its object id when the token
	// named it.
	readHeld(ctx context.Context, s *session, t roles.Toggles, principalID string) (*held, error)
	// managedIn lists the assignments in h that this provider made for the principal
	// (recognised by name), so a run whose answer was lost is adopted, never doubled.
	managedIn(s *session, h *held) []Managed
	// assign gives the principal of s the role, as assigner (s itself or another principal),
	// and returns the assignments to record: the one it made, or the ones found to be ours
	// when the role turned out to be assigned already (recorded even with an error).
	assign(ctx context.Context, s, assigner *session, role roles.Role, h *held) ([]Managed, error)
	// revoke removes an assignment this provider made, as s.
	revoke(ctx context.Context, s *session, m Managed) error
}

// kindOf returns the strategy of a principal's kind.
func kindOf(k identity.Kind) (kind, error) {
	switch k {
	case identity.User:
		return userKind{}, nil
	case identity.Application:
		return appKind{}, nil
	}
	return nil, fmt.Errorf("connection: a %s principal cannot be connected by this resource", k)
}
