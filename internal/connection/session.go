package connection

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/google/uuid"

	"github.com/o365-terraform/terraform-provider-o365/internal/cloud"
	"github.com/o365-terraform/terraform-provider-o365/internal/ews"
	"github.com/o365-terraform/terraform-provider-o365/internal/exchange"
	"github.com/o365-terraform/terraform-provider-o365/internal/graph"
	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// session talks to one tenant as one principal: it holds the principal's token source (not
// its secret) and one admin API session. The three products of the package run their steps
// on sessions.
type session struct {
	env     *Env
	cloud   cloud.Cloud
	who     Principal // without its secret
	account Account
	src     identity.Source
	connID  string // the admin API's connection-id, constant for the session (§E1)

	mu       sync.Mutex
	exoToken *identity.Token
	exo      *exchange.Client
	exoFor   string // the tenant exo was made for
}

// principalKind is what differs, for a session, between a user and an application signing
// in: how its admin API session is anchored (WIRE.md §E1, §J1), how it calls EWS (as itself,
// or app-only with ExchangeImpersonation, §I13), and how the identity platform's refusals
// read (§A8, §I5).
type principalKind struct {
	anchor         func(s *session) string
	ews            func(url string, hc *http.Client, token transport.TokenSource, retry transport.Policy) *ews.Client
	signInFailures []signInFailure
}

var principalKinds = map[identity.Kind]principalKind{
	identity.User: {
		anchor:         func(s *session) string { return exchange.UserAnchor(s.who.Name) },
		ews:            ews.New,
		signInFailures: userSignInFailures,
	},
	identity.Application: {
		anchor:         func(s *session) string { return exchange.AppAnchor(s.tenant()) },
		ews:            ews.NewAppOnly,
		signInFailures: appSignInFailures,
	},
}

func (s *session) kind() principalKind { return principalKinds[s.who.Kind] }

func (e *Env) session(c cloud.Cloud, p Principal, a Account) (*session, error) {
	if _, ok := principalKinds[p.Kind]; !ok {
		return nil, fmt.Errorf("connection: a %s principal cannot sign in", p.Kind)
	}
	if (p.Kind == identity.Application) != (p.Credential.app != nil) {
		return nil, fmt.Errorf("connection: a %s cannot sign in with a %s credential", p.Kind, p.Credential.kind)
	}
	src, err := e.source(c, p)
	if err != nil {
		return nil, err
	}
	p.Credential = p.Credential.redacted()
	return &session{env: e, cloud: c, who: p, account: a, src: src, connID: uuid.NewString()}, nil
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

// token is the clients' token source for one resource's scope.
func (s *session) token(scope string) transport.TokenSource {
	return func(ctx context.Context) (string, error) {
		t, err := s.src.Token(ctx, scope)
		return t.Value, err
	}
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
		s.exo = exchange.New(s.cloud.Endpoints.Exchange, t, s.kind().anchor(s), s.connID, s.env.HTTP, s.token(s.cloud.ExchangeScope()), s.env.retry(t))
		s.exoFor = t
	}
	return s.exo
}

func (s *session) graph() *graph.Client {
	return graph.New(s.cloud.Endpoints.Graph, s.env.HTTP, s.token(s.cloud.GraphScope()), s.env.retry(s.tenant()))
}

func (s *session) ews() *ews.Client {
	return s.kind().ews(s.cloud.EWSURL(), s.env.HTTP, s.token(s.cloud.ExchangeScope()), s.env.retry(s.tenant()))
}
