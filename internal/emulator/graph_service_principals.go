package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Service principals and app-role assignments (consent) through Graph
// (WIRE §I7, §I9, §I11).

// mayConsent: grant or revoke an app role of resource (WIRE §I9, §I11).
// Microsoft Graph's roles need Privileged Role or Global Administrator
// (for an application: in its token's wids); other resources also accept
// the application administrators. An application also needs
// AppRoleAssignment.ReadWrite.All and a permission to read applications.
func (t *tenant) mayConsent(c *caller, resource *servicePrincipal) bool {
	roles := graphConsentRoles
	if resource.appID != graphAppID {
		roles = append(slices.Clone(graphConsentRoles), "Application Administrator", "Cloud Application Administrator")
	}
	if c.appOnly() {
		return c.hasRole("AppRoleAssignment.ReadWrite.All") && c.hasRole(appReadApps...) && c.hasTokenDirectoryRole(roles...)
	}
	return t.hasDirectoryRole(c.user, roles...)
}

// servicePrincipalObject renders a service principal (WIRE §I7); resources
// carry their appRoles.
func (s *Server) servicePrincipalObject(sp *servicePrincipal) jsonObject {
	roles := []jsonObject{}
	if sp.resource != nil {
		for _, r := range sp.resource.roles {
			roles = append(roles, jsonObject{{"allowedMemberTypes", []string{"Application"}}, {"description", r.displayName},
				{"displayName", r.displayName}, {"id", r.id}, {"isEnabled", true}, {"origin", "Application"}, {"value", r.value}})
		}
	}
	names := []string{sp.appID}
	audience, owner := "AzureADMultipleOrgs", "f8cdef31-a31e-4b4a-93e4-5f571e91255a" // Microsoft's own tenant
	if sp.app != nil {
		names = append(names, sp.app.identifierURIs...)
		audience, owner = sp.app.signInAudience, s.seed.TenantID
	}
	return jsonObject{
		{"id", sp.id}, {"deletedDateTime", nil}, {"accountEnabled", sp.enabled}, {"appDisplayName", sp.displayName},
		{"appId", sp.appID}, {"appOwnerOrganizationId", owner}, {"appRoleAssignmentRequired", false},
		{"displayName", sp.displayName}, {"servicePrincipalNames", names}, {"servicePrincipalType", "Application"},
		{"signInAudience", audience}, {"tags", nonNil(sp.tags)}, {"appRoles", roles},
		{"keyCredentials", []jsonObject{}}, {"passwordCredentials", []jsonObject{}},
	}
}

var servicePrincipalSelectable = []string{"id", "deletedDateTime", "accountEnabled", "appDisplayName", "appId",
	"appOwnerOrganizationId", "appRoleAssignmentRequired", "displayName", "servicePrincipalNames",
	"servicePrincipalType", "signInAudience", "tags", "appRoles", "keyCredentials", "passwordCredentials"}

// pathSP finds /servicePrincipals/{id}; 404 otherwise.
func (q *call) pathSP() *servicePrincipal {
	sp := q.s.tenant.spByID(q.r.PathValue("id"))
	if sp == nil {
		q.graphNotFound(q.r.PathValue("id"))
	}
	return sp
}

// consentResource is the resource service principal of a consent route
// (/servicePrincipals/{id}/appRoleAssignedTo): 404 when unknown, 403 unless
// the caller may grant and revoke its roles.
func (q *call) consentResource() *servicePrincipal {
	resource := q.pathSP()
	if resource != nil && !q.s.tenant.mayConsent(q.c, resource) {
		q.graphDenied()
		return nil
	}
	return resource
}

