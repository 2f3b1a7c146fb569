// Package identity gets access tokens through Microsoft's azidentity/MSAL (WIRE.md §A, §I):
// one Source per identity that signs in (a user with the resource owner password grant, or an
// application with client credentials), one token per audience. Tokens are cached per
// credential for the life of the process.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/o365-terraform/terraform-provider-o365/internal/transport"
)

// Options configure a Provider.
type Options struct {
	AuthorityHost string // e.g. "https://login.microsoftonline.com/" (or the emulator's URL); https only
	ClientID      string // the public client application of the password grant (WIRE.md §A10)
	HTTPClient    *http.Client
	MaxRetries    int // retries of throttled or failed token calls
	Log           transport.Logger
	// Health shares a tenant's sign-in outage among the process's calls (transport.Health):
	// one call retries, the others wait for it or fail at once with its diagnosis.
	Health *transport.Health
	// Sleep waits between retries; tests replace it (transport.Sleep when nil).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Provider hands out Sources for one authority host. It is safe for concurrent use. It
// keeps ONE azidentity credential per (tenant, client id, identity, credential digest) for
// the life of the process, so every resource of a provider process shares one MSAL token
// cache per credential: a second token for the same scope costs no HTTP request, and a
// user's token for another resource is a silent refresh_token grant (WIRE.md §A1, §A9, §I3).
type Provider struct {
	opts Options
	// discovery shares the OpenID configuration and home realm answers among all the
	// credentials (discovery.go), so an identity's first token costs one request, not three.
	discovery *discoveryCache
	mu        sync.Mutex
	creds     map[credKey]azcore.TokenCredential
	// tokens are the valid tokens per credential and scope, and flights the token requests
	// under way: concurrent callers of one credential wait for the one request in flight
	// and share its token or its failure.
	tokens  map[tokenKey]Token
	flights map[tokenKey]*flight
}

type tokenKey struct {
	cred  credKey
	scope string
}

// flight is one token request that concurrent callers share.
type flight struct {
	done chan struct{}
	tok  Token
	err  error
}

// credKey identifies a credential without keeping its secret as a map key.
type credKey struct {
	kind                   Kind
	tenant, clientID, name string
	digest                 [sha256.Size]byte
}

// New returns a Provider.
func New(opts Options) *Provider {
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.AuthorityHost != "" && !strings.HasSuffix(opts.AuthorityHost, "/") {
		opts.AuthorityHost += "/"
	}
	return &Provider{opts: opts, discovery: newDiscoveryCache(opts.HTTPClient), creds: map[credKey]azcore.TokenCredential{},
		tokens: map[tokenKey]Token{}, flights: map[tokenKey]*flight{}}
}

// Kind says what signs in.
type Kind int

const (
	// User is an account signing in with its password (the password grant, WIRE.md §A6).
	User Kind = iota + 1
	// Application is an Entra application signing in with client credentials (§I1).
	Application
)

func (k Kind) String() string {
	switch k {
	case User:
		return "user"
	case Application:
		return "application"
	}
	return "unknown"
}

// Subject says who a Source signs in as, for messages and logs. It holds no secret.
type Subject struct {
	Kind Kind
	// Name is the user principal name, or the application's client id.
	Name string
	// Tenant is the tenant tokens are asked of: a verified domain or the tenant id.
	Tenant string
	// ClientID is the client application: the public client of the password grant, or the
	// application itself.
	ClientID string
}

// Source gets access tokens for one identity in one tenant, one per audience (scope
// `<resource>/.default`). Failures from the token endpoint are *AuthError. Implementations
// are safe for concurrent use and never put a secret into an error or a log line.
type Source interface {
	Token(ctx context.Context, scope string) (Token, error)
	Subject() Subject
}

// Token is an access token and what its payload says about the identity.
type Token struct {
	Value     string
	ExpiresOn time.Time
	// From the access token's JWT payload, decoded without verification when the token is
	// JWT-shaped; empty otherwise. Access tokens are opaque to clients (§A7), so callers
	// treat these as hints with a fallback.
	TenantID, ObjectID, UPN string
	// AppID is the client the token was issued to (appid, or azp in v2 tokens, §I4); Roles
	// are an app-only token's application permissions on its resource (absent when nothing
	// is consented, §I4).
	AppID string
	Roles []string
}

// String never prints the token.
func (t Token) String() string {
	return fmt.Sprintf("Token(tenant=%s oid=%s upn=%s expires=%s)", t.TenantID, t.ObjectID, t.UPN, t.ExpiresOn.Format(time.RFC3339))
}

// User returns the Source of username signing in with its password in tenant (the UPN's
// domain or the tenant id: the password grant is not allowed on /common or /consumers, §A2).
func (p *Provider) User(tenant, username, password string) Source {
	s := &source{p: p, secrets: []string{password},
		subject: Subject{Kind: User, Name: username, Tenant: tenant, ClientID: p.opts.ClientID},
		key:     credKey{kind: User, tenant: strings.ToLower(tenant), clientID: strings.ToLower(p.opts.ClientID), name: strings.ToLower(username), digest: sha256.Sum256([]byte(password))},
		build: func(o azcore.ClientOptions) (azcore.TokenCredential, error) {
			return azidentity.NewUsernamePasswordCredential(tenant, p.opts.ClientID, username, password, //nolint:staticcheck // ROPC is the product's documented path (WIRE §0)
				&azidentity.UsernamePasswordCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true}) //nolint:staticcheck
		},
	}
	switch strings.ToLower(tenant) {
	case "", "common", "consumers":
		s.refused = fmt.Errorf("sign-in as %s: the password grant needs a tenant (the account's domain or tenant id), not %q", username, tenant)
	}
	return s
}

