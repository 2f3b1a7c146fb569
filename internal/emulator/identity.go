package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The identity platform's metadata (instance discovery, OpenID
// configuration, home realm discovery, WIRE §A3–§A5), how a scope names its
// resource (§A9, §B) and the AADSTS error body (§A8). The token endpoint is
// identity_token.go, certificate assertions identity_assertion.go.

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
func (s *Server) getInstanceDiscovery(q *call) {
	w, r := q.w, q.r
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
func (s *Server) getOpenIDConfiguration(q *call) {
	w, r := q.w, q.r
	name := r.PathValue("tenant")
	known := s.tenant.isKnownTenant(name)
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
func (s *Server) getUserRealm(q *call) {
	w, r := q.w, q.r
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
