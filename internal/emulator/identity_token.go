package emulator

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The token endpoint: a user's password and refresh-token grants (WIRE
// §A6–§A9), and the client credentials grant (§I1–§I5), where an
// application signs in as itself with a secret (form body or HTTP Basic) or
// a certificate assertion and gets a v1.0 app-only token whose roles are its
// consents on the requested resource at that moment.

// postToken is the token endpoint: the resource owner password grant, the
// refresh token grant (WIRE §A6–§A8) and the client credentials grant (§I1–§I5).
func (s *Server) postToken(q *call) {
	w, r := q.w, q.r
	if err := r.ParseForm(); err != nil {
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.", "")
		return
	}
	form := r.PostForm
	tenantName := r.PathValue("tenant")
	grant := form.Get("grant_type")
	clientID := form.Get("client_id")
	if basicID, _, ok := clientBasicAuth(r); ok && clientID == "" {
		clientID = basicID // RFC 6749 §2.3.1, which Entra accepts (WIRE §I1)
	}

	switch {
	case (grant == "password" || grant == "client_credentials") && (strings.EqualFold(tenantName, "common") || strings.EqualFold(tenantName, "consumers")):
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_request", 9001023, "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.", "")
		return
	case !s.tenant.isKnownTenant(tenantName) && !slices.Contains([]string{"organizations", "common"}, strings.ToLower(tenantName)):
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, tenantNotFound(tenantName), "")
		return
	case clientID == "":
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.", "")
		return
	case grant != "password" && grant != "refresh_token" && grant != "client_credentials":
		s.writeAADError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant), "")
		return
	}
	if grant == "client_credentials" {
		s.clientCredentials(w, r, tenantName, clientID)
		return
	}
	res, ok := s.resourceOf(w, r, strings.Fields(form.Get("scope")))
	if !ok {
		return
	}

	var u *user
	if grant == "password" {
		if u = s.authenticatePassword(w, r, form.Get("username"), form.Get("password"), res); u == nil {
			return
		}
	} else if u = s.authenticateRefreshToken(w, r, form.Get("refresh_token")); u == nil {
		return
	}
	writeJSON(w, http.StatusOK, s.issueTokens(u, res, form.Get("scope"), form.Get("client_id")))
}

// authenticatePassword applies ESTS's checks in order (WIRE §F3): unknown
// user 50034, disabled 50057, locked 50053, bad secret 50126, MFA 50076/50079,
// Conditional Access 53003. In the seed's world an MFA account signs in with
// its app password, which skips the MFA prompt (DESIGN §1). Needs s.mu.
func (s *Server) authenticatePassword(w http.ResponseWriter, r *http.Request, username, password string, res resource) *user {
	t := s.tenant
	u := t.userByUPN(username)
	switch {
	case u == nil:
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 50034,
			fmt.Sprintf("The user account {EUII Hidden} does not exist in the '%s' directory. To sign into this application, the account must be added to the directory.", t.seed.TenantID), "")
		return nil
	case u.disabled:
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 50057, "The user account is disabled.", "")
		return nil
	case u.locked:
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 50053, "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.", "")
		return nil
	}
	sec := t.passwords[u.oid]
	byAppPassword := u.mfa && sec.appPassword != "" && secretEqual(password, sec.appPassword)
	if !byAppPassword && !secretEqual(password, sec.password) {
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 50126, "Error validating credentials due to invalid username or password.", "")
		return nil
	}
	if u.mfa && !byAppPassword {
		if u.mfaRegistered {
			s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 50076,
				fmt.Sprintf("Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.", res.id), "basic_action")
		} else {
			s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 50079,
				fmt.Sprintf("Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '%s'.", res.id), "basic_action")
		}
		return nil
	}
	if u.caBlocked {
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", "message_only")
		return nil
	}
	return u
}

// authenticateRefreshToken redeems a refresh token for any resource of the
// tenant (Entra's refresh tokens are multi-resource). A password change
// revokes the user's refresh tokens (AADSTS50173), as in Entra. Needs s.mu.
func (s *Server) authenticateRefreshToken(w http.ResponseWriter, r *http.Request, token string) *user {
	rt := s.refreshTokens[token]
	if rt == nil {
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.", "")
		return nil
	}
	u := s.tenant.byID[rt.oid]
	switch {
	case u == nil:
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 50034,
			fmt.Sprintf("The user account {EUII Hidden} does not exist in the '%s' directory. To sign into this application, the account must be added to the directory.", s.seed.TenantID), "")
	case u.disabled:
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 50057, "The user account is disabled.", "")
	case s.tenant.passwords[u.oid].generation != rt.generation:
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.", "")
	case u.caBlocked:
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", "message_only")
	default:
		return u
	}
	return nil
}

func secretEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// issueTokens mints the token response (WIRE §A7). Needs s.mu.
func (s *Server) issueTokens(u *user, res resource, scope, clientID string) jsonObject {
	now := s.clock()
	expires := now.Add(accessTokenLifetime)
	issuer := s.url + "/" + s.seed.TenantID + "/v2.0"
	access := unsignedJWT(jsonObject{
		{"aud", res.aud}, {"iss", issuer}, {"iat", now.Unix()}, {"nbf", now.Unix()}, {"exp", expires.Unix()},
		{"appid", clientID}, {"name", u.displayName}, {"oid", u.oid}, {"scp", delegatedScopes[res.api]},
		{"sub", subject(u.oid, clientID)}, {"tid", s.seed.TenantID}, {"unique_name", u.upn}, {"upn", u.upn},
		{"preferred_username", u.upn}, {"uti", randomToken(16)}, {"ver", "1.0"}, {"wids", s.tenant.roleTemplateIDs(u)},
	})
	s.pruneTokens(now)
	s.accessTokens[access] = &accessToken{oid: u.oid, upn: strings.ToLower(u.upn), api: res.api, expires: expires, appID: strings.ToLower(clientID)}
	refresh := "1.AEMU" + randomToken(48)
	s.refreshTokens[refresh] = &refreshToken{oid: u.oid, upn: strings.ToLower(u.upn), generation: s.tenant.passwords[u.oid].generation}

	granted := strings.Fields(scope)
	for _, std := range []string{"openid", "profile", "offline_access"} {
		if !slices.ContainsFunc(granted, func(g string) bool { return strings.EqualFold(g, std) }) {
			granted = append(granted, std)
		}
	}
	idToken := unsignedJWT(jsonObject{
		{"aud", clientID}, {"iss", issuer}, {"iat", now.Unix()}, {"nbf", now.Unix()}, {"exp", expires.Unix()},
		{"name", u.displayName}, {"oid", u.oid}, {"preferred_username", u.upn}, {"sub", subject(u.oid, clientID)},
		{"tid", s.seed.TenantID}, {"ver", "2.0"},
	})
	clientInfo, _ := json.Marshal(map[string]string{"uid": u.oid, "utid": s.seed.TenantID})
	return jsonObject{
		{"token_type", "Bearer"},
		{"scope", strings.Join(granted, " ")},
		{"expires_in", int(accessTokenLifetime.Seconds())},
		{"ext_expires_in", int(accessTokenLifetime.Seconds())},
		{"access_token", access},
		{"refresh_token", refresh},
		{"id_token", idToken},
		{"client_info", base64.RawURLEncoding.EncodeToString(clientInfo)},
	}
}

// pruneTokens forgets expired access tokens once the map grows (benchmarks
// issue many). Needs s.mu.
func (s *Server) pruneTokens(now time.Time) {
	if len(s.accessTokens) < 10000 {
		return
	}
	for k, t := range s.accessTokens {
		if now.After(t.expires) {
			delete(s.accessTokens, k)
		}
	}
}

// subject is the pairwise sub claim: stable per user and application.
func subject(oid, clientID string) string {
	id := uuid.NewSHA1(uuid.MustParse(oid), []byte(clientID))
	return base64.RawURLEncoding.EncodeToString(id[:]) + "AAAAAAAAAAA"
}

// unsignedJWT is a JWT with header {"typ":"JWT","alg":"none"} and no signature.
func unsignedJWT(claims jsonObject) string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"none"}`))
	payload, _ := json.Marshal(claims)
	return header + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

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
	body, e := s.appTokenFor(r, tenantName, clientID)
	if e != nil {
		s.writeAADError(w, r, e.status, e.code, e.aadsts, e.text, "")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// appTokenFor is clientCredentials' answer: the token, or the first check
// that failed. Needs s.mu.
func (s *Server) appTokenFor(r *http.Request, tenantName, clientID string) (jsonObject, *aadError) {
	app, e := s.clientApplication(r, tenantName, clientID)
	if e != nil {
		return nil, e
	}
	now := s.clock()
	acr, e := s.checkClientCredential(r, app, now)
	if e != nil {
		return nil, e
	}
	sp := s.tenant.spByAppID(app.appID)
	switch {
	case sp == nil:
		return nil, &aadError{http.StatusUnauthorized, "invalid_client", 7000229, fmt.Sprintf("The client application %s is missing service principal in the tenant %s. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", app.appID, s.seed.TenantID)}
	case !sp.enabled:
		return nil, &aadError{http.StatusBadRequest, "unauthorized_client", 7000112, fmt.Sprintf("Application '%s'(%s) is disabled.", app.appID, app.displayName)}
	}
	res, e := s.appOnlyResource(strings.Fields(r.PostForm.Get("scope")))
	if e != nil {
		return nil, e
	}
	return s.issueAppToken(sp, res, acr, now), nil
}

// clientApplication is the application signing in: HTTP Basic and the form
// must not name two, and it must be registered in this tenant (a client
// credentials grant cannot go to /organizations).
func (s *Server) clientApplication(r *http.Request, tenantName, clientID string) (*application, *aadError) {
	if basicID, _, basic := clientBasicAuth(r); basic && r.PostForm.Get("client_id") != "" && !strings.EqualFold(basicID, r.PostForm.Get("client_id")) {
		return nil, &aadError{http.StatusBadRequest, "invalid_request", 900144, "The client_id in the request body does not match the one in the Authorization header."}
	}
	app := s.tenant.appByAppID(clientID)
	if app == nil || strings.EqualFold(tenantName, "organizations") {
		return nil, &aadError{http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenantName)}
	}
	return app, nil
}

// checkClientCredential checks the one credential the client sends: a
// secret (in the form or by HTTP Basic) or a certificate assertion. acr is
// the token's appidacr: 1 for a secret, 2 for a certificate.
func (s *Server) checkClientCredential(r *http.Request, app *application, now time.Time) (acr string, e *aadError) {
	form := r.PostForm
	secret := form.Get("client_secret")
	if _, basicSecret, basic := clientBasicAuth(r); basic && secret == "" {
		secret = basicSecret
	}
	assertion := form.Get("client_assertion")
	switch {
	case secret != "" && assertion != "":
		return "", &aadError{http.StatusBadRequest, "invalid_request", 90014, "The request must contain only one of 'client_assertion' and 'client_secret'."}
	case secret != "":
		return "1", checkSecret(app, secret, now)
	case assertion == "":
		return "", &aadError{http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
	case form.Get("client_assertion_type") != assertionType:
		return "", &aadError{http.StatusBadRequest, "invalid_request", 50027, "Invalid JWT token. client_assertion_type must be '" + assertionType + "'."}
	}
	return "2", s.verifyAssertion(app, assertion, now)
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
