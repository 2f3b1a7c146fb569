package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// What every Microsoft route shares: the route table (route names are what
// faults and counters use) and the caller an API request acts as.

// routes registers every handler under its route name (the names faults and
// counters use).
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.routeOf = map[string]string{}
	handle := func(pattern, route string, h http.HandlerFunc) {
		s.mux.HandleFunc(pattern, h)
		s.routeOf[pattern] = route
	}
	// Identity platform, WIRE §A.
	handle("GET /common/discovery/instance", "instance-discovery", s.getInstanceDiscovery)
	handle("GET /{tenant}/v2.0/.well-known/openid-configuration", "openid-configuration", s.getOpenIDConfiguration)
	handle("GET /common/UserRealm/{user}", "userrealm", s.getUserRealm)
	handle("POST /{tenant}/oauth2/v2.0/token", "token", s.postToken)
	// Microsoft Graph v1.0, WIRE §C.
	handle("GET /v1.0/me", "graph.user", s.getUser)
	handle("GET /v1.0/users/{id}", "graph.user", s.getUser)
	handle("GET /v1.0/users/{id}/memberOf", "graph.memberOf", s.listUserMemberOf)
	handle("GET /v1.0/organization", "graph.organization", s.getOrganization)
	handle("GET /v1.0/roleManagement/directory/roleDefinitions", "graph.roleDefinitions", s.listRoleDefinitions)
	handle("GET /v1.0/roleManagement/directory/roleDefinitions/{id}", "graph.roleDefinitions", s.getRoleDefinition)
	handle("GET /v1.0/roleManagement/directory/roleAssignments", "graph.roleAssignments.list", s.listRoleAssignments)
	handle("POST /v1.0/roleManagement/directory/roleAssignments", "graph.roleAssignments.create", s.createRoleAssignment)
	handle("DELETE /v1.0/roleManagement/directory/roleAssignments/{id}", "graph.roleAssignments.delete", s.deleteRoleAssignment)
	// Mailbox access through Graph, WIRE §I12.
	handle("GET /v1.0/users/{id}/mailFolders/{folder}", "graph.mailFolders", s.getMailFolder)
	handle("GET /v1.0/me/mailFolders/{folder}", "graph.mailFolders", s.getMailFolder)
	handle("GET /v1.0/users/{id}/messages", "graph.messages", s.listMessages)
	handle("GET /v1.0/me/messages", "graph.messages", s.listMessages)
	handle("GET /v1.0/users/{id}/mailFolders/{folder}/messages", "graph.messages", s.listMessages)
	handle("GET /v1.0/me/mailFolders/{folder}/messages", "graph.messages", s.listMessages)
	// App registrations, WIRE §I7–§I11.
	handle("POST /v1.0/applications", "graph.applications.create", s.createApplication)
	handle("GET /v1.0/applications", "graph.applications.list", s.listApplications)
	handle("GET /v1.0/applications/{id}", "graph.applications.get", s.getApplication)
	handle("PATCH /v1.0/applications/{id}", "graph.applications.update", s.updateApplication)
	handle("DELETE /v1.0/applications/{id}", "graph.applications.delete", s.deleteApplication)
	handle("POST /v1.0/applications/{id}/addPassword", "graph.applications.addPassword", s.addPassword)
	handle("POST /v1.0/applications/{id}/removePassword", "graph.applications.removePassword", s.removePassword)
	handle("POST /v1.0/servicePrincipals", "graph.servicePrincipals.create", s.graphCreateServicePrincipal)
	handle("GET /v1.0/servicePrincipals", "graph.servicePrincipals.list", s.graphListServicePrincipals)
	handle("GET /v1.0/servicePrincipals/{id}", "graph.servicePrincipals.get", s.graphGetServicePrincipal)
	handle("DELETE /v1.0/servicePrincipals/{id}", "graph.servicePrincipals.delete", s.graphDeleteServicePrincipal)
	handle("POST /v1.0/servicePrincipals/{id}/appRoleAssignedTo", "graph.appRoleAssignedTo.create", s.createAppRoleAssignment)
	handle("GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo", "graph.appRoleAssignedTo.list", s.listAppRoleAssignedTo)
	handle("DELETE /v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment}", "graph.appRoleAssignedTo.delete", s.deleteAppRoleAssignment)
	handle("GET /v1.0/servicePrincipals/{id}/appRoleAssignments", "graph.appRoleAssignments.list", s.listAppRoleAssignmentsOf)
	// Exchange Online admin API, WIRE §E; the route name follows the cmdlet.
	handle("POST /adminapi/beta/{tenant}/InvokeCommand", exchangeRoutePrefix, s.invokeCommand)
	// EWS, WIRE §D.
	handle("POST /EWS/Exchange.asmx", "ews.GetFolder", s.postEWS)
	// The control API (not Microsoft's) has its own mux behind the token check.
	s.control = s.controlRoutes()
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