// graphCreateServicePrincipal is POST /servicePrincipals {"appId":…} (WIRE §I7).
func (s *Server) graphCreateServicePrincipal(q *call) {
	var body struct {
		AppID          string   `json:"appId"`
		AccountEnabled *bool    `json:"accountEnabled"`
		Tags           []string `json:"tags"`
	}
	if ok := q.graphBody("servicePrincipal", []string{"appId", "accountEnabled", "tags", "appRoleAssignmentRequired", "notes", "description"}, &body); !ok {
		return
	}
	t := s.tenant
	a := t.appByAppID(body.AppID)
	switch {
	case t.spByAppID(body.AppID) != nil:
		q.graphError(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "Another object with the same value for property servicePrincipalNames already exists.")
		return
	case a == nil:
		q.graphError(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("The appId '%s' of the service principal does not reference a valid application object.", body.AppID))
		return
	}
	sp, _ := t.addServicePrincipal(a, s.clock())
	if body.AccountEnabled != nil {
		sp.enabled = *body.AccountEnabled
	}
	sp.tags = append(sp.tags, body.Tags...)
	q.w.Header().Set("Location", s.url+"/v1.0/servicePrincipals/"+sp.id)
	q.writeGraph(http.StatusCreated, append(jsonObject{{"@odata.context", s.url + "/v1.0/$metadata#servicePrincipals/$entity"}}, s.servicePrincipalObject(sp)...))
}

// graphListServicePrincipals is GET /servicePrincipals with $filter (appId,
// displayName, id, startswith(displayName), servicePrincipalNames/any,
// tags/any), $select, $top. An empty value for a resource's appId means it is
// not provisioned (WIRE §I7).
func (s *Server) graphListServicePrincipals(q *call) {
	filter, ok := q.directoryFilter([]string{"appId", "displayName", "id"}, []string{"displayName"}, []string{"servicePrincipalNames", "tags"})
	if !ok {
		return
	}
	selected, ok := q.graphSelect(servicePrincipalSelectable, "servicePrincipal")
	if !ok {
		return
	}
	objects := []jsonObject{}
	for _, sp := range s.tenant.sps {
		obj := s.servicePrincipalObject(sp)
		names := []string{sp.appID}
		if sp.app != nil {
			names = append(names, sp.app.identifierURIs...)
		}
		if filter.matches(map[string]any{"appId": sp.appID, "displayName": sp.displayName, "id": sp.id, "servicePrincipalNames": names, "tags": sp.tags}) {
			objects = append(objects, selectObject(obj, selected))
		}
	}
	context := s.selectContext("servicePrincipals", selected, false)
	q.writeGraphPage(context, objects)
}

func (s *Server) graphGetServicePrincipal(q *call) {
	sp := q.pathSP()
	if sp == nil {
		return
	}
	selected, ok := q.graphSelect(servicePrincipalSelectable, "servicePrincipal")
	if !ok {
		return
	}
	context := s.selectContext("servicePrincipals", selected, true)
	q.writeGraph(http.StatusOK, append(jsonObject{{"@odata.context", context}}, selectObject(s.servicePrincipalObject(sp), selected)...))
}

// graphDeleteServicePrincipal is DELETE /servicePrincipals/{id}: 204; only the
// service principal (and what was granted to it) goes (WIRE §I11 ⚠).
func (s *Server) graphDeleteServicePrincipal(q *call) {
	sp := q.pathSP()
	if sp == nil {
		return
	}
	if sp.resource != nil {
		q.graphDenied() // Microsoft's first-party service principals are not the tenant's to delete
		return
	}
	s.tenant.deleteServicePrincipal(sp)
	q.graphNoContent()
}

// appRoleAssignmentObject renders a consent (WIRE §I9).
func (s *Server) appRoleAssignmentObject(a *appRoleAssignment) jsonObject {
	t := s.tenant
	principalName, resourceName := "", ""
	if p := t.spByID(a.principalID); p != nil {
		principalName = p.displayName
	}
	if res := t.spByID(a.resourceID); res != nil {
		resourceName = res.displayName
	}
	return jsonObject{{"id", a.id}, {"deletedDateTime", nil}, {"appRoleId", a.appRoleID},
		{"createdDateTime", a.createdAt.UTC().Format("2006-01-02T15:04:05.0000000Z")}, {"principalDisplayName", principalName},
		{"principalId", a.principalID}, {"principalType", "ServicePrincipal"}, {"resourceDisplayName", resourceName},
		{"resourceId", a.resourceID}}
}

