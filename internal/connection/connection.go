// Package connection is the logic of a target connection (DESIGN.md §3), free of Terraform:
// sign the principal in, verify its mailbox access, read the roles it holds, assign the
// missing ones, and wait until they take effect. The provider's resource translates its
// results into state and its errors into diagnostics.
package connection

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/roles"
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
	// (app.go), so the connections of one application in one process read them once.
	appRoles appRolesCache
}

// Managed is a role assignment this connection created, recorded so it can be revoked.
type Managed struct {
	Role string
	Kind roles.Kind
	// ID is the Exchange assignment's Identity (its name) or the Graph roleAssignment id.
	ID string
}

// Spec is what the configuration asks for.
type Spec struct {
	Cloud cloud.Cloud
	// Principal is who the connection signs in as.
	Principal Principal
	// Assigner, when set, assigns (and revokes) the roles the principal cannot assign
	// itself; it is never used for mailbox access.
	Assigner      *Principal
	Toggles       roles.Toggles
	AssignMissing bool
	RevokeManaged bool
	// Managed are the assignments recorded in state by earlier applies.
	Managed []Managed
}

// Status is what a check found.
type Status struct {
	TenantID string
	Required []string
	Assigned []string
	Missing  []string
	// Impersonation reports whether EWS impersonation worked at the last check.
	Impersonation bool
	// EWSProblem says why EWS access cannot work, for a reason other than a role that can be
	// assigned: EWS refused or closed (ProblemEWSClosed names the switch), or impersonation
	// denied because the tenant retired ApplicationImpersonation (ProblemImpersonationRetired).
	EWSProblem error
}

func (e *Env) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	return transport.Sleep(ctx, d)
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
	if p.Kind == identity.Application {
		src, err := e.identity(c.AuthorityHost()).Application(p.tenant(), p.Name, appCredential(p.Credential))
		if err != nil {
			return nil, localCredentialError(p, err)
		}
		return src, nil
	}
	return e.identity(c.AuthorityHost()).User(p.tenant(), p.Name, p.Credential.Secret), nil
}

// session talks to one tenant as one principal: it holds the principal's token source (not
// its secret) and one admin API session.
type session struct {
	env     *Env
	cloud   cloud.Cloud
	who     Principal // without its secret
	account Account
	src     identity.Source
	kind    kind
	connID  string // the admin API's connection-id, constant for the session (§E1)

	mu       sync.Mutex
	exoToken *identity.Token
	exo      *exchange.Client
	exoFor   string // the tenant exo was made for
}

func (e *Env) session(c cloud.Cloud, p Principal, a Account) (*session, error) {
	k, err := kindOf(p.Kind)
	if err != nil {
		return nil, err
	}
	src, err := e.source(c, p)
	if err != nil {
		return nil, err
	}
	p.Credential = Credential{Kind: p.Credential.Kind}
	return &session{env: e, cloud: c, who: p, account: a, src: src, kind: k, connID: uuid.NewString()}, nil
}

// sessions opens the connection's session and the one that assigns roles (the assigner's,
// or the same).
func (e *Env) sessions(spec Spec) (conn, assigner *session, err error) {
	conn, err = e.session(spec.Cloud, spec.Principal, ConnectionAccount)
	if err != nil || spec.Assigner == nil {
		return conn, conn, err
	}
	assigner, err = e.session(spec.Cloud, *spec.Assigner, AssignerAccount)
	return conn, assigner, err
}

// signIn gets the Exchange token (EWS and the admin API share one resource), which also
// tells the tenant id and the principal's object id.
func (s *session) signIn(ctx context.Context) (identity.Token, error) {
	t, err := s.src.Token(ctx, s.cloud.ExchangeScope())
	if err != nil {
		return t, signInError(s, err)
	}
	s.mu.Lock()
	s.exoToken = &t
	s.mu.Unlock()
	return t, nil
}

func (s *session) exchangeToken(ctx context.Context) (string, error) {
	t, err := s.src.Token(ctx, s.cloud.ExchangeScope())
	return t.Value, err
}

func (s *session) graphToken(ctx context.Context) (string, error) {
	t, err := s.src.Token(ctx, s.cloud.GraphScope())
	return t.Value, err
}

// tenant is the tenant id once signed in, the principal's tenant before.
func (s *session) tenant() string {
	if s.exoToken != nil && s.exoToken.TenantID != "" {
		return s.exoToken.TenantID
	}
	return s.who.tenant()
}

// exchange is the session's admin API client: one per session, so one connection-id.
func (s *session) exchange() *exchange.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tenant(); s.exo == nil || s.exoFor != t {
		s.exo = exchange.New(s.cloud.Endpoints.Exchange, t, s.kind.anchor(s), s.connID, s.env.HTTP, s.exchangeToken, s.env.retry(t))
		s.exoFor = t
	}
	return s.exo
}

func (s *session) graph() *graph.Client {
	return graph.New(s.cloud.Endpoints.Graph, s.env.HTTP, s.graphToken, s.env.retry(s.tenant()))
}

func (s *session) ews() *ews.Client {
	if s.who.Kind == identity.Application {
		return ews.NewAppOnly(s.cloud.EWSURL(), s.env.HTTP, s.exchangeToken, s.env.retry(s.tenant()))
	}
	return ews.New(s.cloud.EWSURL(), s.env.HTTP, s.exchangeToken, s.env.retry(s.tenant()))
}

// TenantID resolves the tenant's GUID from a verified domain without signing in (used
// when no secret is at hand, e.g. right after import).
func (e *Env) TenantID(ctx context.Context, c cloud.Cloud, domain string) (string, error) {
	return e.identity(c.AuthorityHost()).TenantID(ctx, domain)
}
