package identity

import (
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

// A public certificate input refuses every form of private key, alone or in a bundle, by its
// block's type, and the error shows nothing of the value.
func TestParsePublicCertificateRefusesPrivateKeys(t *testing.T) {
	certPEM, keyPEM := selfSigned(t, "engine", time.Now().Add(time.Hour))
	body := []byte("0123456789abcdefghij-not-a-real-key-but-its-header-is-enough")
	block := func(kind string) string { return string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: body})) }
	for _, tc := range []struct{ name, text, kind string }{
		{"PKCS#8 key alone", block("PRIVATE KEY"), "PRIVATE KEY"},
		{"certificate then RSA key", string(certPEM) + string(keyPEM), "RSA PRIVATE KEY"},
		{"RSA key then certificate", string(keyPEM) + string(certPEM), "RSA PRIVATE KEY"},
		{"certificate then PKCS#8 key", string(certPEM) + block("PRIVATE KEY"), "PRIVATE KEY"},
		{"EC key", block("EC PRIVATE KEY"), "EC PRIVATE KEY"},
		{"encrypted key", block("ENCRYPTED PRIVATE KEY"), "ENCRYPTED PRIVATE KEY"},
		{"OpenSSH key", block("OPENSSH PRIVATE KEY"), "OPENSSH PRIVATE KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePublicCertificate([]byte(tc.text))
			var pk *PrivateKeyError
			if !errors.As(err, &pk) || pk.Kind != tc.kind {
				t.Fatalf("err = %v", err)
			}
			for _, line := range strings.Split(tc.text, "\n") {
				if len(line) > 16 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
					t.Fatalf("the error shows the value: %v", err)
				}
			}
		})
	}
	if c, err := ParsePublicCertificate(certPEM); err != nil || c.Subject != "CN=engine" {
		t.Fatalf("the certificate alone: %v, %v", c, err)
	}
	// A public key is no private key.
	pub := string(certPEM) + string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: body}))
	if _, err := ParsePublicCertificate([]byte(pub)); err != nil {
		t.Fatalf("certificate and public key: %v", err)
	}
}
