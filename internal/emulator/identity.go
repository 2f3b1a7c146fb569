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

// Token lifetimes (WIRE §A7: expires_in is what MSAL caches by).
const accessTokenLifetime = 3599 * time.Second

// accessToken is what the emulator remembers about a token it issued. The
// token itself is an unsigned JWT; the APIs accept only tokens in this map.
type accessToken struct {
	oid, upn string
	api      string // apiGraph or apiExchange
	expires  time.Time

	// App-only tokens (WIRE §I4): oid is the service principal's id; roles
	// and wids are as of token time, as in the real claims.
	appOnly     bool
	appID       string
	roles, wids []string
}

// refreshToken is audience-independent, like Entra's (WIRE §A9).
type refreshToken struct {
	oid, upn   string
	generation int // the user's secrets generation when issued
}

// resource is what a scope string asks a token for.
type resource struct {
	api string // apiGraph or apiExchange
	aud string // the aud claim
	id  string // how AADSTS messages name it
}

// getInstanceDiscovery answers MSAL's instance discovery with this host as the
// only alias (WIRE §A3). Clients normally skip it (DisableInstanceDiscovery).
func (s *Server) getInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	host := strings.TrimPrefix(s.url, "https://")
	tenantName := "common"
	if u, err := url.Parse(r.URL.Query().Get("authorization_endpoint")); err == nil {
		if first, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/"); first != "" {
			tenantName = first
		}
	}
	writeJSON(w, http.StatusOK, jsonObject{
		{"tenant_discovery_endpoint", s.url + "/" + tenantName + "/v2.0/.well-known/openid-configuration"},
		{"api-version", "1.1"},
		{"metadata", []jsonObject{{
			{"preferred_network", host}, {"preferred_cache", host}, {"aliases", []string{host}},
		}}},
	})
}

// getOpenIDConfiguration serves the tenant's metadata. MSAL checks that the
// issuer has the authority's scheme and host:port, so every URL here uses this
// server's address; the document names the tenant GUID even when asked by
// domain (WIRE §A4).
func (s *Server) getOpenIDConfiguration(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("tenant")
	s.mu.Lock()
	known := s.tenant.isKnownTenant(name)
	s.mu.Unlock()
	issuerTenant, pathTenant := s.seed.TenantID, s.seed.TenantID
	switch {
	case strings.EqualFold(name, "organizations") || strings.EqualFold(name, "common"):
		issuerTenant, pathTenant = "{tenantid}", strings.ToLower(name)
	case !known:
		s.writeAADError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, tenantNotFound(name), "")
		return
	}
	base := s.url + "/" + pathTenant
	cloud := clouds[s.seed.Cloud]
	writeJSON(w, http.StatusOK, jsonObject{
		{"token_endpoint", base + "/oauth2/v2.0/token"},
		{"token_endpoint_auth_methods_supported", []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}},
		{"jwks_uri", base + "/discovery/v2.0/keys"},
		{"response_modes_supported", []string{"query", "fragment", "form_post"}},
		{"subject_types_supported", []string{"pairwise"}},
		{"id_token_signing_alg_values_supported", []string{"RS256"}},
		{"response_types_supported", []string{"code", "id_token", "code id_token", "id_token token"}},
		{"scopes_supported", []string{"openid", "profile", "email", "offline_access"}},
		{"issuer", s.url + "/" + issuerTenant + "/v2.0"},
		{"request_uri_parameter_supported", false},
		{"userinfo_endpoint", s.url + "/oidc/userinfo"},
		{"authorization_endpoint", base + "/oauth2/v2.0/authorize"},
		{"device_authorization_endpoint", base + "/oauth2/v2.0/devicecode"},
		{"http_logout_supported", true},
		{"frontchannel_logout_supported", true},
		{"end_session_endpoint", base + "/oauth2/v2.0/logout"},
		{"claims_supported", []string{"sub", "iss", "aud", "exp", "iat", "nbf", "name", "oid", "preferred_username", "tid", "ver"}},
		{"kerberos_endpoint", base + "/kerberos"},
		{"tenant_region_scope", cloud.regionScope},
		{"cloud_instance_name", cloud.cloudInstanceName},
		{"cloud_graph_host_name", "graph.windows.net"},
		{"msgraph_host", strings.TrimPrefix(s.url, "https://")},
		{"rbac_url", "https://pas.windows.net"},
	})
}

