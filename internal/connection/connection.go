// Package connection is the logic of a target connection (DESIGN.md §3), free of Terraform:
// authenticate the admin account, verify EWS access and impersonation, read the management
// roles it holds, assign the missing ones, and wait until they take effect. The provider's
// resource translates its results into state and diagnostics.
package connection

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

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
// credential (identity.Provider keeps one azidentity credential per account).
type Env struct {
	HTTP       *http.Client
	ClientID   string
	MaxRetries int
	Log        transport.Logger
	// Sleep waits between checks for new roles to take effect; a seam for tests.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock; a seam for tests.
	Now func() time.Time

	mu         sync.Mutex
	identities map[string]*identity.Provider // by authority host
}

// Credential is an account and its secret (password or app password).
type Credential struct {
	Username string
	Secret   string
	// AppPassword says the secret is an app password (for messages that say what to change).
	AppPassword bool
}

// Domain is the UPN's domain, used as the tenant of the authority (the password grant is
// not allowed on /common, WIRE.md §A2).
func (c Credential) Domain() string {
	if i := strings.LastIndexByte(c.Username, '@'); i >= 0 {
		return strings.ToLower(c.Username[i+1:])
	}
	return ""
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
	Cloud         cloud.Cloud
	Admin         Credential
	GlobalAdmin   *Credential
	Toggles       roles.Toggles
	AssignMissing bool
	RevokeManaged bool
	// Managed are the assignments recorded in state by earlier applies.
	Managed []Managed
}

// Status is what a check found.
type Status struct {
	TenantID string
	EWSURL   string
	Required []string
	Assigned []string
	Missing  []string
	// Impersonation reports whether EWS impersonation worked at the last check.
	Impersonation bool
	// EWSProblem describes an EWS check that failed for a reason other than missing roles.
	EWSProblem error
}

func (e *Env) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	return transport.Sleep(ctx, d)
}

func (e *Env) retry() transport.Policy {
	return transport.Policy{MaxRetries: e.MaxRetries, Log: e.Log}
}

func (e *Env) identity(authorityHost string) *identity.Provider {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.identities == nil {
		e.identities = map[string]*identity.Provider{}
	}
	p, ok := e.identities[authorityHost]
	if !ok {
		p = identity.New(identity.Options{AuthorityHost: authorityHost, ClientID: e.ClientID, HTTPClient: e.HTTP, MaxRetries: e.MaxRetries, Log: e.Log})
		e.identities[authorityHost] = p
	}
	return p
}

// session talks to one tenant as one account.
type session struct {
	env   *Env
	cloud cloud.Cloud
	cred  Credential
	idp   *identity.Provider

	mu       sync.Mutex
	exoToken *identity.Token
}

func (e *Env) session(c cloud.Cloud, cred Credential) *session {
	return &session{env: e, cloud: c, cred: cred, idp: e.identity(c.AuthorityHost())}
}

func (s *session) token(ctx context.Context, scope string) (identity.Token, error) {
	return s.idp.Token(ctx, s.cred.Domain(), s.cred.Username, s.cred.Secret, scope)
}

// exchangeLogin gets the Exchange token (EWS and the admin API share one resource), which
// also tells the tenant id and the account's object id.
func (s *session) exchangeLogin(ctx context.Context) (identity.Token, error) {
	t, err := s.token(ctx, s.cloud.ExchangeScope())
	if err != nil {
		return t, err
	}
	s.mu.Lock()
	s.exoToken = &t
	s.mu.Unlock()
	return t, nil
}

func (s *session) exchangeTokenSource(ctx context.Context) (string, error) {
	t, err := s.token(ctx, s.cloud.ExchangeScope())
	return t.Value, err
}

func (s *session) graphTokenSource(ctx context.Context) (string, error) {
	t, err := s.token(ctx, s.cloud.GraphScope())
	return t.Value, err
}

func (s *session) tenant() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exoToken != nil && s.exoToken.TenantID != "" {
		return s.exoToken.TenantID
	}
	return s.cred.Domain()
}

func (s *session) exchange() *exchange.Client {
	return exchange.New(s.cloud.Endpoints.Exchange, s.tenant(), exchange.UserAnchor(s.cred.Username), s.env.HTTP, s.exchangeTokenSource, s.env.retry())
}

func (s *session) graph() *graph.Client {
	return graph.New(s.cloud.Endpoints.Graph, s.env.HTTP, s.graphTokenSource, s.env.retry())
}

func (s *session) ews() *ews.Client {
	return ews.New(s.cloud.EWSURL(), s.env.HTTP, s.exchangeTokenSource, s.env.retry())
}

// TenantID resolves the tenant's GUID from the account's domain without signing in (used
// when no secret is at hand, e.g. right after import).
func (e *Env) TenantID(ctx context.Context, c cloud.Cloud, domain string) (string, error) {
	return e.identity(c.AuthorityHost()).TenantID(ctx, domain)
}
