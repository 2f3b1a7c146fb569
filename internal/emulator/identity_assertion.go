package emulator

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Certificate client assertions (WIRE §I2): the JWT an application signs
// with its certificate's key instead of sending a secret.

const (
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// assertionSkew is the clock skew allowed on nbf and exp (⚠ emulator choice).
	assertionSkew = 5 * time.Minute
	certDocs      = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."
)

// decodeBase64Any accepts both alphabets, padded or not: MSAL sends standard
// base64 with padding, Microsoft's page says base64url (WIRE §I2).
func decodeBase64Any(s string) ([]byte, error) {
	var lastErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

type assertionHeader struct {
	Alg       string `json:"alg"`
	Typ       string `json:"typ"`
	X5t       string `json:"x5t"`
	X5tSHA256 string `json:"x5t#S256"`
}

type assertionClaims struct {
	Aud json.RawMessage `json:"aud"`
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Nbf *json.Number    `json:"nbf"`
	Exp *json.Number    `json:"exp"`
}

// verifyAssertion checks a certificate assertion as WIRE §I2 says: RS256 or
// PS256; x5t (SHA-1) or x5t#S256 (SHA-256) in either base64 alphabet; the key
// found by thumbprint among the app's keyCredentials, valid now; the
// signature; aud = this tenant's token endpoint; iss == sub == client id;
// now within nbf..exp. Needs s.mu.
func (s *Server) verifyAssertion(app *application, assertion string, now time.Time) *aadError {
	a, err := parseAssertion(assertion)
	if err != nil {
		return err
	}
	if a.header.Alg != "RS256" && a.header.Alg != "PS256" {
		return &aadError{http.StatusUnauthorized, "invalid_client", 5002738, fmt.Sprintf("Invalid JWT token. '%s' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, PS256'", a.header.Alg)}
	}
	if err := a.verifySignature(app, now); err != nil {
		return err
	}
	return s.checkAssertionClaims(app, &a.claims, now)
}

// clientAssertion is a certificate assertion taken apart.
type clientAssertion struct {
	header    assertionHeader
	claims    assertionClaims
	signed    string // header.payload: what the signature covers
	signature []byte
}

// parseAssertion reads a compact JWT: three base64 parts, a JSON header and
// JSON claims (numbers kept as written).
func parseAssertion(assertion string) (*clientAssertion, *aadError) {
	malformed := &aadError{http.StatusUnauthorized, "invalid_client", 50027, "Invalid JWT token. Token format not valid."}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return nil, malformed
	}
	a := &clientAssertion{signed: parts[0] + "." + parts[1]}
	headerJSON, err1 := decodeBase64Any(parts[0])
	payloadJSON, err2 := decodeBase64Any(parts[1])
	signature, err3 := decodeBase64Any(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(headerJSON, &a.header) != nil {
		return nil, malformed
	}
	a.signature = signature
	dec := json.NewDecoder(bytes.NewReader(payloadJSON))
	dec.UseNumber()
	if dec.Decode(&a.claims) != nil {
		return nil, malformed
	}
	return a, nil
}

// signingKey is the app's key whose thumbprint the header names: x5t#S256
// (SHA-256) when given, else x5t (SHA-1); customKeyIdentifier is the
// client's, so not trusted. thumb is the thumbprint errors show: the found
// key's SHA-1, as Entra names keys, else what was sent.
func (a *clientAssertion) signingKey(app *application) (key *keyCredential, thumb string) {
	sent, size, sum := a.header.X5t, sha1.Size, (*keyCredential).sha1Thumbprint
	if a.header.X5tSHA256 != "" {
		sent, size, sum = a.header.X5tSHA256, sha256.Size, (*keyCredential).sha256Thumbprint
	}
	var raw []byte
	if b, err := decodeBase64Any(sent); sent != "" && err == nil && len(b) == size {
		raw = b
		for _, k := range app.keys {
			if bytes.Equal(sum(k), b) {
				key = k
			}
		}
	}
	if key != nil {
		raw = key.sha1Thumbprint()
	}
	return key, strings.ToUpper(hex.EncodeToString(raw))
}

// verifySignature: the signing key must be found, valid now, RSA, and have
// made the signature.
func (a *clientAssertion) verifySignature(app *application, now time.Time) *aadError {
	key, thumb := a.signingKey(app)
	switch {
	case key == nil:
		return assertionKeyError(app, nil, thumb, "The key was not found.")
	case !now.Before(key.end):
		return assertionKeyError(app, key, thumb, "The key used is expired.")
	case now.Before(key.start):
		return assertionKeyError(app, key, thumb, "The key used is not yet valid.")
	}
	pub, isRSA := key.cert.PublicKey.(*rsa.PublicKey)
	if !isRSA {
		return assertionKeyError(app, key, thumb, "The key is not an RSA key.")
	}
	digest := sha256.Sum256([]byte(a.signed))
	var err error
	if a.header.Alg == "PS256" {
		err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], a.signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	} else {
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], a.signature)
	}
	if err != nil {
		return assertionKeyError(app, key, thumb, "The provided signature value did not match the expected signature value.")
	}
	return nil
}