// createAppRoleAssignment is POST /servicePrincipals/{resource}/appRoleAssignedTo (WIRE §I9).
func (s *Server) createAppRoleAssignment(q *call) {
	resource := q.consentResource()
	if resource == nil {
		return
	}
	var body struct {
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}
	if ok := q.graphBody("appRoleAssignment", []string{"principalId", "resourceId", "appRoleId"}, &body); !ok {
		return
	}
	t := s.tenant
	principal := t.spByID(body.PrincipalID)
	var role *appRole
	if resource.resource != nil {
		role = resource.resource.roleByID(body.AppRoleID)
	}
	switch {
	case body.PrincipalID == "" || body.ResourceID == "" || body.AppRoleID == "":
		q.graphError(http.StatusBadRequest, "Request_BadRequest", "principalId, resourceId and appRoleId are required.")
	case !strings.EqualFold(body.ResourceID, resource.id):
		q.graphError(http.StatusBadRequest, "Request_BadRequest", "resourceId must be the service principal of the request URL.")
	case principal == nil:
		q.graphError(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", body.PrincipalID))
	case role == nil:
		q.graphError(http.StatusBadRequest, "Request_BadRequest", "Permission being assigned was not found on application.")
	default:
		a, err := t.consent(principal, resource, role, q.c.name(), s.clock())
		if err != nil {
			q.graphError(http.StatusBadRequest, "Request_BadRequest", "Permission being assigned already exists on the object.")
			return
		}
		q.w.Header().Set("Location", s.url+"/v1.0/servicePrincipals/"+resource.id+"/appRoleAssignedTo/"+a.id)
		q.writeGraph(http.StatusCreated, append(jsonObject{{"@odata.context",
			s.url + "/v1.0/$metadata#servicePrincipals('" + resource.id + "')/appRoleAssignedTo/$entity"}}, s.appRoleAssignmentObject(a)...))
	}
}

// listAppRoleAssignedTo is GET /servicePrincipals/{resource}/appRoleAssignedTo:
// every principal's assignments on the resource, paged; WIRE §I9 has clients
// filter by principalId themselves, so $filter is refused (⚠).
func (s *Server) listAppRoleAssignedTo(q *call) {
	s.listAppRoleAssignments(q, true)
}

// listAppRoleAssignmentsOf is GET /servicePrincipals/{principal}/appRoleAssignments.
func (s *Server) listAppRoleAssignmentsOf(q *call) {
	s.listAppRoleAssignments(q, false)
}

func (s *Server) listAppRoleAssignments(q *call, byResource bool) {
	sp := q.pathSP()
	if sp == nil {
		return
	}
	if q.r.URL.Query().Get("$filter") != "" {
		q.graphError(http.StatusBadRequest, "Request_UnsupportedQuery", "The emulated tenant does not filter app role assignments; filter the collection by principalId.")
		return
	}
	objects := []jsonObject{}
	for _, a := range s.tenant.appRoleAssignments {
		if byResource && a.resourceID == sp.id || !byResource && a.principalID == sp.id {
			objects = append(objects, s.appRoleAssignmentObject(a))
		}
	}
	segment := "appRoleAssignments"
	if byResource {
		segment = "appRoleAssignedTo"
	}
	q.writeGraphPage(s.url+"/v1.0/$metadata#servicePrincipals('"+sp.id+"')/"+segment, objects)
}

// deleteAppRoleAssignment is DELETE …/appRoleAssignedTo/{assignment}: 204, 404 when unknown.
func (s *Server) deleteAppRoleAssignment(q *call) {
	resource := q.consentResource()
	if resource == nil {
		return
	}
	id := q.r.PathValue("assignment")
	t := s.tenant
	i := slices.IndexFunc(t.appRoleAssignments, func(a *appRoleAssignment) bool { return a.id == id && a.resourceID == resource.id })
	if i < 0 {
		q.graphNotFound(id)
		return
	}
	t.appRoleAssignments = slices.Delete(t.appRoleAssignments, i, i+1)
	q.graphNoContent()
}