// source is a Source backed by one azidentity credential, built on first use and shared by
// every Source of the same credential key.
type source struct {
	p       *Provider
	subject Subject
	key     credKey
	// secrets are removed from any message that could conceivably echo them.
	secrets []string
	build   func(azcore.ClientOptions) (azcore.TokenCredential, error)
	// refused is a local refusal, reported by every Token call.
	refused error
}

func (s *source) Subject() Subject { return s.subject }

// renewBefore is how long before its expiry a token is renewed rather than handed out.
const renewBefore = 5 * time.Minute

// Token returns a valid token of the credential for scope: the one already held, the one
// another caller is fetching, or a new one from the token endpoint.
func (s *source) Token(ctx context.Context, scope string) (Token, error) {
	if s.refused != nil {
		return Token{}, s.refused
	}
	k := tokenKey{cred: s.key, scope: scope}
	p := s.p
	for {
		p.mu.Lock()
		if t, ok := p.tokens[k]; ok && time.Until(t.ExpiresOn) > renewBefore {
			p.mu.Unlock()
			return t, nil
		}
		f, inFlight := p.flights[k]
		if !inFlight {
			f = &flight{done: make(chan struct{})}
			p.flights[k] = f
		}
		p.mu.Unlock()
		if !inFlight {
			f.tok, f.err = s.fetch(ctx, scope)
			p.mu.Lock()
			delete(p.flights, k)
			if f.err == nil {
				p.tokens[k] = f.tok
			}
			p.mu.Unlock()
			close(f.done)
			return f.tok, f.err
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return Token{}, fmt.Errorf("sign-in as %s: %w", s.subject.Name, ctx.Err())
		}
		// The request this call waited for ended with its own caller's context: ask again.
		if f.err != nil && isContextError(f.err) && ctx.Err() == nil {
			continue
		}
		return f.tok, f.err
	}
}

// fetch asks the token endpoint, retrying transient failures under the tenant's shared
// health: while the tenant's sign-in is down, it fails at once with the diagnosis.
func (s *source) fetch(ctx context.Context, scope string) (Token, error) {
	who := s.subject.Name
	cred, err := s.p.credential(s.key, s.build)
	if err != nil {
		return Token{}, fmt.Errorf("sign-in as %s: %s", who, s.redact(err.Error()))
	}
	var at azcore.AccessToken
	retry := transport.Policy{MaxRetries: s.p.opts.MaxRetries, Sleep: s.p.opts.Sleep, Log: s.p.opts.Log}
	key := transport.HealthKey{Tenant: s.subject.Tenant, Service: "login"}
	endpoint := s.p.opts.AuthorityHost + s.subject.Tenant + "/oauth2/v2.0/token"
	err = s.p.opts.Health.Do(ctx, key, endpoint, retry, func(ctx context.Context) (time.Duration, bool, error) {
		var err error
		at, err = s.once(ctx, cred, scope)
		if err == nil {
			return 0, false, nil
		}
		transient, wait := transientSignIn(err)
		return wait, transient && ctx.Err() == nil, err
	})
	if err != nil {
		if ctx.Err() != nil && isContextError(err) {
			return Token{}, fmt.Errorf("sign-in as %s: %w", who, ctx.Err())
		}
		return Token{}, err
	}
	c := parseClaims(at.Token)
	return Token{Value: at.Token, ExpiresOn: at.ExpiresOn, TenantID: c.TenantID, ObjectID: c.ObjectID, UPN: c.upn(), AppID: c.appID(), Roles: c.Roles}, nil
}