// assertionKeyError is AADSTS700027 for a key that was not found (nil) or
// cannot have signed the assertion.
func assertionKeyError(app *application, key *keyCredential, thumb, reason string) *aadError {
	found := ""
	if key != nil {
		found = fmt.Sprintf(" Found key 'Start=%s, End=%s',", key.start.UTC().Format("01/02/2006 15:04:05"), key.end.UTC().Format("01/02/2006 15:04:05"))
	}
	return &aadError{http.StatusUnauthorized, "invalid_client", 700027, fmt.Sprintf("Client assertion contains an invalid signature. [Reason - %s, Thumbprint of key used by client: '%s',%s Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. %s]", reason, thumb, found, app.appID, certDocs)}
}

// checkAssertionClaims: aud is this tenant's token endpoint, iss the client
// id and sub the same, and now within nbf..exp give or take the skew.
func (s *Server) checkAssertionClaims(app *application, claims *assertionClaims, now time.Time) *aadError {
	switch {
	case !s.isTokenEndpoint(claims.Aud):
		return &aadError{http.StatusUnauthorized, "invalid_client", 700023, "Client assertion audience claim does not match Realm issuer. " + certDocs}
	case !strings.EqualFold(claims.Iss, app.appID):
		return &aadError{http.StatusUnauthorized, "invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter. " + certDocs}
	case claims.Sub != claims.Iss:
		return &aadError{http.StatusUnauthorized, "invalid_client", 50048, "SubjectMismatchesIssuer - Subject mismatches Issuer claim in the client assertion."}
	}
	nbf, okNbf := unixClaim(claims.Nbf)
	exp, okExp := unixClaim(claims.Exp)
	if !okExp || (okNbf && now.Add(assertionSkew).Before(nbf)) || !now.Add(-assertionSkew).Before(exp) {
		const iso = "2006-01-02T15:04:05.0000000Z"
		return &aadError{http.StatusUnauthorized, "invalid_client", 700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. %s",
			now.UTC().Format(iso), nbf.UTC().Format(iso), exp.UTC().Format(iso), certDocs)}
	}
	return nil
}

func unixClaim(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Unix(0, 0), false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Unix(0, 0), false
	}
	return time.Unix(int64(f), 0), true
}

// isTokenEndpoint accepts this tenant's v2.0 token endpoint, named by GUID
// (as the openid-configuration gives it, which MSAL uses) or by a verified
// domain (Microsoft's own example). aud may be a string or a one-element array.
func (s *Server) isTokenEndpoint(raw json.RawMessage) bool {
	var aud string
	if json.Unmarshal(raw, &aud) != nil {
		var list []string
		if json.Unmarshal(raw, &list) != nil || len(list) != 1 {
			return false
		}
		aud = list[0]
	}
	names := append([]string{s.seed.TenantID}, s.seed.Domains...)
	return slices.ContainsFunc(names, func(n string) bool {
		return strings.EqualFold(aud, s.url+"/"+n+"/oauth2/v2.0/token")
	})
}
