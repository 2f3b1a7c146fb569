package emulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Exchange's pointers to Entra service principals (WIRE §J2) and
// Test-ServicePrincipalAuthorization (§J6).

// servicePrincipalObject is Exchange's bag for a pointer (WIRE §J2; keys
// beyond DisplayName/AppId/ObjectId/Identity are ⚠).
func servicePrincipalObject(p *exchangeServicePrincipal) jsonObject {
	return jsonObject{{"Identity", p.objectID}, {"Name", p.name()}, {"DisplayName", p.displayName},
		{"AppId", p.appID}, {"ObjectId", p.objectID}}
}

// newServicePrincipal is New-ServicePrincipal -AppId -ObjectId [-DisplayName]
// (WIRE §J2). ObjectId must be the Entra service principal's id (not the
// application's object id) and belong to AppId. ServiceId is the deprecated
// name of ObjectId. A second pointer for the same app fails (exception ⚠).
func (s *Server) newServicePrincipal(_ *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	appID, objectID := in.required("AppId"), in.text("ObjectId")
	if objectID == "" {
		objectID = in.text("ServiceId")
	}
	if objectID == "" {
		in.fail(parameterError("Cannot process command because of one or more missing mandatory parameters: ObjectId."))
	}
	displayName := in.text("DisplayName")
	if in.err != nil {
		return nil, in.err
	}
	t := s.tenant
	sp := t.spByID(objectID)
	switch {
	case sp == nil || sp.app == nil:
		return nil, notFound(objectID)
	case !strings.EqualFold(sp.appID, appID):
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exTask,
			fmt.Sprintf("The service principal '%s' belongs to application '%s', not '%s'.", objectID, sp.appID, appID)}
	case t.exchangeSPByObjectID(sp.id) != nil || t.exchangeSP(sp.appID) != nil:
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exAlreadyExists,
			fmt.Sprintf("The service principal '%s' already exists.", sp.id)}
	}
	if displayName == "" {
		displayName = sp.displayName
	}
	ptr := &exchangeServicePrincipal{objectID: sp.id, appID: sp.appID, displayName: displayName, createdAt: s.clock().UTC()}
	t.exchangeSPs = append(t.exchangeSPs, ptr)
	return []jsonObject{servicePrincipalObject(ptr)}, nil
}

// getServicePrincipal: as Microsoft warns, a null or unknown Identity returns
// every pointer (WIRE §J2), so a client must filter by AppId itself.
func (s *Server) getServicePrincipal(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	identity := in.text("Identity")
	t := s.tenant
	if err := in.readableBy(t, c, "Get-ServicePrincipal"); err != nil {
		return nil, err
	}
	objects := []jsonObject{}
	if ptr := t.exchangeSP(identity); identity != "" && ptr != nil {
		return append(objects, servicePrincipalObject(ptr)), nil
	}
	for _, ptr := range t.exchangeSPs {
		objects = append(objects, servicePrincipalObject(ptr))
	}
	return objects, nil
}

// removeServicePrincipal is Remove-ServicePrincipal -Identity -Confirm:$false:
// 200 with an empty value (⚠). A pointer that still has role assignments is
// refused (⚠ emulator choice: remove the assignments first).
func (s *Server) removeServicePrincipal(_ *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	identity, err := removalIdentity(p)
	if err != nil {
		return nil, err
	}
	t := s.tenant
	ptr := t.exchangeSP(identity)
	if ptr == nil {
		return nil, notFound(identity)
	}
	if n := len(t.appAssignmentsOf(ptr.objectID)); n > 0 {
		return nil, &cmdletError{http.StatusBadRequest, "BadRequest", exTask,
			fmt.Sprintf("The service principal '%s' still has %d management role assignment(s). Remove them first.", ptr.objectID, n)}
	}
	t.exchangeSPs = slices.DeleteFunc(t.exchangeSPs, func(x *exchangeServicePrincipal) bool { return x == ptr })
	return []jsonObject{}, nil
}

// testServicePrincipalAuthorization lists the service principal's
// application role assignments and, with -Resource, whether each covers
// that mailbox (WIRE §J6). It reads the assignments as they are now: the
// RBAC cache does not apply to it (§J7.2).
func (s *Server) testServicePrincipalAuthorization(c *caller, p cmdletParameters) ([]jsonObject, *cmdletError) {
	in := binder{p: p}
	identity, resource := in.required("Identity"), in.text("Resource")
	t := s.tenant
	if err := in.readableBy(t, c, "Test-ServicePrincipalAuthorization"); err != nil {
		return nil, err
	}
	sp := t.exchangeSP(identity)
	if sp == nil {
		return nil, notFound(identity)
	}
	var mailbox *user
	if resource != "" {
		if mailbox = t.recipient(resource); mailbox == nil {
			return nil, notFound(resource)
		}
	}
	objects := []jsonObject{}
	for _, a := range t.appAssignmentsOf(sp.objectID) {
		objects = append(objects, t.authorizationObject(a, mailbox))
	}
	return objects, nil
}

// authorizationObject is one row of Test-ServicePrincipalAuthorization: the
// role, what it grants, its scope and whether the scope holds mailbox ("Not
// Run" without one).
func (t *tenant) authorizationObject(a *exoAssignment, mailbox *user) jsonObject {
	permissions := []string{}
	if r := findApplicationRole(a.role); r != nil {
		permissions = r.permissions
	}
	scope, scopeType := "Organization", "Organization"
	if a.scope != "" {
		scope, scopeType = a.scope, "CustomRecipientScope"
	}
	var inScope any = "Not Run"
	if mailbox != nil {
		inScope = t.scopeContains(a.scope, mailbox)
	}
	return jsonObject{
		{"RoleName", a.role}, {"GrantedPermissions", strings.Join(permissions, ", ")},
		{"AllowedResourceScope", scope}, {"ScopeType", scopeType}, {"InScope", inScope},
	}
}
