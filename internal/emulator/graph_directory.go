package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// The directory through Graph (WIRE §C1–§C6): users, the organization,
// directory role definitions and role assignments.

// Properties a Graph user returns without $select, and those $select may name (WIRE §C1).
var (
	userDefaultProperties = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail",
		"mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
	userSelectable = append(slices.Clone(userDefaultProperties), "accountEnabled", "mailNickname", "userType")
)

// Application permissions that let an app-only caller read the directory.
var (
	appReadUsers        = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All"}
	appReadOrganization = []string{"Organization.Read.All", "Directory.Read.All"}
	appReadRoles        = []string{"RoleManagement.ReadWrite.Directory", "Directory.Read.All"}
)

// mayManageDirectoryRoles: assigning directory roles needs Global
// Administrator or Privileged Role Administrator (WIRE §C5); an app-only
// caller needs the RoleManagement.ReadWrite.Directory application permission.
func (t *tenant) mayManageDirectoryRoles(c *caller) bool {
	if c.appOnly() {
		return c.hasRole("RoleManagement.ReadWrite.Directory")
	}
	return t.hasDirectoryRole(c.user, "Global Administrator", "Privileged Role Administrator")
}

// getUser is GET /users/{id | userPrincipalName} and GET /me (WIRE §C1).
func (s *Server) getUser(q *call) {
	target, id := q.c.user, q.r.PathValue("id")
	switch {
	case id == "" && q.c.appOnly():
		q.graphError(http.StatusBadRequest, "BadRequest", meAppOnly)
		return
	case !q.graphAllows(appReadUsers...):
		return
	case id != "":
		if target = s.tenant.resolveUser(id); target == nil {
			q.graphNotFound(id)
			return
		}
	}
	selected, ok := q.graphSelect(userSelectable, "user")
	if !ok {
		return
	}
	context := s.url + "/v1.0/$metadata#users/$entity"
	if selected == nil {
		selected = userDefaultProperties
	} else {
		context = s.url + "/v1.0/$metadata#users(" + strings.Join(selected, ",") + ")/$entity"
	}
	q.writeGraph(http.StatusOK, append(jsonObject{{"@odata.context", context}}, s.tenant.graphUser(target, selected)...))
}

func (t *tenant) graphUser(u *user, properties []string) jsonObject {
	var mail any
	if m := t.mail(u); m != "" {
		mail = m
	}
	values := map[string]any{
		"id": u.oid, "userPrincipalName": u.upn, "displayName": u.displayName, "mail": mail,
		"accountEnabled": !u.disabled, "businessPhones": []string{}, "mailNickname": u.alias, "userType": "Member",
	}
	obj := jsonObject{}
	for _, p := range properties {
		obj = append(obj, jsonField{p, values[p]}) // absent values are null, as in Graph
	}
	return obj
}

// listUserMemberOf returns the user's directory roles as directoryRole objects
// (the activated role's object id differs from its template id).
func (s *Server) listUserMemberOf(q *call) {
	target := s.tenant.resolveUser(q.r.PathValue("id"))
	if target == nil {
		q.graphNotFound(q.r.PathValue("id"))
		return
	}
	value := []jsonObject{}
	for _, d := range s.tenant.directoryAssignmentsOf(target) {
		role := findDirectoryRole(d.roleID)
		value = append(value, jsonObject{
			{"@odata.type", "#microsoft.graph.directoryRole"},
			{"id", uuid.NewSHA1(s.tenant.namespace, []byte("directoryRole:"+role.templateID)).String()},
			{"deletedDateTime", nil},
			{"description", role.description},
			{"displayName", role.displayName},
			{"roleTemplateId", role.templateID},
		})
	}
	q.writeGraph(http.StatusOK, jsonObject{{"@odata.context", s.url + "/v1.0/$metadata#directoryObjects"}, {"value", value}})
}