// once is one token request (MSAL's, through the shared discovery transport), logged in one
// line without the secret or the token.
func (s *source) once(ctx context.Context, cred azcore.TokenCredential, scope string) (azcore.AccessToken, error) {
	who := s.subject.Name
	start := time.Now()
	noted, note := noteToken(ctx)
	at, err := cred.GetToken(noted, policy.TokenRequestOptions{Scopes: []string{scope}})
	if terr := note.get(); err != nil && terr != nil && !errors.Is(err, terr) {
		// MSAL keeps only the text of the transport's failure; the failure itself says
		// whether it is worth another attempt.
		err = terr
	}
	if s.p.opts.Log != nil {
		f := map[string]any{"kind": s.subject.Kind.String(), "who": who, "tenant": s.subject.Tenant, "client_id": s.subject.ClientID,
			"scope": scope, "duration_ms": time.Since(start).Milliseconds(), "attempt": transport.Attempt(ctx)}
		if ae, ok := AsAuthError(err); ok {
			f["aadsts"] = ae.Code
			f["correlation_id"] = ae.CorrelationID
		} else if err != nil {
			f["error"] = transport.Clip(s.redact(err.Error()), 300)
		}
		s.p.opts.Log(ctx, "identity token", f)
	}
	if err == nil && at.Token == "" {
		err = &transport.MalformedAnswerError{Service: "login", Op: "token", Status: http.StatusOK, Problem: "no access token"}
	}
	if err == nil {
		return at, nil
	}
	if ctx.Err() != nil {
		return at, fmt.Errorf("sign-in as %s: %w", who, ctx.Err())
	}
	if ae, ok := AsAuthError(err); ok {
		ae.Description = s.redact(ae.Description)
		return at, ae
	}
	if m, ok := errors.AsType[*transport.MalformedAnswerError](err); ok {
		return at, fmt.Errorf("sign-in as %s: %w", who, m)
	}
	return at, &signInError{who: who, text: s.redact(err.Error()), err: err}
}

// signInError is a failed token request without an identity-platform error body (the
// network, or an answer that is no OAuth error). Its text is redacted; the cause is kept
// for classification only.
type signInError struct {
	who, text string
	err       error
}

func (e *signInError) Error() string { return "sign-in as " + e.who + ": " + e.text }
func (e *signInError) Unwrap() error { return e.err }

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// transientSignIn reports whether a failed token request is worth another attempt
// (throttled, the service unavailable, a lost connection, a broken answer) and the wait the
// answer asked for.
func transientSignIn(err error) (bool, time.Duration) {
	if isContextError(err) {
		return false, 0
	}
	if _, ok := errors.AsType[*transport.MalformedAnswerError](err); ok {
		return true, 0
	}
	if resp := rawResponse(err); resp != nil {
		return transport.RetryableStatus(resp.StatusCode) || resp.StatusCode >= 500, transport.RetryAfter(resp.Header)
	}
	if ae, ok := AsAuthError(err); ok {
		return transport.RetryableStatus(ae.StatusCode) || ae.StatusCode >= 500, 0
	}
	return transport.IsTransientNetError(err), 0
}

// credential returns the one azidentity credential of k, building it on first use.
func (p *Provider) credential(k credKey, build func(azcore.ClientOptions) (azcore.TokenCredential, error)) (azcore.TokenCredential, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.creds[k]; ok {
		return c, nil
	}
	c, err := build(azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: p.opts.AuthorityHost},
		Transport: p.discovery,
		// One attempt per GetToken: retries are the provider's (fetch), so that one call per
		// tenant retries and the tenant's other calls share its outcome (transport.Health).
		// azcore: 0 means "default (3)", -1 means none.
		Retry:     policy.RetryOptions{MaxRetries: -1},
		Telemetry: policy.TelemetryOptions{ApplicationID: "terraform-provider-o365"},
	})
	if err != nil {
		return nil, err
	}
	p.creds[k] = c
	return c, nil
}

func (s *source) redact(text string) string { return redact(text, s.secrets...) }

// redact removes the secrets from text that could conceivably echo them (defence in depth:
// Microsoft's messages never contain them).
func redact(text string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, "[REDACTED]")
		}
	}
	return text
}

// claims is what the provider reads of an access token's JWT payload (§A7, §I4).
type claims struct {
	TenantID          string   `json:"tid"`
	ObjectID          string   `json:"oid"`
	UPN               string   `json:"upn"`
	UniqueName        string   `json:"unique_name"`
	PreferredUsername string   `json:"preferred_username"`
	AppID             string   `json:"appid"`
	AuthorizedParty   string   `json:"azp"`
	Roles             []string `json:"roles"`
}

func (c claims) upn() string {
	for _, s := range []string{c.UPN, c.UniqueName, c.PreferredUsername} {
		if s != "" {
			return s
		}
	}
	return ""
}

func (c claims) appID() string {
	if c.AppID != "" {
		return c.AppID
	}
	return c.AuthorizedParty
}

// parseClaims decodes a JWT-shaped token's payload, without verifying it; an opaque token
// gives empty claims.
func parseClaims(tok string) claims {
	parts := strings.Split(tok, ".")
	if len(parts) < 2 {
		return claims{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}
	}
	// A claim of an unexpected type is skipped; the others are kept (json.Unmarshal fills
	// what it can, and a syntax error leaves everything empty).
	var c claims
	_ = json.Unmarshal(payload, &c)
	return c
}
