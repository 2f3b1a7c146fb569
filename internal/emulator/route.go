package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// What every Microsoft route shares: the route table (route names are what
// faults and counters use), the route wrapper that runs each handler, and
// the caller an API request acts as.

// routes registers every handler under its route name (the names faults and
// counters use).
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.routeOf = map[string]string{}
	handle := func(pattern, route string, h http.HandlerFunc) {
		s.mux.HandleFunc(pattern, h)
		s.routeOf[pattern] = route
	}
	// Identity platform, WIRE §A: anonymous.
	handle("GET /common/discovery/instance", "instance-discovery", s.route(nil, s.getInstanceDiscovery))
	handle("GET /{tenant}/v2.0/.well-known/openid-configuration", "openid-configuration", s.route(nil, s.getOpenIDConfiguration))
	handle("GET /common/UserRealm/{user}", "userrealm", s.route(nil, s.getUserRealm))
	handle("POST /{tenant}/oauth2/v2.0/token", "token", s.route(nil, s.postToken))
	// Microsoft Graph v1.0, WIRE §C: who may call a route (nil: checked by the handler).
	readsUsers, readsRoles, readsApps := readsWith(appReadUsers...), readsWith(appReadRoles...), readsWith(appReadApps...)
	managesApps := (*tenant).mayManageApps
	handle("GET /v1.0/me", "graph.user", s.graph(nil, s.getUser))
	handle("GET /v1.0/users/{id}", "graph.user", s.graph(nil, s.getUser))
	handle("GET /v1.0/users/{id}/memberOf", "graph.memberOf", s.graph(readsUsers, s.listUserMemberOf))
	handle("GET /v1.0/organization", "graph.organization", s.graph(readsWith(appReadOrganization...), s.getOrganization))
	handle("GET /v1.0/roleManagement/directory/roleDefinitions", "graph.roleDefinitions", s.graph(readsRoles, s.listRoleDefinitions))
	handle("GET /v1.0/roleManagement/directory/roleDefinitions/{id}", "graph.roleDefinitions", s.graph(readsRoles, s.getRoleDefinition))
	handle("GET /v1.0/roleManagement/directory/roleAssignments", "graph.roleAssignments.list", s.graph(readsRoles, s.listRoleAssignments))
	handle("POST /v1.0/roleManagement/directory/roleAssignments", "graph.roleAssignments.create", s.graph(nil, s.createRoleAssignment))
	handle("DELETE /v1.0/roleManagement/directory/roleAssignments/{id}", "graph.roleAssignments.delete", s.graph((*tenant).mayManageDirectoryRoles, s.deleteRoleAssignment))
	// Mailbox access through Graph, WIRE §I12.
	handle("GET /v1.0/users/{id}/mailFolders/{folder}", "graph.mailFolders", s.graph(nil, s.getMailFolder))
	handle("GET /v1.0/me/mailFolders/{folder}", "graph.mailFolders", s.graph(nil, s.getMailFolder))
	handle("GET /v1.0/users/{id}/messages", "graph.messages", s.graph(nil, s.listMessages))
	handle("GET /v1.0/me/messages", "graph.messages", s.graph(nil, s.listMessages))
	handle("GET /v1.0/users/{id}/mailFolders/{folder}/messages", "graph.messages", s.graph(nil, s.listMessages))
	handle("GET /v1.0/me/mailFolders/{folder}/messages", "graph.messages", s.graph(nil, s.listMessages))
	// Graph's mailbox import and export API, WIRE §M2 (worldwide only, §M1.4);
	// the mailbox routes check their permissions per mailbox (adminMailbox).
	handle("GET /v1.0/users/{id}/settings/exchange", "graph.exchangeSettings", s.graph(readsWith(exchangeSettingsPermissions...), s.getExchangeSettings))
	handle("GET /v1.0/admin/exchange/mailboxes/{mailbox}/folders", "graph.mailboxFolders", s.graph(nil, s.listMailboxFolders))
	handle("POST /v1.0/admin/exchange/mailboxes/{mailbox}/createImportSession", "graph.createImportSession", s.graph(nil, s.createImportSession))
	// The import sessions' upload URL, on the import host (Cluster.serveImport):
	// pre-authenticated by the authtoken in its query.
	handle("POST "+importPathPrefix+"{mailbox}/importItem", importRoute, s.route(nil, s.importItem))
	// App registrations, WIRE §I7–§I11.
	handle("POST /v1.0/applications", "graph.applications.create", s.graph(managesApps, s.createApplication))
	handle("GET /v1.0/applications", "graph.applications.list", s.graph(readsApps, s.listApplications))
	handle("GET /v1.0/applications/{id}", "graph.applications.get", s.graph(readsApps, s.getApplication))
	handle("PATCH /v1.0/applications/{id}", "graph.applications.update", s.graph(managesApps, s.updateApplication))
	handle("DELETE /v1.0/applications/{id}", "graph.applications.delete", s.graph(managesApps, s.deleteApplication))
	handle("POST /v1.0/applications/{id}/addPassword", "graph.applications.addPassword", s.graph(managesApps, s.addPassword))
	handle("POST /v1.0/applications/{id}/removePassword", "graph.applications.removePassword", s.graph(managesApps, s.removePassword))
	handle("POST /v1.0/servicePrincipals", "graph.servicePrincipals.create", s.graph(managesApps, s.graphCreateServicePrincipal))
	handle("GET /v1.0/servicePrincipals", "graph.servicePrincipals.list", s.graph(readsApps, s.graphListServicePrincipals))
	handle("GET /v1.0/servicePrincipals/{id}", "graph.servicePrincipals.get", s.graph(readsApps, s.graphGetServicePrincipal))
	handle("DELETE /v1.0/servicePrincipals/{id}", "graph.servicePrincipals.delete", s.graph(managesApps, s.graphDeleteServicePrincipal))
	handle("POST /v1.0/servicePrincipals/{id}/appRoleAssignedTo", "graph.appRoleAssignedTo.create", s.graph(nil, s.createAppRoleAssignment))
	handle("GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo", "graph.appRoleAssignedTo.list", s.graph(readsApps, s.listAppRoleAssignedTo))
	handle("DELETE /v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}", "graph.appRoleAssignedTo.delete", s.graph(nil, s.deleteAppRoleAssignment))
	handle("GET /v1.0/servicePrincipals/{id}/appRoleAssignments", "graph.appRoleAssignments.list", s.graph(readsApps, s.listAppRoleAssignmentsOf))
	// Exchange Online admin API, WIRE §E; the route name follows the cmdlet.
	handle("POST /adminapi/beta/{tenant}/InvokeCommand", exchangeRoutePrefix, s.route((*Server).exchangeAuth, s.invokeCommand))
	// EWS, WIRE §D: a bearer token or, with legacy_basic_auth, Basic.
	handle("POST /EWS/Exchange.asmx", "ews.GetFolder", s.route((*Server).ewsAuth, s.postEWS))
	// The control API (not Microsoft's) has its own mux behind the token check.
	s.control = s.controlRoutes()
}

// call is one request to a Microsoft route, inside the route wrapper: the
// tenant lock is held, and on an API the caller is authenticated.
type call struct {
	s *Server
	w http.ResponseWriter
	r *http.Request
	c *caller // nil on the identity platform's routes
}

// authFunc authenticates a request to an API, writing that API's 401 when it
// fails. Needs s.mu.
type authFunc func(s *Server, w http.ResponseWriter, r *http.Request) *caller

// route is the preamble every Microsoft route shares: take the tenant lock
// (held until the answer is written, so a request sees and changes the
// tenant as one step), authenticate the caller with auth (nil for the
// identity platform, whose routes are anonymous) and run h. Graph routes add
// their access check (graph), the admin API dispatches by cmdlet
// (invokeCommand).
func (s *Server) route(auth authFunc, h func(*call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		q := &call{s: s, w: w, r: r}
		if auth != nil {
			if q.c = auth(s, w, r); q.c == nil {
				return
			}
		}
		h(q)
	}
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
