package identity

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// AppCredential is what an application signs in with (client credentials, WIRE.md §I1):
// exactly one of a client secret, a certificate with its private key, or a federated token
// file. It never prints its secrets.
type AppCredential struct {
	// ClientSecret is a client secret's value (not its ID: that gives AADSTS7000215, §I5).
	ClientSecret string
	// Certificate is a PEM file (certificate and unencrypted RSA private key) or a PKCS#12
	// file; CertificatePassword protects the PKCS#12 file (§I6).
	Certificate         []byte
	CertificatePassword string
	// FederatedTokenFile is the path of a federated token (workload identity federation: a
	// CI system's OIDC token). It is read at every token request, since such systems rotate
	// it (DESIGN.md §7.1).
	FederatedTokenFile string
}

func (c AppCredential) String() string   { return "AppCredential(" + c.kind() + ", redacted)" }
func (c AppCredential) GoString() string { return c.String() }

func (c AppCredential) kind() string {
	var kinds []string
	if c.ClientSecret != "" {
		kinds = append(kinds, "client secret")
	}
	if len(c.Certificate) > 0 {
		kinds = append(kinds, "certificate")
	}
	if c.FederatedTokenFile != "" {
		kinds = append(kinds, "federated token file")
	}
	return strings.Join(kinds, " + ")
}

// digest identifies the credential in the cache key without keeping it.
func (c AppCredential) digest() [sha256.Size]byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(c.ClientSecret), c.Certificate, []byte(c.CertificatePassword), []byte(c.FederatedTokenFile)} {
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	var d [sha256.Size]byte
	copy(d[:], h.Sum(nil))
	return d
}

// Certificate is what the provider reads of a client certificate: enough to check it at
// plan time and to warn before it expires, nothing secret.
type Certificate struct {
	Subject   string
	NotBefore time.Time
	NotAfter  time.Time
	// ThumbprintSHA1 and ThumbprintSHA256 are the hex digests of the certificate's DER, as
	// the Entra portal and the assertion header name it (§I2).
	ThumbprintSHA1, ThumbprintSHA256 string
}

// ParseCertificate reads a client certificate the way the credential will (azidentity's
// ParseCertificates: PEM with an unencrypted key, or PKCS#12 with its password) and checks
// that its key is RSA, which Microsoft's libraries require (§I2). It returns the certificate
// whose public key matches the private key. Errors never contain key material.
func ParseCertificate(data []byte, password string) (*Certificate, error) {
	certs, _, err := parseCertificates(data, password)
	if err != nil {
		return nil, err
	}
	return describe(certs[0]), nil
}

func parseCertificates(data []byte, password string) ([]*x509.Certificate, *rsa.PrivateKey, error) {
	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	certs, key, err := azidentity.ParseCertificates(data, pw)
	if err != nil {
		// azidentity's messages name the format problem, never the key.
		return nil, nil, fmt.Errorf("client certificate: %s", redact(err.Error(), password))
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("client certificate: the private key is not an RSA key; Microsoft's identity libraries sign client assertions with RSA only")
	}
	// The signing certificate goes first: the one whose public key is the key's.
	for i, c := range certs {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&rk.PublicKey) {
			certs[0], certs[i] = certs[i], certs[0]
			return certs, rk, nil
		}
	}
	return nil, nil, errors.New("client certificate: no certificate matches the private key")
}

func describe(c *x509.Certificate) *Certificate {
	s1, s256 := sha1.Sum(c.Raw), sha256.Sum256(c.Raw)
	return &Certificate{Subject: c.Subject.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		ThumbprintSHA1: strings.ToUpper(hex.EncodeToString(s1[:])), ThumbprintSHA256: strings.ToUpper(hex.EncodeToString(s256[:]))}
}

// Application returns the Source of the application clientID signing in to tenant with
// client credentials: one token per audience (scope `<resource>/.default`, §I1), cached by
// MSAL per credential for the life of the process (§I3). tenant must be a specific tenant
// (GUID or verified domain): MSAL refuses common, organizations and consumers. The
// credential is checked here (exactly one kind; a certificate that parses, with an RSA key);
// token-endpoint failures come from Token as *AuthError.
func (p *Provider) Application(tenant, clientID string, c AppCredential) (Source, error) {
	switch strings.ToLower(tenant) {
	case "", "common", "organizations", "consumers":
		return nil, fmt.Errorf("application %s: client credentials need a specific tenant (its id or a verified domain), not %q", clientID, tenant)
	}
	if clientID == "" {
		return nil, errors.New("application: no client id")
	}
	s := &source{p: p, secrets: []string{c.ClientSecret, c.CertificatePassword},
		subject: Subject{Kind: Application, Name: clientID, Tenant: tenant, ClientID: clientID},
		key:     credKey{kind: Application, tenant: strings.ToLower(tenant), clientID: strings.ToLower(clientID), name: strings.ToLower(clientID), digest: c.digest()},
	}
	switch kind := c.kind(); kind {
	case "client secret":
		s.build = func(o azcore.ClientOptions) (azcore.TokenCredential, error) {
			return azidentity.NewClientSecretCredential(tenant, clientID, c.ClientSecret,
				&azidentity.ClientSecretCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true})
		}
	case "certificate":
		certs, key, err := parseCertificates(c.Certificate, c.CertificatePassword)
		if err != nil {
			return nil, fmt.Errorf("application %s: %w", clientID, err)
		}
		s.build = func(o azcore.ClientOptions) (azcore.TokenCredential, error) {
			return azidentity.NewClientCertificateCredential(tenant, clientID, certs, key,
				&azidentity.ClientCertificateCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true})
		}
	case "federated token file":
		path := c.FederatedTokenFile
		s.build = func(o azcore.ClientOptions) (azcore.TokenCredential, error) {
			return azidentity.NewClientAssertionCredential(tenant, clientID, func(context.Context) (string, error) { return readTokenFile(path) },
				&azidentity.ClientAssertionCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true})
		}
	case "":
		return nil, fmt.Errorf("application %s: no credential (a client secret, a certificate or a federated token file)", clientID)
	default:
		return nil, fmt.Errorf("application %s: exactly one credential, not %s", clientID, kind)
	}
	return s, nil
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
