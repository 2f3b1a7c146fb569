package connection

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/o365-terraform/terraform-provider-o365/internal/identity"
)

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

func (k CredentialKind) String() string {
	switch k {
	case Password:
		return "password"
	case AppPassword:
		return "app password"
	case ClientSecret:
		return "client secret"
	case ClientCertificate:
		return "client certificate"
	case FederatedToken:
		return "federated token"
	}
	return fmt.Sprintf("CredentialKind(%d)", int(k))
}

// Credential is what a principal signs in with, read once where it is configured (the
// provider) and handed down as it is: a user's password or app password, or an
// application's client secret, certificate with its private key, or federated token file.
// The constructors below make one; it never prints its secret.
type Credential struct {
	kind     CredentialKind
	password string                 // Password, AppPassword
	app      identity.AppCredential // ClientSecret, ClientCertificate, FederatedToken
}

// PasswordCredential is a user's password.
func PasswordCredential(password string) Credential {
	return Credential{kind: Password, password: password}
}

// AppPasswordCredential is a user's app password.
func AppPasswordCredential(appPassword string) Credential {
	return Credential{kind: AppPassword, password: appPassword}
}

// ClientSecretCredential is an application's client secret (its value, not its id).
func ClientSecretCredential(secret string) Credential {
	return Credential{kind: ClientSecret, app: identity.ClientSecret(secret)}
}

// CertificateCredential is an application's certificate with its private key, as
// ParseClientCertificate read it.
func CertificateCredential(c *Certificate) Credential {
	return Credential{kind: ClientCertificate, app: c}
}

// FederatedTokenCredential is the path of a federated token file, read at every sign-in.
func FederatedTokenCredential(path string) Credential {
	return Credential{kind: FederatedToken, app: identity.FederatedTokenFile(path)}
}

// Kind says which secret the credential is.
func (c Credential) Kind() CredentialKind { return c.kind }

// Certificate is a certificate credential's certificate, nil for any other credential.
func (c Credential) Certificate() *Certificate {
	cert, _ := c.app.(*Certificate)
	return cert
}

// redacted is the credential without its secret: what a session keeps of it.
func (c Credential) redacted() Credential { return Credential{kind: c.kind} }

func (c Credential) String() string { return "Credential(" + c.kind.String() + ", redacted)" }

func (c Credential) GoString() string { return c.String() }

// Certificate is a certificate as the provider reads it once (identity.Certificate):
// subject, validity and thumbprint for a plan's checks and, for a client certificate, the
// key that signs in. It never prints its key.
type Certificate = identity.Certificate

// ParseClientCertificate reads a client certificate as configured: PEM text (certificate and
// unencrypted RSA key), or a PKCS#12 file, as such or as base64, with its password. It
// checks it the way signing in uses it (an RSA key matching a certificate). Errors never
// contain key material.
func ParseClientCertificate(value, password string) (*Certificate, error) {
	return identity.ParseClientCertificate(decodeCertificate(value), password)
}

// PrivateKeyError is ParsePublicCertificate's refusal of private-key material; it names the
// PEM block's type only.
type PrivateKeyError = identity.PrivateKeyError

// ParsePublicCertificate reads a PEM public certificate; it refuses private keys (only the
// public part is ever uploaded, WIRE.md §I10).
func ParsePublicCertificate(text string) (*Certificate, error) {
	return identity.ParsePublicCertificate([]byte(text))
}

// decodeCertificate is a configured certificate's bytes: PEM text as it is, base64 decoded
// (filebase64("app.pfx")), anything else as it is (a PKCS#12 file's own bytes).
func decodeCertificate(value string) []byte {
	if strings.Contains(value, "-----BEGIN") {
		return []byte(value)
	}
	compact := strings.Join(strings.Fields(value), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(compact); err == nil {
			return b
		}
	}
	return []byte(value)
}
