package identity

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Certificate is a certificate as the provider reads it, once: what a plan says of it
// (subject, validity, thumbprints) and, for a client certificate, the chain and the RSA
// private key that sign the client assertion (WIRE.md §I2). It is an AppCredential when it
// has its key. It never prints its key.
type Certificate struct {
	Subject   string
	NotBefore time.Time
	NotAfter  time.Time
	// Thumbprint and ThumbprintSHA256 are the hex digests (upper case) of the certificate's
	// DER, as the Entra portal and the assertion header name it (§I2).
	Thumbprint, ThumbprintSHA256 string
	// DER is the certificate itself, its public part.
	DER []byte

	chain []*x509.Certificate
	key   *rsa.PrivateKey
}

func (c *Certificate) String() string {
	return fmt.Sprintf("Certificate(%s, thumbprint %s, until %s)", c.Subject, c.Thumbprint, c.NotAfter.UTC().Format(time.RFC3339))
}
func (c *Certificate) GoString() string { return c.String() }

// KeyIdentifier is the thumbprint as Microsoft Graph's customKeyIdentifier carries it:
// base64 of the SHA-1 digest (WIRE.md §I10).
func (c *Certificate) KeyIdentifier() string {
	b, _ := hex.DecodeString(c.Thumbprint)
	return base64.StdEncoding.EncodeToString(b)
}

// ParseClientCertificate reads a client certificate the way signing in uses it: PEM text
// (certificate and unencrypted private key) or a PKCS#12 file with its password. The key
// must be RSA, which Microsoft's libraries require (§I2), and the certificate returned is
// the one whose public key matches it. Errors never contain key material.
func ParseClientCertificate(data []byte, password string) (*Certificate, error) {
	certs, key, err := parseCertificates(data, password)
	if err != nil {
		return nil, fmt.Errorf("client certificate: %s", redact(err.Error(), password))
	}
	if key == nil {
		return nil, errors.New("client certificate: no private key found; give the certificate with its unencrypted private key, or a PKCS#12 file")
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("client certificate: the private key is not an RSA key; Microsoft's identity libraries sign client assertions with RSA only")
	}
	for i, c := range certs {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&rk.PublicKey) {
			certs[0], certs[i] = certs[i], certs[0] // the signing certificate goes first
			out := describe(certs[0])
			out.chain, out.key = certs, rk
			return out, nil
		}
	}
	return nil, errors.New("client certificate: no certificate matches the private key")
}

// ParsePublicCertificate reads a PEM public certificate (the first CERTIFICATE block). It
// refuses private keys: only the public part is ever uploaded (§I10).
func ParsePublicCertificate(data []byte) (*Certificate, error) {
	if kind := privateKeyBlock(data); kind != "" {
		return nil, &PrivateKeyError{Kind: kind}
	}
	if !isPEM(data) {
		return nil, errors.New("no PEM certificate found (expected a -----BEGIN CERTIFICATE----- block)")
	}
	certs, key, err := parseCertificates(data, "")
	switch {
	case err != nil:
		return nil, err
	case key != nil:
		return nil, errors.New("the PEM holds a private key; give only the public certificate, the key stays with the migration engine")
	}
	return describe(certs[0]), nil
}

// PrivateKeyError: a public certificate input holds private-key material. It names the
// PEM block's type only, never any of its content.
type PrivateKeyError struct {
	// Kind is the PEM block's type, e.g. "RSA PRIVATE KEY" or "ENCRYPTED PRIVATE KEY".
	Kind string
}

func (e *PrivateKeyError) Error() string {
	return "it holds a private key (a -----BEGIN " + e.Kind + "----- block); only the public certificate may be given, the key stays with the migration engine"
}

// privateKeyBlock is the type of the first private-key PEM block in data ("" none): PKCS#8
// (plain and encrypted), PKCS#1 RSA, SEC 1 EC, OpenSSH and any other "… PRIVATE KEY" block,
// found by its header even where the block itself would not decode.
func privateKeyBlock(data []byte) string {
	const begin = "-----BEGIN "
	for rest := string(data); ; {
		i := strings.Index(rest, begin)
		if i < 0 {
			return ""
		}
		rest = rest[i+len(begin):]
		end := strings.Index(rest, "-----")
		if end < 0 {
			return ""
		}
		if kind := rest[:end]; strings.HasSuffix(kind, "PRIVATE KEY") && len(kind) < 40 {
			return kind
		}
	}
}

// parseCertificates is the one reader of certificates: PEM blocks (CERTIFICATE, and at most
// one unencrypted private key) or a PKCS#12 file with its password (azidentity's reader).
func parseCertificates(data []byte, password string) ([]*x509.Certificate, crypto.PrivateKey, error) {
	if !isPEM(data) {
		var pw []byte
		if password != "" {
			pw = []byte(password)
		}
		return azidentity.ParseCertificates(data, pw)
	}
	var certs []*x509.Certificate
	var key crypto.PrivateKey
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("the certificate does not parse: %v", err)
			}
			certs = append(certs, c)
		case strings.Contains(b.Type, "PRIVATE KEY"):
			if key != nil {
				return nil, nil, errors.New("found more than one private key")
			}
			k, err := parsePrivateKey(b)
			if err != nil {
				return nil, nil, err
			}
			key = k
		}
	}
	if len(certs) == 0 {
		return nil, nil, errors.New("no PEM certificate found (expected a -----BEGIN CERTIFICATE----- block)")
	}
	return certs, key, nil
}

func parsePrivateKey(b *pem.Block) (crypto.PrivateKey, error) {
	if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
		return nil, errors.New("the private key is encrypted; give it unencrypted, or a PKCS#12 file with its password")
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("the private key does not parse")
}

func isPEM(data []byte) bool { return bytes.Contains(data, []byte("-----BEGIN")) }

// describe is what the provider shows of a certificate, with its one thumbprint computation.
func describe(c *x509.Certificate) *Certificate {
	s1, s256 := sha1.Sum(c.Raw), sha256.Sum256(c.Raw)
	return &Certificate{Subject: c.Subject.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter, DER: c.Raw,
		Thumbprint: strings.ToUpper(hex.EncodeToString(s1[:])), ThumbprintSHA256: strings.ToUpper(hex.EncodeToString(s256[:]))}
}