// getOrganization returns the one-element organization collection (WIRE §C2).
func (s *Server) getOrganization(q *call) {
	selected, ok := q.graphSelect([]string{"id", "displayName", "verifiedDomains", "tenantType", "countryLetterCode"}, "organization")
	if !ok {
		return
	}
	context := s.url + "/v1.0/$metadata#organization"
	if selected == nil {
		selected = []string{"id", "displayName", "tenantType", "countryLetterCode", "verifiedDomains"}
	} else {
		context += "(" + strings.Join(selected, ",") + ")"
	}
	var domains []jsonObject
	for i, d := range s.seed.Domains {
		domains = append(domains, jsonObject{
			{"capabilities", "Email, OfficeCommunicationsOnline"},
			{"isDefault", d == s.seed.defaultDomain()},
			{"isInitial", i == 0},
			{"name", d},
			{"type", "Managed"},
		})
	}
	values := map[string]any{"id": s.seed.TenantID, "displayName": s.seed.DisplayName,
		"tenantType": "AAD", "countryLetterCode": "US", "verifiedDomains": domains}
	org := jsonObject{}
	for _, p := range selected {
		org = append(org, jsonField{p, values[p]})
	}
	q.writeGraph(http.StatusOK, jsonObject{{"@odata.context", context}, {"value", []jsonObject{org}}})
}

func roleDefinitionObject(role *directoryRole) jsonObject {
	return jsonObject{
		{"id", role.templateID}, {"description", role.description}, {"displayName", role.displayName},
		{"isBuiltIn", true}, {"isEnabled", true}, {"resourceScopes", []string{"/"}},
		{"templateId", role.templateID}, {"version", "1"},
		{"rolePermissions", []jsonObject{{{"allowedResourceActions", role.actions}, {"condition", nil}}}},
	}
}

// listRoleDefinitions supports $filter on displayName, id and templateId (WIRE §C3).
func (s *Server) listRoleDefinitions(q *call) {
	filter, ok := q.graphFilter("displayName", "id", "templateId")
	if !ok {
		return
	}
	value := []jsonObject{}
	for i := range directoryRoles {
		role := &directoryRoles[i]
		if filter.matches(map[string]string{"displayName": role.displayName, "id": role.templateID, "templateId": role.templateID}) {
			value = append(value, roleDefinitionObject(role))
		}
	}
	q.writeGraph(http.StatusOK, jsonObject{{"@odata.context", s.url + "/v1.0/$metadata#roleManagement/directory/roleDefinitions"}, {"value", value}})
}

func (s *Server) getRoleDefinition(q *call) {
	role := findDirectoryRole(q.r.PathValue("id"))
	if role == nil || !strings.EqualFold(role.templateID, q.r.PathValue("id")) {
		q.graphNotFound(q.r.PathValue("id"))
		return
	}
	q.writeGraph(http.StatusOK, append(jsonObject{{"@odata.context", s.url + "/v1.0/$metadata#roleManagement/directory/roleDefinitions/$entity"}}, roleDefinitionObject(role)...))
}

