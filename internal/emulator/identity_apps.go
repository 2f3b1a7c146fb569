package emulator

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The client credentials grant (WIRE §I1–§I5): an application signs in as
// itself with a secret (form body or HTTP Basic) or a certificate assertion,
// and gets a v1.0 app-only token whose roles are its consents on the
// requested resource at that moment.

const (
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// assertionSkew is the clock skew allowed on nbf and exp (⚠ emulator choice).
	assertionSkew = 5 * time.Minute
	certDocs      = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."
)

// clientBasicAuth reads HTTP Basic client authentication: client id and
// secret are form-urlencoded before encoding (RFC 6749 §2.3.1).
func clientBasicAuth(r *http.Request) (id, secret string, ok bool) {
	user, password, ok := r.BasicAuth()
	if !ok {
		return "", "", false
	}
	if v, err := url.QueryUnescape(user); err == nil {
		user = v
	}
	if v, err := url.QueryUnescape(password); err == nil {
		password = v
	}
	return user, password, true
}

// aadError is a token-endpoint failure in the §A8 shape.
type aadError struct {
	status int
	code   string // the error field
	aadsts int
	text   string
}

// clientCredentials checks, in order: the application exists (700016), its
// credential (7000218, 7000215, 7000222, or the assertion checks of
// verifyAssertion), its service principal (7000229, 7000112), then the scope
// (1002012, 700022, 500011), and issues the token. Needs s.mu.
func (s *Server) clientCredentials(w http.ResponseWriter, r *http.Request, tenantName, clientID string) {
	form := r.PostForm
	fail := func(e *aadError) { s.writeAADError(w, r, e.status, e.code, e.aadsts, e.text, "") }
	basicID, basicSecret, basic := clientBasicAuth(r)
	if basic && form.Get("client_id") != "" && !strings.EqualFold(basicID, form.Get("client_id")) {
		fail(&aadError{http.StatusBadRequest, "invalid_request", 900144, "The client_id in the request body does not match the one in the Authorization header."})
		return
	}
	t := s.tenant
	app := t.appByAppID(clientID)
	if app == nil || strings.EqualFold(tenantName, "organizations") {
		fail(&aadError{http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenantName)})
		return
	}
	secret := form.Get("client_secret")
	if basic && secret == "" {
		secret = basicSecret
	}
	assertion := form.Get("client_assertion")
	now := s.clock()
	var acr string
	switch {
	case secret != "" && assertion != "":
		fail(&aadError{http.StatusBadRequest, "invalid_request", 90014, "The request must contain only one of 'client_assertion' and 'client_secret'."})
		return
	case secret != "":
		if e := checkSecret(app, secret, now); e != nil {
			fail(e)
			return
		}
		acr = "1"
	case assertion != "":
		if form.Get("client_assertion_type") != assertionType {
			fail(&aadError{http.StatusBadRequest, "invalid_request", 50027, "Invalid JWT token. client_assertion_type must be '" + assertionType + "'."})
			return
		}
		if e := s.verifyAssertion(app, assertion, now); e != nil {
			fail(e)
			return
		}
		acr = "2"
	default:
		fail(&aadError{http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."})
		return
	}
	sp := t.spByAppID(app.appID)
	switch {
	case sp == nil:
		fail(&aadError{http.StatusUnauthorized, "invalid_client", 7000229, fmt.Sprintf("The client application %s is missing service principal in the tenant %s. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", app.appID, s.seed.TenantID)})
		return
	case !sp.enabled:
		fail(&aadError{http.StatusBadRequest, "unauthorized_client", 7000112, fmt.Sprintf("Application '%s'(%s) is disabled.", app.appID, app.displayName)})
		return
	}
	res, e := s.appOnlyResource(strings.Fields(form.Get("scope")))
	if e != nil {
		fail(e)
		return
	}
	writeJSON(w, http.StatusOK, s.issueAppToken(sp, res, acr, now))
}

// checkSecret finds an unexpired password credential with this value.
// Sending the secret's id instead of its value is just a wrong secret.
func checkSecret(app *application, secret string, now time.Time) *aadError {
	for _, p := range app.passwords {
		if !secretEqual(secret, p.secret) {
			continue
		}
		if !now.Before(p.end) {
			return &aadError{http.StatusUnauthorized, "invalid_client", 7000222, fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", app.appID)}
		}
		if now.Before(p.start) {
			break // not yet valid: as good as unknown
		}
		return nil
	}
	return &aadError{http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.appID)}
}

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
	malformed := func(why string) *aadError {
		return &aadError{http.StatusUnauthorized, "invalid_client", 50027, "Invalid JWT token. " + why}
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return malformed("Token format not valid.")
	}
	var header assertionHeader
	var claims assertionClaims
	headerJSON, err1 := decodeBase64Any(parts[0])
	payloadJSON, err2 := decodeBase64Any(parts[1])
	signature, err3 := decodeBase64Any(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(headerJSON, &header) != nil {
		return malformed("Token format not valid.")
	}
	dec := json.NewDecoder(bytes.NewReader(payloadJSON))
	dec.UseNumber()
	if dec.Decode(&claims) != nil {
		return malformed("Token format not valid.")
	}
	if header.Alg != "RS256" && header.Alg != "PS256" {
		return &aadError{http.StatusUnauthorized, "invalid_client", 5002738, fmt.Sprintf("Invalid JWT token. '%s' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, PS256'", header.Alg)}
	}

	// The key, by thumbprint (customKeyIdentifier is the caller's, so not trusted).
	var sent []byte
	var key *keyCredential
	if header.X5tSHA256 != "" {
		if b, err := decodeBase64Any(header.X5tSHA256); err == nil && len(b) == sha256.Size {
			sent = b
			for _, k := range app.keys {
				if bytes.Equal(k.sha256Thumbprint(), b) {
					key = k
				}
			}
		}
	} else if header.X5t != "" {
		if b, err := decodeBase64Any(header.X5t); err == nil && len(b) == 20 {
			sent = b
			for _, k := range app.keys {
				if bytes.Equal(k.sha1Thumbprint(), b) {
					key = k
				}
			}
		}
	}
	thumb := strings.ToUpper(hex.EncodeToString(sent))
	if key != nil {
		thumb = strings.ToUpper(hex.EncodeToString(key.sha1Thumbprint())) // Entra names the key by its SHA-1
	}
	keyError := func(reason string, withKey bool) *aadError {
		found := ""
		if withKey {
			found = fmt.Sprintf(" Found key 'Start=%s, End=%s',", key.start.UTC().Format("01/02/2006 15:04:05"), key.end.UTC().Format("01/02/2006 15:04:05"))
		}
		return &aadError{http.StatusUnauthorized, "invalid_client", 700027, fmt.Sprintf("Client assertion contains an invalid signature. [Reason - %s, Thumbprint of key used by client: '%s',%s Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. %s]", reason, thumb, found, app.appID, certDocs)}
	}
	switch {
	case key == nil:
		return keyError("The key was not found.", false)
	case !now.Before(key.end):
		return keyError("The key used is expired.", true)
	case now.Before(key.start):
		return keyError("The key used is not yet valid.", true)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	pub, isRSA := key.cert.PublicKey.(*rsa.PublicKey)
	if !isRSA {
		return keyError("The key is not an RSA key.", true)
	}
	var verr error
	if header.Alg == "PS256" {
		verr = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	} else {
		verr = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], signature)
	}
	if verr != nil {
		return keyError("The provided signature value did not match the expected signature value.", true)
	}

	if !s.isTokenEndpoint(claims.Aud) {
		return &aadError{http.StatusUnauthorized, "invalid_client", 700023, "Client assertion audience claim does not match Realm issuer. " + certDocs}
	}
	switch {
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

// appOnlyResource reads the scope of a client credentials request: exactly
// one resource with /.default; openid, profile, offline_access (which MSAL
// always appends) are ignored (WIRE §I1). Needs s.mu.
func (s *Server) appOnlyResource(scopes []string) (resource, *aadError) {
	var rest []string
	for _, sc := range scopes {
		switch strings.ToLower(sc) {
		case "openid", "profile", "offline_access":
			continue
		}
		rest = append(rest, sc)
	}
	joined := strings.Join(scopes, " ")
	for _, sc := range rest {
		if !strings.HasSuffix(sc, "/.default") {
			return resource{}, &aadError{http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc)}
		}
	}
	if len(rest) == 0 {
		return resource{}, &aadError{http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", joined)}
	}
	var found []resource
	for _, sc := range rest {
		res, ok := s.lookupResource(sc)
		if !ok {
			return resource{}, &aadError{http.StatusBadRequest, "invalid_resource", 500011, fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", strings.TrimSuffix(sc, "/.default"), s.seed.DisplayName)}
		}
		if len(found) > 0 && found[0].aud != res.aud {
			return resource{}, &aadError{http.StatusBadRequest, "invalid_scope", 700022, fmt.Sprintf("The provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", joined)}
		}
		found = append(found, res)
	}
	return found[0], nil
}

// issueAppToken mints a v1.0 app-only token (WIRE §I3, §I4): issuer
// sts.windows.net, appid/appidacr, idtyp app, oid = sub = the service
// principal, roles = its consents on the resource now (absent when none),
// wids = its directory roles. The answer has no refresh token, id_token or
// scope. Needs s.mu.
func (s *Server) issueAppToken(sp *servicePrincipal, res resource, acr string, now time.Time) jsonObject {
	t := s.tenant
	resourceSP := t.resourceSP(findResourceApp(res.id))
	roles := t.consentedRoles(sp, resourceSP)
	wids := t.directoryRoleIDsOf(sp.id)
	expires := now.Add(accessTokenLifetime)
	issuer := "https://sts.windows.net/" + s.seed.TenantID + "/"
	claims := jsonObject{
		{"aud", res.aud}, {"iss", issuer}, {"iat", now.Unix()}, {"nbf", now.Unix()}, {"exp", expires.Unix()},
		{"aio", randomToken(24)}, {"app_displayname", sp.displayName}, {"appid", sp.appID}, {"appidacr", acr},
		{"idp", issuer}, {"idtyp", "app"}, {"oid", sp.id}, {"rh", "0." + randomToken(32) + "."},
	}
	if len(roles) > 0 {
		claims = append(claims, jsonField{"roles", roles})
	}
	claims = append(claims, jsonField{"sub", sp.id}, jsonField{"tid", s.seed.TenantID}, jsonField{"uti", randomToken(16)}, jsonField{"ver", "1.0"})
	if len(wids) > 0 {
		claims = append(claims, jsonField{"wids", wids})
	}
	access := unsignedJWT(claims)
	s.pruneTokens(now)
	s.accessTokens[access] = &accessToken{oid: sp.id, api: res.api, expires: expires,
		appOnly: true, appID: strings.ToLower(sp.appID), roles: roles, wids: wids}
	return jsonObject{
		{"token_type", "Bearer"},
		{"expires_in", int(accessTokenLifetime.Seconds())},
		{"ext_expires_in", int(accessTokenLifetime.Seconds())},
		{"access_token", access},
	}
}
