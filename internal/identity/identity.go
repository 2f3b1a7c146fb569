// Package identity gets delegated access tokens for an admin account with the resource owner
// password grant, through Microsoft's azidentity/MSAL (WIRE.md §A). Tokens are cached per
// account and scope for the life of the process.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
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
	ClientID      string // a public client application (WIRE.md §A10)
	HTTPClient    *http.Client
	MaxRetries    int // retries of throttled or failed token calls (azcore's retry policy)
	Log           transport.Logger
}

// Provider hands out tokens. It is safe for concurrent use. It keeps ONE azidentity
// credential per (tenant, username, secret) for the life of the process, so every resource
// of a provider process shares one MSAL token cache per account: a second token for the same
// scope costs no HTTP request, and a token for another resource is a silent refresh_token
// grant (WIRE.md §A1, §A9).
type Provider struct {
	opts Options
	// discovery shares the OpenID configuration and home realm answers among all the
	// credentials (discovery.go), so an account's first token costs one request, not three.
	discovery *discoveryCache
	mu        sync.Mutex
	creds     map[credKey]*azidentity.UsernamePasswordCredential //nolint:staticcheck // ROPC is the product's documented path (WIRE §0)
}

// credKey identifies a credential without keeping the secret as a map key.
type credKey struct {
	tenant, username string
	secret           [sha256.Size]byte
}

// New returns a Provider.
func New(opts Options) *Provider {
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.AuthorityHost != "" && !strings.HasSuffix(opts.AuthorityHost, "/") {
		opts.AuthorityHost += "/"
	}
	return &Provider{opts: opts, discovery: newDiscoveryCache(opts.HTTPClient), creds: map[credKey]*azidentity.UsernamePasswordCredential{}} //nolint:staticcheck
}

// Token is an access token and what its payload says about the account.
type Token struct {
	Value     string
	ExpiresOn time.Time
	// From the access token's JWT payload (tid, oid, upn), decoded without verification when
	// the token is JWT-shaped; empty otherwise. Access tokens are opaque to clients (§A7), so
	// callers treat these as hints with a fallback.
	TenantID, ObjectID, UPN string
}

// String never prints the token.
func (t Token) String() string {
	return fmt.Sprintf("Token(tenant=%s oid=%s upn=%s expires=%s)", t.TenantID, t.ObjectID, t.UPN, t.ExpiresOn.Format(time.RFC3339))
}

// Token returns an access token for scope (one resource per token, e.g.
// "https://graph.microsoft.com/.default") for username in tenant. tenant is the UPN's domain
// or the tenant id: the password grant is not allowed on /common or /consumers (§A2).
// Failures from the token endpoint are returned as *AuthError.
func (p *Provider) Token(ctx context.Context, tenant, username, secret, scope string) (Token, error) {
	switch strings.ToLower(tenant) {
	case "", "common", "consumers":
		return Token{}, fmt.Errorf("sign-in as %s: the password grant needs a tenant (the account's domain or tenant id), not %q", username, tenant)
	}
	cred, err := p.credential(tenant, username, secret)
	if err != nil {
		return Token{}, err
	}
	start := time.Now()
	at, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if p.opts.Log != nil {
		f := map[string]any{"tenant": tenant, "username": username, "scope": scope, "duration_ms": time.Since(start).Milliseconds()}
		if err != nil {
			if ae, ok := AsAuthError(err); ok {
				f["aadsts"] = ae.Code
				f["correlation_id"] = ae.CorrelationID
			}
		}
		p.opts.Log(ctx, "identity token", f)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Token{}, fmt.Errorf("sign-in as %s: %w", username, ctx.Err())
		}
		if ae, ok := AsAuthError(err); ok {
			ae.Description = redact(ae.Description, secret)
			return Token{}, ae
		}
		return Token{}, fmt.Errorf("sign-in as %s: %s", username, redact(err.Error(), secret))
	}
	t := Token{Value: at.Token, ExpiresOn: at.ExpiresOn}
	t.TenantID, t.ObjectID, t.UPN = claims(at.Token)
	return t, nil
}

func (p *Provider) credential(tenant, username, secret string) (*azidentity.UsernamePasswordCredential, error) { //nolint:staticcheck
	k := credKey{strings.ToLower(tenant), strings.ToLower(username), sha256.Sum256([]byte(secret))}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.creds[k]; ok {
		return c, nil
	}
	retries := p.opts.MaxRetries
	if retries <= 0 {
		retries = -1 // azcore: 0 means "default (3)", -1 means none
	}
	o := &azidentity.UsernamePasswordCredentialOptions{ //nolint:staticcheck
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: p.opts.AuthorityHost},
			Transport: p.discovery,
			Retry: policy.RetryOptions{
				MaxRetries:    int32(min(retries, 20)),
				RetryDelay:    transport.DefaultBaseDelay,
				MaxRetryDelay: transport.DefaultMaxDelay,
			},
			Telemetry: policy.TelemetryOptions{ApplicationID: "terraform-provider-o365"},
		},
		// Mandatory for a non-Microsoft host (the emulator); for Microsoft's hosts MSAL
		// trusts them anyway, so nothing is lost (§A2).
		DisableInstanceDiscovery: true,
	}
	c, err := azidentity.NewUsernamePasswordCredential(tenant, p.opts.ClientID, username, secret, o) //nolint:staticcheck
	if err != nil {
		return nil, fmt.Errorf("sign-in as %s: %s", username, redact(err.Error(), secret))
	}
	p.creds[k] = c
	return c, nil
}

// redact removes the secret from text that could conceivably echo it (defence in depth:
// Microsoft's messages never contain it).
func redact(s, secret string) string {
	if len(secret) < 4 {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}

// claims decodes tid, oid and upn from a JWT-shaped token's payload, without verifying it.
func claims(tok string) (tid, oid, upn string) {
	parts := strings.Split(tok, ".")
	if len(parts) < 2 {
		return "", "", ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", "", ""
	}
	var m map[string]any
	if json.Unmarshal(payload, &m) != nil {
		return "", "", ""
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	for _, k := range []string{"upn", "unique_name", "preferred_username"} {
		if upn = str(k); upn != "" {
			break
		}
	}
	return str("tid"), str("oid"), upn
}
