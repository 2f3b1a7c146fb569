package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// TestCertificate is a self-signed RSA certificate with its key, in the
// forms an application credential takes (WIRE §I2, §I6, §I10): PEM for
// azidentity.ParseCertificates, PKCS#12 for the same with a password, and
// the base64 DER a Graph keyCredential carries.
type TestCertificate struct {
	Certificate *x509.Certificate
	Key         *rsa.PrivateKey
	CertPEM     []byte // the certificate alone
	KeyPEM      []byte // PKCS#8 "PRIVATE KEY"
	PEM         []byte // certificate then key, as one file
	PKCS12      []byte // certificate and key, encrypted with PKCS12Password
	// PKCS12Password protects PKCS12 (3DES and a SHA-1 MAC, which
	// golang.org/x/crypto/pkcs12 and so azidentity read).
	PKCS12Password string
	// KeyBase64 is the DER certificate in standard base64 (keyCredentials.key).
	KeyBase64 string
	// Thumbprint is the SHA-1 of the DER in upper-case hex (Entra's "thumbprint").
	Thumbprint string
}

// NewTestCertificate makes a 2048-bit RSA certificate for cn valid from an
// hour before now (or before notAfter, for one already expired) until
// notAfter, for tests of credentials that expire soon or have expired.
func NewTestCertificate(cn string, notAfter time.Time) (*TestCertificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	notBefore := time.Now().Add(-time.Hour)
	if !notBefore.Before(notAfter) {
		notBefore = notAfter.Add(-24 * time.Hour)
	}
	template := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	password := strings.ReplaceAll(randomToken(12), "-", "x")
	p12, err := pkcs12.LegacyDES.Encode(key, cert, nil, password)
	if err != nil {
		return nil, fmt.Errorf("emulator: PKCS#12: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	sum := sha1.Sum(der)
	return &TestCertificate{
		Certificate: cert, Key: key, CertPEM: certPEM, KeyPEM: keyPEM,
		PEM: append(append([]byte{}, certPEM...), keyPEM...), PKCS12: p12, PKCS12Password: password,
		KeyBase64: base64.StdEncoding.EncodeToString(der), Thumbprint: strings.ToUpper(hex.EncodeToString(sum[:])),
	}, nil
}
