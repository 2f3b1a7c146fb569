package identity

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// AppCredential is what an application signs in with (client credentials, WIRE.md §I1): a
// ClientSecret, a client *Certificate with its private key (ParseClientCertificate), or a
// FederatedTokenFile. None prints its secret.
type AppCredential interface {
	// build makes the azidentity credential of the application.
	build(tenant, clientID string, o azcore.ClientOptions) (azcore.TokenCredential, error)
	// digest identifies the credential in the cache key without keeping it.
	digest() [sha256.Size]byte
	// secrets are what a message must never show.
	secrets() []string
	// check refuses a credential that cannot sign in, before any request.
	check() error
}

var (
	_ AppCredential = ClientSecret("")
	_ AppCredential = (*Certificate)(nil)
	_ AppCredential = FederatedTokenFile("")
)

var errNoCredential = errors.New("no credential (a client secret, a certificate or a federated token file)")

// ClientSecret is a client secret's value (not its ID: that gives AADSTS7000215, §I5).
type ClientSecret string

func (ClientSecret) String() string   { return "ClientSecret(redacted)" }
func (ClientSecret) GoString() string { return "ClientSecret(redacted)" }

func (c ClientSecret) build(tenant, clientID string, o azcore.ClientOptions) (azcore.TokenCredential, error) {
	return azidentity.NewClientSecretCredential(tenant, clientID, string(c), &azidentity.ClientSecretCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true})
}
func (c ClientSecret) digest() [sha256.Size]byte { return sha256.Sum256([]byte("secret:" + c)) }
func (c ClientSecret) secrets() []string         { return []string{string(c)} }
func (c ClientSecret) check() error {
	if c == "" {
		return errNoCredential
	}
	return nil
}

// FederatedTokenFile is the path of a federated token (workload identity federation: a CI
// system's OIDC token). It is read at every token request, since such systems rotate it
// (DESIGN.md §7.1).
type FederatedTokenFile string

func (f FederatedTokenFile) build(tenant, clientID string, o azcore.ClientOptions) (azcore.TokenCredential, error) {
	path := string(f)
	return azidentity.NewClientAssertionCredential(tenant, clientID, func(context.Context) (string, error) { return readTokenFile(path) },
		&azidentity.ClientAssertionCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true})
}
func (f FederatedTokenFile) digest() [sha256.Size]byte {
	return sha256.Sum256([]byte("federated:" + f))
}
func (FederatedTokenFile) secrets() []string { return nil }
func (f FederatedTokenFile) check() error {
	if f == "" {
		return errNoCredential
	}
	return nil
}

// A client certificate signs a client assertion with its key (§I2); a certificate read
// without its key (ParsePublicCertificate) cannot.
func (c *Certificate) build(tenant, clientID string, o azcore.ClientOptions) (azcore.TokenCredential, error) {
	return azidentity.NewClientCertificateCredential(tenant, clientID, c.chain, c.key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true})
}

func (c *Certificate) digest() [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte("certificate:"))
	h.Write(c.DER)
	if c.key != nil {
		h.Write(x509.MarshalPKCS1PrivateKey(c.key))
	}
	var d [sha256.Size]byte
	copy(d[:], h.Sum(nil))
	return d
}
func (*Certificate) secrets() []string { return nil }
func (c *Certificate) check() error {
	switch {
	case c == nil:
		return errNoCredential
	case c.key == nil:
		return errors.New("client certificate: no private key")
	}
	return nil
}

// Application returns the Source of the application clientID signing in to tenant with
// client credentials: one token per audience (scope `<resource>/.default`, §I1), cached by
// MSAL per credential for the life of the process (§I3). tenant must be a specific tenant
// (GUID or verified domain): MSAL refuses common, organizations and consumers. A credential
// that cannot sign in (empty, a certificate without its key) is refused here; token-endpoint
// failures come from Token as *AuthError.
func (p *Provider) Application(tenant, clientID string, c AppCredential) (Source, error) {
	switch strings.ToLower(tenant) {
	case "", "common", "organizations", "consumers":
		return nil, fmt.Errorf("application %s: client credentials need a specific tenant (its id or a verified domain), not %q", clientID, tenant)
	}
	if clientID == "" {
		return nil, errors.New("application: no client id")
	}
	if c == nil {
		return nil, fmt.Errorf("application %s: %w", clientID, errNoCredential)
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("application %s: %w", clientID, err)
	}
	return &source{p: p, secrets: c.secrets(),
		subject: Subject{Kind: Application, Name: clientID, Tenant: tenant, ClientID: clientID},
		key:     credKey{kind: Application, tenant: strings.ToLower(tenant), clientID: strings.ToLower(clientID), name: strings.ToLower(clientID), digest: c.digest()},
		build:   func(o azcore.ClientOptions) (azcore.TokenCredential, error) { return c.build(tenant, clientID, o) },
	}, nil
}

// readTokenFile reads a federated token. Its content is a secret: errors name the file only.
func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("federated token file %s: %w", path, err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("federated token file %s is empty", path)
	}
	return t, nil
}