// getUserRealm is home realm discovery: Managed for the tenant's domains,
// Unknown (without domain_name) for anything else (WIRE §A5, ⚠ for Unknown).
func (s *Server) getUserRealm(w http.ResponseWriter, r *http.Request) {
	_, domain, _ := strings.Cut(strings.ToLower(r.PathValue("user")), "@")
	cloud := clouds[s.seed.Cloud]
	body := jsonObject{{"ver", "1.0"}, {"account_type", "Unknown"}}
	if slices.Contains(s.seed.Domains, domain) {
		body = jsonObject{{"ver", "1.0"}, {"account_type", "Managed"}, {"domain_name", domain},
			{"federation_brand_name", s.seed.DisplayName}}
	}
	body = append(body, jsonField{"cloud_instance_name", cloud.cloudInstanceName},
		jsonField{"cloud_audience_urn", "urn:federation:MicrosoftOnline"})
	writeJSON(w, http.StatusOK, body)
}

// postToken is the token endpoint: the resource owner password grant, the
// refresh token grant (WIRE §A6–§A8) and the client credentials grant (§I1–§I5).
func (s *Server) postToken(w http.ResponseWriter, r *http.Request) {
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

	s.mu.Lock()
	defer s.mu.Unlock()
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

// resourceOf finds the one resource the scopes ask for. MSAL always adds
// openid, profile and offline_access; bare permission names mean Graph; two
// resources in one request fail with AADSTS700022 (WIRE §A9). Only the
// resource URIs of the seed's cloud are known (WIRE §B). Needs s.mu.
func (s *Server) resourceOf(w http.ResponseWriter, r *http.Request, scopes []string) (resource, bool) {
	cloud := clouds[s.seed.Cloud]
	var found []resource
	for _, scope := range scopes {
		switch strings.ToLower(scope) {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		res, ok := s.lookupResource(scope)
		if !ok {
			s.writeAADError(w, r, http.StatusBadRequest, "invalid_resource", 500011,
				fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", scope, s.seed.DisplayName), "")
			return res, false
		}
		if len(found) > 0 && found[0].aud != res.aud {
			s.writeAADError(w, r, http.StatusBadRequest, "invalid_scope", 700022,
				fmt.Sprintf("The provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", strings.Join(scopes, " ")), "")
			return res, false
		}
		found = append(found, res)
	}
	if len(found) == 0 {
		return resource{apiGraph, "https://" + cloud.graphHosts[0], graphAppID}, true
	}
	return found[0], true
}

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

// caller is who an API request acts as: a user (delegated token, or Basic
// for EWS) or an application's service principal (app-only token, WIRE §I4).
type caller struct {
	user  *user
	sp    *servicePrincipal
	token *accessToken // nil for Basic
}

func (c *caller) appOnly() bool { return c.sp != nil }

// key names the caller in counters and fault matching: the lower-case UPN,
// or the client id of an application.
func (c *caller) key() string {
	if c.sp != nil {
		return strings.ToLower(c.sp.appID)
	}
	return strings.ToLower(c.user.upn)
}

// name is how state records the caller (CreatedBy): the UPN as seeded, or
// the application's client id.
func (c *caller) name() string {
	if c.sp != nil {
		return c.sp.appID
	}
	return c.user.upn
}

// hasRole reports whether an app-only token carries any of the role values.
func (c *caller) hasRole(values ...string) bool {
	return c.token != nil && slices.ContainsFunc(c.token.roles, func(r string) bool {
		return slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, r) })
	})
}

// hasTokenDirectoryRole reports whether an app-only token's wids hold any of
// the named directory roles (as of token time, WIRE §I4, §J1).
func (c *caller) hasTokenDirectoryRole(names ...string) bool {
	for _, n := range names {
		if r := findDirectoryRole(n); r != nil && c.token != nil && slices.Contains(c.token.wids, r.templateID) {
			return true
		}
	}
	return false
}

