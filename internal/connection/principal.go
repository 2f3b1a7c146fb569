package connection

import (
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
)

// Principal is who signs in: a user (an Exchange Online admin account, DESIGN.md §3) or an
// Entra application (§7). What differs between the two for a session is principalKind
// (session.go).
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

// App returns the principal of the application clientID signing in to tenant.
func App(tenant, clientID string, c Credential) Principal {
	return Principal{Kind: identity.Application, Name: clientID, Tenant: tenant, Credential: c}
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

// Account says which principal of a spec a step ran as.
type Account int

const (
	// ConnectionAccount is the principal the connection verifies and the migration uses.
	ConnectionAccount Account = iota + 1
	// AssignerAccount is the principal that assigns the roles the connection's principal
	// cannot assign itself (and revokes them); it is never used for mailbox access.
	AssignerAccount
	// ManagementAccount is the management identity of a registration (DESIGN.md §7.1).
	ManagementAccount
)
