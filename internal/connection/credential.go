package connection

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

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

// Credential is a principal's secret. It never prints its value.
type Credential struct {
	Kind CredentialKind
	// Secret is the password, app password or client secret; the certificate (PEM, or
	// PKCS#12 bytes); or the path of the federated token file.
	Secret string
	// CertificatePassword protects a PKCS#12 certificate.
	CertificatePassword string
}

func (c Credential) String() string { return fmt.Sprintf("Credential(kind %d, redacted)", c.Kind) }

func (c Credential) GoString() string { return c.String() }

// appCredential is the identity form of an application's credential.
func appCredential(c Credential) identity.AppCredential {
	switch c.Kind {
	case ClientCertificate:
		return identity.AppCredential{Certificate: DecodeCertificate(c.Secret), CertificatePassword: c.CertificatePassword}
	case FederatedToken:
		return identity.AppCredential{FederatedTokenFile: c.Secret}
	}
	return identity.AppCredential{ClientSecret: c.Secret}
}

// CertificateInfo is what a plan can tell of a client certificate without any API call.
type CertificateInfo struct {
	Subject    string
	NotAfter   time.Time
	Thumbprint string // SHA-1, upper-case hex
}

// DecodeCertificate reads a client certificate as configured: PEM text (certificate and
// unencrypted RSA key), or base64 of a PKCS#12 file.
func DecodeCertificate(value string) []byte {
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

// ParseCertificate checks a client certificate the way signing in will read it (PEM or
// PKCS#12 with password, an RSA key matching a certificate). Errors never contain key
// material.
func ParseCertificate(value, password string) (*CertificateInfo, error) {
	c, err := identity.ParseCertificate(DecodeCertificate(value), password)
	if err != nil {
		return nil, err
	}
	return &CertificateInfo{Subject: c.Subject, NotAfter: c.NotAfter, Thumbprint: c.ThumbprintSHA1}, nil
}

// ParsePublicCertificate reads a PEM public certificate (the first CERTIFICATE block). It
// refuses private keys: only the public part is ever uploaded (§I10).
func ParsePublicCertificate(text string) (*x509.Certificate, error) {
	rest := []byte(text)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PEM certificate found (expected a -----BEGIN CERTIFICATE----- block)")
		}
		if strings.Contains(b.Type, "PRIVATE KEY") {
			return nil, errors.New("the PEM holds a private key; give only the public certificate, the key stays with the migration engine")
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("the certificate does not parse: %v", err)
		}
		return c, nil
	}
}

// Thumbprint is a certificate's SHA-1 thumbprint, upper-case hex, as Entra shows it.
func Thumbprint(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}
