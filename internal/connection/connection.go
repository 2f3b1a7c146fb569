// Package connection is the connection logic of the provider, free of Terraform. It holds
// three products around a small shared core:
//
//   - the admin-account connection (admin*.go, o365_target_connection, DESIGN.md §3): an
//     Exchange Online admin account whose EWS impersonation is verified and which is given
//     the management roles the migration needs (Ensure, Check, Diagnose, Revoke);
//   - the application connection (app*.go, o365_target_app_connection, DESIGN.md §7.3): an
//     Entra application whose access to the target mailboxes is verified, and which is given
//     nothing (CheckApp, EnsureApp);
//   - the application registration (registration*.go, o365_migration_application, DESIGN.md
//     §7.2): the Entra application a migration signs in as, registered by the provider's
//     management identity (Register, ReadRegistration, Unregister).
//
// The core is the process's environment (this file), the session of one principal in one
// tenant and its sign-in (session.go, principal.go, credential.go, signin.go), the errors
// with the problems they classify (errors.go, problems.go) and the EWS-switch decision both
// connections diagnose a closed EWS with (ews_switches.go). The provider translates the
// results into state and the errors into diagnostics.
package connection

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// Env is what every connection in one provider process shares: the HTTP client (one pool of
// keep-alive connections), the public client id, retry policy, and one token cache per
// credential (identity.Provider keeps one azidentity credential per credential).
type Env struct {
	HTTP       *http.Client
	ClientID   string
	MaxRetries int
	Log        transport.Logger
	// Sleep waits between checks for new roles to take effect; a seam for tests.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock; a seam for tests.
	Now func() time.Time
	// Health is what the process knows of each tenant's services: one outage is retried by
	// one call and reported to the others at once (transport.Health). Nil: a new one on
	// first use, shared by every connection of this Env.
	Health *transport.Health

	mu         sync.Mutex
	identities map[string]*identity.Provider // by authority host
	// appRoles caches, per application, the Exchange application roles one check read
	// (app_roles.go), so the connections of one application in one process read them once.
	appRoles appRolesCache
}

func (e *Env) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	return transport.Sleep(ctx, d)
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// retry is the retry policy of the calls for tenant (its id or a domain), sharing the
// tenant's health.
func (e *Env) retry(tenant string) transport.Policy {
	e.mu.Lock()
	defer e.mu.Unlock()
	return transport.Policy{MaxRetries: e.MaxRetries, Log: e.Log, Health: e.healthLocked(), Tenant: tenant}
}

func (e *Env) healthLocked() *transport.Health {
	if e.Health == nil {
		e.Health = &transport.Health{}
	}
	return e.Health
}

func (e *Env) identity(authorityHost string) *identity.Provider {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.identities == nil {
		e.identities = map[string]*identity.Provider{}
	}
	p, ok := e.identities[authorityHost]
	if !ok {
		p = identity.New(identity.Options{AuthorityHost: authorityHost, ClientID: e.ClientID, HTTPClient: e.HTTP, MaxRetries: e.MaxRetries, Log: e.Log, Health: e.healthLocked()})
		e.identities[authorityHost] = p
	}
	return p
}

// source is the token source of a principal: the password grant for a user, client
// credentials for an application (identity checks its credential locally first).
func (e *Env) source(c cloud.Cloud, p Principal) (identity.Source, error) {
	if p.Credential.app != nil {
		src, err := e.identity(c.AuthorityHost()).Application(p.tenant(), p.Name, p.Credential.app)
		if err != nil {
			return nil, localCredentialError(p, err)
		}
		return src, nil
	}
	return e.identity(c.AuthorityHost()).User(p.tenant(), p.Name, p.Credential.password), nil
}

// TenantID resolves the tenant's GUID from a verified domain without signing in (used
// when no secret is at hand, e.g. right after import).
func (e *Env) TenantID(ctx context.Context, c cloud.Cloud, domain string) (string, error) {
	return e.identity(c.AuthorityHost()).TenantID(ctx, domain)
}

// DriftCheck marks ctx as the drift check of a plan: while a tenant's service is failing
// (another call's attempts failed twice in a row), its calls report it at once instead of
// waiting for the end of that call's retries. A drift check loses nothing by it (it warns and
// keeps what it knew) and gives its slot back to the other tenants' checks; a change, which
// needs the real outcome, waits.
func DriftCheck(ctx context.Context) context.Context { return transport.Checking(ctx) }