// authenticate checks an API request's token against what was issued and
// against the tenant as it is now: the user (or the application's service
// principal) must still exist and be enabled. It returns the caller, or the
// reason for a 401. Needs s.mu.
func (s *Server) authenticate(r *http.Request, api string) (*caller, string) {
	scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(value) == "" {
		return nil, "Access token is empty."
	}
	t := s.accessTokens[strings.TrimSpace(value)]
	switch {
	case t == nil:
		return nil, "Access token validation failure."
	case s.clock().After(t.expires):
		return nil, "Lifetime validation failed, the token is expired."
	case t.api != api:
		return nil, "Access token validation failure. Invalid audience."
	}
	if t.appOnly {
		sp := s.tenant.spByID(t.oid)
		if sp == nil || !sp.enabled {
			return nil, "Access token validation failure. The service principal is disabled or was deleted."
		}
		return &caller{sp: sp, token: t}, ""
	}
	u := s.tenant.byID[t.oid]
	if u == nil || u.disabled {
		return nil, "Access token validation failure. The user account is disabled or was deleted."
	}
	return &caller{user: u, token: t}, ""
}

func tenantNotFound(name string) string {
	return fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", name)
}

// writeAADError writes the identity platform's error body (WIRE §A8): the
// description ends with \r\n-separated Trace ID, Correlation ID and Timestamp.
func (s *Server) writeAADError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, text, suberror string) {
	now := s.clock().UTC()
	timestamp := now.Format("2006-01-02 15:04:05Z")
	traceID := uuid.NewString()
	correlationID := r.Header.Get("client-request-id")
	if _, err := uuid.Parse(correlationID); err != nil {
		correlationID = uuid.NewString()
	}
	body := jsonObject{
		{"error", code},
		{"error_description", fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", aadsts, text, traceID, correlationID, timestamp)},
		{"error_codes", []int{aadsts}},
		{"timestamp", timestamp},
		{"trace_id", traceID},
		{"correlation_id", correlationID},
		{"error_uri", fmt.Sprintf("https://%s/error?code=%d", clouds[s.seed.Cloud].loginHost, aadsts)},
	}
	if suberror != "" {
		body = append(body, jsonField{"suberror", suberror})
	}
	if aadsts == 50076 || aadsts == 50079 {
		body = append(body, jsonField{"claims", `{"access_token":{"capolids":{"essential":true,"values":["` + uuid.NewSHA1(uuid.MustParse(s.seed.TenantID), []byte("mfa-policy")).String() + `"]}}}`})
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("x-ms-request-id", traceID)
	writeJSON(w, status, body)
}

// writeIdentityStatusError is an injected fault on an identity route:
// 429 as tenant throttling (AADSTS90055), anything else as a transient
// service error (AADSTS90033) ⚠ emulator choice.
func (s *Server) writeIdentityStatusError(w http.ResponseWriter, r *http.Request, status int) {
	if status == http.StatusTooManyRequests {
		s.writeAADError(w, r, status, "temporarily_unavailable", 90055, "There are too many incoming requests. Please retry later.", "")
		return
	}
	s.writeAADError(w, r, status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.", "")
}

// lookupResource maps one scope to its resource: the host (or the resource's
// app id) before the last "/"; a bare permission such as User.Read means
// Graph. Only the seed's cloud is known (WIRE §A9, §B).
func (s *Server) lookupResource(scope string) (resource, bool) {
	cloud := clouds[s.seed.Cloud]
	var host string
	if i := strings.LastIndex(scope, "/"); i >= 0 {
		host = strings.TrimPrefix(strings.TrimPrefix(scope[:i], "https://"), "http://")
	} else {
		host = cloud.graphHosts[0]
	}
	host = strings.ToLower(host)
	switch {
	case slices.Contains(cloud.graphHosts, host):
		return resource{apiGraph, "https://" + host, graphAppID}, true
	case host == graphAppID:
		return resource{apiGraph, graphAppID, graphAppID}, true
	case slices.Contains(cloud.exchangeHosts, host):
		return resource{apiExchange, "https://" + host, exchangeAppID}, true
	case host == exchangeAppID:
		return resource{apiExchange, exchangeAppID, exchangeAppID}, true
	}
	return resource{}, false
}