// listRoleAssignments lists active, direct assignments; $filter on principalId,
// roleDefinitionId and directoryScopeId, $expand=roleDefinition|principal,
// paging by @odata.nextLink with $top (WIRE §C0, §C4).
func (s *Server) listRoleAssignments(q *call) {
	filter, ok := q.graphFilter("principalId", "roleDefinitionId", "directoryScopeId")
	if !ok {
		return
	}
	query := q.r.URL.Query()
	expand := strings.TrimSpace(query.Get("$expand"))
	if expand != "" && expand != "roleDefinition" && expand != "principal" {
		q.graphError(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.unifiedRoleAssignment'.", expand))
		return
	}
	var matched []jsonObject
	for _, d := range s.tenant.directory {
		if filter.matches(map[string]string{"principalId": d.principalID, "roleDefinitionId": d.roleID, "directoryScopeId": d.scope}) {
			matched = append(matched, s.tenant.roleAssignmentObject(d, expand))
		}
	}
	context := s.url + "/v1.0/$metadata#roleManagement/directory/roleAssignments"
	if expand != "" {
		context += "(" + expand + "())"
	}
	q.writeGraphPage(context, matched)
}

// roleAssignmentObject renders a directory role assignment (WIRE §C4) with
// its role definition or its principal when expanded.
func (t *tenant) roleAssignmentObject(d *dirAssignment, expand string) jsonObject {
	obj := jsonObject{{"id", d.id}, {"principalId", d.principalID}, {"resourceScope", d.scope},
		{"directoryScopeId", d.scope}, {"roleDefinitionId", d.roleID}}
	switch expand {
	case "roleDefinition":
		obj = append(obj, jsonField{"roleDefinition", roleDefinitionObject(findDirectoryRole(d.roleID))})
	case "principal":
		if u := t.byID[d.principalID]; u != nil {
			obj = append(obj, jsonField{"principal", append(jsonObject{{"@odata.type", "#microsoft.graph.user"}},
				t.graphUser(u, userDefaultProperties)...)})
		} else if sp := t.spByID(d.principalID); sp != nil {
			obj = append(obj, jsonField{"principal", jsonObject{{"@odata.type", "#microsoft.graph.servicePrincipal"},
				{"id", sp.id}, {"appId", sp.appID}, {"displayName", sp.displayName}}})
		}
	}
	return obj
}

// createRoleAssignment is POST /roleManagement/directory/roleAssignments
// (WIRE §C5): 201, 400 on a duplicate, 403 unless the caller is Global
// Administrator or Privileged Role Administrator.
func (s *Server) createRoleAssignment(q *call) {
	var body struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
		PrincipalID      string `json:"principalId"`
		DirectoryScopeID string `json:"directoryScopeId"`
	}
	if err := json.NewDecoder(q.r.Body).Decode(&body); err != nil {
		q.graphError(http.StatusBadRequest, "Request_BadRequest", "Invalid request body: "+err.Error())
		return
	}
	if !s.tenant.mayManageDirectoryRoles(q.c) {
		q.graphDenied()
		return
	}
	role := findDirectoryRole(body.RoleDefinitionID)
	principalID := strings.ToLower(body.PrincipalID)
	principal := s.tenant.byID[principalID] != nil || s.tenant.spByID(principalID) != nil
	switch {
	case body.RoleDefinitionID == "" || body.PrincipalID == "" || body.DirectoryScopeID == "":
		q.graphError(http.StatusBadRequest, "Request_BadRequest", "roleDefinitionId, principalId and directoryScopeId are required.")
		return
	case role == nil || !strings.EqualFold(role.templateID, body.RoleDefinitionID):
		q.graphNotFound(body.RoleDefinitionID)
		return
	case !principal:
		q.graphError(http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", body.PrincipalID))
		return
	case body.DirectoryScopeID != "/":
		q.graphError(http.StatusBadRequest, "Request_BadRequest", "The emulated tenant supports only the directory scope '/'.")
		return
	}
	d, err := s.tenant.addDirectoryAssignmentTo(principalID, role, q.c.name())
	if err != nil {
		q.graphError(http.StatusBadRequest, "Request_BadRequest", "A conflicting object with one or more of the specified property values is present in the directory.")
		return
	}
	q.w.Header().Set("Location", s.url+"/v1.0/roleManagement/directory/roleAssignments/"+d.id)
	q.writeGraph(http.StatusCreated, jsonObject{
		{"@odata.context", s.url + "/v1.0/$metadata#roleManagement/directory/roleAssignments/$entity"},
		{"id", d.id}, {"roleDefinitionId", d.roleID}, {"principalId", d.principalID}, {"directoryScopeId", d.scope},
	})
}

// deleteRoleAssignment is DELETE …/roleAssignments/{id}: 204, 404 when unknown (WIRE §C6).
func (s *Server) deleteRoleAssignment(q *call) {
	id := q.r.PathValue("id")
	i := slices.IndexFunc(s.tenant.directory, func(d *dirAssignment) bool { return d.id == id })
	if i < 0 {
		q.graphNotFound(id)
		return
	}
	s.tenant.directory = slices.Delete(s.tenant.directory, i, i+1)
	q.graphNoContent()
}
